/* YAML through libyaml's event parser into oiqa_yaml_node trees. Only the
 * plain data subset is accepted: one document of maps, lists and scalars,
 * without anchors, aliases or tags, and without duplicate keys. */
#include "base/yaml.h"
#include "base/error.h"
#include "base/strutil.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#define MAX_DEPTH 200            /* deeper documents are refused, not recursed into */
#define MAX_FILE_BYTES (64u << 20)

typedef struct {
    yaml_parser_t parser;
    const char *source;
    const char *text;
    size_t len;
    int depth;
} reader;

/* ---- errors ----------------------------------------------------------- */

static int fail_at(const char *source, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_at(const char *source, int line, const char *fmt, ...)
{
    char body[OIQA_ERRMSG_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body, fmt, ap);
    va_end(ap);
    return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s:%d: %s", source, line, body);
}

/* 1-based line of a byte offset in the text. */
static int line_of_offset(const reader *r, size_t offset)
{
    int line = 1;
    for (size_t i = 0; i < offset && i < r->len; i++)
        if (r->text[i] == '\n') line++;
    return line;
}

/* Whether the 1-based line starts with whitespace containing a tab. */
static int line_indented_with_tab(const reader *r, int line)
{
    size_t i = 0;
    for (int l = 1; l < line && i < r->len; i++)
        if (r->text[i] == '\n') l++;
    for (; i < r->len && (r->text[i] == ' ' || r->text[i] == '\t'); i++)
        if (r->text[i] == '\t') return 1;
    return 0;
}

static int syntax_error(reader *r)
{
    const yaml_parser_t *p = &r->parser;
    const char *problem = p->problem ? p->problem : "syntax error";
    int line = p->error == YAML_READER_ERROR ? line_of_offset(r, p->problem_offset)
                                             : (int)p->problem_mark.line + 1;
    char context[160] = "";
    int context_line = (int)p->context_mark.line + 1;
    if (p->context && context_line != line)
        snprintf(context, sizeof context, " (%s at line %d)", p->context, context_line);
    else if (p->context)
        snprintf(context, sizeof context, " (%s)", p->context);
    const char *hint = line_indented_with_tab(r, line) ? "; indent with spaces, not tabs" : "";
    return fail_at(r->source, line, "%s%s%s", problem, context, hint);
}

static int next_event(reader *r, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&r->parser, ev)) return syntax_error(r);
    return OIQA_OK;
}

static int event_line(const yaml_event_t *ev) { return (int)ev->start_mark.line + 1; }

/* Anchors, aliases and tags would make a config mean something other than
 * what it plainly says; refuse them with the fix. */
static int refuse_extras(const reader *r, int line, const yaml_char_t *anchor, const yaml_char_t *tag)
{
    if (anchor)
        return fail_at(r->source, line, "anchors (&%s) are not supported; write the value out", (const char *)anchor);
    if (tag)
        return fail_at(r->source, line, "tags (%s) are not supported; quote a value to make it a string",
                       (const char *)tag);
    return OIQA_OK;
}

/* ---- tree ------------------------------------------------------------- */

static oiqa_yaml_node *node_new(oiqa_yaml_kind kind, int line, const char *source)
{
    oiqa_yaml_node *n = oiqa_xcalloc(1, sizeof *n);
    n->kind = kind;
    n->line = line;
    n->source = source;
    return n;
}

static void node_free(oiqa_yaml_node *n)
{
    if (!n) return;
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys) free(n->keys[i]);
        node_free(n->items[i]);
    }
    free(n->keys);
    free(n->key_lines);
    free(n->items);
    free(n->scalar);
    free(n);
}

/* Appends an item (and for maps its key) growing the arrays by doubling. */
static void node_push(oiqa_yaml_node *n, char *key, int key_line, oiqa_yaml_node *item, size_t *cap)
{
    if (n->n == *cap) {
        *cap = *cap ? *cap * 2 : 4;
        n->items = oiqa_xrealloc(n->items, *cap * sizeof *n->items);
        if (n->kind == OIQA_YAML_MAP) {
            n->keys = oiqa_xrealloc(n->keys, *cap * sizeof *n->keys);
            n->key_lines = oiqa_xrealloc(n->key_lines, *cap * sizeof *n->key_lines);
        }
    }
    if (n->kind == OIQA_YAML_MAP) {
        n->keys[n->n] = key;
        n->key_lines[n->n] = key_line;
    }
    n->items[n->n++] = item;
}

static int parse_node(reader *r, yaml_event_t *ev, oiqa_yaml_node **out);

static int parse_scalar(reader *r, yaml_event_t *ev, oiqa_yaml_node **out)
{
    int line = event_line(ev);
    int rc = refuse_extras(r, line, ev->data.scalar.anchor, ev->data.scalar.tag);
    if (rc) return rc;
    const char *value = (const char *)ev->data.scalar.value;
    size_t length = ev->data.scalar.length;
    if (memchr(value, '\0', length)) return fail_at(r->source, line, "value contains a NUL character");
    oiqa_yaml_node *n = node_new(OIQA_YAML_SCALAR, line, r->source);
    n->scalar = oiqa_strndup(value, length);
    n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
    *out = n;
    return OIQA_OK;
}

/* Reads one map key (a scalar) or the end of the map. *key NULL at the end. */
static int parse_key(reader *r, const oiqa_yaml_node *map, char **key, int *key_line)
{
    yaml_event_t ev;
    *key = NULL;
    int rc = next_event(r, &ev);
    if (rc) return rc;
    *key_line = event_line(&ev);
    if (ev.type == YAML_MAPPING_END_EVENT) {
        yaml_event_delete(&ev);
        return OIQA_OK;
    }
    if (ev.type != YAML_SCALAR_EVENT) {
        rc = fail_at(r->source, *key_line, "a map key must be a single value, not a %s",
                     ev.type == YAML_MAPPING_START_EVENT ? "map" : ev.type == YAML_ALIAS_EVENT ? "alias" : "list");
        yaml_event_delete(&ev);
        return rc;
    }
    rc = refuse_extras(r, *key_line, ev.data.scalar.anchor, ev.data.scalar.tag);
    const char *text = (const char *)ev.data.scalar.value;
    if (!rc && memchr(text, '\0', ev.data.scalar.length))
        rc = fail_at(r->source, *key_line, "key contains a NUL character");
    if (!rc) {
        for (size_t i = 0; i < map->n && !rc; i++)
            if (!strcmp(map->keys[i], text))
                rc = fail_at(r->source, *key_line, "duplicate key '%s' (first at line %d)", text, map->key_lines[i]);
    }
    if (!rc) *key = oiqa_strndup(text, ev.data.scalar.length);
    yaml_event_delete(&ev);
    return rc;
}

static int parse_map(reader *r, int line, oiqa_yaml_node **out)
{
    oiqa_yaml_node *map = node_new(OIQA_YAML_MAP, line, r->source);
    size_t cap = 0;
    int rc;
    for (;;) {
        char *key;
        int key_line = line;
        rc = parse_key(r, map, &key, &key_line);
        if (rc || !key) break;
        yaml_event_t ev;
        oiqa_yaml_node *value = NULL;
        rc = next_event(r, &ev);
        if (!rc) rc = parse_node(r, &ev, &value);
        if (rc) {
            free(key);
            break;
        }
        node_push(map, key, key_line, value, &cap);
    }
    if (rc) {
        node_free(map);
        return rc;
    }
    *out = map;
    return OIQA_OK;
}

static int parse_seq(reader *r, int line, oiqa_yaml_node **out)
{
    oiqa_yaml_node *seq = node_new(OIQA_YAML_SEQ, line, r->source);
    size_t cap = 0;
    int rc;
    for (;;) {
        yaml_event_t ev;
        rc = next_event(r, &ev);
        if (rc) break;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        oiqa_yaml_node *item = NULL;
        rc = parse_node(r, &ev, &item);
        if (rc) break;
        node_push(seq, NULL, 0, item, &cap);
    }
    if (rc) {
        node_free(seq);
        return rc;
    }
    *out = seq;
    return OIQA_OK;
}

/* Builds the node that starts with *ev (which it consumes). */
static int parse_node(reader *r, yaml_event_t *ev, oiqa_yaml_node **out)
{
    int line = event_line(ev);
    int rc;
    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        rc = parse_scalar(r, ev, out);
        break;
    case YAML_ALIAS_EVENT:
        rc = fail_at(r->source, line, "aliases (*%s) are not supported; write the value out",
                     (const char *)ev->data.alias.anchor);
        break;
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        int is_map = ev->type == YAML_MAPPING_START_EVENT;
        rc = is_map ? refuse_extras(r, line, ev->data.mapping_start.anchor, ev->data.mapping_start.tag)
                    : refuse_extras(r, line, ev->data.sequence_start.anchor, ev->data.sequence_start.tag);
        if (!rc && r->depth >= MAX_DEPTH)
            rc = fail_at(r->source, line, "nested deeper than %d levels", MAX_DEPTH);
        if (!rc) {
            r->depth++;
            rc = is_map ? parse_map(r, line, out) : parse_seq(r, line, out);
            r->depth--;
        }
        break;
    }
    default:
        rc = fail_at(r->source, line, "unexpected YAML event");
    }
    yaml_event_delete(ev);
    return rc;
}

/* stream: STREAM_START (DOCUMENT_START node DOCUMENT_END)? STREAM_END */
static int parse_stream(reader *r, oiqa_yaml_node **root)
{
    int documents = 0, rc = OIQA_OK;
    for (;;) {
        yaml_event_t ev;
        rc = next_event(r, &ev);
        if (rc) return rc;
        yaml_event_type_t type = ev.type;
        int line = event_line(&ev);
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT) return OIQA_OK;
        if (type != YAML_DOCUMENT_START_EVENT) continue; /* STREAM_START, DOCUMENT_END */
        if (++documents > 1)
            return fail_at(r->source, line, "more than one YAML document (a second '---'); one is allowed");
        rc = next_event(r, &ev);
        if (!rc) rc = parse_node(r, &ev, root);
        if (rc) return rc;
    }
}

int oiqa_yaml_load_string(const char *text, size_t len, const char *source, oiqa_yaml_doc *doc)
{
    doc->root = NULL;
    doc->source = oiqa_strdup(source ? source : "(string)");
    reader r = {.source = doc->source, .text = text, .len = len};
    if (!yaml_parser_initialize(&r.parser)) {
        oiqa_yaml_free(doc);
        return oiqa_fail(OIQA_EXIT_DATA, source, "cannot initialise the YAML parser");
    }
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    yaml_parser_set_encoding(&r.parser, YAML_UTF8_ENCODING);
    oiqa_yaml_node *root = NULL;
    int rc = parse_stream(&r, &root);
    yaml_parser_delete(&r.parser);
    if (rc) {
        node_free(root);
        oiqa_yaml_free(doc);
        return rc;
    }
    doc->root = root;
    return OIQA_OK;
}

int oiqa_yaml_load_file(const char *path, oiqa_yaml_doc *doc)
{
    doc->root = NULL;
    doc->source = NULL;
    /* An empty file is an empty document (like a file of comments). */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0) {
        doc->source = oiqa_strdup(path);
        return OIQA_OK;
    }
    uint8_t *data;
    size_t size;
    int rc = oiqa_read_file(path, MAX_FILE_BYTES, &data, &size);
    if (rc) return rc;
    rc = oiqa_yaml_load_string((const char *)data, size, path, doc);
    free(data);
    return rc;
}

void oiqa_yaml_free(oiqa_yaml_doc *doc)
{
    if (!doc) return;
    node_free(doc->root);
    free(doc->source);
    doc->root = NULL;
    doc->source = NULL;
}

const oiqa_yaml_node *oiqa_yaml_get(const oiqa_yaml_node *map, const char *key)
{
    if (!map || map->kind != OIQA_YAML_MAP) return NULL;
    for (size_t i = 0; i < map->n; i++)
        if (!strcmp(map->keys[i], key)) return map->items[i];
    return NULL;
}

/* ---- scalar text ------------------------------------------------------ */

int oiqa_yaml_is_null_text(const char *text)
{
    return !*text || !strcmp(text, "~") || !strcmp(text, "null") || !strcmp(text, "Null") ||
           !strcmp(text, "NULL");
}

int oiqa_yaml_parse_int(const char *text, long *out)
{
    const char *p = text;
    if (*p == '+' || *p == '-') p++;
    if (!*p) return -1;
    for (const char *q = p; *q; q++)
        if (!isdigit((unsigned char)*q)) return -1;
    errno = 0;
    char *end;
    long v = strtol(text, &end, 10);
    if (errno == ERANGE || *end) return -1;
    *out = v;
    return 0;
}

static const char *skip_digits(const char *p, int *count)
{
    *count = 0;
    while (isdigit((unsigned char)*p)) p++, ++*count;
    return p;
}

/* Decimal forms only: [+-] digits [. digits] [e [+-] digits], or .5 / 5. —
 * no hex floats, no inf/nan, no spaces. */
int oiqa_yaml_parse_double(const char *text, double *out)
{
    const char *p = text;
    int whole, frac = 0, exp;
    if (*p == '+' || *p == '-') p++;
    p = skip_digits(p, &whole);
    if (*p == '.') p = skip_digits(p + 1, &frac);
    if (whole + frac == 0) return -1;
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        p = skip_digits(p, &exp);
        if (!exp) return -1;
    }
    if (*p) return -1;
    char *end;
    double v = strtod(text, &end);
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int oiqa_yaml_parse_bool(const char *text, int *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (int i = 0; i < 4; i++) {
        if (!strcasecmp(text, yes[i])) return *out = 1, 0;
        if (!strcasecmp(text, no[i])) return *out = 0, 0;
    }
    return -1;
}

/* ---- typed getters ---------------------------------------------------- */

void oiqa_yaml_describe(const oiqa_yaml_node *n, char *out, size_t cap)
{
    if (!n) snprintf(out, cap, "nothing");
    else if (n->kind == OIQA_YAML_MAP) snprintf(out, cap, "a map");
    else if (n->kind == OIQA_YAML_SEQ) snprintf(out, cap, "a list");
    else if (n->quoted) snprintf(out, cap, "'%s' (quoted, so a string)", n->scalar);
    else if (!*n->scalar) snprintf(out, cap, "nothing");
    else snprintf(out, cap, "'%s'", n->scalar);
}

int oiqa_yaml_type_error(const oiqa_yaml_node *n, const char *what, const char *expected)
{
    char key[256] = "";
    if (what && *what) snprintf(key, sizeof key, "key '%s': ", what);
    if (!n) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%sexpected %s, got nothing", key, expected);
    char got[OIQA_ERRMSG_MAX / 2];
    oiqa_yaml_describe(n, got, sizeof got);
    return fail_at(n->source, n->line, "%sexpected %s, got %s", key, expected, got);
}

/* A scalar written without quotes (quoted scalars are strings). */
static const char *plain_text(const oiqa_yaml_node *n)
{
    return n && n->kind == OIQA_YAML_SCALAR && !n->quoted ? n->scalar : NULL;
}

int oiqa_yaml_as_int(const oiqa_yaml_node *n, const char *what, long *out)
{
    const char *t = plain_text(n);
    if (!t || oiqa_yaml_parse_int(t, out)) return oiqa_yaml_type_error(n, what, "an integer");
    return OIQA_OK;
}

int oiqa_yaml_as_double(const oiqa_yaml_node *n, const char *what, double *out)
{
    const char *t = plain_text(n);
    if (!t || oiqa_yaml_parse_double(t, out)) return oiqa_yaml_type_error(n, what, "a number");
    return OIQA_OK;
}

int oiqa_yaml_as_bool(const oiqa_yaml_node *n, const char *what, int *out)
{
    const char *t = plain_text(n);
    if (!t || oiqa_yaml_parse_bool(t, out)) return oiqa_yaml_type_error(n, what, "true or false");
    return OIQA_OK;
}

int oiqa_yaml_as_string(const oiqa_yaml_node *n, const char *what, const char **out)
{
    if (!n || n->kind != OIQA_YAML_SCALAR) return oiqa_yaml_type_error(n, what, "a string");
    *out = !n->quoted && oiqa_yaml_is_null_text(n->scalar) ? NULL : n->scalar;
    return OIQA_OK;
}

int oiqa_yaml_check_keys(const oiqa_yaml_node *map, const char *const *known, const char *where)
{
    if (!map) return OIQA_OK;
    char in[256] = "";
    size_t where_len = where ? strlen(where) : 0;
    int is_prefix = where_len && where[where_len - 1] == '.';
    if (is_prefix) snprintf(in, sizeof in, " in '%.*s'", (int)(where_len - 1), where);
    else if (where_len) snprintf(in, sizeof in, " in %s", where);
    if (map->kind != OIQA_YAML_MAP) {
        char got[64];
        oiqa_yaml_describe(map, got, sizeof got);
        return fail_at(map->source, map->line, "expected a map of 'key: value' lines%s, got %s", in,
                       map->kind == OIQA_YAML_SCALAR ? "a single value" : got);
    }
    for (size_t i = 0; i < map->n; i++) {
        int found = 0;
        for (size_t k = 0; known && known[k] && !found; k++) found = !strcmp(known[k], map->keys[i]);
        if (found) continue;
        oiqa_sbuf list = {0};
        for (size_t k = 0; known && known[k]; k++) oiqa_sbuf_appendf(&list, "%s%s", k ? ", " : "", known[k]);
        int rc = is_prefix ? fail_at(map->source, map->key_lines[i], "unknown key '%s%s' (known: %s)", where,
                                     map->keys[i], list.s ? list.s : "none")
                           : fail_at(map->source, map->key_lines[i], "unknown key '%s'%s (known: %s)", map->keys[i],
                                     in, list.s ? list.s : "none");
        free(list.s);
        return rc;
    }
    return OIQA_OK;
}

/* ---- writing flow YAML ------------------------------------------------ */

/* Text that, unquoted in a flow collection or after "key: ", reads back as
 * the same plain scalar. Conservative: anything doubtful gets quoted. */
static int plain_safe(const char *s)
{
    size_t len = strlen(s);
    if (!len || s[0] == ' ' || s[len - 1] == ' ') return 0;
    if (strchr("?:,[]{}#&*!|>'\"%@`", s[0])) return 0;
    if (s[0] == '-' && (len == 1 || s[1] == ' ')) return 0;
    if (!strncmp(s, "---", 3) || !strncmp(s, "...", 3)) return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f || strchr(",[]{}#:", *p)) return 0;
    return 1;
}

/* Would a YAML reader take this plain text for something other than a
 * string (null, bool, a number, .inf)? */
static int looks_like_non_string(const char *s)
{
    int b;
    if (oiqa_yaml_is_null_text(s) || !oiqa_yaml_parse_bool(s, &b)) return 1;
    if (!strcasecmp(s, "y") || !strcasecmp(s, "n")) return 1; /* YAML 1.1 readers */
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    if (*p == '.') p++;
    return isdigit((unsigned char)*p) || !strcasecmp(p, "inf") || !strcasecmp(p, "nan");
}

static void append_double_quoted(oiqa_sbuf *b, const char *s)
{
    oiqa_sbuf_append(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': oiqa_sbuf_append(b, "\\\""); break;
        case '\\': oiqa_sbuf_append(b, "\\\\"); break;
        case '\n': oiqa_sbuf_append(b, "\\n"); break;
        case '\t': oiqa_sbuf_append(b, "\\t"); break;
        case '\r': oiqa_sbuf_append(b, "\\r"); break;
        default:
            if (*p < 0x20 || *p == 0x7f) oiqa_sbuf_appendf(b, "\\x%02x", *p);
            else oiqa_sbuf_appendf(b, "%c", *p);
        }
    }
    oiqa_sbuf_append(b, "\"");
}

static void append_string(oiqa_sbuf *b, const char *s)
{
    if (plain_safe(s) && !looks_like_non_string(s)) oiqa_sbuf_append(b, s);
    else append_double_quoted(b, s);
}

char *oiqa_yaml_quote_string(const char *s)
{
    oiqa_sbuf b = {0};
    append_string(&b, s ? s : "");
    return b.s;
}

static void append_flow(oiqa_sbuf *b, const oiqa_yaml_node *n)
{
    if (!n) {
        oiqa_sbuf_append(b, "null");
        return;
    }
    switch (n->kind) {
    case OIQA_YAML_SCALAR:
        if (n->quoted) append_string(b, n->scalar);
        else if (!*n->scalar) oiqa_sbuf_append(b, "null"); /* "key:" means null */
        else if (plain_safe(n->scalar)) oiqa_sbuf_append(b, n->scalar);
        else append_double_quoted(b, n->scalar); /* a string either way */
        break;
    case OIQA_YAML_SEQ:
        oiqa_sbuf_append(b, "[");
        for (size_t i = 0; i < n->n; i++) {
            if (i) oiqa_sbuf_append(b, ", ");
            append_flow(b, n->items[i]);
        }
        oiqa_sbuf_append(b, "]");
        break;
    case OIQA_YAML_MAP:
        oiqa_sbuf_append(b, "{");
        for (size_t i = 0; i < n->n; i++) {
            if (i) oiqa_sbuf_append(b, ", ");
            append_string(b, n->keys[i]);
            oiqa_sbuf_append(b, ": ");
            append_flow(b, n->items[i]);
        }
        oiqa_sbuf_append(b, "}");
        break;
    }
}

char *oiqa_yaml_to_flow(const oiqa_yaml_node *n)
{
    oiqa_sbuf b = {0};
    append_flow(&b, n);
    return b.s;
}
