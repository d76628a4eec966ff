/* The option parser of every tool: one table feeds the command line, config
 * files, --set, --help and the resolved config text (see cli.h). */
#include "base/cli.h"
#include "base/cli_builtins.h"
#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "base/threads.h"

#include <errno.h>
#include <limits.h>
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

/* A config key of a table (the tool's or a section's). */
static const oiqa_opt *find_key(const oiqa_opt *table, const char *key, size_t len)
{
    for (const oiqa_opt *o = table; o && o->name; o++)
        if (oiqa_cli_is_config_key(o) && strlen(o->name) == len && !strncmp(o->name, key, len)) return o;
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

/* The field of option o in the struct at base (the tool's or a section's). */
#define FIELD(base, o, T) ((T *)((char *)(base) + (o)->offset))

#define KEY_MAX 256 /* a dotted key, "model.optimizer.lr" */

/* "model.hidden" from prefix "model" and name "hidden" (no prefix: the name). */
static void dotted_key(char *out, const char *prefix, const char *name)
{
    if (prefix) snprintf(out, KEY_MAX, "%s.%s", prefix, name);
    else snprintf(out, KEY_MAX, "%s", name);
}

/* "a, b, c" from a NULL-terminated list, into the arena. */
static const char *join_names(cli_arena *a, const char *const *names)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "");
    for (int i = 0; names && names[i]; i++) oiqa_sbuf_appendf(&b, "%s%s", i ? ", " : "", names[i]);
    return arena_keep(a, b.s);
}

/* The config keys of a table, NULL-terminated, in the arena. */
static const char *const *table_keys(cli_arena *a, const oiqa_opt *table)
{
    int n = 0;
    for (const oiqa_opt *o = table; o && o->name; o++) n += oiqa_cli_is_config_key(o);
    const char **keys = arena_keep(a, oiqa_xcalloc((size_t)n + 1, sizeof *keys));
    n = 0;
    for (const oiqa_opt *o = table; o && o->name; o++)
        if (oiqa_cli_is_config_key(o)) keys[n++] = o->name;
    return keys;
}

static int is_list(const oiqa_opt *o) { return o->type == OIQA_OPT_STRINGS || o->type == OIQA_OPT_NUMBERS; }

static int has_count_limit(const oiqa_opt *o) { return o->min_count <= o->max_count && o->max_count > 0; }

/* "a list of 3 numbers in [0, 1]", "a list of 1 to 4 strings", "a list of strings". */
static void describe_list(const oiqa_opt *o, const char *range, char *out, size_t cap)
{
    const char *what = o->type == OIQA_OPT_NUMBERS ? "number" : "string";
    if (!has_count_limit(o)) snprintf(out, cap, "a list of %ss%s", what, range);
    else if (o->min_count == o->max_count)
        snprintf(out, cap, "a list of %d %s%s%s", o->max_count, what, o->max_count == 1 ? "" : "s", range);
    else snprintf(out, cap, "a list of %d to %d %ss%s", o->min_count, o->max_count, what, range);
}

/* What a value of this option must look like: "an integer in [16, 4096]". */
static void describe_expected(const oiqa_opt *o, char *out, size_t cap)
{
    char range[96] = "";
    if ((o->type == OIQA_OPT_INT || o->type == OIQA_OPT_DOUBLE || o->type == OIQA_OPT_NUMBERS) && o->min < o->max)
        snprintf(range, sizeof range, " in [%.15g, %.15g]", o->min, o->max);
    switch (o->type) {
    case OIQA_OPT_FLAG: snprintf(out, cap, "true or false"); break;
    case OIQA_OPT_INT: snprintf(out, cap, "an integer%s", range); break;
    case OIQA_OPT_DOUBLE: snprintf(out, cap, "a number%s", range); break;
    case OIQA_OPT_STRING: snprintf(out, cap, "a string"); break;
    case OIQA_OPT_YAML: snprintf(out, cap, "a YAML value"); break;
    case OIQA_OPT_SECTION: snprintf(out, cap, "a map of keys"); break;
    case OIQA_OPT_STRINGS:
    case OIQA_OPT_NUMBERS: describe_list(o, range, out, cap); break;
    case OIQA_OPT_ENUM: {
        size_t used = (size_t)snprintf(out, cap, "one of");
        for (int i = 0; o->choices && o->choices[i] && used < cap; i++)
            used += (size_t)snprintf(out + used, cap - used, "%s %s", i ? "," : "", o->choices[i]);
        break;
    }
    }
}

static int in_range(const oiqa_opt *o, double v) { return !(o->min < o->max) || (v >= o->min && v <= o->max); }

static int is_plain_null(const oiqa_yaml_node *n)
{
    return !n || (n->kind == OIQA_YAML_SCALAR && !n->quoted && oiqa_yaml_is_null_text(n->scalar));
}

/* Sets a FLAG/INT/DOUBLE/STRING/ENUM field from scalar text; -1 if the text
 * is not a valid value (the caller words the message). */
static int set_from_text(parse_state *st, const oiqa_opt *o, void *base, const char *text)
{
    switch (o->type) {
    case OIQA_OPT_FLAG: {
        int b;
        if (oiqa_yaml_parse_bool(text, &b)) return -1;
        *FIELD(base, o, int) = b;
        return 0;
    }
    case OIQA_OPT_INT: {
        long v;
        if (oiqa_yaml_parse_int(text, &v) || !in_range(o, (double)v)) return -1;
        *FIELD(base, o, long) = v;
        return 0;
    }
    case OIQA_OPT_DOUBLE: {
        double v;
        if (oiqa_yaml_parse_double(text, &v) || !in_range(o, v)) return -1;
        *FIELD(base, o, double) = v;
        return 0;
    }
    case OIQA_OPT_STRING:
        *FIELD(base, o, char *) = arena_strdup(st->arena, text);
        return 0;
    case OIQA_OPT_ENUM:
        for (int i = 0; o->choices && o->choices[i]; i++) {
            if (!strcmp(o->choices[i], text)) {
                *FIELD(base, o, int) = i;
                return 0;
            }
        }
        return -1;
    case OIQA_OPT_YAML:
    case OIQA_OPT_SECTION:
    case OIQA_OPT_STRINGS:
    case OIQA_OPT_NUMBERS: /* values read as YAML: set_from_node */
        break;
    }
    return -1;
}

/* Sets a STRINGS or NUMBERS field from a YAML list, one scalar (a list of
 * one) or a plain null (none). On a bad value returns -1 with *bad the node
 * to blame: an item, or n itself for a map or the wrong count. The field is
 * only written when the whole value is good. */
static int set_list(parse_state *st, const oiqa_opt *o, void *base, const oiqa_yaml_node *n,
                    const oiqa_yaml_node **bad)
{
    *bad = n;
    if (n && n->kind == OIQA_YAML_MAP) return -1;
    int seq = n && n->kind == OIQA_YAML_SEQ;
    size_t count = seq ? n->n : is_plain_null(n) ? 0 : 1;
    if (count > (size_t)INT_MAX) return -1;
    if (has_count_limit(o) && (count < (size_t)o->min_count || count > (size_t)o->max_count)) return -1;
    int is_numbers = o->type == OIQA_OPT_NUMBERS;
    void *v = count ? arena_keep(st->arena, oiqa_xcalloc(count, is_numbers ? sizeof(double) : sizeof(char *))) : NULL;
    for (size_t i = 0; i < count; i++) {
        const oiqa_yaml_node *item = seq ? n->items[i] : n;
        *bad = item;
        /* A plain null item is a hole, not the string "null"; numbers are never quoted. */
        if (item->kind != OIQA_YAML_SCALAR || (is_numbers ? item->quoted : is_plain_null(item))) return -1;
        if (is_numbers) {
            double x;
            if (oiqa_yaml_parse_double(item->scalar, &x) || !in_range(o, x)) return -1;
            ((double *)v)[i] = x;
        } else {
            ((char **)v)[i] = arena_strdup(st->arena, item->scalar);
        }
    }
    if (is_numbers) *FIELD(base, o, oiqa_opt_numbers) = (oiqa_opt_numbers){(int)count, v};
    else *FIELD(base, o, oiqa_opt_strings) = (oiqa_opt_strings){(int)count, v};
    return 0;
}

/* Sets a leaf field (not a SECTION) from a YAML node (config file, --set or a
 * command-line YAML value). On a bad value returns -1 with *bad the node to
 * blame and leaves the message to the caller. */
static int set_from_node(parse_state *st, const oiqa_opt *o, void *base, const oiqa_yaml_node *n,
                         const oiqa_yaml_node **bad)
{
    *bad = n;
    if (is_list(o)) return set_list(st, o, base, n, bad);
    if (o->type == OIQA_OPT_YAML) {
        *FIELD(base, o, const oiqa_yaml_node *) = is_plain_null(n) ? NULL : n;
        return 0;
    }
    if (!n || n->kind != OIQA_YAML_SCALAR) return -1;
    if (o->type == OIQA_OPT_STRING && is_plain_null(n)) {
        *FIELD(base, o, char *) = NULL; /* `out: null` unsets */
        return 0;
    }
    /* Quoted scalars are strings: fine for strings and names, not numbers. */
    if (n->quoted && o->type != OIQA_OPT_STRING && o->type != OIQA_OPT_ENUM) return -1;
    return set_from_text(st, o, base, n->scalar);
}

/* Parses YAML text into a document the parse owns. */
static int load_owned(parse_state *st, const char *text, const char *source, oiqa_yaml_doc **doc)
{
    *doc = arena_doc(st->arena);
    return oiqa_yaml_load_string(text, strlen(text), source, *doc);
}

/* ---- applying YAML values ------------------------------------------------ */

/* Values are applied from three places, and their errors are worded for
 * each: a config file (ctx NULL: "FILE:LINE: key 'model.hidden': ..."),
 * --set (ctx "--set": "--set model.hidden: ...") and a command-line option's
 * YAML value (ctx "--model": "--model: key 'model.hidden': ..."). */

/* A bad value of o (key: its dotted name); `top` is the whole value given,
 * `bad` the node to blame within it. */
static int value_error(const oiqa_opt *o, const oiqa_yaml_node *top, const oiqa_yaml_node *bad, const char *key,
                       const char *ctx)
{
    char expected[512], got[OIQA_ERRMSG_MAX / 2];
    describe_expected(o, expected, sizeof expected);
    /* A list blamed as a whole has the wrong length: say how long it is. */
    if (is_list(o) && bad && bad == top && bad->kind == OIQA_YAML_SEQ)
        snprintf(got, sizeof got, "a list of %zu", bad->n);
    else oiqa_yaml_describe(bad, got, sizeof got);
    if (!ctx) {
        if (!bad) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key '%s': expected %s, got %s", key, expected, got);
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s:%d: key '%s': expected %s, got %s", bad->source, bad->line, key,
                         expected, got);
    }
    if (!strcmp(ctx, "--set"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set %s: expected %s, got %s", key, expected, got);
    if (!strchr(key, '.')) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s: expected %s, got %s", ctx, expected, got);
    return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s: key '%s': expected %s, got %s", ctx, key, expected, got);
}

/* Refuses keys of map that the table does not have; prefix: the dotted name
 * of the section the map is for (NULL at the top level). */
static int check_map_keys(parse_state *st, const oiqa_opt *table, const oiqa_yaml_node *map, const char *prefix,
                          const char *ctx)
{
    const char *const *known = table_keys(st->arena, table);
    if (!ctx) {
        char where[KEY_MAX + 1] = "";
        if (prefix) snprintf(where, sizeof where, "%s.", prefix);
        return oiqa_yaml_check_keys(map, known, prefix ? where : NULL);
    }
    for (size_t i = 0; i < map->n; i++) {
        if (find_key(table, map->keys[i], strlen(map->keys[i]))) continue;
        char key[KEY_MAX];
        dotted_key(key, prefix, map->keys[i]);
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s: unknown key '%s' (known: %s)", ctx, key,
                         join_names(st->arena, known));
    }
    return OIQA_OK;
}

static int apply_map(parse_state *st, const oiqa_opt *table, void *base, const oiqa_yaml_node *map,
                     const char *prefix, const char *ctx);
static int apply_defaults(parse_state *st, const oiqa_opt *table, void *base, const char *prefix);

/* A whole section given on the command line (--set model={...}, --model
 * MAP) replaces the section: the keys it leaves out take their defaults,
 * not the config file's values (single keys: --set model.KEY=VALUE). */
static int replace_section(parse_state *st, const oiqa_opt *o, void *base, const oiqa_yaml_node *n, const char *key,
                           const char *ctx);

/* Applies a YAML value to option o of the struct at base; key is o's dotted name. */
static int apply_node(parse_state *st, const oiqa_opt *o, void *base, const oiqa_yaml_node *n, const char *key,
                      const char *ctx)
{
    if (o->type == OIQA_OPT_SECTION) {
        if (is_plain_null(n)) return OIQA_OK; /* `model: null` changes nothing */
        if (n->kind != OIQA_YAML_MAP) return value_error(o, n, n, key, ctx);
        return apply_map(st, o->sub, FIELD(base, o, char), n, key, ctx);
    }
    const oiqa_yaml_node *bad;
    if (set_from_node(st, o, base, n, &bad)) return value_error(o, n, bad, key, ctx);
    return OIQA_OK;
}

/* Applies the keys of map to the struct at base, whose keys are the table:
 * the keys it names, the others keep their values. */
static int apply_map(parse_state *st, const oiqa_opt *table, void *base, const oiqa_yaml_node *map,
                     const char *prefix, const char *ctx)
{
    int rc = check_map_keys(st, table, map, prefix, ctx);
    if (rc) return rc;
    for (size_t i = 0; i < map->n; i++) {
        const oiqa_opt *o = find_key(table, map->keys[i], strlen(map->keys[i]));
        char key[KEY_MAX];
        dotted_key(key, prefix, o->name);
        if ((rc = apply_node(st, o, base, map->items[i], key, ctx))) return rc;
    }
    return OIQA_OK;
}

static int replace_section(parse_state *st, const oiqa_opt *o, void *base, const oiqa_yaml_node *n, const char *key,
                           const char *ctx)
{
    if (o->type == OIQA_OPT_SECTION && n && n->kind == OIQA_YAML_MAP) {
        int rc = apply_defaults(st, o->sub, FIELD(base, o, char), key);
        if (rc) return rc;
    }
    return apply_node(st, o, base, n, key, ctx);
}

/* ---- defaults ---------------------------------------------------------- */

static int apply_default(parse_state *st, const oiqa_opt *o, void *base, const char *key)
{
    switch (o->type) {
    case OIQA_OPT_FLAG: *FIELD(base, o, int) = 0; break;
    case OIQA_OPT_INT: *FIELD(base, o, long) = 0; break;
    case OIQA_OPT_DOUBLE: *FIELD(base, o, double) = 0; break;
    case OIQA_OPT_STRING: *FIELD(base, o, char *) = NULL; break;
    case OIQA_OPT_ENUM: *FIELD(base, o, int) = 0; break;
    case OIQA_OPT_YAML: *FIELD(base, o, const oiqa_yaml_node *) = NULL; break;
    case OIQA_OPT_STRINGS: *FIELD(base, o, oiqa_opt_strings) = (oiqa_opt_strings){0, NULL}; break;
    case OIQA_OPT_NUMBERS: *FIELD(base, o, oiqa_opt_numbers) = (oiqa_opt_numbers){0, NULL}; break;
    case OIQA_OPT_SECTION: break; /* its keys have the defaults */
    }
    if (!o->def) return OIQA_OK;
    int bad;
    if (o->type == OIQA_OPT_SECTION) {
        bad = 1; /* a section's defaults are its keys' */
    } else if (o->type == OIQA_OPT_YAML || is_list(o)) {
        oiqa_yaml_doc *doc;
        const oiqa_yaml_node *bad_node;
        bad = load_owned(st, o->def, "default", &doc) != OIQA_OK;
        if (!bad && o->type == OIQA_OPT_YAML) *FIELD(base, o, const oiqa_yaml_node *) = doc->root;
        else if (!bad) bad = set_list(st, o, base, doc->root, &bad_node) != 0;
    } else {
        bad = set_from_text(st, o, base, o->def) != 0;
    }
    /* A bad default is the tool's bug; say so rather than blame the user. */
    if (bad)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "internal error: bad default '%s' for %s%s", o->def,
                         strchr(key, '.') ? "" : "--", key);
    return OIQA_OK;
}

/* Every option of the table gets its default, those of sections too. */
static int apply_defaults(parse_state *st, const oiqa_opt *table, void *base, const char *prefix)
{
    for (const oiqa_opt *o = table; o && o->name; o++) {
        char key[KEY_MAX];
        dotted_key(key, prefix, o->name);
        int rc = apply_default(st, o, base, key);
        if (!rc && o->type == OIQA_OPT_SECTION) rc = apply_defaults(st, o->sub, FIELD(base, o, char), key);
        if (rc) return rc;
    }
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
    return apply_map(st, st->tool->opts, st->opts, root, NULL, NULL);
}

static int apply_config_file(parse_state *st)
{
    oiqa_yaml_doc *doc = arena_doc(st->arena);
    int rc = oiqa_yaml_load_file(st->config_path, doc);
    if (rc) return OIQA_EXIT_USAGE; /* a bad --config is a usage error; message set */
    return apply_config_doc(st, doc, st->config_path);
}

/* ---- command line ------------------------------------------------------- */

/* --set KEY=VALUE; KEY may be dotted ("model.hidden"): every part but the
 * last names a section. */
static int apply_set(parse_state *st, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: expected KEY=VALUE, got '%s'", arg);
    char *key = arena_keep(st->arena, oiqa_strndup(arg, (size_t)(eq - arg)));
    const oiqa_opt *table = st->tool->opts, *o;
    void *base = st->opts;
    for (const char *part = key;; part += strcspn(part, ".") + 1) {
        size_t len = strcspn(part, ".");
        o = find_key(table, part, len);
        if (!o && table == st->tool->opts) {
            const oiqa_opt *cli_only = find_long(st->tool, key, strlen(key));
            if (cli_only && oiqa_cli_builtin_id(cli_only) == B_NONE)
                return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: '%s' is not a config key (use --%s)", key, key);
        }
        if (!o) /* the known keys of the level where the path went wrong */
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: unknown key '%s' (known: %s)", key,
                             join_names(st->arena, table_keys(st->arena, table)));
        if (!part[len]) break;
        if (o->type != OIQA_OPT_SECTION)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set: unknown key '%s' ('%.*s' is not a section)", key,
                             (int)(part + len - key), key);
        base = FIELD(base, o, char);
        table = o->sub;
    }
    /* "KEY: VALUE" as a one-line document, so VALUE is read as YAML. */
    oiqa_yaml_doc *doc;
    char *text = arena_keep(st->arena, oiqa_asprintf("%s: %s", key, eq + 1));
    int rc = load_owned(st, text, "--set", &doc);
    if (rc) return OIQA_EXIT_USAGE;
    if (!doc->root || doc->root->kind != OIQA_YAML_MAP || doc->root->n != 1 || strcmp(doc->root->keys[0], key))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--set %s: the value must be one YAML value", key);
    return replace_section(st, o, base, doc->root->items[0], key, "--set");
}

/* A tool option with its command-line value. */
static int apply_option(parse_state *st, const cli_item *it)
{
    const oiqa_opt *o = it->opt;
    if (o->type == OIQA_OPT_FLAG) {
        *FIELD(st->opts, o, int) = 1;
        return OIQA_OK;
    }
    if (o->type == OIQA_OPT_YAML || o->type == OIQA_OPT_SECTION || is_list(o)) {
        oiqa_yaml_doc *doc;
        if (load_owned(st, it->value, it->spelled, &doc)) return OIQA_EXIT_USAGE;
        if (o->type != OIQA_OPT_YAML) return replace_section(st, o, st->opts, doc->root, o->name, it->spelled);
        *FIELD(st->opts, o, const oiqa_yaml_node *) = doc->root;
        return OIQA_OK;
    }
    if (set_from_text(st, o, st->opts, it->value)) {
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
static void clear_owned_fields(const oiqa_opt *table, void *base)
{
    for (const oiqa_opt *o = table; o && o->name; o++) {
        switch (o->type) {
        case OIQA_OPT_STRING: *FIELD(base, o, char *) = NULL; break;
        case OIQA_OPT_YAML: *FIELD(base, o, const oiqa_yaml_node *) = NULL; break;
        case OIQA_OPT_STRINGS: *FIELD(base, o, oiqa_opt_strings) = (oiqa_opt_strings){0, NULL}; break;
        case OIQA_OPT_NUMBERS: *FIELD(base, o, oiqa_opt_numbers) = (oiqa_opt_numbers){0, NULL}; break;
        case OIQA_OPT_SECTION: clear_owned_fields(o->sub, FIELD(base, o, char)); break;
        case OIQA_OPT_FLAG:
        case OIQA_OPT_INT:
        case OIQA_OPT_DOUBLE:
        case OIQA_OPT_ENUM: break;
        }
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
    if ((rc = apply_defaults(st, st->tool->opts, st->opts, NULL))) return rc;
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
        clear_owned_fields(tool->opts, opts);
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
    int rc = apply_defaults(&st, tool->opts, opts, NULL);
    if (!rc) {
        oiqa_yaml_doc *doc;
        rc = load_owned(&st, text ? text : "", source, &doc);
        if (rc) rc = OIQA_EXIT_USAGE;
        else rc = apply_config_doc(&st, doc, source);
    }
    if (rc) {
        clear_owned_fields(tool->opts, opts);
        oiqa_cli_free(cli);
    }
    return rc;
}

/* ---- peeking at one key before the parse --------------------------------- */

/* A value read as YAML, as the text of its scalar (NULL for a plain null). */
static int peek_scalar(const oiqa_yaml_node *n, const char *key, char **value)
{
    const char *text = NULL; /* an empty document: null */
    if (n && oiqa_yaml_as_string(n, key, &text)) return OIQA_EXIT_USAGE;
    free(*value);
    *value = oiqa_strdup(text);
    return OIQA_OK;
}

int oiqa_cli_peek_key(int argc, char **argv, const char *key, char **value)
{
    *value = NULL;
    size_t key_len = strlen(key);
    /* The config first, wherever it appears: the parse applies it before every other item. */
    const char *config = NULL;
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        if (!strcmp(argv[i], "--config") && i + 1 < argc) config = argv[++i];
        else if (!strncmp(argv[i], "--config=", 9)) config = argv[i] + 9;
    }
    if (config) {
        oiqa_yaml_doc doc;
        if (oiqa_yaml_load_file(config, &doc)) return OIQA_EXIT_USAGE; /* the message names the file */
        const oiqa_yaml_node *n = doc.root && doc.root->kind == OIQA_YAML_MAP ? oiqa_yaml_get(doc.root, key) : NULL;
        int rc = n ? peek_scalar(n, key, value) : OIQA_OK;
        oiqa_yaml_free(&doc);
        if (rc) return rc;
    }
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            i++; /* its value is a file name, not an option */
        } else if (!strcmp(a, "--set") || !strncmp(a, "--set=", 6)) {
            const char *kv = a[5] == '=' ? a + 6 : i + 1 < argc ? argv[++i] : "";
            if (strncmp(kv, key, key_len) || kv[key_len] != '=') continue;
            oiqa_yaml_doc doc;
            const char *text = kv + key_len + 1;
            int rc = oiqa_yaml_load_string(text, strlen(text), "--set", &doc) ? OIQA_EXIT_USAGE : OIQA_OK;
            if (!rc) rc = peek_scalar(doc.root, key, value);
            oiqa_yaml_free(&doc); /* harmless after a failed load */
            if (rc) {
                free(*value);
                *value = NULL;
                return rc;
            }
        } else if (a[0] == '-' && a[1] == '-' && !strncmp(a + 2, key, key_len) &&
                   (a[2 + key_len] == '=' || !a[2 + key_len])) {
            const char *v = a[2 + key_len] == '=' ? a + 3 + key_len : i + 1 < argc ? argv[++i] : NULL;
            if (!v) continue; /* "--KEY" last, without its value: the parse reports it */
            free(*value);
            *value = oiqa_strdup(v);
        }
    }
    return OIQA_OK;
}
