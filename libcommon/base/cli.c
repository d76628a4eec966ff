/* The option parser of every tool: one table feeds the command line, config
 * files, --set, --help and the resolved config text (see cli.h). */
#include "base/cli.h"
#include "base/cli_builtins.h"
#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/threads.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef OIQA_VERSION
#define OIQA_VERSION "unknown"
#endif


/* ---- owned memory ----------------------------------------------------- */

/* Everything a parse allocates, freed together by oiqa_cli_free. */
typedef struct {
    void **ptrs;
    size_t n_ptrs, cap_ptrs;
    oiqa_yaml_doc **docs;
    size_t n_docs, cap_docs;
} cli_arena;

static void *arena_keep(cli_arena *a, void *p)
{
    if (a->n_ptrs == a->cap_ptrs) {
        a->cap_ptrs = a->cap_ptrs ? 2 * a->cap_ptrs : 16;
        a->ptrs = oiqa_xrealloc(a->ptrs, a->cap_ptrs * sizeof *a->ptrs);
    }
    a->ptrs[a->n_ptrs++] = p;
    return p;
}

static char *arena_strdup(cli_arena *a, const char *s) { return arena_keep(a, oiqa_strdup(s)); }

static oiqa_yaml_doc *arena_doc(cli_arena *a)
{
    if (a->n_docs == a->cap_docs) {
        a->cap_docs = a->cap_docs ? 2 * a->cap_docs : 4;
        a->docs = oiqa_xrealloc(a->docs, a->cap_docs * sizeof *a->docs);
    }
    oiqa_yaml_doc *d = oiqa_xcalloc(1, sizeof *d);
    a->docs[a->n_docs++] = d;
    return d;
}

static void arena_free(cli_arena *a)
{
    if (!a) return;
    for (size_t i = 0; i < a->n_ptrs; i++) free(a->ptrs[i]);
    for (size_t i = 0; i < a->n_docs; i++) {
        oiqa_yaml_free(a->docs[i]);
        free(a->docs[i]);
    }
    free(a->ptrs);
    free(a->docs);
    free(a);
}

void oiqa_cli_free(oiqa_cli *cli)
{
    if (!cli) return;
    arena_free(cli->owned);
    memset(cli, 0, sizeof *cli);
}

/* ---- the built-in options (cli_builtins.c) ------------------------------ */

#define N_BUILTINS oiqa_cli_n_builtins
#define builtin_opts oiqa_cli_builtins


/* Tool options first, so a tool may reuse a built-in's letter on purpose. */
static const oiqa_opt *find_long(const oiqa_tool *tool, const char *name, size_t len)
{
    for (const oiqa_opt *o = tool->opts; o && o->name; o++)
        if (strlen(o->name) == len && !strncmp(o->name, name, len)) return o;
    for (int i = 0; i < N_BUILTINS; i++) {
        const oiqa_opt *o = &builtin_opts[i];
        if (oiqa_cli_builtin_enabled(tool, o) && strlen(o->name) == len && !strncmp(o->name, name, len)) return o;
    }
    return NULL;
}

static const oiqa_opt *find_short(const oiqa_tool *tool, char c)
{
    for (const oiqa_opt *o = tool->opts; o && o->name; o++)
        if (o->short_name && o->short_name == c) return o;
    for (int i = 0; i < N_BUILTINS; i++) {
        const oiqa_opt *o = &builtin_opts[i];
        if (oiqa_cli_builtin_enabled(tool, o) && o->short_name == c) return o;
    }
    return NULL;
}

static const oiqa_opt *find_config_key(const oiqa_tool *tool, const char *key)
{
    for (const oiqa_opt *o = tool->opts; o && o->name; o++)
        if (oiqa_cli_is_config_key(o) && !strcmp(o->name, key)) return o;
    return NULL;
}

/* ---- parse state ------------------------------------------------------- */

/* One option occurrence on the command line, applied after the config. */
typedef struct {
    const oiqa_opt *opt;
    const char *value; /* NULL for flags */
    char spelled[64];  /* "--size" or "-s", as typed, for messages */
} cli_item;

typedef struct {
    const oiqa_tool *tool;
    void *opts;
    oiqa_cli *cli;
    cli_arena *arena;
    cli_item *items;
    int n_items;
    const char *config_path;
    int help, version;
} parse_state;

#define FIELD(st, o, T) ((T *)((char *)(st)->opts + (o)->offset))

/* "a, b, c" from a NULL-terminated list, into the arena. */
static const char *join_names(cli_arena *a, const char *const *names)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "");
    for (int i = 0; names && names[i]; i++) oiqa_sbuf_appendf(&b, "%s%s", i ? ", " : "", names[i]);
    return arena_keep(a, b.s);
}

/* The config keys of the tool, NULL-terminated, in the arena. */
static const char *const *config_keys(const parse_state *st)
{
    int n = 0;
    for (const oiqa_opt *o = st->tool->opts; o && o->name; o++) n += oiqa_cli_is_config_key(o);
    const char **keys = arena_keep(st->arena, oiqa_xcalloc((size_t)n + 1, sizeof *keys));
    n = 0;
    for (const oiqa_opt *o = st->tool->opts; o && o->name; o++)
        if (oiqa_cli_is_config_key(o)) keys[n++] = o->name;
    return keys;
}

/* What a value of this option must look like: "an integer in [16, 4096]". */
static void describe_expected(const oiqa_opt *o, char *out, size_t cap)
{
    char range[96] = "";
    if ((o->type == OIQA_OPT_INT || o->type == OIQA_OPT_DOUBLE) && o->min < o->max)
        snprintf(range, sizeof range, " in [%.15g, %.15g]", o->min, o->max);
    switch (o->type) {
    case OIQA_OPT_FLAG: snprintf(out, cap, "true or false"); break;
    case OIQA_OPT_INT: snprintf(out, cap, "an integer%s", range); break;
    case OIQA_OPT_DOUBLE: snprintf(out, cap, "a number%s", range); break;
    case OIQA_OPT_STRING: snprintf(out, cap, "a string"); break;
    case OIQA_OPT_YAML: snprintf(out, cap, "a YAML value"); break;
    case OIQA_OPT_ENUM: {
        size_t used = (size_t)snprintf(out, cap, "one of");
        for (int i = 0; o->choices && o->choices[i] && used < cap; i++)
            used += (size_t)snprintf(out + used, cap - used, "%s %s", i ? "," : "", o->choices[i]);
        break;
    }
    }
}

static int in_range(const oiqa_opt *o, double v) { return !(o->min < o->max) || (v >= o->min && v <= o->max); }

/* Sets a FLAG/INT/DOUBLE/STRING/ENUM field from scalar text; -1 if the text
 * is not a valid value (the caller words the message). */
static int set_from_text(parse_state *st, const oiqa_opt *o, const char *text)
{
    switch (o->type) {
    case OIQA_OPT_FLAG: {
        int b;
        if (oiqa_yaml_parse_bool(text, &b)) return -1;
        *FIELD(st, o, int) = b;
        return 0;
    }
    case OIQA_OPT_INT: {
        long v;
        if (oiqa_yaml_parse_int(text, &v) || !in_range(o, (double)v)) return -1;
        *FIELD(st, o, long) = v;
        return 0;
    }
    case OIQA_OPT_DOUBLE: {
        double v;
        if (oiqa_yaml_parse_double(text, &v) || !in_range(o, v)) return -1;
        *FIELD(st, o, double) = v;
        return 0;
    }
    case OIQA_OPT_STRING:
        *FIELD(st, o, char *) = arena_strdup(st->arena, text);
        return 0;
    case OIQA_OPT_ENUM:
        for (int i = 0; o->choices && o->choices[i]; i++) {
            if (!strcmp(o->choices[i], text)) {
                *FIELD(st, o, int) = i;
                return 0;
            }
        }
        return -1;
    case OIQA_OPT_YAML:
        break;
    }
    return -1;
}

/* Sets a field from a YAML node (config file or --set). On a bad value
 * returns -1 and leaves the message to the caller. */
static int set_from_node(parse_state *st, const oiqa_opt *o, const oiqa_yaml_node *n)
{
    if (o->type == OIQA_OPT_YAML) {
        int is_null = n->kind == OIQA_YAML_SCALAR && !n->quoted && oiqa_yaml_is_null_text(n->scalar);
        *FIELD(st, o, const oiqa_yaml_node *) = is_null ? NULL : n;
        return 0;
    }
    if (n->kind != OIQA_YAML_SCALAR) return -1;
    if (o->type == OIQA_OPT_STRING && !n->quoted && oiqa_yaml_is_null_text(n->scalar)) {
        *FIELD(st, o, char *) = NULL; /* `out: null` unsets */
        return 0;
    }
    /* Quoted scalars are strings: fine for strings and names, not numbers. */
    if (n->quoted && o->type != OIQA_OPT_STRING && o->type != OIQA_OPT_ENUM) return -1;
    return set_from_text(st, o, n->scalar);
}

/* Parses YAML text into a document the parse owns. */
static int load_owned(parse_state *st, const char *text, const char *source, oiqa_yaml_doc **doc)
{
    *doc = arena_doc(st->arena);
    return oiqa_yaml_load_string(text, strlen(text), source, *doc);
}

/* ---- defaults ---------------------------------------------------------- */

static int apply_default(parse_state *st, const oiqa_opt *o)
{
    switch (o->type) {
    case OIQA_OPT_FLAG: *FIELD(st, o, int) = 0; break;
    case OIQA_OPT_INT: *FIELD(st, o, long) = 0; break;
    case OIQA_OPT_DOUBLE: *FIELD(st, o, double) = 0; break;
    case OIQA_OPT_STRING: *FIELD(st, o, char *) = NULL; break;
    case OIQA_OPT_ENUM: *FIELD(st, o, int) = 0; break;
    case OIQA_OPT_YAML: *FIELD(st, o, const oiqa_yaml_node *) = NULL; break;
    }
    if (!o->def) return OIQA_OK;
    int bad;
    if (o->type == OIQA_OPT_YAML) {
        oiqa_yaml_doc *doc;
        bad = load_owned(st, o->def, "default", &doc) != OIQA_OK;
        if (!bad) *FIELD(st, o, const oiqa_yaml_node *) = doc->root;
    } else {
        bad = set_from_text(st, o, o->def) != 0;
    }
    /* A bad default is the tool's bug; say so rather than blame the user. */
    if (bad) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "internal error: bad default '%s' for --%s", o->def, o->name);
    return OIQA_OK;
}

/* ---- config file -------------------------------------------------------- */

/* Applies the keys of a loaded config document (source names it in messages). */
static int apply_config_doc(parse_state *st, const oiqa_yaml_doc *doc, const char *source)
{
    const oiqa_yaml_node *root = doc->root;
    if (!root) return OIQA_OK; /* empty or all comments: nothing to set */
    if (root->kind != OIQA_YAML_MAP)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s:%d: the top level must be a map of 'key: value' lines, got %s",
                         source, root->line, root->kind == OIQA_YAML_SEQ ? "a list" : "a single value");
    int rc;
    rc = oiqa_yaml_check_keys(root, config_keys(st), NULL);
    if (rc) return rc;
    for (size_t i = 0; i < root->n; i++) {
        const oiqa_opt *o = find_config_key(st->tool, root->keys[i]);
        if (set_from_node(st, o, root->items[i])) {
            char expected[512];
            describe_expected(o, expected, sizeof expected);
            return oiqa_yaml_type_error(root->items[i], o->name, expected);
        }
    }
    return OIQA_OK;
}

static int apply_config_file(parse_state *st)
{
    oiqa_yaml_doc *doc = arena_doc(st->arena);
    int rc = oiqa_yaml_load_file(st->config_path, doc);
    if (rc) return OIQA_EXIT_USAGE; /* a bad --config is a usage error; message set */
    return apply_config_doc(st, doc, st->config_path);
}

/* ---- command line ------------------------------------------------------- */

static int apply_set(parse_state *st, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: expected KEY=VALUE, got '%s'", arg);
    char *key = arena_keep(st->arena, oiqa_strndup(arg, (size_t)(eq - arg)));
    const oiqa_opt *o = find_config_key(st->tool, key);
    if (!o) {
        const oiqa_opt *cli_only = find_long(st->tool, key, strlen(key));
        if (cli_only && oiqa_cli_builtin_id(cli_only) == B_NONE)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: '%s' is not a config key (use --%s)", key, key);
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: unknown key '%s' (known: %s)", key,
                         join_names(st->arena, config_keys(st)));
    }
    /* "KEY: VALUE" as a one-line document, so VALUE is read as YAML. */
    oiqa_yaml_doc *doc;
    char *text = arena_keep(st->arena, oiqa_asprintf("%s: %s", key, eq + 1));
    int rc = load_owned(st, text, "--set", &doc);
    if (rc) return OIQA_EXIT_USAGE;
    if (!doc->root || doc->root->kind != OIQA_YAML_MAP || doc->root->n != 1 || strcmp(doc->root->keys[0], key))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set %s: the value must be one YAML value", key);
    const oiqa_yaml_node *value = doc->root->items[0];
    if (set_from_node(st, o, value)) {
        char expected[512], got[OIQA_ERRMSG_MAX / 2];
        describe_expected(o, expected, sizeof expected);
        oiqa_yaml_describe(value, got, sizeof got);
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set %s: expected %s, got %s", key, expected, got);
    }
    return OIQA_OK;
}

/* A tool option with its command-line value. */
static int apply_option(parse_state *st, const cli_item *it)
{
    const oiqa_opt *o = it->opt;
    if (o->type == OIQA_OPT_FLAG) {
        *FIELD(st, o, int) = 1;
        return OIQA_OK;
    }
    if (o->type == OIQA_OPT_YAML) {
        oiqa_yaml_doc *doc;
        if (load_owned(st, it->value, it->spelled, &doc)) return OIQA_EXIT_USAGE;
        *FIELD(st, o, const oiqa_yaml_node *) = doc->root;
        return OIQA_OK;
    }
    if (set_from_text(st, o, it->value)) {
        char expected[512];
        describe_expected(o, expected, sizeof expected);
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s: expected %s, got '%s'", it->spelled, expected, it->value);
    }
    return OIQA_OK;
}

static int apply_item(parse_state *st, const cli_item *it)
{
    oiqa_cli *cli = st->cli;
    switch (oiqa_cli_builtin_id(it->opt)) {
    case B_NONE: return apply_option(st, it);
    case B_SET: return apply_set(st, it->value);
    case B_THREADS: {
        long n;
        if (oiqa_yaml_parse_int(it->value, &n) || n < 1 || n > OIQA_CLI_MAX_THREADS)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s: expected an integer in [1, %d], got '%s'", it->spelled,
                             OIQA_CLI_MAX_THREADS, it->value);
        cli->threads = (int)n;
        return OIQA_OK;
    }
    case B_QUIET:
        cli->quiet = 1;
        oiqa_log_set_level(OIQA_LOG_WARN);
        return OIQA_OK;
    case B_VERBOSE:
        cli->verbose = 1;
        oiqa_log_set_level(OIQA_LOG_DEBUG);
        return OIQA_OK;
    case B_HELP:
    case B_VERSION:
    case B_CONFIG: /* applied before every other item */
        return OIQA_OK;
    }
    return OIQA_OK;
}

static void add_item(parse_state *st, const oiqa_opt *o, const char *value, const char *spelled)
{
    cli_item *it = &st->items[st->n_items++];
    it->opt = o;
    it->value = value;
    snprintf(it->spelled, sizeof it->spelled, "%s", spelled);
    enum oiqa_cli_builtin id = oiqa_cli_builtin_id(o);
    if (id == B_HELP) st->help = 1;
    if (id == B_VERSION) st->version = 1;
}

static int note_config(parse_state *st, const char *path)
{
    if (st->config_path)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--config given twice ('%s' and '%s'); give one file", st->config_path,
                         path);
    st->config_path = path;
    return OIQA_OK;
}

/* "--name", "--name=value" or "--name value" at argv[*i]. */
static int take_long(parse_state *st, int argc, char **argv, int *i)
{
    const char *name = argv[*i] + 2;
    const char *eq = strchr(name, '=');
    size_t len = eq ? (size_t)(eq - name) : strlen(name);
    const oiqa_opt *o = find_long(st->tool, name, len);
    if (!o) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown option '--%.*s' (see --help)", (int)len, name);
    char spelled[64];
    snprintf(spelled, sizeof spelled, "--%s", o->name);
    const char *value = NULL;
    if (o->type == OIQA_OPT_FLAG) {
        if (eq) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s takes no value", spelled);
    } else if (eq) {
        value = eq + 1;
    } else if (*i + 1 < argc) {
        value = argv[++*i];
    } else {
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s needs a value", spelled);
    }
    add_item(st, o, value, spelled);
    return oiqa_cli_builtin_id(o) == B_CONFIG ? note_config(st, value) : OIQA_OK;
}

/* "-qv", "-o out", "-oout", "-j4" at argv[*i]. */
static int take_short(parse_state *st, int argc, char **argv, int *i)
{
    const char *arg = argv[*i];
    for (const char *p = arg + 1; *p; p++) {
        const oiqa_opt *o = find_short(st->tool, *p);
        if (!o) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown option '-%c' (see --help)", *p);
        char spelled[8] = {'-', *p, '\0'};
        if (o->type == OIQA_OPT_FLAG) {
            add_item(st, o, NULL, spelled);
            continue;
        }
        const char *value;
        if (p[1]) value = p + 1;
        else if (*i + 1 < argc) value = argv[++*i];
        else return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s needs a value", spelled);
        add_item(st, o, value, spelled);
        return oiqa_cli_builtin_id(o) == B_CONFIG ? note_config(st, value) : OIQA_OK;
    }
    return OIQA_OK;
}

/* Splits argv into option items and positional arguments. Stops early at
 * --help or --version (what follows does not matter then). */
static int tokenize(parse_state *st, int argc, char **argv)
{
    oiqa_cli *cli = st->cli;
    /* A cluster like "-qvf" gives an item per letter: at most one per byte. */
    size_t max_items = 1;
    for (int i = 1; i < argc; i++) max_items += strlen(argv[i]);
    st->items = arena_keep(st->arena, oiqa_xcalloc(max_items, sizeof *st->items));
    cli->args = arena_keep(st->arena, oiqa_xcalloc((size_t)argc + 1, sizeof *cli->args));
    int only_args = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0') { /* "-" alone is stdin: an argument */
            cli->args[cli->n_args++] = arena_strdup(st->arena, a);
            continue;
        }
        if (!strcmp(a, "--")) {
            only_args = 1;
            continue;
        }
        int rc = a[1] == '-' ? take_long(st, argc, argv, &i) : take_short(st, argc, argv, &i);
        if (rc) return rc;
        if (st->help || st->version) return OIQA_OK;
    }
    return OIQA_OK;
}

static int check_arg_count(const parse_state *st)
{
    const oiqa_tool *t = st->tool;
    const oiqa_cli *cli = st->cli;
    const char *usage = t->usage ? t->usage : "[options]";
    if (cli->n_args < t->min_args) {
        const char *s = t->min_args == 1 ? "" : "s";
        if (t->min_args == t->max_args)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "expected %d argument%s, got %d (usage: %s %s)", t->min_args, s,
                             cli->n_args, t->name, usage);
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "expected at least %d argument%s, got %d (usage: %s %s)",
                         t->min_args, s, cli->n_args, t->name, usage);
    }
    if (t->max_args >= 0 && cli->n_args > t->max_args)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unexpected argument '%s' (usage: %s %s)", cli->args[t->max_args],
                         t->name, usage);
    return OIQA_OK;
}

static char *join_command(cli_arena *a, int argc, char **argv)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "");
    for (int i = 0; i < argc; i++) {
        if (i) oiqa_sbuf_append(&b, " ");
        oiqa_sbuf_append_shell_word(&b, argv[i]);
    }
    return arena_keep(a, b.s);
}

/* After a failure or --help the struct must not point into freed memory. */
static void clear_owned_fields(const oiqa_tool *tool, void *opts)
{
    for (const oiqa_opt *o = tool->opts; o && o->name; o++) {
        if (o->type == OIQA_OPT_STRING) *(char **)((char *)opts + o->offset) = NULL;
        if (o->type == OIQA_OPT_YAML) *(const oiqa_yaml_node **)((char *)opts + o->offset) = NULL;
    }
}

static int run_parse(parse_state *st, int argc, char **argv)
{
    oiqa_cli *cli = st->cli;
    int rc = tokenize(st, argc, argv);
    if (rc) return rc;
    if (st->help) {
        oiqa_cli_print_help(st->tool, stdout);
        return OIQA_CLI_EXIT_OK;
    }
    if (st->version) {
        printf("%s %s\n", st->tool->name, OIQA_VERSION);
        return OIQA_CLI_EXIT_OK;
    }
    for (const oiqa_opt *o = st->tool->opts; o && o->name; o++)
        if ((rc = apply_default(st, o))) return rc;
    if (st->config_path) {
        cli->config_path = arena_strdup(st->arena, st->config_path);
        if ((rc = apply_config_file(st))) return rc;
    }
    for (int i = 0; i < st->n_items; i++)
        if ((rc = apply_item(st, &st->items[i]))) return rc;
    return check_arg_count(st);
}

int oiqa_cli_parse(const oiqa_tool *tool, int argc, char **argv, void *opts, oiqa_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    cli_arena *arena = oiqa_xcalloc(1, sizeof *arena);
    cli->owned = arena;
    cli->threads = oiqa_threads_default();
    cli->command = join_command(arena, argc, argv);
    snprintf(cli->tool_version, sizeof cli->tool_version, "%s %s", tool->name, OIQA_VERSION);
    parse_state st = {.tool = tool, .opts = opts, .cli = cli, .arena = arena};
    int rc = run_parse(&st, argc, argv);
    if (rc != OIQA_OK) {
        /* Nothing of a failed or finished parse is used: free it here. */
        clear_owned_fields(tool, opts);
        oiqa_cli_free(cli);
        fflush(stdout);
        return rc;
    }
    oiqa_threads_set(cli->threads);
    return OIQA_OK;
}

int oiqa_cli_parse_config_text(const oiqa_tool *tool, const char *text, const char *source, void *opts,
                               oiqa_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    cli_arena *arena = oiqa_xcalloc(1, sizeof *arena);
    cli->owned = arena;
    cli->threads = oiqa_threads_get();
    snprintf(cli->tool_version, sizeof cli->tool_version, "%s %s", tool->name, OIQA_VERSION);
    parse_state st = {.tool = tool, .opts = opts, .cli = cli, .arena = arena};
    int rc = OIQA_OK;
    for (const oiqa_opt *o = tool->opts; o && o->name && !rc; o++) rc = apply_default(&st, o);
    if (!rc) {
        oiqa_yaml_doc *doc;
        rc = load_owned(&st, text ? text : "", source, &doc);
        if (rc) rc = OIQA_EXIT_USAGE;
        else rc = apply_config_doc(&st, doc, source);
    }
    if (rc) {
        clear_owned_fields(tool, opts);
        oiqa_cli_free(cli);
    }
    return rc;
}
