/* oiqa-viewports: ERP images -> viewports.h5 (DESIGN §1, §3, §5). The option
 * table is libcommon/stage/stage_tools.c, the stage libcommon/stage/viewports.c. */
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
    oiqa_viewports_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&oiqa_viewports_tool, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char **names = NULL;
    int n_names = 0;
    oiqa_view *list = NULL;
    char *config = NULL;
    if (!o.out) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)"); goto done; }
    if (o.force && o.resume) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other"); goto done; }
    oiqa_viewports_opts vo;
    if ((rc = oiqa_viewports_cli_opts(&o, &vo, &list))) goto done;
    if ((rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &names, &n_names))) goto done;
    if (n_names == 0) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no input images"); goto done; }

    config = oiqa_cli_resolved_config(&oiqa_viewports_tool, &o);
    oiqa_provenance prov = {.stage = "viewports", .tool = cli.tool_version, .command = cli.command, .config = config};
    vo.root = o.root, vo.png_dir = o.png_dir, vo.sheet_dir = o.sheet_dir, vo.force = o.force, vo.resume = o.resume;
    rc = oiqa_viewports_run(&vo, names, n_names, o.out, &prov);
    if (!rc) oiqa_info("wrote %s (%d images)", o.out, n_names);

done:
    free(config);
    free(list);
    oiqa_strv_free(names, n_names);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
