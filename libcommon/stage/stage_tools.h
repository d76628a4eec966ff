/* The command-line and config options of the stage tools oiqa-viewports
 * and oiqa-pseudoref (the backbone tools': stage/backbone_tool.h): one option table each
 * (base/cli.h), the struct it fills and its conversion to the stage's
 * options. They live here, not in tools/, because the same table that
 * parses a tool's command line parses the resolved config it records in its
 * output (the root attribute `config`), and oiqa-score's raw-image mode
 * rebuilds the stages a model was trained on from those recorded configs
 * (score/score.h): one table, so the two cannot disagree on a key or
 * a default. */
#ifndef OIQA_STAGE_STAGE_TOOLS_H
#define OIQA_STAGE_STAGE_TOOLS_H

#include "base/cli.h"
#include "stage/pseudoref.h"
#include "stage/viewports.h"

/* ---- oiqa-viewports ---- */
typedef struct {
    char *out;
    int force, resume, allow_aspect;
    int layout;
    long size;
    double fov;
    int filter;
    const oiqa_yaml_node *centers;
    double min_sep;
    long deflate;
    long max_pixels;
    char *root, *png_dir, *sheet_dir;
    int device; /* oiqa_device */
} oiqa_viewports_cli;
extern const oiqa_tool oiqa_viewports_tool;
/* The stage options of parsed ones (not root, png_dir, sheet_dir, force,
 * resume: the caller's); the centers of a list layout into *list
 * (malloc'ed, freed by the caller). Usage errors as the tool reports them. */
int oiqa_viewports_cli_opts(const oiqa_viewports_cli *c, oiqa_viewports_opts *vo, oiqa_view **list);

/* ---- oiqa-pseudoref ---- */
typedef struct {
    char *out, *png_dir, *sheet_dir, *erp_root;
    int restore, degrade, degrade_level, detect, restore_on;
    long seed, deflate;
    int error_maps, force, resume;
    double error_eps;
} oiqa_pseudoref_cli;
extern const oiqa_tool oiqa_pseudoref_tool;
void oiqa_pseudoref_cli_opts(const oiqa_pseudoref_cli *c, oiqa_pseudoref_opts *po);

#endif
