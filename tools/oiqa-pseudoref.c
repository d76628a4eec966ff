/* oiqa-pseudoref: viewports.h5 -> pseudoref.h5, the restored and degraded
 * pseudo-references of every viewport (DESIGN §1, §3; docs/pseudoref.md).
 * The stage runner is libcommon/stage/pseudoref.c; the operators are
 * libcommon/iqa/. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "stage/pseudoref.h"

typedef struct {
    char *out, *png_dir, *sheet_dir;
    int restore, degrade, degrade_level;
    long seed, deflate;
    int error_maps, force, resume;
    double error_eps;
} pseudoref_cli;

static const char *const LEVEL_NAMES[] = {"auto", "1", "2", "3", "4", "5", NULL};

#define OFF(f) offsetof(pseudoref_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output pseudoref.h5 (written as FILE.partial, then renamed)",
     0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"restore", 0, OIQA_OPT_ENUM, OFF(restore), "auto", "NAME",
     "restorer (auto: the detected distortion's; none: a copy)", 0, 0, oiqa_pr_restore_names, 0},
    {"degrade", 0, OIQA_OPT_ENUM, OFF(degrade), "auto", "NAME",
     "distortion (auto: the detected one, one level stronger; blur level 1 when none is detected)", 0, 0,
     oiqa_pr_degrade_names, 0},
    {"degrade-level", 0, OIQA_OPT_ENUM, OFF(degrade_level), "auto", "L",
     "level 1..5 of the degradation (auto: detected + 1 for degrade auto, 3 for a named family)", 0, 0, LEVEL_NAMES,
     0},
    {"seed", 0, OIQA_OPT_INT, OFF(seed), "0", "N", "noise seed (mixed with each row name and viewport index)", 0,
     4294967295.0, NULL, 0},
    {"error-maps", 0, OIQA_OPT_FLAG, OFF(error_maps), "false", NULL,
     "also write float16 error maps /error_restored and /error_degraded", 0, 0, NULL, 0},
    {"error-eps", 0, OIQA_OPT_DOUBLE, OFF(error_eps), "1", "EPS",
     "eps of the error maps, in squared grey levels (floor eps/255^2 on the squared luma difference)", 1e-6, 65000,
     NULL, 0},
    {"compress", 0, OIQA_OPT_INT, OFF(deflate), "0", "LEVEL", "deflate level 0-9 for /restored and /degraded", 0, 9,
     NULL, 0},
    {"png", 0, OIQA_OPT_STRING, OFF(png_dir), NULL, "DIR",
     "also write DIR/<name>_vNN_{original,restored,degraded}.png", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"sheet", 0, OIQA_OPT_STRING, OFF(sheet_dir), NULL, "DIR",
     "also write one sheet per image, DIR/<name>_pseudoref.png: rows of original | restored | degraded", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output or .partial", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue an interrupted run's FILE.partial", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-pseudoref",
    .summary = "Restored and degraded pseudo-references of every viewport of a viewports.h5 (MTFI's bidirectional "
               "pseudo-references), with classical operators.",
    .usage = "[options] VIEWPORTS.h5 -o OUT.h5",
    .example = "oiqa-pseudoref features/demo/viewports.h5 -o features/demo/pseudoref.h5 --sheet results/pseudoref\n"
               "  oiqa-pseudoref vp.h5 --restore denoise --degrade noise --degrade-level 2 --error-maps -o pr.h5 -j 8",
    .opts = OPTIONS,
    .min_args = 1,
    .max_args = 1,
};

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    pseudoref_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char *config = NULL;
    if (!o.out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see --help)");
    else if (o.force && o.resume) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    if (!rc) {
        config = oiqa_cli_resolved_config(&TOOL, &o);
        oiqa_provenance prov = {.stage = "pseudoref", .tool = cli.tool_version, .command = cli.command, .config = config};
        oiqa_pseudoref_opts po = {
            .restore = (oiqa_pr_restore)o.restore, .degrade = (oiqa_pr_degrade)o.degrade,
            .degrade_level = o.degrade_level, .seed = (uint64_t)o.seed, .error_maps = o.error_maps,
            .error_eps = o.error_eps, .deflate = (int)o.deflate, .png_dir = o.png_dir, .sheet_dir = o.sheet_dir,
            .force = o.force, .resume = o.resume,
        };
        rc = oiqa_pseudoref_run(&po, cli.args[0], o.out, &prov);
        if (!rc) oiqa_info("wrote %s", o.out);
    }
    free(config);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
