/* oiqa-split: labels.csv -> splits.csv, content-disjoint by reference
 * (DESIGN §4); --check verifies a given splits.csv against labels.csv. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "iqa/split.h"

typedef struct {
    char *out;
    double train, val, test;
    long repeats, folds, seed;
    int check, force;
} split_cli;

#define OFF(f) offsetof(split_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "output splits.csv (name,s0,s1,...)", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"train", 0, OIQA_OPT_DOUBLE, OFF(train), "0.8", "R", "share of the references for training", 0, 1, NULL, 0},
    {"val", 0, OIQA_OPT_DOUBLE, OFF(val), "0", "R", "share for validation (taken from the training references)", 0,
     1, NULL, 0},
    {"test", 0, OIQA_OPT_DOUBLE, OFF(test), "0.2", "R", "share for testing", 0, 1, NULL, 0},
    {"repeats", 0, OIQA_OPT_INT, OFF(repeats), "10", "N", "random splits, one column each", 1, 1000, NULL, 0},
    {"folds", 'k', OIQA_OPT_INT, OFF(folds), "0", "K", "K-fold cross-validation instead (K columns); 0: off", 0, 1000,
     NULL, 0},
    {"seed", 0, OIQA_OPT_INT, OFF(seed), "0", "N", "random seed (the same seed gives the same splits)", 0, 9e18,
     NULL, 0},
    {"check", 0, OIQA_OPT_FLAG, OFF(check), "false", NULL,
     "check SPLITS.csv LABELS.csv instead: every name labelled, no reference in test and train/val", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-split",
    .summary = "Content-disjoint train/val/test splits of a labels.csv (by its ref column), or check one.",
    .usage = "[options] LABELS.csv -o SPLITS.csv  |  --check SPLITS.csv LABELS.csv",
    .example = "oiqa-split labels/oiqa.csv --repeats 10 --seed 1 -o splits/oiqa.csv\n"
               "  oiqa-split labels/cviq.csv --folds 5 --val 0.1 -o splits/cviq_5fold.csv\n"
               "  oiqa-split --check splits/cviq_5fold.csv labels/cviq.csv",
    .opts = OPTIONS,
    .min_args = 1,
    .max_args = 2,
    .no_threads = 1,
};

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    split_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);
    oiqa_labels labels = {0};
    oiqa_splits s = {0};
    if (o.check) {
        if (cli.n_args != 2) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--check takes SPLITS.csv LABELS.csv"); goto done; }
        if ((rc = oiqa_labels_read(cli.args[1], &labels)) || (rc = oiqa_splits_read(cli.args[0], &s)) ||
            (rc = oiqa_splits_check(&s, &labels)))
            goto done;
        if (!cli.quiet) printf("%s: %d names, %d repeats, content-disjoint\n", cli.args[0], s.n, s.n_rep);
        goto done;
    }
    if (cli.n_args != 1) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "give one LABELS.csv (see --help)"); goto done; }
    if (!o.out) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o SPLITS.csv (see --help)"); goto done; }
    if (o.folds == 1) { rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--folds: 1 fold is no split (use 0 or >= 2)"); goto done; }
    if ((rc = oiqa_labels_read(cli.args[0], &labels))) goto done;
    oiqa_split_opts so = {.train = o.train, .val = o.val, .test = o.test, .repeats = (int)o.repeats,
                          .folds = (int)o.folds, .seed = (uint64_t)o.seed};
    if ((rc = oiqa_split_make(&labels, &so, &s)) || (rc = oiqa_splits_write(&s, o.out, o.force))) goto done;
    oiqa_info("wrote %s (%d images, %d %s)", o.out, s.n, s.n_rep, o.folds > 1 ? "folds" : "repeats");

done:
    oiqa_splits_free(&s);
    oiqa_labels_free(&labels);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
