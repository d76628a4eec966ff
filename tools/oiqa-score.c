/* oiqa-score: a trained model (model.h5 of oiqa-train) + the feature files
 * of some images -> predictions.csv (DESIGN §1, §4; docs/train.md); or,
 * without --features, the model + raw ERP images -> the same columns, every
 * stage run in memory from the recipe the model records. The work is
 * libcommon/score/score_cached.c and score_raw.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "nn/device.h"
#include "score/score.h"

typedef struct {
    char *out, *model, *features, *global, *root, *weights_dir, *local_weights, *global_weights;
    long batch;
    int force, device;
} score_cli;

#define OFF(f) offsetof(score_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE",
     "predictions.csv (name,score[,level,type,p_level_*,p_type_*]); raw images: stdout when not given", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"model", 'm', OIQA_OPT_STRING, OFF(model), NULL, "FILE", "model.h5 written by oiqa-train", 0, 0, NULL, 0},
    {"features", 'f', OIQA_OPT_STRING, OFF(features), NULL, "FILE",
     "the features of the images as for training: the first input the model reads (oiqa-resnet's file for MTFI)",
     0, 0, NULL, 0},
    {"global", 'g', OIQA_OPT_STRING, OFF(global), NULL, "FILE", "global features (oiqa-vmamba), when the model uses them",
     0, 0, NULL, 0},
    {"batch", 0, OIQA_OPT_INT, OFF(batch), "16", "N", "images per forward pass", 1, 1e6, NULL, 0},
    {"root", 0, OIQA_OPT_STRING, OFF(root), NULL, "DIR",
     "raw images: dataset root, the inputs are names relative to it (as in labels.csv)", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"weights-dir", 0, OIQA_OPT_STRING, OFF(weights_dir), NULL, "DIR",
     "raw images: look for the recorded backbone weights files (by name) here first", 0, 0, NULL, 0},
    {"local-weights", 0, OIQA_OPT_STRING, OFF(local_weights), NULL, "FILE",
     "raw images: the local backbone's weights (sha256 checked against the recorded one)", 0, 0, NULL, 0},
    {"global-weights", 0, OIQA_OPT_STRING, OFF(global_weights), NULL, "FILE",
     "raw images: the global backbone's weights (sha256 checked against the recorded one)", 0, 0, NULL, 0},
    {"device", 0, OIQA_OPT_ENUM, OFF(device), "auto", "NAME",
     "raw images: where the backbones run: cpu, cuda (the CPU with one line on stderr when no GPU works) or auto", 0,
     0, oiqa_device_names, OIQA_OPTF_CLI_ONLY},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "replace an existing output", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-score",
    .summary = "Scores images with a trained model (any method of oiqa-train), from their cached features (predictions.csv for oiqa-eval), "
               "or from the raw ERP images, every stage run in memory as recorded in the model.",
    .usage = "--model MODEL.h5 --features RESNET.h5 [--global VMAMBA.h5] [NAME... | @names.txt] -o predictions.csv\n"
             "   or: oiqa-score --model MODEL.h5 [--root DIR] IMAGE... [-o predictions.csv]   (or @list.txt, or - for "
             "names on stdin)",
    .example = "oiqa-score --model runs/example/model.h5 --features features/cviq/resnet50.h5 \\\n"
               "      --global features/cviq/vmamba.h5 -o runs/example/predictions.csv\n"
               "  oiqa-eval runs/example/predictions.csv --labels labels.csv --splits splits.csv -o runs/example/eval\n"
               "  oiqa-score --model runs/example/model.h5 --weights-dir weights/ new1.jpg new2.png\n"
               "  oiqa-score --model runs/example/model.h5 --root /data/CVIQ @names.txt -o cviq_raw.csv -j 8",
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
    if (!o.model) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no model: give --model model.h5 (from oiqa-train)");
    else if (o.features && !o.out)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o predictions.csv (see --help)");
    else if (!o.features && o.global)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL,
                       "--global goes with --features (cached features); raw images need neither");
    else if (o.features && (o.root || o.weights_dir || o.local_weights || o.global_weights))
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--root and the weights options are for raw images, not with --features");
    else if (!o.features && !cli.n_args)
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no input: give --features FILE (cached features) or image files "
                                              "(see --help)");
    if (!rc && cli.n_args) rc = oiqa_cli_expand_inputs(cli.args, cli.n_args, &names, &n_names);
    if (!rc && cli.n_args && !n_names) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "the name list is empty");
    if (!rc && o.features) {
        /* --features: the first input the model reads; --global: its input "global". */
        const oiqa_score_input inputs[2] = {{NULL, o.features, "--features"}, {"global", o.global, "--global"}};
        oiqa_score_opts so = {.model = o.model, .inputs = inputs, .n_inputs = 2, .names = names,
                              .n_names = n_names, .out = o.out, .force = o.force, .batch = (int)o.batch};
        rc = oiqa_score_run(&so);
        if (!rc) oiqa_info("wrote %s", o.out);
    } else if (!rc) {
        oiqa_score_raw_opts ro = {.model = o.model, .names = names, .n_names = n_names, .root = o.root, .out = o.out,
                                  .force = o.force, .batch = (int)o.batch, .weights_dir = o.weights_dir,
                                  .local_weights = o.local_weights, .global_weights = o.global_weights,
                                  .device = (oiqa_device)o.device};
        rc = oiqa_score_raw_run(&ro);
        if (!rc && o.out) oiqa_info("wrote %s", o.out);
    }
    oiqa_strv_free(names, n_names);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
