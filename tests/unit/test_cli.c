/* The option parser: forms, precedence, messages, config files, --set,
 * YAML options, --help, --version, the resolved config and input lists. */
#include "check.h"
#include "base/cli.h"
#include "base/error.h"
#include "base/log.h"
#include "base/threads.h"

#include <fcntl.h>
#include <omp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

typedef struct {
    char *out;
    long size;
    double fov;
    int layout;
    int force;
    int flip;
    char *name;
    const oiqa_yaml_node *centers;
    long seed;
    char *note; /* no default */
} test_opts;

static const char *const layouts[] = {"icosa20", "cube6", "vgcn20", NULL};

static const oiqa_opt test_table[] = {
    {"out", 'o', OIQA_OPT_STRING, offsetof(test_opts, out), NULL, "FILE", "output file", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"size", 's', OIQA_OPT_INT, offsetof(test_opts, size), "224", "N", "viewport size in pixels", 16, 4096, NULL, 0},
    {"fov", 0, OIQA_OPT_DOUBLE, offsetof(test_opts, fov), "90", "DEG", "field of view", 1, 179, NULL, 0},
    {"layout", 'l', OIQA_OPT_ENUM, offsetof(test_opts, layout), "icosa20", NULL, "viewport layout", 0, 0, layouts, 0},
    {"force", 'f', OIQA_OPT_FLAG, offsetof(test_opts, force), NULL, NULL, "overwrite OUT", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {"flip", 0, OIQA_OPT_FLAG, offsetof(test_opts, flip), NULL, NULL, "mirror each viewport", 0, 0, NULL, 0},
    {"name", 0, OIQA_OPT_STRING, offsetof(test_opts, name), "default name", NULL, "a label", 0, 0, NULL, 0},
    {"centers", 0, OIQA_OPT_YAML, offsetof(test_opts, centers), NULL, NULL, "explicit centres", 0, 0, NULL, 0},
    {"seed", 0, OIQA_OPT_INT, offsetof(test_opts, seed), "7", NULL, "random seed", 0, 0, NULL, 0},
    {"note", 0, OIQA_OPT_STRING, offsetof(test_opts, note), NULL, NULL, "free text", 0, 0, NULL, 0},
    {0},
};

static const oiqa_tool test_tool = {
    .name = "oiqa-test",
    .summary = "Cuts test viewports.",
    .usage = "[options] IMAGE... -o OUT",
    .example = "oiqa-test a.png -o out.h5\noiqa-test @list.txt --set size=256 -o out.h5",
    .opts = test_table,
    .min_args = 1,
    .max_args = -1,
};

static const oiqa_opt plain_table[] = {
    {"out", 'o', OIQA_OPT_STRING, offsetof(test_opts, out), NULL, "FILE", "output file", 0, 0, NULL, OIQA_OPTF_CLI_ONLY},
    {0},
};

static const oiqa_tool two_args_tool = {
    .name = "oiqa-two",
    .usage = "A B",
    .opts = plain_table,
    .min_args = 2,
    .max_args = 2,
    .no_threads = 1,
};

static char g_tmp[64];

static const char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static const char *fmt(const char *f, ...)
{
    static char buf[2][2048];
    static int which;
    which ^= 1;
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf[which], sizeof buf[which], f, ap);
    va_end(ap);
    return buf[which];
}

static const char *write_file(const char *name, const char *text)
{
    static char path[2][256];
    static int which;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", g_tmp, name);
    FILE *f = fopen(path[which], "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path[which];
}

/* Reads a whole small file into a static buffer. */
static const char *slurp(const char *path)
{
    static char buf[16384];
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = '\0';
    return buf;
}

/* argv of the tool's name followed by the NULL-terminated arguments of ap
 * (at most 62); returns argc. */
static int argv_of(const oiqa_tool *tool, char **argv, va_list ap)
{
    int argc = 0;
    argv[argc++] = (char *)tool->name;
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 63;) argv[argc++] = a;
    argv[argc] = NULL;
    return argc;
}

/* Parses "oiqa-test" followed by the NULL-terminated arguments. */
static int parse_with(const oiqa_tool *tool, test_opts *o, oiqa_cli *cli, ...)
{
    char *argv[64];
    va_list ap;
    va_start(ap, cli);
    int argc = argv_of(tool, argv, ap);
    va_end(ap);
    memset(o, 0x5a, sizeof *o); /* garbage: every table field must be set */
    o->out = o->name = o->note = NULL;
    o->centers = NULL;
    return oiqa_cli_parse(tool, argc, argv, o, cli);
}
#define PARSE(o, cli, ...) parse_with(&test_tool, o, cli, __VA_ARGS__, (char *)NULL)

/* The parse must fail with exactly this message and leave nothing behind. */
#define EXPECT_USAGE(want, ...)                                                          \
    do {                                                                                 \
        test_opts o_;                                                                    \
        oiqa_cli c_;                                                                     \
        int rc_ = PARSE(&o_, &c_, __VA_ARGS__);                                          \
        CHECK_MSG(rc_ == OIQA_EXIT_USAGE, "rc %d, message '%s'", rc_, oiqa_errmsg());    \
        CHECK_STR(oiqa_errmsg(), (want));                                                \
        CHECK(c_.owned == NULL && c_.args == NULL && o_.name == NULL && o_.out == NULL); \
        oiqa_cli_free(&c_);                                                              \
    } while (0)

/* Runs a parse with stdout going to a file; returns what was printed. */
static const char *parse_capturing_stdout(const oiqa_tool *tool, int *rc, ...)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)tool->name;
    va_list ap;
    va_start(ap, rc);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;) argv[argc++] = a;
    va_end(ap);
    const char *path = fmt("%s/stdout.txt", g_tmp);
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    close(fd);
    test_opts o;
    oiqa_cli cli;
    *rc = oiqa_cli_parse(tool, argc, argv, &o, &cli);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    oiqa_cli_free(&cli);
    return slurp(path);
}

static void t_defaults(void)
{
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "a.png") == OIQA_OK);
    CHECK(o.size == 224 && o.fov == 90 && o.layout == 0 && o.force == 0 && o.flip == 0 && o.seed == 7);
    CHECK_STR(o.name, "default name");
    CHECK(o.out == NULL && o.note == NULL && o.centers == NULL);
    CHECK(cli.n_args == 1);
    CHECK_STR(cli.args[0], "a.png");
    CHECK(cli.threads == oiqa_threads_default());
    CHECK(cli.config_path == NULL && cli.quiet == 0 && cli.verbose == 0);
    CHECK_STR(cli.command, "oiqa-test a.png");
    oiqa_cli_free(&cli);
    CHECK(cli.owned == NULL);
    oiqa_cli_free(&cli); /* twice is harmless */
}

static void t_option_forms(void)
{
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "--size", "300", "a.png", "--fov=45.5", "-l", "cube6", "-oout.h5", "-f", "b.png") == OIQA_OK);
    CHECK(o.size == 300 && o.fov == 45.5 && o.layout == 1 && o.force == 1);
    CHECK_STR(o.out, "out.h5");
    CHECK(cli.n_args == 2);
    CHECK_STR(cli.args[1], "b.png");
    oiqa_cli_free(&cli);

    CHECK(PARSE(&o, &cli, "-s320", "-o", "x.h5", "--size=330", "--out=y.h5", "a") == OIQA_OK);
    CHECK(o.size == 330);
    CHECK_STR(o.out, "y.h5");
    oiqa_cli_free(&cli);

    /* A cluster of flags, then one taking the rest as its value. */
    CHECK(PARSE(&o, &cli, "-fs512", "a") == OIQA_OK);
    CHECK(o.force == 1 && o.size == 512);
    oiqa_cli_free(&cli);

    /* Long clusters: an item per letter. */
    CHECK(PARSE(&o, &cli, "-qvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqvqf", "a") == OIQA_OK);
    CHECK(o.force == 1 && cli.quiet && cli.verbose);
    oiqa_cli_free(&cli);
    oiqa_log_set_level(OIQA_LOG_INFO);

    /* "-" is an argument; "--" ends options; values may start with '-'. */
    CHECK(PARSE(&o, &cli, "-", "--note", "-x", "--", "--size", "-s") == OIQA_OK);
    CHECK(o.size == 224);
    CHECK_STR(o.note, "-x");
    CHECK(cli.n_args == 3);
    CHECK(cli.n_args == 3 && !strcmp(cli.args[0], "-") && !strcmp(cli.args[1], "--size") && !strcmp(cli.args[2], "-s"));
    oiqa_cli_free(&cli);

    /* An empty value is a value. */
    CHECK(PARSE(&o, &cli, "--note=", "a") == OIQA_OK);
    CHECK_STR(o.note, "");
    oiqa_cli_free(&cli);
}

static void t_command_line_errors(void)
{
    EXPECT_USAGE("unknown option '--sise' (see --help)", "--sise", "3", "a");
    EXPECT_USAGE("unknown option '--sise' (see --help)", "--sise=3", "a");
    EXPECT_USAGE("unknown option '-x' (see --help)", "-x", "a");
    EXPECT_USAGE("unknown option '-z' (see --help)", "-fz", "a");
    EXPECT_USAGE("--size needs a value", "a", "--size");
    EXPECT_USAGE("-s needs a value", "a", "-s");
    EXPECT_USAGE("--size: expected an integer in [16, 4096], got 'big'", "--size", "big", "a");
    EXPECT_USAGE("--size: expected an integer in [16, 4096], got '8'", "--size=8", "a");
    EXPECT_USAGE("--size: expected an integer in [16, 4096], got '1.5'", "--size", "1.5", "a");
    EXPECT_USAGE("-s: expected an integer in [16, 4096], got '5000'", "-s5000", "a");
    EXPECT_USAGE("--fov: expected a number in [1, 179], got '200'", "--fov", "200", "a");
    EXPECT_USAGE("--fov: expected a number in [1, 179], got 'nan'", "--fov", "nan", "a");
    EXPECT_USAGE("--seed: expected an integer, got '12abc'", "--seed", "12abc", "a");
    EXPECT_USAGE("--layout: expected one of icosa20, cube6, vgcn20, got 'hex'", "--layout", "hex", "a");
    EXPECT_USAGE("--force takes no value", "--force=yes", "a");
    EXPECT_USAGE("-j: expected an integer in [1, 1024], got '0'", "-j", "0", "a");
    EXPECT_USAGE("--threads: expected an integer in [1, 1024], got '2000'", "--threads=2000", "a");
    EXPECT_USAGE("-j: expected an integer in [1, 1024], got 'all'", "-jall", "a");
    EXPECT_USAGE("expected at least 1 argument, got 0 (usage: oiqa-test [options] IMAGE... -o OUT)", "-s", "64");
    EXPECT_USAGE("--config given twice ('x.yaml' and 'y.yaml'); give one file", "--config", "x.yaml", "--config=y.yaml",
                 "a");

    test_opts o;
    oiqa_cli cli;
    CHECK(parse_with(&two_args_tool, &o, &cli, "a", (char *)NULL) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "expected 2 arguments, got 1 (usage: oiqa-two A B)");
    CHECK(parse_with(&two_args_tool, &o, &cli, "a", "b", "c", (char *)NULL) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "unexpected argument 'c' (usage: oiqa-two A B)");
    CHECK(parse_with(&two_args_tool, &o, &cli, "-j", "2", "a", "b", (char *)NULL) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "unknown option '-j' (see --help)"); /* no_threads */
    CHECK(parse_with(&two_args_tool, &o, &cli, "a", "b", "-o", "x", (char *)NULL) == OIQA_OK);
    CHECK_STR(o.out, "x");
    oiqa_cli_free(&cli);
}

static void t_set_errors(void)
{
    EXPECT_USAGE("--set: expected KEY=VALUE, got 'size'", "--set", "size", "a");
    EXPECT_USAGE("--set: expected KEY=VALUE, got '=3'", "--set==3", "a");
    EXPECT_USAGE("--set: unknown key 'sise' (known: size, fov, layout, flip, name, centers, seed, note)", "--set",
                 "sise=3", "a");
    EXPECT_USAGE("--set: 'out' is not a config key (use --out)", "--set", "out=x.h5", "a");
    EXPECT_USAGE("--set: unknown key 'threads' (known: size, fov, layout, flip, name, centers, seed, note)", "--set",
                 "threads=3", "a");
    EXPECT_USAGE("--set size: expected an integer in [16, 4096], got 'big'", "--set", "size=big", "a");
    EXPECT_USAGE("--set size: expected an integer in [16, 4096], got '300' (quoted, so a string)", "--set",
                 "size=\"300\"", "a");
    EXPECT_USAGE("--set layout: expected one of icosa20, cube6, vgcn20, got a list", "--set", "layout=[cube6]", "a");
    EXPECT_USAGE("--set flip: expected true or false, got 'maybe'", "--set", "flip=maybe", "a");
    EXPECT_USAGE("--set name: expected a string, got a map", "--set", "name={a: 1}", "a");
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "--set", "centers=[1, 2", "a") == OIQA_EXIT_USAGE);
    CHECK_MSG(!strncmp(oiqa_errmsg(), "--set:", 6) && strstr(oiqa_errmsg(), "did not find expected ',' or ']'"), "%s",
              oiqa_errmsg());
}

static void t_set_values(void)
{
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "--set", "size=256", "--set", "fov=1e2", "--set", "layout=\"vgcn20\"", "--set", "flip=yes",
                "--set", "name='two words: here'", "--set", "note=123", "a") == OIQA_OK);
    CHECK(o.size == 256 && o.fov == 100 && o.layout == 2 && o.flip == 1);
    CHECK_STR(o.name, "two words: here");
    CHECK_STR(o.note, "123");
    oiqa_cli_free(&cli);
    /* null unsets a string */
    CHECK(PARSE(&o, &cli, "--set", "name=null", "a") == OIQA_OK);
    CHECK(o.name == NULL);
    oiqa_cli_free(&cli);
    CHECK(PARSE(&o, &cli, "--set", "name=", "a") == OIQA_OK);
    CHECK(o.name == NULL);
    oiqa_cli_free(&cli);
}

static void t_yaml_option(void)
{
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "--set", "centers=[{lon: 0, lat: 0, fov: 90}, {lon: 180, lat: -45.5, fov: 60}]", "a") ==
          OIQA_OK);
    const oiqa_yaml_node *c = o.centers;
    CHECK(c && c->kind == OIQA_YAML_SEQ && c->n == 2);
    if (c && c->n == 2) {
        double lat = 0;
        CHECK(c->items[1]->kind == OIQA_YAML_MAP);
        CHECK(oiqa_yaml_as_double(oiqa_yaml_get(c->items[1], "lat"), "lat", &lat) == OIQA_OK && lat == -45.5);
    }
    oiqa_cli_free(&cli);

    /* On the command line as well. */
    CHECK(PARSE(&o, &cli, "--centers", "{lon: 10}", "a") == OIQA_OK);
    CHECK(o.centers && o.centers->kind == OIQA_YAML_MAP && o.centers->n == 1);
    oiqa_cli_free(&cli);

    /* Nested block YAML in a config; --set null unsets it again. */
    const char *cfg = write_file("centers.yaml",
                                 "centers:\n"
                                 "  - lon: 0\n"
                                 "    lat: 90\n"
                                 "  - lon: 0\n"
                                 "    lat: -90\n"
                                 "    extra: [1, [2, 3], {deep: true}]\n");
    CHECK(PARSE(&o, &cli, "--config", cfg, "a") == OIQA_OK);
    CHECK(o.centers && o.centers->n == 2 && o.centers->items[1]->n == 3);
    if (o.centers && o.centers->n == 2) {
        CHECK_STR(o.centers->source, cfg);
        CHECK(o.centers->items[1]->line == 4);
    }
    oiqa_cli_free(&cli);
    CHECK(PARSE(&o, &cli, "--config", cfg, "--set", "centers=~", "a") == OIQA_OK);
    CHECK(o.centers == NULL);
    oiqa_cli_free(&cli);
}

static void t_precedence(void)
{
    const char *cfg = write_file("prec.yaml", "size: 300\nfov: 45\nlayout: cube6\nflip: true\nname: from config\n");
    test_opts o;
    oiqa_cli cli;
    /* config over defaults */
    CHECK(PARSE(&o, &cli, "--config", cfg, "a") == OIQA_OK);
    CHECK(o.size == 300 && o.fov == 45 && o.layout == 1 && o.flip == 1 && o.seed == 7);
    CHECK_STR(o.name, "from config");
    CHECK_STR(cli.config_path, cfg);
    oiqa_cli_free(&cli);
    /* command line over config, wherever --config appears */
    CHECK(PARSE(&o, &cli, "--size", "500", "--fov=60", "--config", cfg, "a") == OIQA_OK);
    CHECK(o.size == 500 && o.fov == 60 && o.layout == 1);
    oiqa_cli_free(&cli);
    /* --set and options in command-line order: the last one wins */
    CHECK(PARSE(&o, &cli, "--config", cfg, "--set", "size=400", "--size", "500", "a") == OIQA_OK);
    CHECK(o.size == 500);
    oiqa_cli_free(&cli);
    CHECK(PARSE(&o, &cli, "--size", "500", "--set", "size=400", "--config", cfg, "a") == OIQA_OK);
    CHECK(o.size == 400);
    oiqa_cli_free(&cli);
    /* a flag set in the config can be switched off with --set */
    CHECK(PARSE(&o, &cli, "--config", cfg, "--set", "flip=false", "a") == OIQA_OK);
    CHECK(o.flip == 0);
    oiqa_cli_free(&cli);
    CHECK(PARSE(&o, &cli, "--set", "flip=false", "--flip", "a") == OIQA_OK);
    CHECK(o.flip == 1);
    oiqa_cli_free(&cli);
}

/* --config FILE (written from text) must fail with "FILE" + suffix. */
static void expect_config_error(const char *text, const char *suffix)
{
    const char *cfg = write_file("bad.yaml", text);
    char path[256];
    snprintf(path, sizeof path, "%s", cfg);
    test_opts o;
    oiqa_cli cli;
    int rc = PARSE(&o, &cli, "--config", path, "a");
    CHECK_MSG(rc == OIQA_EXIT_USAGE, "rc %d for %s", rc, text);
    CHECK_STR(oiqa_errmsg(), fmt("%s%s", path, suffix));
    CHECK(cli.owned == NULL);
}

static void t_config_errors(void)
{
    expect_config_error("fov: 30\nsize: big\n", ":2: key 'size': expected an integer in [16, 4096], got 'big'");
    expect_config_error("size: 8\n", ":1: key 'size': expected an integer in [16, 4096], got '8'");
    expect_config_error("size: '300'\n", ":1: key 'size': expected an integer in [16, 4096], got '300' (quoted, so a string)");
    expect_config_error("layout: hex\n", ":1: key 'layout': expected one of icosa20, cube6, vgcn20, got 'hex'");
    expect_config_error("flip: 2\n", ":1: key 'flip': expected true or false, got '2'");
    expect_config_error("fov:\n", ":1: key 'fov': expected a number in [1, 179], got nothing");
    expect_config_error("name: [a]\n", ":1: key 'name': expected a string, got a list");
    expect_config_error("size: 300\nsise: 3\n",
                        ":2: unknown key 'sise' (known: size, fov, layout, flip, name, centers, seed, note)");
    expect_config_error("out: x.h5\n", ":1: unknown key 'out' (known: size, fov, layout, flip, name, centers, seed, note)");
    expect_config_error("- size: 3\n", ":1: the top level must be a map of 'key: value' lines, got a list");
    expect_config_error("size\n", ":1: the top level must be a map of 'key: value' lines, got a single value");
    expect_config_error("size: 300\nsize: 301\n", ":2: duplicate key 'size' (first at line 1)");
    expect_config_error("size: &s 300\n", ":1: anchors (&s) are not supported; write the value out");
    expect_config_error("size: 300\n---\nsize: 2\n", ":2: more than one YAML document (a second '---'); one is allowed");

    /* A tab in the indentation names the line and the fix. */
    const char *cfg = write_file("tab.yaml", "centers:\n\t- lon: 0\n");
    char path[256];
    snprintf(path, sizeof path, "%s", cfg);
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "--config", path, "a") == OIQA_EXIT_USAGE);
    CHECK_MSG(!strncmp(oiqa_errmsg(), fmt("%s:2: ", path), strlen(path) + 4) && strstr(oiqa_errmsg(), "not tabs"), "%s",
              oiqa_errmsg());

    /* Missing config: a usage error naming the file. */
    const char *missing = fmt("%s/none.yaml", g_tmp);
    snprintf(path, sizeof path, "%s", missing);
    CHECK(PARSE(&o, &cli, "--config", path, "a") == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), fmt("%s: no such file", path));
    CHECK(PARSE(&o, &cli, "--config", g_tmp, "a") == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), fmt("%s: is a directory", g_tmp));

    /* An empty config (or only comments) sets nothing. */
    cfg = write_file("empty.yaml", "");
    snprintf(path, sizeof path, "%s", cfg);
    CHECK(PARSE(&o, &cli, "--config", path, "a") == OIQA_OK && o.size == 224);
    oiqa_cli_free(&cli);
    cfg = write_file("comments.yaml", "# nothing here\n\n");
    CHECK(PARSE(&o, &cli, "--config", cfg, "a") == OIQA_OK && o.size == 224);
    oiqa_cli_free(&cli);
}

static void t_help(void)
{
    int rc;
    const char *out = parse_capturing_stdout(&test_tool, &rc, "a.png", "--help", "--sise", (char *)NULL);
    CHECK(rc == OIQA_CLI_EXIT_OK);
    CHECK_MSG(!strncmp(out, "Usage: oiqa-test [options] IMAGE... -o OUT\nCuts test viewports.\n", 63), "%s", out);
    static const char *const want[] = {
        "  -o, --out FILE            output file\n",
        "  -s, --size N              viewport size in pixels (in [16, 4096]; default: 224)\n",
        "      --fov DEG             field of view (in [1, 179]; default: 90)\n",
        "  -l, --layout NAME         viewport layout (one of icosa20, cube6, vgcn20; default: icosa20)\n",
        "  -f, --force               overwrite OUT\n",
        "      --flip                mirror each viewport\n",
        "      --name TEXT           a label (default: default name)\n",
        "      --centers YAML        explicit centres\n",
        "      --seed N              random seed (default: 7)\n",
        "      --note TEXT           free text\n",
        "  -h, --help                show this help and exit\n",
        "      --version             print the version and exit\n",
        "      --config FILE         read config keys from a YAML file",
        "      --set KEY=VALUE       set a config key; VALUE is YAML",
        "  -j, --threads N           threads for OpenMP and BLAS (in [1, 1024]; default: ",
        "  -q, --quiet               only warnings and errors",
        "  -v, --verbose             ",
        "\nConfig keys (in --config FILE or --set KEY=VALUE): size, fov, layout, flip, name, centers, seed, note\n",
        "\nExample:\n  oiqa-test a.png -o out.h5\n  oiqa-test @list.txt --set size=256 -o out.h5\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_MSG(strstr(out, want[i]) != NULL, "missing '%s' in:\n%s", want[i], out);
    /* tool options come before the common ones */
    CHECK(strstr(out, "--note") < strstr(out, "--help"));

    out = parse_capturing_stdout(&two_args_tool, &rc, "-h", (char *)NULL);
    CHECK(rc == OIQA_CLI_EXIT_OK);
    CHECK(strstr(out, "Usage: oiqa-two A B\n") == out);
    CHECK(!strstr(out, "--threads") && !strstr(out, "Example:") && !strstr(out, "Config keys"));

    /* An error before --help is still an error. */
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "--sise", "--help") == OIQA_EXIT_USAGE);
}

static void t_version(void)
{
    int rc;
    const char *out = parse_capturing_stdout(&test_tool, &rc, "--version", (char *)NULL);
    CHECK(rc == OIQA_CLI_EXIT_OK);
    CHECK_STR(out, "oiqa-test " OIQA_VERSION "\n");
}

static void t_resolved_config(void)
{
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "a") == OIQA_OK);
    char *text = oiqa_cli_resolved_config(&test_tool, &o);
    CHECK_STR(text,
              "size: 224\n"
              "fov: 90\n"
              "layout: icosa20\n"
              "flip: false\n"
              "name: default name\n"
              "centers: null\n"
              "seed: 7\n"
              "note: null\n");
    free(text);
    oiqa_cli_free(&cli);

    CHECK(PARSE(&o, &cli, "--fov", "1.1", "--name", "true", "--note", "say \"hi\": #1", "--flip", "-l", "vgcn20", "--set",
                "centers=[{lon: -180, lat: 12.25, fov: 90}, {name: 'x, y'}]", "-o", "out.h5", "a") == OIQA_OK);
    text = oiqa_cli_resolved_config(&test_tool, &o);
    CHECK_STR(text,
              "size: 224\n"
              "fov: 1.1\n"
              "layout: vgcn20\n"
              "flip: true\n"
              "name: \"true\"\n"
              "centers: [{lon: -180, lat: 12.25, fov: 90}, {name: \"x, y\"}]\n"
              "seed: 7\n"
              "note: \"say \\\"hi\\\": #1\"\n");
    oiqa_cli_free(&cli);
    free(text);
}

/* Resolved text read back as a config gives the same options and text. */
static void t_resolved_round_trip(void)
{
    test_opts a, b;
    oiqa_cli ca, cb;
    CHECK(PARSE(&a, &ca, "--size", "4096", "--fov", "33.333333333333336", "--seed", "-12", "--name", "",
                "--note", "line\nbreak\ttab 'q' \\ é", "--set", "centers={a: [1, '2', null, ~], b: {c: \"d:e\"}}",
                "--flip", "a") == OIQA_OK);
    char *text = oiqa_cli_resolved_config(&test_tool, &a);
    const char *cfg = write_file("resolved.yaml", text);
    CHECK(PARSE(&b, &cb, "--config", cfg, "z") == OIQA_OK);
    CHECK(a.size == b.size && a.fov == b.fov && a.seed == b.seed && a.layout == b.layout && a.flip == b.flip);
    CHECK(a.name && b.name && !strcmp(a.name, b.name));
    CHECK(a.note && b.note && !strcmp(a.note, b.note));
    char *fa = oiqa_yaml_to_flow(a.centers), *fb = oiqa_yaml_to_flow(b.centers);
    CHECK_STR(fa, fb);
    char *text2 = oiqa_cli_resolved_config(&test_tool, &b);
    CHECK_STR(text2, text);
    free(fa), free(fb), free(text), free(text2);
    oiqa_cli_free(&ca);
    oiqa_cli_free(&cb);
}

static void t_command_string(void)
{
    test_opts o;
    oiqa_cli cli;
    CHECK(PARSE(&o, &cli, "two words.png", "--set", "centers=[{lon: 0}]", "--note", "it's", "-o", "out.h5") == OIQA_OK);
    CHECK_STR(cli.command, "oiqa-test 'two words.png' --set 'centers=[{lon: 0}]' --note 'it'\\''s' -o out.h5");
    oiqa_cli_free(&cli);
}

static void t_log_and_threads(void)
{
    test_opts o;
    oiqa_cli cli;
    oiqa_log_level before = oiqa_log_get_level();
    CHECK(PARSE(&o, &cli, "-q", "a") == OIQA_OK);
    CHECK(cli.quiet == 1 && oiqa_log_get_level() == OIQA_LOG_WARN);
    oiqa_cli_free(&cli);
    CHECK(PARSE(&o, &cli, "-qv", "a") == OIQA_OK);
    CHECK(cli.verbose == 1 && oiqa_log_get_level() == OIQA_LOG_DEBUG);
    oiqa_cli_free(&cli);
    oiqa_log_set_level(before);

    CHECK(PARSE(&o, &cli, "-j3", "a") == OIQA_OK);
    CHECK(cli.threads == 3 && oiqa_threads_get() == 3 && omp_get_max_threads() == 3);
    oiqa_cli_free(&cli);
    CHECK(PARSE(&o, &cli, "--threads", "1", "a") == OIQA_OK);
    CHECK(cli.threads == 1 && omp_get_max_threads() == 1);
    oiqa_cli_free(&cli);
    CHECK(PARSE(&o, &cli, "a") == OIQA_OK);
    CHECK(cli.threads == oiqa_threads_default() && omp_get_max_threads() == oiqa_threads_default());
    oiqa_cli_free(&cli);
}

static void t_expand_inputs(void)
{
    const char *list = write_file("list.txt", "# images\nx/a.png\r\n\n   \nb c.png  \n  # indented comment\n@not-a-list\n");
    char at_list[300];
    snprintf(at_list, sizeof at_list, "@%s", list);
    const char *stdin_file = write_file("stdin.txt", "s1.png\ns2.png");
    char *args[] = {"first.png", at_list, "-", "last.png"};
    CHECK(freopen(stdin_file, "r", stdin) != NULL);
    char **names = NULL;
    int n = 0;
    CHECK(oiqa_cli_expand_inputs(args, 4, &names, &n) == OIQA_OK);
    static const char *const want[] = {"first.png", "x/a.png", "b c.png", "@not-a-list", "s1.png", "s2.png", "last.png"};
    CHECK(n == 7);
    for (int i = 0; i < n && i < 7; i++) CHECK_MSG(!strcmp(names[i], want[i]), "%d: '%s'", i, names[i]);
    oiqa_strv_free(names, n);

    /* An empty list is no names, not an error. */
    const char *empty = write_file("empty.txt", "");
    snprintf(at_list, sizeof at_list, "@%s", empty);
    char *one[] = {at_list};
    CHECK(oiqa_cli_expand_inputs(one, 1, &names, &n) == OIQA_OK && n == 0);
    oiqa_strv_free(names, n);

    char missing[300];
    snprintf(missing, sizeof missing, "@%s/nolist.txt", g_tmp);
    char *bad[] = {"a.png", missing};
    CHECK(oiqa_cli_expand_inputs(bad, 2, &names, &n) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), fmt("%s: no such file (a list of names)", missing + 1));
    CHECK(names == NULL && n == 0);
    snprintf(missing, sizeof missing, "@%s", g_tmp);
    CHECK(oiqa_cli_expand_inputs(bad, 2, &names, &n) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), fmt("%s: is a directory, not a list of names", g_tmp));
    char *at_alone[] = {"@"};
    CHECK(oiqa_cli_expand_inputs(at_alone, 1, &names, &n) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "'@' needs a list file name (@list.txt)");
    CHECK(freopen("/dev/null", "r", stdin) != NULL);
}

/* ---- sections and lists ------------------------------------------------ */

/* The shape of oiqa-train's options: two sections of model and optimizer keys. */
typedef struct {
    long hidden;
    double dropout;
    int use_restored;
    oiqa_opt_strings scales;
    oiqa_opt_numbers loss_weights;
} model_opts;

typedef struct {
    int type;
    double lr;
} optimizer_opts;

typedef struct {
    char *out;
    model_opts model;
    optimizer_opts optimizer;
    long epochs;
} train_opts;

static const char *const optimizer_names[] = {"sgd", "adamw", NULL};

#define MODEL_KEYS "hidden, dropout, use_restored, scales, loss_weights" /* as messages list them */

#define MOFF(f) offsetof(model_opts, f)
static const oiqa_opt model_table[] = {
    {.name = "hidden", .type = OIQA_OPT_INT, .offset = MOFF(hidden), .def = "256", .help = "hidden units", .min = 1,
     .max = 65536},
    {.name = "dropout", .type = OIQA_OPT_DOUBLE, .offset = MOFF(dropout), .def = "0.1", .help = "dropout rate",
     .min = 0, .max = 1},
    {.name = "use_restored", .type = OIQA_OPT_FLAG, .offset = MOFF(use_restored), .def = "true",
     .help = "use the restored stream"},
    {.name = "scales", .type = OIQA_OPT_STRINGS, .offset = MOFF(scales), .def = "[layer2, layer3, layer4]",
     .help = "feature layers", .min_count = 1, .max_count = 4},
    {.name = "loss_weights", .type = OIQA_OPT_NUMBERS, .offset = MOFF(loss_weights), .def = "[1.0, 0.1, 0.1]",
     .help = "loss weights", .min = 0, .max = 1e6, .min_count = 3, .max_count = 3},
    {0},
};

#define POFF(f) offsetof(optimizer_opts, f)
static const oiqa_opt optimizer_table[] = {
    {.name = "type", .type = OIQA_OPT_ENUM, .offset = POFF(type), .def = "sgd", .help = "optimizer",
     .choices = optimizer_names},
    {.name = "lr", .type = OIQA_OPT_DOUBLE, .offset = POFF(lr), .def = "0.001", .help = "learning rate", .min = 0,
     .max = 10},
    {0},
};

#define TOFF(f) offsetof(train_opts, f)
static const oiqa_opt train_table[] = {
    {.name = "out", .short_name = 'o', .type = OIQA_OPT_STRING, .offset = TOFF(out), .metavar = "FILE",
     .help = "output file", .flags = OIQA_OPTF_CLI_ONLY},
    {.name = "model", .type = OIQA_OPT_SECTION, .offset = TOFF(model), .help = "the model", .sub = model_table},
    {.name = "optimizer", .type = OIQA_OPT_SECTION, .offset = TOFF(optimizer), .help = "the optimizer",
     .sub = optimizer_table},
    {.name = "epochs", .type = OIQA_OPT_INT, .offset = TOFF(epochs), .def = "100", .help = "epochs", .min = 1,
     .max = 100000},
    {0},
};

static const oiqa_tool train_tool = {
    .name = "oiqa-train-test",
    .summary = "Trains nothing.",
    .opts = train_table,
    .max_args = -1,
};

/* Sections two levels deep, and top-level lists. */
typedef struct {
    long c;
    char *d;
} inner_opts;

typedef struct {
    inner_opts b;
    long e;
} outer_opts;

typedef struct {
    outer_opts a;
    long f;
    oiqa_opt_strings tags;
    oiqa_opt_numbers gains;
} nest_opts;

static const oiqa_opt inner_table[] = {
    {.name = "c", .type = OIQA_OPT_INT, .offset = offsetof(inner_opts, c), .def = "1", .help = "c", .min = 0,
     .max = 100},
    {.name = "d", .type = OIQA_OPT_STRING, .offset = offsetof(inner_opts, d), .def = "x", .help = "d"},
    {0},
};

static const oiqa_opt outer_table[] = {
    {.name = "b", .type = OIQA_OPT_SECTION, .offset = offsetof(outer_opts, b), .help = "inner", .sub = inner_table},
    {.name = "e", .type = OIQA_OPT_INT, .offset = offsetof(outer_opts, e), .def = "2", .help = "e"},
    {0},
};

static const oiqa_opt nest_table[] = {
    {.name = "a", .type = OIQA_OPT_SECTION, .offset = offsetof(nest_opts, a), .help = "outer", .sub = outer_table},
    {.name = "f", .type = OIQA_OPT_INT, .offset = offsetof(nest_opts, f), .def = "3", .help = "f"},
    {.name = "tags", .type = OIQA_OPT_STRINGS, .offset = offsetof(nest_opts, tags), .help = "any number of tags"},
    {.name = "gains", .type = OIQA_OPT_NUMBERS, .offset = offsetof(nest_opts, gains), .def = "[1, 2]",
     .help = "two gains", .min = 0, .max = 10, .min_count = 2, .max_count = 2},
    {0},
};

static const oiqa_tool nest_tool = {.name = "oiqa-nest-test", .opts = nest_table, .max_args = -1};

/* Parses tool's name followed by the NULL-terminated arguments into a
 * struct filled with garbage first (every field must be set). */
static int parse_any(const oiqa_tool *tool, void *opts, size_t size, oiqa_cli *cli, ...)
{
    char *argv[64];
    va_list ap;
    va_start(ap, cli);
    int argc = argv_of(tool, argv, ap);
    va_end(ap);
    memset(opts, 0x5a, size);
    return oiqa_cli_parse(tool, argc, argv, opts, cli);
}
#define TPARSE(o, cli, ...) parse_any(&train_tool, o, sizeof *(o), cli, __VA_ARGS__, (char *)NULL)
#define NPARSE(o, cli, ...) parse_any(&nest_tool, o, sizeof *(o), cli, __VA_ARGS__, (char *)NULL)

/* Nothing a failed parse owned is still pointed at. */
static int train_cleared(const train_opts *o)
{
    return o->out == NULL && o->model.scales.n == 0 && o->model.scales.v == NULL && o->model.loss_weights.n == 0 &&
           o->model.loss_weights.v == NULL;
}

static int nest_cleared(const nest_opts *o)
{
    return o->a.b.d == NULL && o->tags.n == 0 && o->tags.v == NULL && o->gains.n == 0 && o->gains.v == NULL;
}

/* The parse of tool (train or nest) must fail with exactly this message. */
#define EXPECT_TOOL_USAGE(T, parse, cleared, want, ...)                                  \
    do {                                                                                 \
        T o_;                                                                            \
        oiqa_cli c_;                                                                     \
        int rc_ = parse(&o_, &c_, __VA_ARGS__);                                          \
        CHECK_MSG(rc_ == OIQA_EXIT_USAGE, "rc %d, message '%s'", rc_, oiqa_errmsg());    \
        CHECK_STR(oiqa_errmsg(), (want));                                                \
        CHECK(c_.owned == NULL && cleared(&o_));                                         \
        oiqa_cli_free(&c_);                                                              \
    } while (0)
#define EXPECT_TRAIN_USAGE(want, ...) EXPECT_TOOL_USAGE(train_opts, TPARSE, train_cleared, want, __VA_ARGS__)
#define EXPECT_NEST_USAGE(want, ...) EXPECT_TOOL_USAGE(nest_opts, NPARSE, nest_cleared, want, __VA_ARGS__)

static int strings_are(const oiqa_opt_strings *l, int n, ...)
{
    if (l->n != n || (n == 0) != (l->v == NULL)) return 0;
    va_list ap;
    va_start(ap, n);
    int same = 1;
    for (int i = 0; i < n; i++) same &= !strcmp(l->v[i], va_arg(ap, const char *));
    va_end(ap);
    return same;
}

static int numbers_are(const oiqa_opt_numbers *l, int n, ...)
{
    if (l->n != n || (n == 0) != (l->v == NULL)) return 0;
    va_list ap;
    va_start(ap, n);
    int same = 1;
    for (int i = 0; i < n; i++) same &= l->v[i] == va_arg(ap, double);
    va_end(ap);
    return same;
}

static int train_defaults(const train_opts *o)
{
    return o->model.hidden == 256 && o->model.dropout == 0.1 && o->model.use_restored == 1 &&
           strings_are(&o->model.scales, 3, "layer2", "layer3", "layer4") &&
           numbers_are(&o->model.loss_weights, 3, 1.0, 0.1, 0.1) && o->optimizer.type == 0 &&
           o->optimizer.lr == 0.001 && o->epochs == 100;
}

static void t_section_defaults(void)
{
    train_opts o;
    oiqa_cli cli;
    CHECK(TPARSE(&o, &cli, "a") == OIQA_OK);
    CHECK(train_defaults(&o) && o.out == NULL);
    oiqa_cli_free(&cli);

    nest_opts n;
    CHECK(NPARSE(&n, &cli, "a") == OIQA_OK);
    CHECK(n.a.b.c == 1 && n.a.e == 2 && n.f == 3);
    CHECK_STR(n.a.b.d, "x");
    CHECK(strings_are(&n.tags, 0) && numbers_are(&n.gains, 2, 1.0, 2.0));
    oiqa_cli_free(&cli);
}

static void t_section_config(void)
{
    train_opts o;
    oiqa_cli cli;
    /* A block map and a flow map; keys not named keep their defaults. */
    const char *cfg = write_file("train.yaml",
                                 "epochs: 5\n"
                                 "model:\n"
                                 "  hidden: 64\n"
                                 "  scales: layer3\n"
                                 "optimizer: {type: adamw}\n");
    CHECK(TPARSE(&o, &cli, "--config", cfg) == OIQA_OK);
    CHECK(o.epochs == 5 && o.model.hidden == 64 && o.model.dropout == 0.1 && o.model.use_restored == 1);
    CHECK(strings_are(&o.model.scales, 1, "layer3") && numbers_are(&o.model.loss_weights, 3, 1.0, 0.1, 0.1));
    CHECK(o.optimizer.type == 1 && o.optimizer.lr == 0.001);
    oiqa_cli_free(&cli);

    cfg = write_file("train.yaml", "model: {dropout: 0.5, use_restored: no, loss_weights: [2, 0, 1e3]}\n");
    CHECK(TPARSE(&o, &cli, "--config", cfg) == OIQA_OK);
    CHECK(o.model.hidden == 256 && o.model.dropout == 0.5 && o.model.use_restored == 0);
    CHECK(numbers_are(&o.model.loss_weights, 3, 2.0, 0.0, 1000.0));
    CHECK(strings_are(&o.model.scales, 3, "layer2", "layer3", "layer4") && o.optimizer.type == 0);
    oiqa_cli_free(&cli);

    /* A plain null (or nothing) changes nothing; so does an empty map. */
    cfg = write_file("train.yaml", "model: null\noptimizer:\nepochs: 7\n");
    CHECK(TPARSE(&o, &cli, "--config", cfg) == OIQA_OK);
    CHECK(o.epochs == 7 && o.model.hidden == 256 && o.optimizer.lr == 0.001);
    oiqa_cli_free(&cli);
    cfg = write_file("train.yaml", "model: {}\noptimizer: ~\n");
    CHECK(TPARSE(&o, &cli, "--config", cfg) == OIQA_OK);
    CHECK(train_defaults(&o));
    oiqa_cli_free(&cli);

    /* Two levels deep. */
    nest_opts n;
    cfg = write_file("nest.yaml", "a:\n  b:\n    c: 7\n  e: 9\ntags: [x, 'y z']\n");
    CHECK(NPARSE(&n, &cli, "--config", cfg) == OIQA_OK);
    CHECK(n.a.b.c == 7 && n.a.e == 9 && n.f == 3 && strings_are(&n.tags, 2, "x", "y z"));
    CHECK_STR(n.a.b.d, "x");
    oiqa_cli_free(&cli);
    cfg = write_file("nest.yaml", "a: {b: {d: null}}\ntags: null\n");
    CHECK(NPARSE(&n, &cli, "--config", cfg) == OIQA_OK);
    CHECK(n.a.b.d == NULL && n.a.b.c == 1 && strings_are(&n.tags, 0));
    oiqa_cli_free(&cli);
    cfg = write_file("nest.yaml", "tags: []\ngains: [0, 10]\n");
    CHECK(NPARSE(&n, &cli, "--config", cfg) == OIQA_OK);
    CHECK(strings_are(&n.tags, 0) && numbers_are(&n.gains, 2, 0.0, 10.0));
    oiqa_cli_free(&cli);
}

/* --config FILE (written from text) for tool must fail with "FILE" + suffix. */
static void expect_tool_config_error(const oiqa_tool *tool, const char *text, const char *suffix)
{
    const char *cfg = write_file("bad_section.yaml", text);
    char path[256];
    snprintf(path, sizeof path, "%s", cfg);
    union {
        train_opts t;
        nest_opts n;
    } o;
    oiqa_cli cli;
    int rc = parse_any(tool, &o, sizeof o, &cli, "--config", path, (char *)NULL);
    CHECK_MSG(rc == OIQA_EXIT_USAGE, "rc %d for %s", rc, text);
    CHECK_STR(oiqa_errmsg(), fmt("%s%s", path, suffix));
    CHECK(cli.owned == NULL);
    CHECK(tool == &train_tool ? train_cleared(&o.t) : nest_cleared(&o.n));
}

static void t_section_config_errors(void)
{
    const oiqa_tool *t = &train_tool;
    expect_tool_config_error(t, "epochs: 3\nmodel:\n  hiden: 3\n",
                             ":3: unknown key 'model.hiden' (known: " MODEL_KEYS ")");
    expect_tool_config_error(t, "modle: {}\n", ":1: unknown key 'modle' (known: model, optimizer, epochs)");
    expect_tool_config_error(t, "model:\n  hidden: big\n",
                             ":2: key 'model.hidden': expected an integer in [1, 65536], got 'big'");
    expect_tool_config_error(t, "model: {dropout: 2}\n",
                             ":1: key 'model.dropout': expected a number in [0, 1], got '2'");
    expect_tool_config_error(t, "optimizer:\n  lr: 0.1\n  type: rmsprop\n",
                             ":3: key 'optimizer.type': expected one of sgd, adamw, got 'rmsprop'");
    expect_tool_config_error(t, "model: [1, 2]\n", ":1: key 'model': expected a map of keys, got a list");
    expect_tool_config_error(t, "model: 3\n", ":1: key 'model': expected a map of keys, got '3'");
    expect_tool_config_error(t, "model: 'null'\n",
                             ":1: key 'model': expected a map of keys, got 'null' (quoted, so a string)");
    /* lists: length, items, kinds */
    expect_tool_config_error(t, "model:\n  scales: [a, b, c, d, e]\n",
                             ":2: key 'model.scales': expected a list of 1 to 4 strings, got a list of 5");
    expect_tool_config_error(t, "model:\n  scales: []\n",
                             ":2: key 'model.scales': expected a list of 1 to 4 strings, got a list of 0");
    expect_tool_config_error(t, "model:\n  scales: null\n",
                             ":2: key 'model.scales': expected a list of 1 to 4 strings, got 'null'");
    expect_tool_config_error(t, "model:\n  scales: {a: 1}\n",
                             ":2: key 'model.scales': expected a list of 1 to 4 strings, got a map");
    expect_tool_config_error(t, "model:\n  scales:\n    - a\n    - [b]\n",
                             ":4: key 'model.scales': expected a list of 1 to 4 strings, got a list");
    expect_tool_config_error(t, "model:\n  scales: [a, ~]\n",
                             ":2: key 'model.scales': expected a list of 1 to 4 strings, got '~'");
    expect_tool_config_error(t, "model:\n  loss_weights: [1, -1, 0]\n",
                             ":2: key 'model.loss_weights': expected a list of 3 numbers in [0, 1000000], got '-1'");
    expect_tool_config_error(t, "model:\n  loss_weights: [1, 2]\n",
                             ":2: key 'model.loss_weights': expected a list of 3 numbers in [0, 1000000], "
                             "got a list of 2");
    expect_tool_config_error(t, "model:\n  loss_weights: [1, '2', 3]\n",
                             ":2: key 'model.loss_weights': expected a list of 3 numbers in [0, 1000000], got '2' "
                             "(quoted, so a string)");
    expect_tool_config_error(t, "model:\n  loss_weights: 1\n",
                             ":2: key 'model.loss_weights': expected a list of 3 numbers in [0, 1000000], got '1'");
    /* two levels deep */
    expect_tool_config_error(&nest_tool, "a:\n  b:\n    z: 1\n", ":3: unknown key 'a.b.z' (known: c, d)");
    expect_tool_config_error(&nest_tool, "a:\n  b:\n    c: 101\n",
                             ":3: key 'a.b.c': expected an integer in [0, 100], got '101'");
    expect_tool_config_error(&nest_tool, "gains: 3\n",
                             ":1: key 'gains': expected a list of 2 numbers in [0, 10], got '3'");
    expect_tool_config_error(&nest_tool, "gains: [1, nan]\n",
                             ":1: key 'gains': expected a list of 2 numbers in [0, 10], got 'nan'");
}

static void t_section_set(void)
{
    train_opts o;
    oiqa_cli cli;
    CHECK(TPARSE(&o, &cli, "--set", "model.hidden=3", "--set", "optimizer.type=adamw", "--set", "model.scales=[x, y]",
                 "--set", "model.loss_weights=[0, 0, 1]") == OIQA_OK);
    CHECK(o.model.hidden == 3 && o.model.dropout == 0.1 && o.optimizer.type == 1 && o.optimizer.lr == 0.001);
    CHECK(strings_are(&o.model.scales, 2, "x", "y") && numbers_are(&o.model.loss_weights, 3, 0.0, 0.0, 1.0));
    oiqa_cli_free(&cli);
    /* a whole map: the keys it names, the others their defaults */
    CHECK(TPARSE(&o, &cli, "--set", "model.dropout=0.7", "--set", "model={hidden: 3, scales: layer4}", "--set",
                 "model=null", "--set", "optimizer=") == OIQA_OK);
    CHECK(o.model.hidden == 3 && o.model.dropout == 0.1 && strings_are(&o.model.scales, 1, "layer4"));
    CHECK(o.optimizer.type == 0);
    oiqa_cli_free(&cli);

    /* two levels deep, as a path or as maps */
    nest_opts n;
    CHECK(NPARSE(&n, &cli, "--set", "a.b.c=9", "--set", "a.b.d='p q'") == OIQA_OK);
    CHECK(n.a.b.c == 9 && n.a.e == 2);
    CHECK_STR(n.a.b.d, "p q");
    oiqa_cli_free(&cli);
    CHECK(NPARSE(&n, &cli, "--set", "a.b={c: 8}") == OIQA_OK);
    CHECK(n.a.b.c == 8 && n.a.e == 2);
    oiqa_cli_free(&cli);
    /* a whole section replaces its subsections too: c is back to its default */
    CHECK(NPARSE(&n, &cli, "--set", "a.b={c: 8}", "--set", "a={b: {d: y}, e: 5}") == OIQA_OK);
    CHECK(n.a.b.c == 1 && n.a.e == 5);
    CHECK_STR(n.a.b.d, "y");
    oiqa_cli_free(&cli);
}

static void t_section_set_errors(void)
{
    EXPECT_TRAIN_USAGE("--set: unknown key 'model.nosuch' (known: " MODEL_KEYS ")",
                       "--set", "model.nosuch=1");
    EXPECT_TRAIN_USAGE("--set: unknown key 'model.nosuch' (known: " MODEL_KEYS ")",
                       "--set", "model={nosuch: 1}");
    EXPECT_TRAIN_USAGE("--set: unknown key 'modle.hidden' (known: model, optimizer, epochs)", "--set",
                       "modle.hidden=1");
    EXPECT_TRAIN_USAGE("--set: unknown key 'epochs.x' ('epochs' is not a section)", "--set", "epochs.x=1");
    EXPECT_TRAIN_USAGE("--set model: expected a map of keys, got '3'", "--set", "model=3");
    EXPECT_TRAIN_USAGE("--set model: expected a map of keys, got a list", "--set", "model=[1]");
    EXPECT_TRAIN_USAGE("--set model.hidden: expected an integer in [1, 65536], got 'big'", "--set", "model.hidden=big");
    EXPECT_TRAIN_USAGE("--set model.hidden: expected an integer in [1, 65536], got '0'", "--set", "model={hidden: 0}");
    EXPECT_TRAIN_USAGE("--set model.scales: expected a list of 1 to 4 strings, got a list of 5", "--set",
                       "model.scales=[a, b, c, d, e]");
    EXPECT_TRAIN_USAGE("--set model.loss_weights: expected a list of 3 numbers in [0, 1000000], got a list of 2",
                       "--set", "model.loss_weights=[1, 2]");
    EXPECT_TRAIN_USAGE("--set model.loss_weights: expected a list of 3 numbers in [0, 1000000], got '2e6'", "--set",
                       "model.loss_weights=[1, 2, 2e6]");
    EXPECT_NEST_USAGE("--set: unknown key 'a.b.z' (known: c, d)", "--set", "a.b.z=1");
    EXPECT_NEST_USAGE("--set: unknown key 'a.b.z' (known: c, d)", "--set", "a={b: {z: 1}}");
    EXPECT_NEST_USAGE("--set: unknown key 'a.' (known: b, e)", "--set", "a.=1");
    EXPECT_NEST_USAGE("--set a.b.c: expected an integer in [0, 100], got '-1'", "--set", "a={b: {c: -1}}");
}

static void t_section_option(void)
{
    train_opts o;
    oiqa_cli cli;
    CHECK(TPARSE(&o, &cli, "--model", "{hidden: 3, scales: [a, b]}", "--optimizer={lr: 0.5}", "--model", "") ==
          OIQA_OK);
    CHECK(o.model.hidden == 3 && o.model.dropout == 0.1 && strings_are(&o.model.scales, 2, "a", "b"));
    CHECK(o.optimizer.lr == 0.5 && o.optimizer.type == 0);
    oiqa_cli_free(&cli);
    CHECK(TPARSE(&o, &cli, "--model", "hidden: 4\ndropout: 0.25\n") == OIQA_OK); /* block YAML too */
    CHECK(o.model.hidden == 4 && o.model.dropout == 0.25);
    oiqa_cli_free(&cli);
    EXPECT_TRAIN_USAGE("--model: unknown key 'model.nosuch' (known: " MODEL_KEYS ")",
                       "--model", "{nosuch: 1}");
    EXPECT_TRAIN_USAGE("--model: expected a map of keys, got '3'", "--model", "3");
    EXPECT_TRAIN_USAGE("--model: key 'model.hidden': expected an integer in [1, 65536], got 'big'", "--model",
                       "{hidden: big}");
    EXPECT_TRAIN_USAGE("--model needs a value", "--model");

    /* top-level lists on the command line: YAML, one scalar a list of one */
    nest_opts n;
    CHECK(NPARSE(&n, &cli, "--tags", "a", "--gains", "[3, 4.5]") == OIQA_OK);
    CHECK(strings_are(&n.tags, 1, "a") && numbers_are(&n.gains, 2, 3.0, 4.5));
    oiqa_cli_free(&cli);
    CHECK(NPARSE(&n, &cli, "--tags=[a, \"b, c\", '']") == OIQA_OK);
    CHECK(strings_are(&n.tags, 3, "a", "b, c", ""));
    oiqa_cli_free(&cli);
    CHECK(NPARSE(&n, &cli, "--tags", "a", "--tags", "") == OIQA_OK);
    CHECK(strings_are(&n.tags, 0));
    oiqa_cli_free(&cli);
    EXPECT_NEST_USAGE("--gains: expected a list of 2 numbers in [0, 10], got '5'", "--gains", "5");
    EXPECT_NEST_USAGE("--gains: expected a list of 2 numbers in [0, 10], got '20'", "--gains", "[1, 20]");
    EXPECT_NEST_USAGE("--gains: expected a list of 2 numbers in [0, 10], got nothing", "--gains", "");
    EXPECT_NEST_USAGE("--tags: expected a list of strings, got a map", "--tags", "{a: 1}");
}

static void t_section_precedence(void)
{
    const char *cfg = write_file("prec_train.yaml", "model:\n  hidden: 64\n  dropout: 0.5\n");
    train_opts o;
    oiqa_cli cli;
    CHECK(TPARSE(&o, &cli, "--set", "model.hidden=32", "--config", cfg) == OIQA_OK);
    CHECK(o.model.hidden == 32 && o.model.dropout == 0.5);
    oiqa_cli_free(&cli);
    /* a whole section on the command line replaces the config's: dropout is back to 0.1 */
    CHECK(TPARSE(&o, &cli, "--config", cfg, "--set", "model.hidden=32", "--model", "{hidden: 16}") == OIQA_OK);
    CHECK(o.model.hidden == 16 && o.model.dropout == 0.1);
    oiqa_cli_free(&cli);
    CHECK(TPARSE(&o, &cli, "--model", "{hidden: 16}", "--config", cfg, "--set", "model={hidden: 32}") == OIQA_OK);
    CHECK(o.model.hidden == 32 && o.model.dropout == 0.1);
    oiqa_cli_free(&cli);
    CHECK(TPARSE(&o, &cli, "--config", cfg, "--set", "model.hidden=32") == OIQA_OK);
    CHECK(o.model.hidden == 32 && o.model.dropout == 0.5);
    oiqa_cli_free(&cli);
}

static const char RESOLVED_TRAIN_DEFAULTS[] = "model:\n"
                                              "  hidden: 256\n"
                                              "  dropout: 0.1\n"
                                              "  use_restored: true\n"
                                              "  scales: [layer2, layer3, layer4]\n"
                                              "  loss_weights: [1, 0.1, 0.1]\n"
                                              "optimizer:\n"
                                              "  type: sgd\n"
                                              "  lr: 0.001\n"
                                              "epochs: 100\n";

static int train_equal(const train_opts *a, const train_opts *b)
{
    const model_opts *ma = &a->model, *mb = &b->model;
    int same = ma->hidden == mb->hidden && ma->dropout == mb->dropout && ma->use_restored == mb->use_restored &&
               ma->scales.n == mb->scales.n && ma->loss_weights.n == mb->loss_weights.n &&
               a->optimizer.type == b->optimizer.type && a->optimizer.lr == b->optimizer.lr && a->epochs == b->epochs;
    for (int i = 0; same && i < ma->scales.n; i++) same = !strcmp(ma->scales.v[i], mb->scales.v[i]);
    for (int i = 0; same && i < ma->loss_weights.n; i++) same = ma->loss_weights.v[i] == mb->loss_weights.v[i];
    return same;
}

static void t_section_resolved(void)
{
    train_opts a, b;
    oiqa_cli ca, cb;
    /* the defaults, exactly */
    CHECK(TPARSE(&a, &ca, "-o", "out.h5") == OIQA_OK);
    char *text = oiqa_cli_resolved_config(&train_tool, &a);
    CHECK_STR(text, RESOLVED_TRAIN_DEFAULTS);
    /* reads back as a recorded config to the same values and text */
    memset(&b, 0x5a, sizeof b);
    CHECK(oiqa_cli_parse_config_text(&train_tool, text, "recorded", &b, &cb) == OIQA_OK);
    CHECK(train_equal(&a, &b) && b.out == NULL);
    char *text2 = oiqa_cli_resolved_config(&train_tool, &b);
    CHECK_STR(text2, text);
    free(text), free(text2);
    oiqa_cli_free(&ca);
    oiqa_cli_free(&cb);

    /* values that need quoting, and read back through --config */
    CHECK(TPARSE(&a, &ca, "--set",
                 "model={scales: ['a, b', 'true', '', x], loss_weights: [33.333333333333336, 0, 1e6]}", "--set",
                 "optimizer={type: adamw, lr: 1e-7}", "--set", "model.use_restored=off") == OIQA_OK);
    text = oiqa_cli_resolved_config(&train_tool, &a);
    CHECK_STR(text, "model:\n"
                    "  hidden: 256\n"
                    "  dropout: 0.1\n"
                    "  use_restored: false\n"
                    "  scales: [\"a, b\", \"true\", \"\", x]\n"
                    "  loss_weights: [33.333333333333336, 0, 1000000]\n"
                    "optimizer:\n"
                    "  type: adamw\n"
                    "  lr: 1e-07\n"
                    "epochs: 100\n");
    const char *cfg = write_file("resolved_train.yaml", text);
    CHECK(TPARSE(&b, &cb, "--config", cfg) == OIQA_OK);
    CHECK(train_equal(&a, &b));
    text2 = oiqa_cli_resolved_config(&train_tool, &b);
    CHECK_STR(text2, text);
    free(text), free(text2);
    oiqa_cli_free(&ca);
    oiqa_cli_free(&cb);

    /* two levels of indentation, an empty list, a null string */
    nest_opts n, m;
    oiqa_cli cn;
    CHECK(NPARSE(&n, &cn, "--set", "a.b.d=null") == OIQA_OK);
    text = oiqa_cli_resolved_config(&nest_tool, &n);
    CHECK_STR(text, "a:\n  b:\n    c: 1\n    d: null\n  e: 2\nf: 3\ntags: []\ngains: [1, 2]\n");
    memset(&m, 0x5a, sizeof m);
    CHECK(oiqa_cli_parse_config_text(&nest_tool, text, "recorded", &m, &cb) == OIQA_OK);
    CHECK(m.a.b.c == 1 && m.a.b.d == NULL && m.a.e == 2 && m.f == 3 && strings_are(&m.tags, 0) &&
          numbers_are(&m.gains, 2, 1.0, 2.0));
    free(text);
    oiqa_cli_free(&cn);
    oiqa_cli_free(&cb);
}

static void t_section_help(void)
{
    int rc;
    const char *out = parse_capturing_stdout(&train_tool, &rc, "--help", (char *)NULL);
    CHECK(rc == OIQA_CLI_EXIT_OK);
    static const char *const want[] = {
        "  -o, --out FILE            output file\n"
        "      --model MAP           the model\n"
        "      model.hidden N        hidden units (in [1, 65536]; default: 256)\n"
        "      model.dropout X       dropout rate (in [0, 1]; default: 0.1)\n"
        "      model.use_restored    use the restored stream (default: on)\n"
        "      model.scales LIST     feature layers (1 to 4 items; default: [layer2, layer3, layer4])\n"
        "      model.loss_weights LIST\n"
        "                            loss weights (3 items, each in [0, 1000000]; default: [1.0, 0.1, 0.1])\n"
        "      --optimizer MAP       the optimizer\n"
        "      optimizer.type NAME   optimizer (one of sgd, adamw; default: sgd)\n"
        "      optimizer.lr X        learning rate (in [0, 10]; default: 0.001)\n"
        "      --epochs N            epochs (in [1, 100000]; default: 100)\n",
        "\nConfig keys (in --config FILE or --set KEY=VALUE): model.hidden, model.dropout, model.use_restored, "
        "model.scales, model.loss_weights, optimizer.type, optimizer.lr, epochs\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        CHECK_MSG(strstr(out, want[i]) != NULL, "missing '%s' in:\n%s", want[i], out);

    out = parse_capturing_stdout(&nest_tool, &rc, "-h", (char *)NULL);
    CHECK(rc == OIQA_CLI_EXIT_OK);
    static const char *const want_nest[] = {
        "      --a MAP               outer\n"
        "      a.b MAP               inner\n"
        "      a.b.c N               c (in [0, 100]; default: 1)\n"
        "      a.b.d TEXT            d (default: x)\n"
        "      a.e N                 e (default: 2)\n"
        "      --f N                 f (default: 3)\n"
        "      --tags LIST           any number of tags\n"
        "      --gains LIST          two gains (2 items, each in [0, 10]; default: [1, 2])\n",
        "Config keys (in --config FILE or --set KEY=VALUE): a.b.c, a.b.d, a.e, f, tags, gains\n",
    };
    for (size_t i = 0; i < sizeof want_nest / sizeof want_nest[0]; i++)
        CHECK_MSG(strstr(out, want_nest[i]) != NULL, "missing '%s' in:\n%s", want_nest[i], out);
}

/* A failed parse leaves no pointer into freed memory, sections and lists included. */
static void t_section_clear_on_failure(void)
{
    /* failing after the defaults and the config were applied */
    const char *cfg = write_file("clear.yaml", "model: {scales: [p, q]}\n");
    EXPECT_TRAIN_USAGE("--epochs: expected an integer in [1, 100000], got '0'", "--config", cfg, "-o", "x",
                       "--epochs", "0");
    EXPECT_TRAIN_USAGE("unknown option '--nope' (see --help)", "--nope"); /* before the defaults */
    cfg = write_file("clear_nest.yaml", "a: {b: {d: set}}\ntags: [t]\n");
    EXPECT_NEST_USAGE("--set f: expected an integer, got 'x'", "--config", cfg, "--set", "f=x");

    /* and a recorded config that does not read */
    nest_opts n;
    oiqa_cli cli;
    memset(&n, 0x5a, sizeof n);
    CHECK(oiqa_cli_parse_config_text(&nest_tool, "tags: [a]\na: {b: {d: y}}\nf: x\n", "rec", &n, &cli) ==
          OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "rec:3: key 'f': expected an integer, got 'x'");
    CHECK(nest_cleared(&n) && cli.owned == NULL);
    train_opts o;
    memset(&o, 0x5a, sizeof o);
    o.out = NULL; /* CLI-only: a recorded config does not set it */
    CHECK(oiqa_cli_parse_config_text(&train_tool, "model:\n  hiden: 1\n", "rec", &o, &cli) == OIQA_EXIT_USAGE);
    CHECK_STR(oiqa_errmsg(), "rec:2: unknown key 'model.hiden' (known: " MODEL_KEYS ")");
    CHECK(train_cleared(&o) && cli.owned == NULL);
}

/* oiqa_cli_peek_key(argv, "method") of "oiqa-train" and the NULL-terminated arguments. */
static int peek_method(char **value, ...)
{
    char *argv[32];
    int argc = 0;
    argv[argc++] = "oiqa-train";
    va_list ap;
    va_start(ap, value);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 31;) argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;
    *value = (char *)"garbage"; /* must be set on every return */
    return oiqa_cli_peek_key(argc, argv, "method", value);
}

static void t_peek_key(void)
{
    const char *cfg = write_file("peek.yaml", "epochs: 3\nmethod: mtfi\n");
    char path[256];
    snprintf(path, sizeof path, "%s", cfg);
    char set_eq[300];
    snprintf(set_eq, sizeof set_eq, "--config=%s", path);
    char *v;
#define PEEK(...) peek_method(&v, __VA_ARGS__, (char *)NULL)
    CHECK(PEEK("--config", path, "in.h5") == OIQA_OK);
    CHECK_STR(v, "mtfi");
    free(v);
    CHECK(PEEK(set_eq) == OIQA_OK);
    CHECK_STR(v, "mtfi");
    free(v);
    /* --set and --KEY override the config, the last one wins */
    CHECK(PEEK("--config", path, "--set", "method=ablation") == OIQA_OK);
    CHECK_STR(v, "ablation");
    free(v);
    CHECK(PEEK("--set", "method=a", "--config", path, "--method", "b") == OIQA_OK);
    CHECK_STR(v, "b");
    free(v);
    CHECK(PEEK("--method=c", "--set=method='d e'", "--config", path) == OIQA_OK);
    CHECK_STR(v, "d e");
    free(v);
    CHECK(PEEK("--method", "b", "--config", path) == OIQA_OK); /* the config is applied first */
    CHECK_STR(v, "b");
    free(v);
    /* not this key; after "--" only arguments */
    CHECK(PEEK("--methods", "x", "--set", "methodx=y", "--config", path, "--", "--method", "q") == OIQA_OK);
    CHECK_STR(v, "mtfi");
    free(v);
    /* absent, or unset with a null */
    CHECK(PEEK("in.h5", "--epochs", "3") == OIQA_OK && v == NULL);
    CHECK(PEEK("--config", path, "--set", "method=~") == OIQA_OK && v == NULL);
    CHECK(PEEK("--method") == OIQA_OK && v == NULL);
    /* errors: an unreadable config, a value that is not a scalar */
    char missing[300];
    snprintf(missing, sizeof missing, "%s/none.yaml", g_tmp);
    CHECK(PEEK("--config", missing) == OIQA_EXIT_USAGE && v == NULL);
    CHECK_STR(oiqa_errmsg(), fmt("%s: no such file", missing));
    CHECK(PEEK("--set", "method=a", "--set", "method=[a]") == OIQA_EXIT_USAGE && v == NULL);
    CHECK_STR(oiqa_errmsg(), "--set:1: key 'method': expected a string, got a list");
    cfg = write_file("peek.yaml", "method: {name: x}\n");
    CHECK(PEEK("--config", path) == OIQA_EXIT_USAGE && v == NULL);
    CHECK_STR(oiqa_errmsg(), fmt("%s:1: key 'method': expected a string, got a map", path));
#undef PEEK
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/oiqa_test_cli_XXXXXX");
    if (!mkdtemp(g_tmp)) return 1;
    RUN(t_defaults);
    RUN(t_option_forms);
    RUN(t_command_line_errors);
    RUN(t_set_errors);
    RUN(t_set_values);
    RUN(t_yaml_option);
    RUN(t_precedence);
    RUN(t_config_errors);
    RUN(t_help);
    RUN(t_version);
    RUN(t_resolved_config);
    RUN(t_resolved_round_trip);
    RUN(t_command_string);
    RUN(t_log_and_threads);
    RUN(t_expand_inputs);
    RUN(t_section_defaults);
    RUN(t_section_config);
    RUN(t_section_config_errors);
    RUN(t_section_set);
    RUN(t_section_set_errors);
    RUN(t_section_option);
    RUN(t_section_precedence);
    RUN(t_section_resolved);
    RUN(t_section_help);
    RUN(t_section_clear_on_failure);
    RUN(t_peek_key);
    cleanup();
    return check_done();
}
