/* oiqa-resnet: viewports.h5 [+ pseudoref.h5] -> ResNet-50 multi-scale
 * features (DESIGN §1, §3; docs/resnet.md). The stage runner is
 * libcommon/stage/backbone.c; the network is libcommon/models/resnet*.c; the
 * option table is libcommon/stage/stage_tools.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "stage/stage_tools.h"

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    oiqa_resnet_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&oiqa_resnet_tool, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char *config = NULL;
    if (!o.out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)");
    else if (!o.weights)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL,
                       "no weights: give --weights FILE (.pth, .safetensors or an oiqa .h5) or --weights random:SEED");
    else if (o.force && o.resume) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    if (!rc) {
        config = oiqa_cli_resolved_config(&oiqa_resnet_tool, &o);
        oiqa_provenance prov = {.stage = "backbone", .tool = cli.tool_version, .command = cli.command, .config = config};
        oiqa_backbone_opts bo;
        oiqa_resnet_cli_opts(&o, &bo);
        bo.force = o.force, bo.resume = o.resume;
        rc = oiqa_backbone_run(&bo, cli.args[0], o.out, &prov);
        if (!rc) oiqa_info("wrote %s", o.out);
    }
    free(config);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
