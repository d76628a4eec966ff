/* oiqa-eval: predictions.csv + labels.csv [+ splits.csv] -> metrics.json,
 * table.md and a scatter plot (DESIGN §1, §4; docs/eval.md). */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "io/png_write.h"
#include "iqa/eval.h"

typedef struct {
    char *out, *labels, *splits;
    long repeat;
    int part;
    int lower_better, scores_lower_better, logistic5, no_types, no_plot, force;
} eval_cli;

#define OFF(f) offsetof(eval_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "DIR",
     "output folder: metrics.json, table.md, scatter.svg, scatter.png", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"labels", 'l', OIQA_OPT_STRING, OFF(labels), NULL, "FILE", "labels.csv (name,mos,ref,dist_type,dist_level)", 0, 0,
     NULL, OIQA_OPTF_CLI_ONLY},
    {"splits", 0, OIQA_OPT_STRING, OFF(splits), NULL, "FILE",
     "splits.csv: evaluate only the --part images of each repeat (refused if not content-disjoint)", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"repeat", 0, OIQA_OPT_INT, OFF(repeat), "-1", "R",
     "split column sR for the (first) predictions file; -1: s0 (several files: s0, s1, ...)", -1, 1e6, NULL, 0},
    {"part", 0, OIQA_OPT_ENUM, OFF(part), "test", "PART", "split part evaluated", 0, 0, oiqa_part_names, 0},
    {"lower-better", 0, OIQA_OPT_FLAG, OFF(lower_better), "false", NULL,
     "labels are DMOS (lower is better); also set by a lower_better column in labels.csv", 0, 0, NULL, 0},
    {"scores-lower-better", 0, OIQA_OPT_FLAG, OFF(scores_lower_better), "false", NULL,
     "the predicted scores are lower-is-better too (e.g. a model trained on DMOS)", 0, 0, NULL, 0},
    {"logistic5", 0, OIQA_OPT_FLAG, OFF(logistic5), "false", NULL, "also fit the 5-parameter logistic (VQEG)", 0, 0,
     NULL, 0},
    {"no-types", 0, OIQA_OPT_FLAG, OFF(no_types), "false", NULL, "skip the per-distortion-type breakdown", 0, 0, NULL,
     0},
    {"no-plot", 0, OIQA_OPT_FLAG, OFF(no_plot), "false", NULL, "skip scatter.svg and scatter.png", 0, 0, NULL, 0},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite the outputs in an existing folder", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-eval",
    .summary = "Correlate predicted scores with subjective scores: SRCC, KRCC, PLCC and RMSE after the logistic fit.",
    .usage = "[options] PREDICTIONS.csv... --labels labels.csv -o DIR   (one predictions file per repeat)",
    .example = "oiqa-eval runs/cviq/predictions.csv --labels labels/cviq.csv -o results/cviq\n"
               "  oiqa-eval p0.csv p1.csv p2.csv --labels labels.csv --splits splits.csv -o results/ --logistic5",
    .opts = OPTIONS,
    .min_args = 1,
    .max_args = -1,
    .no_threads = 1,
};

/* Writes data to DIR/NAME via NAME.partial and a rename. */
static int write_out(const char *dir, const char *name, const void *data, size_t size)
{
    char *path = oiqa_asprintf("%s/%s", dir, name);
    oiqa_atomic_file a;
    int rc = oiqa_atomic_open(&a, path, 1);
    if (!rc) {
        fwrite(data, 1, size, a.f);
        rc = oiqa_atomic_commit(&a);
    }
    free(path);
    return rc;
}

static int write_png(const char *dir, const oiqa_eval_run *run)
{
    const int w = 640, h = 480;
    unsigned char *im = oiqa_eval_raster(run, w, h);
    if (!im) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for the plot");
    char *path = oiqa_asprintf("%s/scatter.png", dir);
    oiqa_atomic_file a;
    int rc = oiqa_atomic_open(&a, path, 1);
    if (!rc) {
        if (oiqa_png_write_rgb(a.f, im, w, h, 6) != 0) {
            oiqa_atomic_abort(&a);
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "cannot write");
        } else {
            rc = oiqa_atomic_commit(&a);
        }
    }
    free(im);
    free(path);
    return rc;
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    eval_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);

    char **preds = NULL, *json = NULL, *table = NULL, *svg = NULL;
    int n_preds = 0;
    oiqa_labels labels = {0};
    oiqa_eval_result res = {0};
    if (!o.out) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o DIR (see --help)"); goto done; }
    if (!o.labels) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no labels: give --labels labels.csv"); goto done; }
    char *probe = oiqa_asprintf("%s/metrics.json", o.out);
    int exists = access(probe, F_OK) == 0;
    free(probe);
    if (exists && !o.force) {
        rc = oiqa_fail(OIQA_EXIT_USAGE, o.out, "already holds metrics.json (use --force to overwrite)");
        goto done;
    }
    if ((rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &preds, &n_preds))) goto done;
    if (n_preds == 0) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no predictions file"); goto done; }
    if ((rc = oiqa_labels_read(o.labels, &labels))) goto done;
    oiqa_eval_opts eo = {
        .pred_paths = preds, .n_pred = n_preds, .splits_path = o.splits, .repeat = (int)o.repeat, .part = o.part,
        .lower_better = o.lower_better, .scores_lower_better = o.scores_lower_better, .with5 = o.logistic5,
        .per_type = !o.no_types,
    };
    if ((rc = oiqa_eval(&labels, &eo, &res))) goto done;
    if ((rc = oiqa_mkdir_p(o.out))) goto done;
    json = oiqa_eval_json(&res, &eo, o.labels, cli.tool_version);
    table = oiqa_eval_table(&res, &eo);
    if ((rc = write_out(o.out, "metrics.json", json, strlen(json))) ||
        (rc = write_out(o.out, "table.md", table, strlen(table))))
        goto done;
    if (!o.no_plot) {
        const oiqa_eval_run *run = &res.run[res.median_run];
        svg = oiqa_eval_svg(run, run->pred_path);
        if ((rc = write_out(o.out, "scatter.svg", svg, strlen(svg))) || (rc = write_png(o.out, run))) goto done;
    }
    if (!cli.quiet) fputs(table, stdout);
    oiqa_info("wrote %s/metrics.json (%d run%s)", o.out, res.n_run, res.n_run > 1 ? "s" : "");

done:
    free(json);
    free(table);
    free(svg);
    oiqa_eval_free(&res);
    oiqa_labels_free(&labels);
    oiqa_strv_free(preds, n_preds);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
