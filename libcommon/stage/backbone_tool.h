/* oiqa-backbone: any extractor of the registry (models/extractor.h) on a
 * viewports.h5 (the "backbone" stage, stage/backbone.h) or on whole ERP
 * images (the "global" stage, stage/global.h), chosen with --arch; and
 * oiqa-resnet and oiqa-vmamba, thin names for it (docs/backbone.md).
 *
 * The option table is built per extractor: the common options, then the
 * chosen extractor's own (its opts table, flattened: `--NAME VALUE` like
 * the common ones), so --help shows them for --arch NAME and the resolved
 * config the tool records holds them. A name is a variant of the one tool:
 * which rows --arch may name (oiqa-vmamba: the vmamba family; oiqa-resnet:
 * resnet50, with no --arch), its default --batch, and whether it takes ERP
 * images. Every recorded config of the three reads back through the
 * generic table built for its extractor (oiqa_backbone_config_parse): how
 * oiqa-score's raw mode replays a feature file's backbone stage. */
#ifndef OIQA_STAGE_BACKBONE_TOOL_H
#define OIQA_STAGE_BACKBONE_TOOL_H

#include "base/cli.h"
#include "models/extractor.h"
#include "stage/backbone.h"
#include "stage/global.h"

typedef struct {
    char *out, *arch, *weights, *pseudoref, *blocks, *root;
    int maps, allow_aspect, skip_bad, force, resume;
    long height, width, map_size, batch, deflate, max_pixels;
    int device;              /* oiqa_device */
    oiqa_extractor_opts ext; /* the extractor's own options */
} oiqa_backbone_cli;

typedef struct {
    const char *name, *summary, *usage, *example;
    const char *family; /* --arch among the rows of this family; NULL: any row */
    const char *arch;   /* default --arch (NULL: it must be given) */
    int fixed;          /* 1: the name fixes the extractor (no --arch) */
    const char *batch;  /* default --batch */
    int erp;            /* 1: ERP images are inputs too (the global stage) */
} oiqa_backbone_variant;

extern const oiqa_backbone_variant oiqa_backbone_tool_any; /* oiqa-backbone */
extern const oiqa_backbone_variant oiqa_backbone_tool_resnet; /* oiqa-resnet */
extern const oiqa_backbone_variant oiqa_backbone_tool_vmamba; /* oiqa-vmamba */

#define OIQA_BACKBONE_ROWS_MAX 48
typedef struct {
    oiqa_tool tool;
    const oiqa_backbone_variant *v;
    const oiqa_extractor_kind *kind; /* NULL: no --arch yet (--help of oiqa-backbone) */
    char arch_help[768], weights_help[320], blocks_help[320], height_def[16], width_def[16];
    oiqa_opt opts[OIQA_BACKBONE_ROWS_MAX + 1];
} oiqa_backbone_table;

/* The table of variant v for extractor k (NULL: the common options only).
 * A usage error when k's own options clash with the common ones or do not
 * fit. */
int oiqa_backbone_table_build(const oiqa_backbone_variant *v, const oiqa_extractor_kind *k, oiqa_backbone_table *t);

/* The whole tool: parse argv, run the stage, write. Returns the exit code. */
int oiqa_backbone_main(const oiqa_backbone_variant *v, int argc, char **argv);

/* A recorded config of any of the three tools for `extractor` (the feature
 * file's backbone) into c, through the generic table built into t (c's
 * strings live in cli). A config naming another arch is a data error. */
int oiqa_backbone_config_parse(const char *extractor, const char *text, const char *source, oiqa_backbone_table *t,
                               oiqa_backbone_cli *c, oiqa_cli *cli);

/* The stage options of parsed ones (force and resume: the caller's); they
 * point into c (the extractor options too). */
void oiqa_backbone_cli_opts(const oiqa_backbone_table *t, const oiqa_backbone_cli *c, oiqa_backbone_opts *bo);
void oiqa_backbone_cli_global_opts(const oiqa_backbone_table *t, const oiqa_backbone_cli *c, oiqa_global_opts *go);

#endif
