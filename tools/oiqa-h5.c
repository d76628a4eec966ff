/* oiqa-h5: look into HDF5 files (DESIGN §1, §3): ls, show, stats, dump,
 * diff, merge, export-png. The logic lives in libcommon/io/h5inspect*.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "io/h5inspect.h"

/* The options of every subcommand (each table uses its own). */
typedef struct {
    int attrs, all, per_row, force, sheet;
    char *rows, *index, *out, *dataset;
    double atol, rtol;
} h5_opts;

#define OFF(f) offsetof(h5_opts, f)
#define CLI OIQA_OPTF_CLI_ONLY

static const oiqa_opt LS_OPTS[] = {
    {"attrs", 0, OIQA_OPT_FLAG, OFF(attrs), "false", NULL, "show attribute values in full", 0, 0, NULL, CLI},
    {0},
};
static const oiqa_opt SHOW_OPTS[] = {
    {"all", 0, OIQA_OPT_FLAG, OFF(all), "false", NULL, "list every input (default: the first 5)", 0, 0, NULL, CLI},
    {0},
};
static const oiqa_opt STATS_OPTS[] = {
    {"rows", 0, OIQA_OPT_FLAG, OFF(per_row), "false", NULL, "also one line per row (named for per-image datasets)", 0,
     0, NULL, CLI},
    {0},
};
static const oiqa_opt DUMP_OPTS[] = {
    {"rows", 0, OIQA_OPT_STRING, OFF(rows), NULL, "A:B", "rows (first axis) to dump, like Python's A:B; default all",
     0, 0, NULL, CLI},
    {"index", 0, OIQA_OPT_STRING, OFF(index), NULL, "SPEC",
     "per-axis selection, e.g. \"0,:,3\" or \"2:4,0\" (integers drop the axis; missing axes are ':')", 0, 0, NULL,
     CLI},
    {0},
};
static const oiqa_opt DIFF_OPTS[] = {
    {"atol", 0, OIQA_OPT_DOUBLE, OFF(atol), "0", "X", "absolute tolerance: equal when |a-b| <= atol + rtol*|b|", 0,
     1e308, NULL, CLI},
    {"rtol", 0, OIQA_OPT_DOUBLE, OFF(rtol), "0", "X", "relative tolerance", 0, 1e308, NULL, CLI},
    {"attrs", 0, OIQA_OPT_FLAG, OFF(attrs), "false", NULL, "also compare attributes (except created and command)", 0,
     0, NULL, CLI},
    {0},
};
static const oiqa_opt MERGE_OPTS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "the merged store (written as FILE.partial, then renamed)",
     0, 0, NULL, CLI},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output or .partial", 0, 0, NULL,
     CLI},
    {0},
};
static const oiqa_opt PNG_OPTS[] = {
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "DIR", "directory for the PNG files (made if missing)", 0, 0, NULL,
     CLI},
    {"dataset", 0, OIQA_OPT_STRING, OFF(dataset), "/viewports", "PATH",
     "uint8 dataset [N,V,S,S,3] (or [N,H,W,3]) to export", 0, 0, NULL, CLI},
    {"sheet", 0, OIQA_OPT_FLAG, OFF(sheet), "false", NULL,
     "one contact sheet per image (labelled from /centers) instead of one PNG per viewport", 0, 0, NULL, CLI},
    {"rows", 0, OIQA_OPT_STRING, OFF(rows), NULL, "A:B", "rows to export, like Python's A:B; default all", 0, 0, NULL,
     CLI},
    {0},
};

typedef int (*run_fn)(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv);

static int run_ls(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv)
{
    (void)argc, (void)argv;
    return oiqa_h5_ls(cli->args[0], o->attrs, stdout);
}

static int run_show(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv)
{
    (void)argc, (void)argv;
    return oiqa_h5_show(cli->args[0], o->all, stdout);
}

static int run_stats(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv)
{
    (void)argc, (void)argv;
    return oiqa_h5_stats(cli->args[0], cli->args + 1, cli->n_args - 1, o->per_row, stdout);
}

static int run_dump(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv)
{
    (void)argc, (void)argv;
    return oiqa_h5_dump(cli->args[0], cli->args[1], o->rows, o->index, stdout);
}

static int run_diff(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv)
{
    (void)argc, (void)argv;
    oiqa_h5_diff_opts d = {.atol = o->atol, .rtol = o->rtol, .attrs = o->attrs};
    int differ = 0;
    int rc = oiqa_h5_diff(cli->args[0], cli->args[1], &d, stdout, &differ);
    if (rc) return rc;
    fflush(stdout);
    /* Files that differ exit 1 like diff(1); the report on stdout says how. */
    return differ ? -OIQA_EXIT_DATA : OIQA_OK;
}

static int run_merge(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv)
{
    if (!o->out) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see oiqa-h5 merge --help)");
    /* Provenance records the whole command line, subcommand included. */
    oiqa_sbuf cmd = {0};
    for (int i = 0; i < argc; i++) {
        if (i) oiqa_sbuf_append(&cmd, " ");
        oiqa_sbuf_append_shell_word(&cmd, argv[i]);
    }
    int rc = oiqa_h5_merge(cli->args, cli->n_args, o->out, o->force, "oiqa-h5 " OIQA_VERSION " merge", cmd.s);
    if (!rc) oiqa_info("wrote %s (%d shards)", o->out, cli->n_args);
    free(cmd.s);
    return rc;
}

static int run_export_png(const h5_opts *o, const oiqa_cli *cli, int argc, char **argv)
{
    (void)argc, (void)argv;
    if (!o->out) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o DIR (see oiqa-h5 export-png --help)");
    oiqa_h5_png_opts p = {.dataset = o->dataset, .rows = o->rows, .sheet = o->sheet};
    long written = 0;
    int rc = oiqa_h5_export_png(cli->args[0], o->out, &p, &written);
    if (!rc) oiqa_info("wrote %ld PNG file%s to %s", written, written == 1 ? "" : "s", o->out);
    return rc;
}

typedef struct {
    oiqa_tool tool;
    const char *line; /* for oiqa-h5 --help */
    run_fn run;
} subcommand;

static const subcommand COMMANDS[] = {
    {{"oiqa-h5 ls", "Show the tree of groups and datasets: shape, dtype, chunks, filters, attributes.",
      "[options] FILE", "oiqa-h5 ls features/demo/viewports.h5 --attrs", LS_OPTS, 1, 1, 1},
     "ls FILE                    tree of groups and datasets with dtypes, shapes, chunks, filters, attributes",
     run_ls},
    {{"oiqa-h5 show", "Show the provenance of an oiqa feature file: tool, stage, created, command, inputs, config.",
      "[options] FILE", "oiqa-h5 show features/demo/viewports.h5 --all", SHOW_OPTS, 1, 1, 1},
     "show FILE                  provenance of an oiqa feature file (tool, stage, config, inputs)", run_show},
    {{"oiqa-h5 stats",
      "Statistics of numeric datasets: min, max, mean, std over the finite values; NaN and Inf counts.",
      "[options] FILE [DATASET...]", "oiqa-h5 stats features/demo/resnet50.h5 /original/layer4/mean --rows",
      STATS_OPTS, 1, -1, 1},
     "stats FILE [DATASET...]    min, max, mean, std, NaN and Inf counts of numeric datasets", run_stats},
    {{"oiqa-h5 dump", "Write a slice of a dataset as CSV to stdout (per-image datasets start with the name).",
      "[options] FILE DATASET", "oiqa-h5 dump features/demo/viewports.h5 /centers\n"
                                "  oiqa-h5 dump features/demo/resnet50.h5 /original/layer4/mean --rows 0:2 --index :,0",
      DUMP_OPTS, 2, 2, 1},
     "dump FILE DATASET          a slice of a dataset as CSV", run_dump},
    {{"oiqa-h5 diff",
      "Compare the datasets of two files (rows matched by /names); exit 1 when they differ, 0 when equal.",
      "[options] A B", "oiqa-h5 diff run1/resnet50.h5 run2/resnet50.h5 --atol 1e-4", DIFF_OPTS, 2, 2, 1},
     "diff A B                   compare two files' datasets (exit 1 when they differ)", run_diff},
    {{"oiqa-h5 merge", "Concatenate shards of one stage and config into one feature file.",
      "[options] SHARD... -o OUT", "oiqa-h5 merge part1.h5 part2.h5 part3.h5 -o features/cviq/resnet50.h5",
      MERGE_OPTS, 1, -1, 1},
     "merge SHARD... -o OUT      concatenate shards of one stage and config", run_merge},
    {{"oiqa-h5 export-png",
      "Write the viewports of a feature file as PNG files DIR/<name>_vNN.png, or one contact sheet per image.",
      "[options] FILE -o DIR", "oiqa-h5 export-png features/demo/viewports.h5 -o results/sheets --sheet --rows 0:4",
      PNG_OPTS, 1, 1, 1},
     "export-png FILE -o DIR     viewports as PNG files or contact sheets", run_export_png},
};
#define N_COMMANDS ((int)(sizeof COMMANDS / sizeof COMMANDS[0]))

static void print_main_help(FILE *f)
{
    fprintf(f, "Usage: oiqa-h5 COMMAND [options] ARGS...\n"
               "Look into HDF5 files: any HDF5 file, and oiqa feature files with their names, rows and provenance.\n\n"
               "Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %s\n", COMMANDS[i].line);
    fprintf(f, "\n'oiqa-h5 COMMAND --help' lists a command's options.\n\n"
               "Example:\n  oiqa-h5 ls features/demo/viewports.h5\n"
               "  oiqa-h5 diff a.h5 b.h5 --atol 1e-5 && echo same\n");
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    if (argc < 2) {
        oiqa_fail(OIQA_EXIT_USAGE, NULL, "no command given (one of ls, show, stats, dump, diff, merge, export-png; "
                                         "see oiqa-h5 --help)");
        return oiqa_report(OIQA_EXIT_USAGE);
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        print_main_help(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("oiqa-h5 %s\n", OIQA_VERSION);
        return 0;
    }
    const subcommand *sc = NULL;
    for (int i = 0; i < N_COMMANDS && !sc; i++)
        if (!strcmp(argv[1], COMMANDS[i].tool.name + strlen("oiqa-h5 "))) sc = &COMMANDS[i];
    if (!sc) {
        oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown command '%s' (one of ls, show, stats, dump, diff, merge, "
                  "export-png; see oiqa-h5 --help)", argv[1]);
        return oiqa_report(OIQA_EXIT_USAGE);
    }
    h5_opts o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&sc->tool, argc - 1, argv + 1, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);
    rc = sc->run(&o, &cli, argc, argv);
    oiqa_cli_free(&cli);
    if (rc == -OIQA_EXIT_DATA) return OIQA_EXIT_DATA; /* diff: files differ, already reported */
    return rc ? oiqa_report(rc) : 0;
}
