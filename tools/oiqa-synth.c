/* oiqa-synth: pristine ERP images -> a distorted dataset with labels.csv
 * and full-reference pseudo-scores (DESIGN §4; docs/synth.md). The stage
 * runner is libcommon/stage/synth.c; the distortions libcommon/iqa/distort.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "stage/synth.h"

typedef struct {
    char *out, *families, *levels, *root;
    int metric, layout, allow_aspect, force;
    long size, seed, max_pixels;
    double fov;
} synth_cli;

#define OFF(f) offsetof(synth_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "DIR", "output folder: the images, labels.csv and synth.yaml", 0, 0,
     NULL, OIQA_OPTF_CLI_ONLY},
    {"families", 0, OIQA_OPT_STRING, OFF(families), "jpeg,blur,noise,resample", "LIST",
     "distortion families, comma-separated, from jpeg, blur, noise, resample, jpeg2000, h264, hevc (h264, hevc: "
     "through the ffmpeg program); presets cviq (jpeg,h264,hevc), oiqa (jpeg,jpeg2000,noise,blur), all", 0, 0, NULL,
     0},
    {"levels", 0, OIQA_OPT_STRING, OFF(levels), "1-5", "LIST", "levels 1..5, comma-separated or a range (1-5, 1,3,5)",
     0, 0, NULL, 0},
    {"metric", 0, OIQA_OPT_ENUM, OFF(metric), "ssim", "NAME", "pseudo-MOS = 100 x the mean of this over the viewports",
     0, 0, oiqa_synth_metric_names, 0},
    {"layout", 0, OIQA_OPT_ENUM, OFF(layout), "icosa20", "NAME", "viewports the score is computed on", 0, 0,
     oiqa_synth_layout_names, 0},
    {"size", 0, OIQA_OPT_INT, OFF(size), "224", "S", "viewport width and height in pixels", 11, 4096, NULL, 0},
    {"fov", 0, OIQA_OPT_DOUBLE, OFF(fov), "90", "DEG", "viewport field of view in degrees", 1, 179, NULL, 0},
    {"seed", 0, OIQA_OPT_INT, OFF(seed), "0", "N", "noise seed (mixed with each reference, family and level)", 0,
     4294967295.0, NULL, 0},
    {"max-pixels", 0, OIQA_OPT_INT, OFF(max_pixels), "536870912", "N",
     "refuse images declaring more pixels than this (checked before decoding)", 64, 4e12, NULL, 0},
    {"allow-aspect", 0, OIQA_OPT_FLAG, OFF(allow_aspect), "false", NULL, "accept references that are not 2:1", 0, 0,
     NULL, 0},
    {"root", 0, OIQA_OPT_STRING, OFF(root), NULL, "DIR", "folder the reference names are relative to", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing OUT_DIR/labels.csv and its images",
     0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-synth",
    .summary = "Distort pristine ERP images (jpeg, blur, noise, resample, jpeg2000, h264, hevc x 5 levels) into a dataset "
               "with labels.csv "
               "and a full-reference pseudo-MOS (100 x mean viewport SSIM).",
    .usage = "[options] IMAGE... -o OUT_DIR   (IMAGE may be @list.txt, or - for names on stdin)",
    .example = "oiqa-synth data/panoramas/*.png -o data/synth\n"
               "  oiqa-synth refs/*.jpg --families jpeg,noise --levels 1,3,5 --metric ms-ssim -o synth -j 8\n"
               "  oiqa-synth --root /data/pristine @refs.txt --families cviq -o cviq-like",
    .opts = OPTIONS,
    .min_args = 1,
    .max_args = -1,
};

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    synth_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char **names = NULL, *config = NULL;
    int n_names = 0;
    oiqa_synth_opts so = {
        .metric = (oiqa_synth_metric)o.metric, .layout = (oiqa_layout_kind)o.layout, .size = (int)o.size,
        .fov = o.fov, .seed = (uint64_t)o.seed, .allow_aspect = o.allow_aspect, .max_pixels = o.max_pixels,
        .root = o.root, .force = o.force,
    };
    if (!o.out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT_DIR (see --help)");
    if (!rc) rc = oiqa_synth_parse_families(o.families, so.families, &so.n_families);
    if (!rc) rc = oiqa_synth_parse_levels(o.levels, so.levels, &so.n_levels);
    if (!rc) rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &names, &n_names);
    if (!rc && n_names == 0) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no input images");
    if (!rc) {
        so.config = config = oiqa_cli_resolved_config(&TOOL, &o);
        rc = oiqa_synth_run(&so, names, n_names, o.out);
        if (!rc) oiqa_info("wrote %s/labels.csv (%d references)", o.out, n_names);
    }
    free(config);
    oiqa_strv_free(names, n_names);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
