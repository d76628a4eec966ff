/* oiqa-train: cached features + labels.csv + splits.csv + config -> a
 * trained MTFI model (DESIGN §1; docs/train.md). The config logic is
 * libcommon/train/train_config.c, the loop libcommon/train/train_loop.c. */
#include <malloc.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "train/train_loop.h"

typedef struct {
    char *out, *labels, *splits, *repeat;
    const oiqa_yaml_node *model, *features, *optimizer, *schedule;
    long epochs, batch_size, seed, stop_after;
    double clip;
    int force, resume;
} train_cli;

#define OFF(f) offsetof(train_cli, f)
static const oiqa_opt OPTIONS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "DIR",
     "output folder: model.h5 (best), last.h5, log.csv (default runs/<config name>)", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"model", 0, OIQA_OPT_YAML, OFF(model),
     "{hidden: 256, dropout: 0.1, use_restored: true, use_degraded: true, use_global: true, "
     "scales: [layer2, layer3, layer4], aux_heads: true, loss_weights: [1.0, 0.1, 0.1]}",
     "MAP", "MTFI model keys (docs/mtfi.md); single keys with --set model.KEY=VALUE", 0, 0, NULL, 0},
    {"features", 0, OIQA_OPT_YAML, OFF(features), "{local: null, global: null}", "MAP",
     "local: the oiqa-resnet file; global: the oiqa-vmamba file (or null)", 0, 0, NULL, 0},
    {"labels", 0, OIQA_OPT_STRING, OFF(labels), NULL, "FILE", "labels.csv (name,mos,ref,dist_type,dist_level)", 0, 0,
     NULL, 0},
    {"splits", 0, OIQA_OPT_STRING, OFF(splits), NULL, "FILE", "splits.csv (content-disjoint train / val / test)", 0, 0,
     NULL, 0},
    {"repeat", 0, OIQA_OPT_STRING, OFF(repeat), "s0", "sN", "the splits column to train on", 0, 0, NULL, 0},
    {"optimizer", 0, OIQA_OPT_YAML, OFF(optimizer), "{type: sgd, lr: 0.001, momentum: 0.9, weight_decay: 0.0001}",
     "MAP", "type sgd | adamw, lr, momentum (SGD), weight_decay", 0, 0, NULL, 0},
    {"schedule", 0, OIQA_OPT_YAML, OFF(schedule),
     "{type: constant, warmup: 0, step_size: 30, gamma: 0.1, min_lr: 0}", "MAP",
     "learning rate per epoch: type constant | step | cosine, warmup epochs, step_size, gamma, min_lr", 0, 0, NULL,
     0},
    {"epochs", 0, OIQA_OPT_INT, OFF(epochs), "100", "N", "epochs to train", 1, 1e6, NULL, 0},
    {"batch_size", 0, OIQA_OPT_INT, OFF(batch_size), "16", "N", "images per mini-batch", 1, 1e6, NULL, 0},
    {"clip", 0, OIQA_OPT_DOUBLE, OFF(clip), "0", "NORM", "clip the global gradient norm to NORM (0: off)", 0, 1e12,
     NULL, 0},
    {"seed", 0, OIQA_OPT_INT, OFF(seed), "0", "N", "seed of the weights, the shuffling and dropout", 0, 2147483647.0,
     NULL, 0},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "replace the outputs of an earlier run in DIR", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue DIR/last.h5 (same config) to the last epoch", 0,
     0, NULL, OIQA_OPTF_CLI_ONLY},
    {"stop-after", 0, OIQA_OPT_INT, OFF(stop_after), "0", "E",
     "stop after epoch E (0: run all epochs); --resume continues", 0, 1e6, NULL, OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool TOOL = {
    .name = "oiqa-train",
    .summary = "Trains the MTFI fusion model on cached ResNet-50 (+ VMamba) features: model.h5, last.h5, log.csv.",
    .usage = "--config EXPERIMENT.yaml [-o DIR] [--set KEY=VALUE]...",
    .example = "oiqa-train --config configs/experiments/mtfi_example.yaml -o runs/example\n"
               "  oiqa-train --config configs/experiments/mtfi_example.yaml --set model.use_global=false -o runs/no_global\n"
               "  oiqa-train --config configs/experiments/mtfi_example.yaml -o runs/example --resume",
    .opts = OPTIONS,
    .min_args = 0,
    .max_args = 0,
};

/* "--set a.b=v" sets one key of a section, which the generic parser does
 * not know: such assignments are taken out of argv and applied after the
 * config file and the whole-key options (flags win over the config). */
static int take_dotted_sets(int argc, char **argv, char **kept, int *n_kept, char **sets, int *n_sets)
{
    *n_kept = *n_sets = 0;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *value = NULL;
        int pair = 0;
        if (!strcmp(a, "--")) { /* the rest are arguments */
            while (i < argc) kept[(*n_kept)++] = argv[i++];
            break;
        }
        if (!strcmp(a, "--set") && i + 1 < argc) value = argv[i + 1], pair = 1;
        else if (!strncmp(a, "--set=", 6)) value = a + 6;
        const char *eq = value ? strchr(value, '=') : NULL, *dot = value ? strchr(value, '.') : NULL;
        if (value && eq && dot && dot < eq) {
            sets[(*n_sets)++] = (char *)value;
            i += pair;
            continue;
        }
        kept[(*n_kept)++] = argv[i];
    }
    kept[*n_kept] = NULL;
    return OIQA_OK;
}

static int build_config(const train_cli *o, char **sets, int n_sets, oiqa_train_config *c)
{
    oiqa_train_config_defaults(c);
    int rc = OIQA_OK;
    const struct { const char *key; const oiqa_yaml_node *n; } maps[] = {
        {"model", o->model}, {"features", o->features}, {"optimizer", o->optimizer}, {"schedule", o->schedule}};
    for (size_t i = 0; i < sizeof maps / sizeof *maps && !rc; i++)
        if (maps[i].n) rc = oiqa_train_config_apply_key(c, maps[i].key, maps[i].n);
    if (rc) return rc;
    free(c->labels), free(c->splits), free(c->repeat);
    c->labels = o->labels ? oiqa_strdup(o->labels) : NULL;
    c->splits = o->splits ? oiqa_strdup(o->splits) : NULL;
    c->repeat = oiqa_strdup(o->repeat ? o->repeat : "s0");
    c->epochs = o->epochs, c->batch_size = o->batch_size, c->seed = o->seed, c->clip = o->clip;
    for (int i = 0; i < n_sets && !rc; i++) rc = oiqa_train_config_set(c, sets[i]);
    return rc;
}

/* runs/<config file name without its extension>. */
static char *default_out(const char *config)
{
    if (!config) return NULL;
    const char *base = strrchr(config, '/');
    base = base ? base + 1 : config;
    const char *dot = strrchr(base, '.');
    return oiqa_asprintf("runs/%.*s", (int)(dot && dot != base ? dot - base : (long)strlen(base)), base);
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    /* Every step allocates and frees the same large tape values: keep them
     * in the heap instead of mmap/munmap (and page faults) each time
     * (about 30% of an epoch of the default model). */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    char **kept = oiqa_xmalloc(((size_t)argc + 1) * sizeof *kept), **sets = oiqa_xmalloc(((size_t)argc + 1) * sizeof *sets);
    int n_kept, n_sets;
    take_dotted_sets(argc, argv, kept, &n_kept, sets, &n_sets);
    train_cli o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&TOOL, n_kept, kept, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) {
        free(kept), free(sets);
        return 0;
    }
    if (rc) {
        free(kept), free(sets);
        return oiqa_report(rc);
    }
    oiqa_train_config c;
    char *out = o.out ? oiqa_strdup(o.out) : default_out(cli.config_path);
    rc = build_config(&o, sets, n_sets, &c);
    if (!rc && !out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o DIR (or --config FILE for runs/FILE)");
    if (!rc && o.force && o.resume) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    if (!rc) {
        /* The full command line, dotted --set included, for provenance. */
        oiqa_sbuf cmd = {0};
        for (int i = 0; i < argc; i++) {
            if (i) oiqa_sbuf_append(&cmd, " ");
            oiqa_sbuf_append_shell_word(&cmd, argv[i]);
        }
        oiqa_train_opts to = {.out_dir = out, .resume = o.resume, .force = o.force, .progress = !cli.quiet,
                              .command = cmd.s, .stop_after = o.stop_after};
        oiqa_train_result res;
        rc = oiqa_train_run(&c, &to, &res);
        if (!rc)
            oiqa_info("%s: best epoch %ld (val SRCC %.4f, PLCC %.4f), %.3f s per epoch", out, res.best_epoch,
                      res.best_srcc, res.best_plcc, res.seconds_per_epoch);
        free(cmd.s);
    }
    oiqa_train_config_free(&c);
    free(out);
    oiqa_cli_free(&cli);
    free(kept), free(sets);
    return rc ? oiqa_report(rc) : 0;
}
