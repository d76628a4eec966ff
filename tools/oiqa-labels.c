/* oiqa-labels: a database's official score files -> labels.csv
 * (DESIGN §4; the adapters are in libcommon/iqa/labels_*.c, docs/labels.md). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "iqa/labels.h"

typedef struct {
    char *out, *dataset, *score, *prefix;
    int list, force;
} labels_cli;

#define OFF(f) offsetof(labels_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output labels.csv (name,mos,ref,dist_type,dist_level)", 0,
     0, NULL, OIQA_OPTF_CLI_ONLY},
    {"dataset", 'd', OIQA_OPT_STRING, OFF(dataset), NULL, "NAME", "the database (--list shows them and their files)",
     0, 0, NULL, 0},
    {"score", 0, OIQA_OPT_STRING, OFF(score), NULL, "NAME",
     "which score when a database has several (oiqa: mos|mosz; jufe: mean|good-5s|...)", 0, 0, NULL, 0},
    {"prefix", 0, OIQA_OPT_STRING, OFF(prefix), NULL, "DIR/",
     "prepended to every image name (names are relative to the dataset root)", 0, 0, NULL, 0},
    {"list", 0, OIQA_OPT_FLAG, OFF(list), "false", NULL, "list the databases and the files each reads", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-labels",
    .summary = "Turn a database's official score files into labels.csv (name, score, reference, distortion type, level).",
    .usage = "--dataset NAME FILE... -o labels.csv   |   --list",
    .example = "oiqa-labels --dataset oiqa 360IQA_MOS.mat -o labels/oiqa.csv\n"
               "  oiqa-labels --dataset cviq CVIQD_dis_label.txt CVIQD_ref_label.txt -o labels/cviq.csv",
    .opts = OPTIONS,
    .min_args = 0,
    .max_args = -1,
    .no_threads = 1,
};

static char *known_names(void)
{
    oiqa_sbuf b = {0};
    for (int i = 0; oiqa_labels_adapters[i]; i++) oiqa_sbuf_appendf(&b, "%s%s", i ? ", " : "", oiqa_labels_adapters[i]->name);
    return b.s;
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    labels_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);
    oiqa_labels l = {0};
    char **files = NULL;
    int n_files = 0;
    if (o.list) {
        for (int i = 0; oiqa_labels_adapters[i]; i++)
            printf("%-10s %s\n", oiqa_labels_adapters[i]->name, oiqa_labels_adapters[i]->files);
        goto done;
    }
    const oiqa_labels_adapter *a = oiqa_labels_adapter_find(o.dataset);
    if (!o.dataset) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no database: give --dataset NAME (see --list)"); goto done; }
    if (!a) {
        char *k = known_names();
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown dataset '%s' (known: %s)", o.dataset, k);
        free(k);
        goto done;
    }
    if (!o.out) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o labels.csv (see --help)"); goto done; }
    if ((rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &files, &n_files))) goto done;
    if (n_files < a->min_files || n_files > a->max_files) {
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s reads %d to %d files (%s), got %d", a->name, a->min_files,
                       a->max_files, a->files, n_files);
        goto done;
    }
    if ((rc = a->read(files, n_files, o.score, &l))) goto done;
    if (l.n == 0) { rc = oiqa_fail(OIQA_EXIT_DATA, files[0], "no images found"); goto done; }
    if (o.prefix)
        for (int i = 0; i < l.n; i++) {
            char *p = oiqa_asprintf("%s%s", o.prefix, l.row[i].name);
            free(l.row[i].name);
            l.row[i].name = p;
        }
    if ((rc = oiqa_labels_write(&l, o.out, o.force))) goto done;
    oiqa_info("wrote %s (%s, %d images%s)", o.out, a->name, l.n, l.lower_better ? ", DMOS: lower is better" : "");

done:
    oiqa_labels_free(&l);
    oiqa_strv_free(files, n_files);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
