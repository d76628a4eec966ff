/* oiqa-train: cached features + labels.csv + splits.csv + config -> a
 * trained model of a registered method (DESIGN §1; docs/train.md). The
 * config keys are libcommon/train/train_config.c's, the engine
 * libcommon/train/train_loop.c, the methods libcommon/methods/. */
#include <malloc.h>
#include <signal.h>
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
    char *out;
    long stop_after, stop_after_batches, save_every;
    int force, resume;
    oiqa_train_config cfg; /* the config keys (train/train_config.h) */
} train_cli;

#define OFF(f) offsetof(train_cli, f)
/* The command-line-only options; the config keys follow from the method. */
static const oiqa_opt OWN[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "DIR",
     "output folder: model.h5 (best), last.h5, log.csv (default runs/<config name>)", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "replace the outputs of an earlier run in DIR", 0, 0, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"resume", 0, OIQA_OPT_FLAG, OFF(resume), "false", NULL, "continue DIR/last.h5 (same config) to the last epoch", 0,
     0, NULL, OIQA_OPTF_CLI_ONLY},
    {"stop-after", 0, OIQA_OPT_INT, OFF(stop_after), "0", "E",
     "stop after epoch E (0: run all epochs); --resume continues", 0, 1e6, NULL, OIQA_OPTF_CLI_ONLY},
    {"stop-after-batches", 0, OIQA_OPT_INT, OFF(stop_after_batches), "0", "N",
     "stop after N batches, inside an epoch if need be (0: no limit); --resume continues", 0, 1e12, NULL,
     OIQA_OPTF_CLI_ONLY},
    {"save-every", 0, OIQA_OPT_INT, OFF(save_every), "0", "N",
     "also write last.h5 every N batches, so a killed run loses at most N (0: at epoch ends)", 0, 1e12, NULL,
     OIQA_OPTF_CLI_ONLY},
};
#define N_OWN ((int)(sizeof OWN / sizeof *OWN))

static const oiqa_tool TOOL_TEMPLATE = {
    .name = "oiqa-train",
    .summary = "Trains a method (MTFI, ...) on cached backbone features: model.h5, last.h5, log.csv.",
    .usage = "--config EXPERIMENT.yaml [-o DIR] [--set KEY=VALUE]...",
    .example = "oiqa-train --config configs/experiments/mtfi_example.yaml -o runs/example\n"
               "  oiqa-train --config configs/experiments/mtfi_example.yaml --set model.use_global=false -o runs/no_global\n"
               "  oiqa-train --config configs/experiments/mtfi_example.yaml -o runs/example --resume",
    .min_args = 0,
    .max_args = 0,
};

/* runs/<config file name without its extension>. */
static char *default_out(const char *config)
{
    if (!config) return NULL;
    const char *base = strrchr(config, '/');
    base = base ? base + 1 : config;
    const char *dot = strrchr(base, '.');
    return oiqa_asprintf("runs/%.*s", (int)(dot && dot != base ? dot - base : (long)strlen(base)), base);
}

/* SIGINT / SIGTERM (Ctrl-C, Slurm's notice before the kill): the loop saves
 * last.h5 at the next batch boundary and stops; the exit status is then
 * 128 + the signal's number, as a shell reports a killed command. */
static volatile sig_atomic_t g_signal;

static void on_signal(int sig)
{
    if (g_signal) signal(sig, SIG_DFL); /* a second one stops at once */
    g_signal = sig;
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    /* Every step allocates and frees the same large tape values: keep them
     * in the heap instead of mmap/munmap (and page faults) each time
     * (about 30% of an epoch of the default model). */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    /* The method picks the model: keys, so it is known before the parse. */
    const oiqa_method *m;
    int rc = oiqa_train_method_of_args(argc, argv, &m);
    if (rc) return oiqa_report(rc);
    oiqa_train_table table;
    oiqa_tool tool = TOOL_TEMPLATE;
    rc = oiqa_train_tool_table(m, OWN, N_OWN, offsetof(train_cli, cfg), &table, &tool);
    if (rc) return oiqa_report(rc);
    train_cli o;
    oiqa_cli cli;
    rc = oiqa_cli_parse(&tool, argc, argv, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);
    char *out = o.out ? oiqa_strdup(o.out) : default_out(cli.config_path);
    rc = oiqa_train_config_bind(&o.cfg, m);
    if (!rc && !out) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o DIR (or --config FILE for runs/FILE)");
    if (!rc && o.force && o.resume) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--force and --resume exclude each other");
    if (!rc) {
        oiqa_train_opts to = {.out_dir = out, .resume = o.resume, .force = o.force, .progress = !cli.quiet,
                              .command = cli.command, .stop_after = o.stop_after,
                              .stop_after_batches = o.stop_after_batches, .save_every = o.save_every,
                              .interrupt = &g_signal};
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
        oiqa_train_result res;
        rc = oiqa_train_run(&o.cfg, &to, &res);
        if (rc == OIQA_TRAIN_INTERRUPTED) {
            free(out);
            oiqa_cli_free(&cli);
            return 128 + (int)g_signal;
        }
        if (!rc)
            oiqa_info("%s: best epoch %ld (val SRCC %.4f, PLCC %.4f), %.3f s per epoch", out, res.best_epoch,
                      res.best_srcc, res.best_plcc, res.seconds_per_epoch);
    }
    free(out);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
