/* oiqa-vmamba: ERP images -> VMamba global features (DESIGN §1, §3;
 * docs/vmamba.md); or, given one viewports.h5, per-viewport features like
 * oiqa-resnet's. The runners are libcommon/stage/global.c and
 * stage/backbone.c; the network is libcommon/models/vmamba*.c; the option
 * table is libcommon/stage/stage_tools.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "stage/stage_tools.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    oiqa_vmamba_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&oiqa_vmamba_tool, argc, argv, &o, &cli);
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
        config = oiqa_cli_resolved_config(&oiqa_vmamba_tool, &o);
        oiqa_provenance prov = {.stage = viewports_input ? "backbone" : "global", .tool = cli.tool_version,
                                .command = cli.command, .config = config};
        if (viewports_input) {
            oiqa_backbone_opts bo;
            oiqa_vmamba_cli_backbone_opts(&o, &bo);
            bo.force = o.force, bo.resume = o.resume;
            rc = oiqa_backbone_run(&bo, cli.args[0], o.out, &prov);
        } else {
            oiqa_global_opts go;
            oiqa_vmamba_cli_global_opts(&o, &go);
            go.force = o.force, go.resume = o.resume;
            rc = oiqa_global_run(&go, names, n_names, o.out, &prov);
        }
        if (!rc) oiqa_info("wrote %s", o.out);
    }
    free(config);
    oiqa_strv_free(names, n_names);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
