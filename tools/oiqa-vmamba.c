/* oiqa-vmamba: ERP images -> VMamba global features (DESIGN §1, §3;
 * docs/vmamba.md); or, given one viewports.h5, per-viewport features like
 * oiqa-resnet's. The runners are libcommon/stage/global.c and
 * stage/backbone.c; the network is libcommon/models/vmamba*.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "stage/backbone.h"
#include "stage/global.h"

typedef struct {
    char *out, *weights, *blocks, *root, *pseudoref;
    int arch, maps, allow_aspect, skip_bad, force, resume;
    long height, width, map_size, batch, deflate, max_pixels;
} vmamba_cli;

static const char *const ARCHS[] = {"vmamba_t_s1l8", "vmamba_t_s2l5", "vmamba_t_v0", NULL};

#define OFF(f) offsetof(vmamba_cli, f)
#define CLI OIQA_OPTF_CLI_ONLY
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output feature file (written as FILE.partial, then renamed)",
     0, 0, NULL, CLI},
    {"arch", 0, OIQA_OPT_ENUM, OFF(arch), "vmamba_t_s1l8", "NAME",
     "VMamba-T variant: s1l8 (the released VMamba-T), s2l5, or v0 (the first release)", 0, 0, ARCHS, 0},
    {"weights", 'w', OIQA_OPT_STRING, OFF(weights), NULL, "FILE|random:SEED",
     "official VMamba checkpoint (.pth {'model': ...}, .safetensors, oiqa .h5), or deterministic random weights", 0,
     0, NULL, 0},
    {"blocks", 0, OIQA_OPT_STRING, OFF(blocks), "stage0,stage1,stage2,stage3", "LIST", "stages to keep", 0, 0, NULL,
     0},
    {"height", 0, OIQA_OPT_INT, OFF(height), "512", "H", "ERP inputs are resized to H x W (area when shrinking)", 8,
     8192, NULL, 0},
    {"width", 0, OIQA_OPT_INT, OFF(width), "1024", "W", "see --height", 8, 16384, NULL, 0},
    {"maps", 0, OIQA_OPT_FLAG, OFF(maps), "false", NULL, "also store the feature maps (float16)", 0, 0, NULL, 0},
    {"map-size", 0, OIQA_OPT_INT, OFF(map_size), "0", "P", "average the stored maps to P x P (0: native size)", 0, 256,
     NULL, 0},
    {"batch", 0, OIQA_OPT_INT, OFF(batch), "1", "N", "images (or viewports) per forward pass", 1, 1024, NULL, 0},
    {"compress", 0, OIQA_OPT_INT, OFF(deflate), "4", "LEVEL", "deflate level 0-9 for the features", 0, 9, NULL, 0},
    {"allow-aspect", 0, OIQA_OPT_FLAG, OFF(allow_aspect), "false", NULL, "accept ERP images that are not 2:1", 0, 0,
     NULL, 0},
    {"max-pixels", 0, OIQA_OPT_INT, OFF(max_pixels), "536870912", "N",
     "refuse images declaring more pixels than this (checked before decoding)", 64, 4e12, NULL, 0},
    {"pseudoref", 0, OIQA_OPT_STRING, OFF(pseudoref), NULL, "FILE",
     "viewports input only: pseudoref.h5 adding the restored and degraded streams", 0, 0, NULL, 0},
    {"root", 0, OIQA_OPT_STRING, OFF(root), NULL, "DIR", "dataset root: inputs are names relative to it", 0, 0, NULL,
     CLI},
    {"skip-bad", 0, OIQA_OPT_FLAG, OFF(skip_bad), "false", NULL,
     "leave out images whose features are NaN or Inf (listed in the attribute skipped) instead of failing", 0, 0,
     NULL, CLI},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output or .partial", 0, 0, NULL, CLI},
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue an interrupted run's FILE.partial", 0, 0, NULL,
     CLI},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-vmamba",
    .summary = "VMamba-T global features of whole ERP images (per-channel mean and std of each stage), or of every "
               "viewport of a viewports.h5.",
    .usage = "[options] IMAGE... --weights FILE|random:SEED -o OUT.h5   (or VIEWPORTS.h5 instead of images)",
    .example = "oiqa-vmamba data/panoramas/*.png --weights vssm1_tiny_0230s_ckpt_epoch_264.pth -o vmamba.h5\n"
               "  oiqa-vmamba --root /data/CVIQ @names.txt --arch vmamba_t_v0 --weights vssmtiny.pth -o cviq_vm.h5\n"
               "  oiqa-vmamba features/demo/viewports.h5 --weights random:0 --blocks stage3 -o vp_vmamba.h5",
    .opts = OPTIONS,
    .min_args = 1,
    .max_args = -1,
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    vmamba_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char **names = NULL;
    int n_names = 0;
    char *config = NULL;
    int viewports_input = cli.n_args == 1 && ends_with(cli.args[0], ".h5");
    if (!o.out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)");
    else if (!o.weights)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no weights: give --weights FILE (the official .pth, .safetensors or "
                                              "an oiqa .h5) or --weights random:SEED");
    else if (o.force && o.resume) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    else if (o.pseudoref && !viewports_input)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--pseudoref goes with a viewports.h5 input, not with ERP images");
    if (!rc && !viewports_input) rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &names, &n_names);
    if (!rc) {
        config = oiqa_cli_resolved_config(&TOOL, &o);
        oiqa_provenance prov = {.stage = viewports_input ? "backbone" : "global", .tool = cli.tool_version,
                                .command = cli.command, .config = config};
        if (viewports_input) {
            oiqa_backbone_opts bo = {
                .extractor = ARCHS[o.arch], .weights = o.weights, .blocks = o.blocks, .pseudoref = o.pseudoref,
                .maps = o.maps, .map_size = (int)o.map_size, .batch = (int)o.batch, .deflate = (int)o.deflate,
                .skip_bad = o.skip_bad, .force = o.force, .resume = o.resume,
            };
            rc = oiqa_backbone_run(&bo, cli.args[0], o.out, &prov);
        } else {
            oiqa_global_opts go = {
                .extractor = ARCHS[o.arch], .weights = o.weights, .blocks = o.blocks, .height = (int)o.height,
                .width = (int)o.width, .maps = o.maps, .map_size = (int)o.map_size, .batch = (int)o.batch,
                .deflate = (int)o.deflate, .allow_aspect = o.allow_aspect, .max_pixels = o.max_pixels,
                .root = o.root, .skip_bad = o.skip_bad, .force = o.force, .resume = o.resume,
            };
            rc = oiqa_global_run(&go, names, n_names, o.out, &prov);
        }
        if (!rc) oiqa_info("wrote %s", o.out);
    }
    free(config);
    oiqa_strv_free(names, n_names);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
