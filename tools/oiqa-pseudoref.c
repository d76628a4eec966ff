/* oiqa-pseudoref: viewports.h5 -> pseudoref.h5, the restored and degraded
 * pseudo-references of every viewport (DESIGN §1, §3; docs/pseudoref.md).
 * The stage runner is libcommon/stage/pseudoref.c; the operators are
 * libcommon/iqa/; the option table libcommon/stage/stage_tools.c. */
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
    oiqa_pseudoref_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&oiqa_pseudoref_tool, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char *config = NULL;
    if (!o.out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)");
    else if (o.force && o.resume) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    if (!rc) {
        config = oiqa_cli_resolved_config(&oiqa_pseudoref_tool, &o);
        oiqa_provenance prov = {.stage = "pseudoref", .tool = cli.tool_version, .command = cli.command, .config = config};
        oiqa_pseudoref_opts po;
        oiqa_pseudoref_cli_opts(&o, &po);
        po.png_dir = o.png_dir, po.sheet_dir = o.sheet_dir, po.force = o.force, po.resume = o.resume;
        rc = oiqa_pseudoref_run(&po, cli.args[0], o.out, &prov);
        if (!rc) oiqa_info("wrote %s", o.out);
    }
    free(config);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
