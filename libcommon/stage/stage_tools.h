/* The command-line and config options of the stage tools oiqa-viewports,
 * oiqa-pseudoref, oiqa-resnet and oiqa-vmamba: one option table each
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
#include "stage/backbone.h"
#include "stage/global.h"
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

/* ---- oiqa-resnet ---- */
typedef struct {
    char *out, *weights, *pseudoref, *blocks;
    int maps, skip_bad, force, resume;
    long map_size, batch, deflate;
    int device; /* oiqa_device */
} oiqa_resnet_cli;
extern const oiqa_tool oiqa_resnet_tool;
void oiqa_resnet_cli_opts(const oiqa_resnet_cli *c, oiqa_backbone_opts *bo);

/* ---- oiqa-vmamba ---- */
typedef struct {
    char *out, *weights, *blocks, *root, *pseudoref;
    int arch, maps, allow_aspect, skip_bad, force, resume;
    long height, width, map_size, batch, deflate, max_pixels;
    int device; /* oiqa_device */
} oiqa_vmamba_cli;
extern const oiqa_tool oiqa_vmamba_tool;
extern const char *const oiqa_vmamba_arch_names[]; /* the extractors of --arch, NULL-terminated */
/* On ERP images (stage "global") ... */
void oiqa_vmamba_cli_global_opts(const oiqa_vmamba_cli *c, oiqa_global_opts *go);
/* ... and on a viewports.h5 (stage "backbone"). */
void oiqa_vmamba_cli_backbone_opts(const oiqa_vmamba_cli *c, oiqa_backbone_opts *bo);

/* ---- the registry of backbone tools ----
 * What oiqa-score's raw mode needs to replay the recorded config of a
 * feature file's backbone stage: the tool whose table parses it, the size of
 * the struct that table fills, the extractors the tool runs, and the
 * conversions to the stage options. One row per tool (stage_tools.c). */
typedef struct {
    const oiqa_tool *tool;
    size_t cli_size;
    const char *const *extractors; /* NULL-terminated */
    /* stage "backbone" (viewports) and "global" (whole ERPs); NULL: the tool
     * has no such stage */
    void (*backbone_opts)(const void *cli, oiqa_backbone_opts *bo);
    void (*global_opts)(const void *cli, oiqa_global_opts *go);
} oiqa_stage_tool;

/* The tool that computes stage kind `stage` ("backbone" or "global") with
 * `extractor`, NULL when none does. */
const oiqa_stage_tool *oiqa_stage_tool_for(const char *stage, const char *extractor);
/* "oiqa-resnet (resnet50), ..." for messages (static storage). */
const char *oiqa_stage_tool_names(void);

#endif
