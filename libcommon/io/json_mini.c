/* Strict JSON subset parser (see json_mini.h); grammar from RFC 8259 §2-7. */
#include "io/json_mini.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *s;
    size_t len, pos;
    char *err;
    size_t err_cap;
} parser;

static int perr(parser *p, const char *what)
{
    if (!p->err[0]) snprintf(p->err, p->err_cap, "%s at byte %zu", what, p->pos);
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->pos < p->len &&
           (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static void free_value(oiqa_json *v)
{
    for (int i = 0; i < v->n; i++) {
        free_value(&v->kids[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->kids);
    free(v->keys);
    free(v->str);
}

static int hex4(parser *p, unsigned *out)
{
    if (p->len - p->pos < 4) return perr(p, "truncated \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return perr(p, "bad hex digit in \\u escape");
    }
    *out = v;
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) return o[0] = (char)cp, 1;
    if (cp < 0x800) return o[0] = (char)(0xc0 | cp >> 6), o[1] = (char)(0x80 | (cp & 0x3f)), 2;
    if (cp < 0x10000)
        return o[0] = (char)(0xe0 | cp >> 12), o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)),
               o[2] = (char)(0x80 | (cp & 0x3f)), 3;
    o[0] = (char)(0xf0 | cp >> 18), o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)), o[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

/* A string at p->pos (on the opening quote); the decoded bytes are never
 * longer than the escaped ones, so one buffer of the raw length suffices. */
static int parse_string(parser *p, char **out, size_t *out_len)
{
    p->pos++;
    size_t start = p->pos;
    while (p->pos < p->len && p->s[p->pos] != '"') p->pos += p->s[p->pos] == '\\' ? 2 : 1;
    if (p->pos >= p->len) return perr(p, "unterminated string");
    size_t raw = p->pos - start;
    char *o = malloc(raw + 1);
    if (!o) return perr(p, "out of memory");
    size_t n = 0;
    p->pos = start;
    while (p->s[p->pos] != '"') {
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c < 0x20) return free(o), perr(p, "control character in string");
        if (c != '\\') {
            o[n++] = (char)c;
            continue;
        }
        char e = p->s[p->pos++];
        unsigned cp;
        switch (e) {
        case '"':
        case '\\':
        case '/': o[n++] = e; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'n': o[n++] = '\n'; break;
        case 'r': o[n++] = '\r'; break;
        case 't': o[n++] = '\t'; break;
        case 'u':
            if (hex4(p, &cp)) return free(o), -1;
            if (cp >= 0xd800 && cp < 0xdc00) { /* high surrogate: a low one must follow */
                unsigned lo;
                if (p->len - p->pos < 2 || p->s[p->pos] != '\\' || p->s[p->pos + 1] != 'u')
                    return free(o), perr(p, "lone surrogate in \\u escape");
                p->pos += 2;
                if (hex4(p, &lo)) return free(o), -1;
                if (lo < 0xdc00 || lo >= 0xe000) return free(o), perr(p, "bad surrogate pair");
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            } else if (cp >= 0xdc00 && cp < 0xe000)
                return free(o), perr(p, "lone surrogate in \\u escape");
            n += put_utf8(o + n, cp);
            break;
        default: return free(o), perr(p, "bad escape in string");
        }
    }
    p->pos++;
    o[n] = 0;
    *out = o, *out_len = n;
    return 0;
}

static int parse_int(parser *p, int64_t *out)
{
    int neg = p->s[p->pos] == '-';
    if (neg) p->pos++;
    if (p->pos >= p->len || p->s[p->pos] < '0' || p->s[p->pos] > '9') return perr(p, "expected a value");
    if (p->s[p->pos] == '0' && p->pos + 1 < p->len && p->s[p->pos + 1] >= '0' && p->s[p->pos + 1] <= '9')
        return perr(p, "leading zero in number");
    uint64_t v = 0;
    while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9') {
        unsigned d = (unsigned)(p->s[p->pos++] - '0');
        if (v > (UINT64_MAX - d) / 10 || v * 10 + d > (uint64_t)INT64_MAX + (uint64_t)neg)
            return perr(p, "integer out of range");
        v = v * 10 + d;
    }
    if (p->pos < p->len && (p->s[p->pos] == '.' || p->s[p->pos] == 'e' || p->s[p->pos] == 'E'))
        return perr(p, "non-integer number");
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 0;
}

static int grow_kids(parser *p, oiqa_json *v, int with_keys)
{
    if (v->n < v->cap) return 0;
    int cap = v->cap ? 2 * v->cap : 8;
    oiqa_json *k = realloc(v->kids, (size_t)cap * sizeof *k);
    if (!k) return perr(p, "out of memory");
    v->kids = k;
    if (with_keys) {
        char **ks = realloc(v->keys, (size_t)cap * sizeof *ks);
        if (!ks) return perr(p, "out of memory");
        v->keys = ks;
    }
    v->cap = cap;
    return 0;
}

static int parse_value(parser *p, oiqa_json *v, int depth);

/* Object or array members until the closing bracket. */
static int parse_members(parser *p, oiqa_json *v, int depth)
{
    int is_obj = v->type == OIQA_JSON_OBJECT;
    char close = is_obj ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (p->pos < p->len && p->s[p->pos] == close) return p->pos++, 0;
    for (;;) {
        if (grow_kids(p, v, is_obj)) return -1;
        char *key = NULL;
        size_t klen;
        if (is_obj) {
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != '"') return perr(p, "expected a string key");
            if (parse_string(p, &key, &klen)) return -1;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') return free(key), perr(p, "expected ':'");
            p->pos++;
            v->keys[v->n] = key;
        }
        memset(&v->kids[v->n], 0, sizeof v->kids[0]);
        v->n++; /* counted now so that a failure below frees it */
        if (parse_value(p, &v->kids[v->n - 1], depth + 1)) return -1;
        skip_ws(p);
        if (p->pos >= p->len) return perr(p, "unterminated object or array");
        char c = p->s[p->pos++];
        if (c == close) return 0;
        if (c != ',') return p->pos--, perr(p, "expected ',' or a closing bracket");
    }
}

static int parse_value(parser *p, oiqa_json *v, int depth)
{
    if (depth > OIQA_JSON_MAX_DEPTH) return perr(p, "nesting too deep");
    skip_ws(p);
    if (p->pos >= p->len) return perr(p, "unexpected end");
    char c = p->s[p->pos];
    if (c == '{' || c == '[') {
        v->type = c == '{' ? OIQA_JSON_OBJECT : OIQA_JSON_ARRAY;
        return parse_members(p, v, depth);
    }
    if (c == '"') {
        v->type = OIQA_JSON_STRING;
        return parse_string(p, &v->str, &v->len);
    }
    v->type = OIQA_JSON_INT;
    return parse_int(p, &v->i);
}

oiqa_json *oiqa_json_parse(const char *text, size_t len, char *err, size_t err_cap)
{
    parser p = {text, len, 0, err, err_cap};
    err[0] = 0;
    oiqa_json *v = calloc(1, sizeof *v);
    if (!v) return perr(&p, "out of memory"), NULL;
    int rc = parse_value(&p, v, 0);
    if (!rc) {
        skip_ws(&p);
        if (p.pos != len) rc = perr(&p, "trailing characters after the value");
    }
    if (rc) {
        oiqa_json_free(v);
        return NULL;
    }
    return v;
}

void oiqa_json_free(oiqa_json *v)
{
    if (!v) return;
    free_value(v);
    free(v);
}

const oiqa_json *oiqa_json_get(const oiqa_json *obj, const char *key)
{
    if (!obj || obj->type != OIQA_JSON_OBJECT) return NULL;
    for (int i = 0; i < obj->n; i++)
        if (!strcmp(obj->keys[i], key)) return &obj->kids[i];
    return NULL;
}
