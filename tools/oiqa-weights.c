/* oiqa-weights: list, convert and verify checkpoints (DESIGN §1, docs/weights.md):
 * ls, convert (to an oiqa HDF5 weight file), verify (against an architecture).
 * The logic lives in libcommon/io/ckpt*.c and libcommon/models/arch.c. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "io/ckpt.h"
#include "io/ckpt_h5.h"
#include "io/ckpt_list.h"
#include "models/arch.h"

typedef struct {
    char *dict, *out, *arch;
    int force;
} weights_opts;

#define OFF(f) offsetof(weights_opts, f)
#define CLI OIQA_OPTF_CLI_ONLY
#define DICT_OPT                                                                                                     \
    {"dict", 0, OIQA_OPT_STRING, OFF(dict), NULL, "KEY",                                                             \
     "nested dict holding the tensors (default: 'model', else 'state_dict', else the top level; '' = top)", 0, 0,   \
     NULL, CLI}

static const oiqa_opt LS_OPTS[] = {DICT_OPT, {0}};
static const oiqa_opt CONVERT_OPTS[] = {
    DICT_OPT,
    {"out", 'o', OIQA_OPT_STRING, OFF(out), NULL, "FILE", "the HDF5 weight file (written as FILE.partial, then renamed)",
     0, 0, NULL, CLI},
    {"arch", 0, OIQA_OPT_STRING, OFF(arch), NULL, "NAME", "check the checkpoint fits NAME first and record it", 0, 0,
     NULL, CLI},
    {"force", 0, OIQA_OPT_FLAG, OFF(force), "false", NULL, "overwrite an existing output", 0, 0, NULL, CLI},
    {0},
};
static const oiqa_opt VERIFY_OPTS[] = {
    DICT_OPT,
    {"arch", 0, OIQA_OPT_STRING, OFF(arch), NULL, "NAME", "architecture to check against (resnet50)", 0, 0, NULL, CLI},
    {0},
};

static int open_ckpt(const weights_opts *o, const char *path, oiqa_ckpt **ck)
{
    oiqa_ckpt_opts co = {.dict_key = o->dict};
    return oiqa_ckpt_open_opts(path, &co, ck);
}

/* An unknown --arch is a usage error, found before any file is read. */
static int known_arch(const char *name)
{
    if (!name) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no architecture: give --arch NAME (known: %s)", oiqa_arch_names());
    if (!oiqa_arch_known(name))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown architecture '%s' (known: %s)", name, oiqa_arch_names());
    return OIQA_OK;
}

static int run_ls(const weights_opts *o, const oiqa_cli *cli)
{
    oiqa_ckpt *ck;
    int rc = open_ckpt(o, cli->args[0], &ck);
    if (rc) return rc;
    oiqa_ckpt_print_list(ck, cli->args[0], stdout);
    oiqa_ckpt_close(ck);
    return OIQA_OK;
}

static int run_convert(const weights_opts *o, const oiqa_cli *cli)
{
    if (!o->out) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output: give -o OUT.h5 (see oiqa-weights convert --help)");
    int rc = o->arch ? known_arch(o->arch) : OIQA_OK;
    if (rc) return rc;
    const char *in = cli->args[0];
    oiqa_ckpt *ck;
    if ((rc = open_ckpt(o, in, &ck))) return rc;
    if (o->arch) rc = oiqa_arch_check(o->arch, ck, in);
    oiqa_weights_write_opts w = {.source_path = in, .arch = o->arch, .tool = "oiqa-weights " OIQA_VERSION,
                                 .command = cli->command, .force = o->force, .deflate_level = 4};
    if (!rc) rc = oiqa_ckpt_write_h5(ck, o->out, &w);
    if (!rc) oiqa_info("wrote %s (%d tensors)", o->out, oiqa_ckpt_count(ck));
    oiqa_ckpt_close(ck);
    return rc;
}

static int run_verify(const weights_opts *o, const oiqa_cli *cli)
{
    int rc = known_arch(o->arch);
    if (rc) return rc;
    const char *path = cli->args[0];
    oiqa_ckpt *ck;
    if ((rc = open_ckpt(o, path, &ck))) return rc;
    rc = oiqa_arch_check(o->arch, ck, path);
    if (!rc) printf("%s: fits %s (%d tensors)\n", path, o->arch, oiqa_ckpt_count(ck));
    oiqa_ckpt_close(ck);
    return rc;
}

typedef struct {
    oiqa_tool tool;
    const char *line; /* for oiqa-weights --help */
    int (*run)(const weights_opts *o, const oiqa_cli *cli);
} subcommand;

static const subcommand COMMANDS[] = {
    {{"oiqa-weights ls", "List the tensors of a checkpoint (.pth, .safetensors, oiqa .h5): name, dtype, shape.",
      "[options] FILE", "oiqa-weights ls resnet50.pth", LS_OPTS, 1, 1, 1},
     "ls FILE                       one line per tensor: name, dtype, shape", run_ls},
    {{"oiqa-weights convert", "Write a checkpoint as an oiqa HDF5 weight file (dtypes kept, provenance recorded).",
      "[options] IN -o OUT.h5", "oiqa-weights convert resnet50.pth -o resnet50.h5 --arch resnet50", CONVERT_OPTS, 1,
      1, 1},
     "convert IN -o OUT.h5          write an oiqa HDF5 weight file", run_convert},
    {{"oiqa-weights verify", "Check that a checkpoint fits an architecture (exit 1 naming the first mismatches).",
      "[options] FILE --arch NAME", "oiqa-weights verify resnet50.h5 --arch resnet50", VERIFY_OPTS, 1, 1, 1},
     "verify FILE --arch NAME       check a checkpoint against an architecture", run_verify},
};
#define N_COMMANDS ((int)(sizeof COMMANDS / sizeof COMMANDS[0]))

static void print_main_help(FILE *f)
{
    fprintf(f, "Usage: oiqa-weights COMMAND [options] ARGS...\n"
               "List, convert and verify checkpoints (.pth, .safetensors, oiqa HDF5 weight files).\n\n"
               "Commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %s\n", COMMANDS[i].line);
    fprintf(f, "\nArchitectures: %s\n'oiqa-weights COMMAND --help' lists a command's options.\n\n"
               "Example:\n  oiqa-weights convert resnet50.pth -o resnet50.h5 --arch resnet50\n",
            oiqa_arch_names());
}

int main(int argc, char **argv)
{
    oiqa_log_init(argv[0]);
    if (argc < 2) {
        oiqa_fail(OIQA_EXIT_USAGE, NULL, "no command given (one of ls, convert, verify; see oiqa-weights --help)");
        return oiqa_report(OIQA_EXIT_USAGE);
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        print_main_help(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("oiqa-weights %s\n", OIQA_VERSION);
        return 0;
    }
    const subcommand *sc = NULL;
    for (int i = 0; i < N_COMMANDS && !sc; i++)
        if (!strcmp(argv[1], COMMANDS[i].tool.name + strlen("oiqa-weights "))) sc = &COMMANDS[i];
    if (!sc) {
        oiqa_fail(OIQA_EXIT_USAGE, NULL,
                  "unknown command '%s' (one of ls, convert, verify; see oiqa-weights --help)", argv[1]);
        return oiqa_report(OIQA_EXIT_USAGE);
    }
    weights_opts o;
    oiqa_cli cli;
    int rc = oiqa_cli_parse(&sc->tool, argc - 1, argv + 1, &o, &cli);
    if (rc == OIQA_CLI_EXIT_OK) return 0;
    if (rc) return oiqa_report(rc);
    rc = sc->run(&o, &cli);
    oiqa_cli_free(&cli);
    return rc ? oiqa_report(rc) : 0;
}
