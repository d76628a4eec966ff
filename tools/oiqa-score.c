/* oiqa-score: a trained model (model.h5 of oiqa-train) + the feature files
 * of some images -> predictions.csv (DESIGN §1, §4; docs/train.md). The
 * work is libcommon/train/train_score.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "train/train_score.h"

typedef struct {
    char *out, *model, *features, *global;
    long batch;
    int force;
} score_cli;

#define OFF(f) offsetof(score_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "predictions.csv (name,score[,level,type,p_level_*,p_type_*])",
     0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"model", 'm', OIQA_OPT_STRING, OFF(model), NULL, "FILE", "model.h5 written by oiqa-train", 0, 0, NULL, 0},
    {"features", 'f', OIQA_OPT_STRING, OFF(features), NULL, "FILE",
     "backbone features (oiqa-resnet) of the images, computed as for training", 0, 0, NULL, 0},
    {"global", 'g', OIQA_OPT_STRING, OFF(global), NULL, "FILE", "global features (oiqa-vmamba), when the model uses them",
     0, 0, NULL, 0},
    {"batch", 0, OIQA_OPT_INT, OFF(batch), "16", "N", "images per forward pass", 1, 1e6, NULL, 0},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "replace an existing output", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-score",
    .summary = "Scores images with a trained MTFI model from their cached features: predictions.csv for oiqa-eval.",
    .usage = "--model MODEL.h5 --features RESNET.h5 [--global VMAMBA.h5] [NAME... | @names.txt] -o predictions.csv",
    .example = "oiqa-score --model runs/example/model.h5 --features features/cviq/resnet50.h5 \\\n"
               "      --global features/cviq/vmamba.h5 -o runs/example/predictions.csv\n"
               "  oiqa-eval runs/example/predictions.csv --labels labels.csv --splits splits.csv -o runs/example/eval",
    .opts = OPTIONS,
    .min_args = 0,
    .max_args = -1,
};

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    score_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);
    char **names = NULL;
    int n_names = 0;
    if (!o.out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o predictions.csv (see --help)");
    else if (!o.model) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no model: give --model model.h5 (from oiqa-train)");
    else if (!o.features)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no features: give --features FILE (the oiqa-resnet file of the images)");
    if (!rc && cli.n_args) rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &names, &n_names);
    if (!rc && cli.n_args && !n_names) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "the name list is empty");
    if (!rc) {
        oiqa_score_opts so = {.model = o.model, .local = o.features, .global = o.global, .names = names,
                              .n_names = n_names, .out = o.out, .force = o.force, .batch = (int)o.batch};
        rc = oiqa_score_run(&so);
        if (!rc) oiqa_info("wrote %s", o.out);
    }
    oiqa_strv_free(names, n_names);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
