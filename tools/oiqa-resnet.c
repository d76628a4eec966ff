/* oiqa-resnet: viewports.h5 [+ pseudoref.h5] -> ResNet-50 multi-scale
 * features (DESIGN §1, §3; docs/resnet.md). The stage runner is
 * libcommon/stage/backbone.c; the network is libcommon/models/resnet*.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "stage/backbone.h"

typedef struct {
    char *out, *weights, *pseudoref, *blocks;
    int maps, skip_bad, force, resume;
    long map_size, batch, deflate;
} resnet_cli;

#define OFF(f) offsetof(resnet_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output feature file (written as FILE.partial, then renamed)",
     0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"weights", 'w', OIQA_OPT_STRING, OFF(weights), NULL, "FILE|random:SEED",
     "torchvision ResNet-50 weights (.pth, .safetensors, oiqa .h5), or deterministic random weights", 0, 0, NULL, 0},
    {"pseudoref", 0, OIQA_OPT_STRING, OFF(pseudoref), NULL, "FILE",
     "pseudoref.h5 of the same viewports: adds the restored and degraded streams", 0, 0, NULL, 0},
    {"blocks", 0, OIQA_OPT_STRING, OFF(blocks), "layer2,layer3,layer4", "LIST",
     "stages to keep, from layer1,layer2,layer3,layer4", 0, 0, NULL, 0},
    {"maps", 0, OIQA_OPT_FLAG, OFF(maps), "false", NULL, "also store the feature maps (float16)", 0, 0, NULL, 0},
    {"map-size", 0, OIQA_OPT_INT, OFF(map_size), "0", "P", "average the stored maps to P x P (0: native size)", 0, 256,
     NULL, 0},
    {"batch", 0, OIQA_OPT_INT, OFF(batch), "20", "N", "viewports per forward pass (memory grows with it)", 1, 1024,
     NULL, 0},
    {"compress", 0, OIQA_OPT_INT, OFF(deflate), "4", "LEVEL", "deflate level 0-9 for the features", 0, 9, NULL, 0},
    {"skip-bad", 0, OIQA_OPT_FLAG, OFF(skip_bad), "false", NULL,
     "leave out images with NaN or Inf inputs or features (listed in the attribute skipped) instead of failing", 0,
     0, NULL, OIQA_OPTF_CLI_ONLY},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output or .partial", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue an interrupted run's FILE.partial", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-resnet",
    .summary = "ResNet-50 features of every viewport (and of its pseudo-references): per-channel mean and std of "
               "the selected stages, optionally the maps.",
    .usage = "[options] VIEWPORTS.h5 --weights FILE|random:SEED -o OUT.h5",
    .example = "oiqa-resnet features/demo/viewports.h5 --pseudoref features/demo/pseudoref.h5 \\\n"
               "      --weights resnet50-0676ba61.pth -o features/demo/resnet50.h5\n"
               "  oiqa-resnet vp.h5 --weights random:0 --blocks layer4 --maps --map-size 4 -o r50.h5 -j 8",
    .opts = OPTIONS,
    .min_args = 1,
    .max_args = 1,
};

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    resnet_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char *config = NULL;
    if (!o.out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)");
    else if (!o.weights)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL,
                       "no weights: give --weights FILE (.pth, .safetensors or an oiqa .h5) or --weights random:SEED");
    else if (o.force && o.resume) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    if (!rc) {
        config = oiqa_cli_resolved_config(&TOOL, &o);
        oiqa_provenance prov = {.stage = "backbone", .tool = cli.tool_version, .command = cli.command, .config = config};
        oiqa_backbone_opts bo = {
            .extractor = "resnet50", .weights = o.weights, .blocks = o.blocks, .pseudoref = o.pseudoref,
            .maps = o.maps, .map_size = (int)o.map_size, .batch = (int)o.batch, .deflate = (int)o.deflate,
            .skip_bad = o.skip_bad, .force = o.force, .resume = o.resume,
        };
        rc = oiqa_backbone_run(&bo, cli.args[0], o.out, &prov);
        if (!rc) oiqa_info("wrote %s", o.out);
    }
    free(config);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
