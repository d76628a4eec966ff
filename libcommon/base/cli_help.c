/* --help text and the resolved config text of the option parser (cli.h):
 * both are written from the same option table as the parser reads. */
#include "base/cli.h"
#include "base/cli_builtins.h"
#include "base/strutil.h"
#include "base/threads.h"
#include "base/yaml.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HELP_COLUMN 28 /* help text starts here unless the option is longer */

/* ---- --help --------------------------------------------------------------- */

static const char *metavar_of(const oiqa_opt *o)
{
    if (o->metavar) return o->metavar;
    switch (o->type) {
    case OIQA_OPT_INT: return "N";
    case OIQA_OPT_DOUBLE: return "X";
    case OIQA_OPT_STRING: return "TEXT";
    case OIQA_OPT_ENUM: return "NAME";
    case OIQA_OPT_YAML: return "YAML";
    case OIQA_OPT_SECTION: return "MAP";
    case OIQA_OPT_STRINGS:
    case OIQA_OPT_NUMBERS: return "LIST";
    case OIQA_OPT_FLAG: break;
    }
    return NULL;
}

/* "  -o, --out FILE" or "      --size N"; a section's key (key: its dotted
 * name) as "      model.hidden N". */
static void option_left(const oiqa_opt *o, const char *key, oiqa_sbuf *b)
{
    if (key) oiqa_sbuf_appendf(b, "      %s", key);
    else if (o->short_name) oiqa_sbuf_appendf(b, "  -%c, --%s", o->short_name, o->name);
    else oiqa_sbuf_appendf(b, "      --%s", o->name);
    const char *mv = metavar_of(o);
    if (mv) oiqa_sbuf_appendf(b, " %s", mv);
}

/* "(one of a, b; in [1, 4]; default: x)" after the help text. */
static void option_details(const oiqa_opt *o, oiqa_sbuf *b)
{
    oiqa_sbuf d = {0};
    oiqa_sbuf_append(&d, "");
    if (o->type == OIQA_OPT_ENUM) {
        for (int i = 0; o->choices && o->choices[i]; i++)
            oiqa_sbuf_appendf(&d, "%s%s", i ? ", " : "one of ", o->choices[i]);
    } else if ((o->type == OIQA_OPT_INT || o->type == OIQA_OPT_DOUBLE) && o->min < o->max) {
        oiqa_sbuf_appendf(&d, "in [%.15g, %.15g]", o->min, o->max);
    } else if (o->type == OIQA_OPT_STRINGS || o->type == OIQA_OPT_NUMBERS) {
        /* "1 to 4 items", "3 items, each in [0, 1]" */
        int counted = o->min_count <= o->max_count && o->max_count > 0;
        if (counted && o->min_count == o->max_count)
            oiqa_sbuf_appendf(&d, "%d item%s", o->max_count, o->max_count == 1 ? "" : "s");
        else if (counted) oiqa_sbuf_appendf(&d, "%d to %d items", o->min_count, o->max_count);
        if (o->type == OIQA_OPT_NUMBERS && o->min < o->max)
            oiqa_sbuf_appendf(&d, "%seach in [%.15g, %.15g]", counted ? ", " : "", o->min, o->max);
    }
    const char *def = o->def;
    if (oiqa_cli_builtin_id(o) == B_THREADS) {
        int n = oiqa_threads_default();
        oiqa_sbuf_appendf(&d, "; default: %d, %s", n, getenv("OMP_NUM_THREADS") ? "from OMP_NUM_THREADS" : "all cores");
    } else if (def && o->type == OIQA_OPT_FLAG) {
        int on = 0;
        if (!oiqa_yaml_parse_bool(def, &on) && on) oiqa_sbuf_append(&d, "; default: on");
    } else if (def) {
        oiqa_sbuf_appendf(&d, "; default: %s", def);
    }
    const char *text = d.s[0] == ';' ? d.s + 2 : d.s;
    if (*text) oiqa_sbuf_appendf(b, " (%s)", text);
    free(d.s);
}

static void print_option(const oiqa_opt *o, const char *key, FILE *f)
{
    oiqa_sbuf left = {0}, right = {0};
    option_left(o, key, &left);
    oiqa_sbuf_append(&right, o->help ? o->help : "");
    option_details(o, &right);
    const char *help = right.s[0] == ' ' ? right.s + 1 : right.s;
    if (left.len + 2 <= HELP_COLUMN) fprintf(f, "%-*s%s\n", HELP_COLUMN, left.s, help);
    else fprintf(f, "%s\n%-*s%s\n", left.s, HELP_COLUMN, "", help);
    free(left.s);
    free(right.s);
}

#define KEY_MAX 256 /* a dotted key, "model.optimizer.lr" */

/* A section's keys, one line each under the section's own, named by their
 * dotted keys; sections inside it likewise. */
static void print_section_keys(const oiqa_opt *table, const char *prefix, FILE *f)
{
    for (const oiqa_opt *o = table; o && o->name; o++) {
        if (!oiqa_cli_is_config_key(o)) continue;
        char key[KEY_MAX];
        snprintf(key, sizeof key, "%s.%s", prefix, o->name);
        print_option(o, key, f);
        if (o->type == OIQA_OPT_SECTION) print_section_keys(o->sub, key, f);
    }
}

/* "size, model.hidden, model.dropout, ..." for the Config keys line. */
static void list_config_keys(const oiqa_opt *table, const char *prefix, int *n_keys, FILE *f)
{
    for (const oiqa_opt *o = table; o && o->name; o++) {
        if (!oiqa_cli_is_config_key(o)) continue;
        char key[KEY_MAX];
        if (prefix) snprintf(key, sizeof key, "%s.%s", prefix, o->name);
        else snprintf(key, sizeof key, "%s", o->name);
        if (o->type == OIQA_OPT_SECTION) {
            list_config_keys(o->sub, key, n_keys, f);
            continue;
        }
        fprintf(f, "%s%s", (*n_keys)++ ? ", " : "\nConfig keys (in --config FILE or --set KEY=VALUE): ", key);
    }
}

void oiqa_cli_print_help(const oiqa_tool *tool, FILE *f)
{
    fprintf(f, "Usage: %s %s\n", tool->name, tool->usage ? tool->usage : "[options]");
    if (tool->summary) fprintf(f, "%s\n", tool->summary);
    if (tool->opts && tool->opts->name) {
        fprintf(f, "\nOptions:\n");
        for (const oiqa_opt *o = tool->opts; o->name; o++) {
            print_option(o, NULL, f);
            if (o->type == OIQA_OPT_SECTION) print_section_keys(o->sub, o->name, f);
        }
    }
    fprintf(f, "\nCommon options:\n");
    for (int i = 0; i < oiqa_cli_n_builtins; i++)
        if (oiqa_cli_builtin_enabled(tool, &oiqa_cli_builtins[i])) print_option(&oiqa_cli_builtins[i], NULL, f);
    int n_keys = 0;
    list_config_keys(tool->opts, NULL, &n_keys, f);
    if (n_keys) fprintf(f, "\n");
    if (tool->example && *tool->example) {
        fprintf(f, "\nExample:\n");
        const char *line = tool->example;
        while (*line) {
            size_t len = strcspn(line, "\n");
            fprintf(f, "  %.*s\n", (int)len, line);
            line += len + (line[len] == '\n');
        }
    }
}

/* ---- resolved config ------------------------------------------------------ */

/* The shortest text that reads back as exactly v: whole numbers without an
 * exponent ("90", not "9e+01"), others the shortest %g. */
static void append_quoted(oiqa_sbuf *b, const char *s)
{
    char *q = oiqa_yaml_quote_string(s);
    oiqa_sbuf_append(b, q);
    free(q);
}

static void append_value(oiqa_sbuf *b, const oiqa_opt *o, const void *base)
{
    const char *field = (const char *)base + o->offset;
    switch (o->type) {
    case OIQA_OPT_FLAG: oiqa_sbuf_append(b, *(const int *)field ? "true" : "false"); break;
    case OIQA_OPT_INT: oiqa_sbuf_appendf(b, "%ld", *(const long *)field); break;
    case OIQA_OPT_DOUBLE: oiqa_sbuf_append_double(b, *(const double *)field); break;
    case OIQA_OPT_STRING: {
        const char *s = *(char *const *)field;
        if (s) append_quoted(b, s);
        else oiqa_sbuf_append(b, "null");
        break;
    }
    case OIQA_OPT_ENUM: {
        int idx = *(const int *)field, n = 0;
        while (o->choices && o->choices[n]) n++;
        if (idx >= 0 && idx < n) append_quoted(b, o->choices[idx]);
        else oiqa_sbuf_append(b, "null");
        break;
    }
    case OIQA_OPT_YAML: {
        char *flow = oiqa_yaml_to_flow(*(const oiqa_yaml_node *const *)field);
        oiqa_sbuf_append(b, flow);
        free(flow);
        break;
    }
    case OIQA_OPT_STRINGS: {
        const oiqa_opt_strings *l = (const oiqa_opt_strings *)field;
        oiqa_sbuf_append(b, "[");
        for (int i = 0; i < l->n; i++) {
            if (i) oiqa_sbuf_append(b, ", ");
            append_quoted(b, l->v[i]);
        }
        oiqa_sbuf_append(b, "]");
        break;
    }
    case OIQA_OPT_NUMBERS: {
        const oiqa_opt_numbers *l = (const oiqa_opt_numbers *)field;
        oiqa_sbuf_append(b, "[");
        for (int i = 0; i < l->n; i++) {
            if (i) oiqa_sbuf_append(b, ", ");
            oiqa_sbuf_append_double(b, l->v[i]);
        }
        oiqa_sbuf_append(b, "]");
        break;
    }
    case OIQA_OPT_SECTION: break; /* a block: append_keys */
    }
}

/* "key: value" lines of a table's config keys, sections as indented blocks. */
static void append_keys(oiqa_sbuf *b, const oiqa_opt *table, const void *base, int indent)
{
    for (const oiqa_opt *o = table; o && o->name; o++) {
        if (!oiqa_cli_is_config_key(o)) continue;
        if (o->type == OIQA_OPT_SECTION) {
            oiqa_sbuf_appendf(b, "%*s%s:\n", indent, "", o->name);
            append_keys(b, o->sub, (const char *)base + o->offset, indent + 2);
            continue;
        }
        oiqa_sbuf_appendf(b, "%*s%s: ", indent, "", o->name);
        append_value(b, o, base);
        oiqa_sbuf_append(b, "\n");
    }
}

char *oiqa_cli_resolved_config(const oiqa_tool *tool, const void *opts)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "");
    append_keys(&b, tool->opts, opts, 0);
    return b.s;
}
