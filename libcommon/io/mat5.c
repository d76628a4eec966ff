/* MATLAB level-5 MAT-file reader (see mat5.h). Layout from MathWorks'
 * "MAT-File Format" document: a 128-byte header, then data elements, each
 * a tag (type, byte count) and data padded to 8 bytes. */
#include "io/mat5.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "base/error.h"
#include "base/strutil.h"

enum {
    MI_INT8 = 1, MI_UINT8 = 2, MI_INT16 = 3, MI_UINT16 = 4, MI_INT32 = 5, MI_UINT32 = 6, MI_SINGLE = 7,
    MI_DOUBLE = 9, MI_INT64 = 12, MI_UINT64 = 13, MI_MATRIX = 14, MI_COMPRESSED = 15, MI_UTF8 = 16,
    MI_UTF16 = 17, MI_UTF32 = 18,
};

/* A buffer being parsed: the file itself, or an inflated element of it. */
typedef struct {
    const uint8_t *p;
    size_t n;
    int swap;           /* big-endian file */
    const char *path;
    size_t zoff;        /* file offset of the compressed element, or SIZE_MAX */
} buf;

static int bad(const buf *b, size_t at, const char *what)
{
    if (b->zoff != SIZE_MAX)
        return oiqa_fail(OIQA_EXIT_DATA, b->path, "not a valid MAT-file: %s at byte %zu of the compressed element at "
                         "byte %zu", what, at, b->zoff);
    return oiqa_fail(OIQA_EXIT_DATA, b->path, "not a valid MAT-file: %s at byte %zu", what, at);
}

static uint32_t u32(const buf *b, size_t at)
{
    const uint8_t *q = b->p + at;
    return b->swap ? (uint32_t)q[0] << 24 | (uint32_t)q[1] << 16 | (uint32_t)q[2] << 8 | q[3]
                   : (uint32_t)q[3] << 24 | (uint32_t)q[2] << 16 | (uint32_t)q[1] << 8 | q[0];
}

static uint64_t uN(const buf *b, size_t at, int size)
{
    uint64_t v = 0;
    for (int k = 0; k < size; k++) {
        int src = b->swap ? k : size - 1 - k;
        v = v << 8 | b->p[at + src];
    }
    return v;
}

typedef struct {
    uint32_t type;
    size_t len, data, next; /* data bytes, where they start, where the next element starts */
} tag;

/* Reads the tag at pos (within [pos, end)), in either form. */
static int read_tag(const buf *b, size_t pos, size_t end, tag *t)
{
    if (end < pos || end - pos < 8) return bad(b, pos, "truncated tag");
    uint32_t w = u32(b, pos);
    if (w >> 16) { /* small element: type and length in one word, data in the next 4 bytes */
        t->type = w & 0xffff;
        t->len = w >> 16;
        if (t->len > 4) return bad(b, pos, "small element longer than 4 bytes");
        t->data = pos + 4;
        t->next = pos + 8;
        return 0;
    }
    t->type = w;
    t->len = u32(b, pos + 4);
    t->data = pos + 8;
    if (t->len > end - t->data) return bad(b, pos, "element runs past the end of the data");
    size_t padded = t->type == MI_COMPRESSED ? t->len : (t->len + 7) & ~(size_t)7;
    t->next = padded > end - t->data ? end : t->data + padded; /* the last element's padding may be missing */
    return 0;
}

static int elem_size(uint32_t type)
{
    switch (type) {
    case MI_INT8: case MI_UINT8: case MI_UTF8: return 1;
    case MI_INT16: case MI_UINT16: case MI_UTF16: return 2;
    case MI_INT32: case MI_UINT32: case MI_SINGLE: case MI_UTF32: return 4;
    case MI_DOUBLE: case MI_INT64: case MI_UINT64: return 8;
    }
    return 0;
}

static double num_at(const buf *b, uint32_t type, size_t at)
{
    switch (type) {
    case MI_INT8: return (int8_t)b->p[at];
    case MI_UINT8: return b->p[at];
    case MI_INT16: return (int16_t)uN(b, at, 2);
    case MI_UINT16: return (uint16_t)uN(b, at, 2);
    case MI_INT32: return (int32_t)uN(b, at, 4);
    case MI_UINT32: return (uint32_t)uN(b, at, 4);
    case MI_INT64: return (double)(int64_t)uN(b, at, 8);
    case MI_UINT64: return (double)uN(b, at, 8);
    case MI_SINGLE: {
        uint32_t u = (uint32_t)uN(b, at, 4);
        float f;
        memcpy(&f, &u, 4);
        return f;
    }
    case MI_DOUBLE: {
        uint64_t u = uN(b, at, 8);
        double d;
        memcpy(&d, &u, 8);
        return d;
    }
    }
    return 0;
}

static void var_free(oiqa_mat_var *v)
{
    if (!v) return;
    free(v->name);
    free(v->re);
    free(v->str);
    size_t ne = v->mclass == OIQA_MX_STRUCT ? v->count * (size_t)v->n_fields : v->count;
    if (v->elem)
        for (size_t i = 0; i < ne; i++) var_free(v->elem[i]);
    free(v->elem);
    for (int f = 0; f < v->n_fields; f++) free(v->fields[f]);
    free(v->fields);
    free(v);
}

/* Appends code point c as UTF-8. */
static void put_utf8(char *out, size_t *k, uint32_t c)
{
    if (c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) c = 0xFFFD;
    if (c < 0x80) out[(*k)++] = (char)c;
    else if (c < 0x800) { out[(*k)++] = (char)(0xC0 | c >> 6); out[(*k)++] = (char)(0x80 | (c & 63)); }
    else if (c < 0x10000) {
        out[(*k)++] = (char)(0xE0 | c >> 12);
        out[(*k)++] = (char)(0x80 | (c >> 6 & 63));
        out[(*k)++] = (char)(0x80 | (c & 63));
    } else {
        out[(*k)++] = (char)(0xF0 | c >> 18);
        out[(*k)++] = (char)(0x80 | (c >> 12 & 63));
        out[(*k)++] = (char)(0x80 | (c >> 6 & 63));
        out[(*k)++] = (char)(0x80 | (c & 63));
    }
}

static int parse_matrix(const buf *b, size_t pos, size_t end, int depth, oiqa_mat_var **out);

/* The elements of a cell or struct: n miMATRIX elements from pos. */
static int parse_children(const buf *b, size_t *pos, size_t end, size_t n, int depth, oiqa_mat_var ***out)
{
    /* each child needs at least a tag: refuse counts the data cannot hold before allocating */
    if (n > (end - *pos) / 8) return bad(b, *pos, "more elements than the data can hold");
    oiqa_mat_var **e = calloc(n ? n : 1, sizeof *e);
    if (!e) return oiqa_fail(OIQA_EXIT_DATA, b->path, "out of memory");
    *out = e;
    for (size_t i = 0; i < n; i++) {
        tag t;
        int rc = read_tag(b, *pos, end, &t);
        if (rc) return rc;
        if (t.type != MI_MATRIX) return bad(b, *pos, "cell or struct element is not a matrix");
        if ((rc = parse_matrix(b, t.data, t.data + t.len, depth + 1, &e[i]))) return rc;
        *pos = t.next;
    }
    return 0;
}

static int parse_numeric(const buf *b, size_t pos, size_t end, oiqa_mat_var *v)
{
    tag t;
    int rc = read_tag(b, pos, end, &t);
    if (rc) return rc;
    int es = elem_size(t.type);
    if (!es || t.type == MI_UTF8 || t.type == MI_UTF16 || t.type == MI_UTF32)
        return bad(b, pos, "numeric data of an unknown type");
    if (t.len / (size_t)es != v->count || t.len % (size_t)es)
        return bad(b, pos, "numeric data does not match the dimensions");
    v->re = malloc((v->count ? v->count : 1) * sizeof *v->re);
    if (!v->re) return oiqa_fail(OIQA_EXIT_DATA, b->path, "out of memory");
    for (size_t i = 0; i < v->count; i++) v->re[i] = num_at(b, t.type, t.data + i * (size_t)es);
    return 0; /* an imaginary part, if any, follows and is not needed */
}

static int parse_char(const buf *b, size_t pos, size_t end, oiqa_mat_var *v)
{
    if (pos >= end && v->count == 0) { v->str = oiqa_strdup(""); return 0; }
    tag t;
    int rc = read_tag(b, pos, end, &t);
    if (rc) return rc;
    int es = elem_size(t.type);
    if (!es || es == 8 || t.len % (size_t)es) return bad(b, pos, "char data of an unknown type");
    size_t n = t.len / (size_t)es;
    if (t.type != MI_UTF8 && n != v->count) return bad(b, pos, "char data does not match the dimensions");
    v->str = malloc(n * 4 + 1);
    if (!v->str) return oiqa_fail(OIQA_EXIT_DATA, b->path, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t c = (uint32_t)uN(b, t.data + i * (size_t)es, es);
        if (t.type == MI_UTF8 || es == 1) v->str[k++] = (char)c; /* bytes as stored */
        else if (t.type == MI_UTF16 && c >= 0xD800 && c < 0xDC00 && i + 1 < n) {
            uint32_t lo = (uint32_t)uN(b, t.data + (i + 1) * 2, 2);
            if (lo >= 0xDC00 && lo < 0xE000) { put_utf8(v->str, &k, 0x10000 + ((c - 0xD800) << 10) + (lo - 0xDC00)); i++; }
            else put_utf8(v->str, &k, 0xFFFD);
        } else put_utf8(v->str, &k, c);
    }
    v->str[k] = '\0';
    return 0;
}

static int parse_struct(const buf *b, size_t pos, size_t end, int depth, oiqa_mat_var *v)
{
    tag t;
    int rc = read_tag(b, pos, end, &t);
    if (rc) return rc;
    if (t.type != MI_INT32 || t.len != 4) return bad(b, pos, "struct field-name length is not one int32");
    uint32_t fl = u32(b, t.data);
    if (fl == 0 || fl > 4096) return bad(b, pos, "struct field-name length out of range");
    pos = t.next;
    if ((rc = read_tag(b, pos, end, &t))) return rc;
    if (t.type != MI_INT8 || t.len % fl) return bad(b, pos, "struct field names malformed");
    size_t nf = t.len / fl;
    if (nf > 65535) return bad(b, pos, "too many struct fields");
    v->fields = calloc(nf ? nf : 1, sizeof *v->fields);
    if (!v->fields) return oiqa_fail(OIQA_EXIT_DATA, b->path, "out of memory");
    v->n_fields = (int)nf;
    for (size_t f = 0; f < nf; f++) v->fields[f] = oiqa_strndup((const char *)b->p + t.data + f * fl, fl);
    for (size_t f = 0; f < nf; f++) v->fields[f][strnlen(v->fields[f], fl)] = '\0';
    pos = t.next;
    if (nf && v->count > SIZE_MAX / nf) return bad(b, pos, "struct too large");
    return parse_children(b, &pos, end, v->count * nf, depth, &v->elem);
}

/* The miMATRIX element whose data is [pos, end). */
static int parse_matrix(const buf *b, size_t pos, size_t end, int depth, oiqa_mat_var **out)
{
    if (depth > OIQA_MAT5_MAX_DEPTH) return bad(b, pos, "cells or structs nested too deeply");
    oiqa_mat_var *v = calloc(1, sizeof *v);
    if (!v) return oiqa_fail(OIQA_EXIT_DATA, b->path, "out of memory");
    *out = v;
    if (pos == end) { /* an empty matrix (e.g. an empty cell element) */
        v->name = oiqa_strdup("");
        v->mclass = OIQA_MX_DOUBLE;
        v->ndims = 2;
        return 0;
    }
    tag t;
    int rc = read_tag(b, pos, end, &t);
    if (rc) return rc;
    if (t.type != MI_UINT32 || t.len != 8) return bad(b, pos, "array flags missing");
    uint32_t flags = u32(b, t.data);
    v->mclass = (int)(flags & 0xff);
    v->complex = (flags & 0x800) != 0;
    v->logical = (flags & 0x200) != 0;
    if (v->mclass == OIQA_MX_SPARSE || v->mclass == OIQA_MX_OBJECT || v->mclass < 1 || v->mclass > 15)
        return oiqa_fail(OIQA_EXIT_DATA, b->path, "array class %d (sparse, object or unknown) is not supported",
                         v->mclass);
    pos = t.next;
    if ((rc = read_tag(b, pos, end, &t))) return rc;
    if (t.type != MI_INT32 || t.len % 4 || t.len == 0 || t.len / 4 > OIQA_MAT5_MAX_DIMS)
        return bad(b, pos, "dimensions malformed");
    v->ndims = (int)(t.len / 4);
    v->count = 1;
    for (int d = 0; d < v->ndims; d++) {
        int32_t dim = (int32_t)u32(b, t.data + 4 * (size_t)d);
        if (dim < 0) return bad(b, pos, "negative dimension");
        v->dims[d] = dim;
        if (dim && v->count > SIZE_MAX / 16 / (size_t)dim) return bad(b, pos, "absurd dimensions");
        v->count *= (size_t)dim;
    }
    pos = t.next;
    if ((rc = read_tag(b, pos, end, &t))) return rc;
    if (t.type != MI_INT8 && t.type != MI_UINT8) return bad(b, pos, "array name missing");
    v->name = oiqa_strndup((const char *)b->p + t.data, t.len);
    pos = t.next;
    switch (v->mclass) {
    case OIQA_MX_CELL: return parse_children(b, &pos, end, v->count, depth, &v->elem);
    case OIQA_MX_STRUCT: return parse_struct(b, pos, end, depth, v);
    case OIQA_MX_CHAR: return parse_char(b, pos, end, v);
    default: return parse_numeric(b, pos, end, v);
    }
}

/* Inflates the zlib stream [data, data+len) into a malloc'ed buffer. */
static int inflate_all(const buf *b, size_t at, const uint8_t *data, size_t len, uint8_t **out, size_t *out_n)
{
    size_t cap = len * 8 + 1024 < OIQA_MAT5_MAX_INFLATE ? len * 8 + 1024 : OIQA_MAT5_MAX_INFLATE;
    uint8_t *o = malloc(cap);
    if (!o) return oiqa_fail(OIQA_EXIT_DATA, b->path, "out of memory");
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit(&z) != Z_OK) { free(o); return oiqa_fail(OIQA_EXIT_DATA, b->path, "zlib init failed"); }
    size_t done = 0, in_left = len;
    const uint8_t *in = data;
    int zr = Z_OK;
    while (zr != Z_STREAM_END) {
        if (done == cap) {
            if (cap >= OIQA_MAT5_MAX_INFLATE) {
                inflateEnd(&z);
                free(o);
                return bad(b, at, "compressed element inflates past the size limit");
            }
            size_t nc = cap * 2 < OIQA_MAT5_MAX_INFLATE ? cap * 2 : OIQA_MAT5_MAX_INFLATE;
            uint8_t *g = realloc(o, nc);
            if (!g) { inflateEnd(&z); free(o); return oiqa_fail(OIQA_EXIT_DATA, b->path, "out of memory"); }
            o = g;
            cap = nc;
        }
        uInt in_chunk = in_left > 1u << 30 ? 1u << 30 : (uInt)in_left;
        uInt out_chunk = cap - done > 1u << 30 ? 1u << 30 : (uInt)(cap - done);
        z.next_in = (Bytef *)in;
        z.avail_in = in_chunk;
        z.next_out = o + done;
        z.avail_out = out_chunk;
        zr = inflate(&z, Z_NO_FLUSH);
        in += in_chunk - z.avail_in;
        in_left -= in_chunk - z.avail_in;
        done += out_chunk - z.avail_out;
        if (zr == Z_STREAM_END) break;
        if (zr != Z_OK && !(zr == Z_BUF_ERROR && done == cap)) {
            inflateEnd(&z);
            free(o);
            return bad(b, at, in_left == 0 ? "truncated compressed element" : "corrupt compressed element");
        }
        if (zr == Z_OK && in_left == 0 && z.avail_out > 0) {
            inflateEnd(&z);
            free(o);
            return bad(b, at, "truncated compressed element");
        }
    }
    inflateEnd(&z);
    *out = o;
    *out_n = done;
    return 0;
}

void oiqa_mat5_free(oiqa_mat_file *f)
{
    if (!f) return;
    for (int i = 0; i < f->n_vars; i++) var_free(f->vars[i]);
    free(f->vars);
    free(f);
}

static int add_var(oiqa_mat_file *f, oiqa_mat_var *v)
{
    oiqa_mat_var **g = realloc(f->vars, (size_t)(f->n_vars + 1) * sizeof *g);
    if (!g) { var_free(v); return -1; }
    f->vars = g;
    f->vars[f->n_vars++] = v;
    return 0;
}

int oiqa_mat5_parse(const uint8_t *data, size_t size, const char *path, oiqa_mat_file **out)
{
    *out = NULL;
    if (size < 128) return oiqa_fail(OIQA_EXIT_DATA, path, "not a MAT-file (%zu bytes, shorter than the header)", size);
    if (memcmp(data, "MATLAB", 6) != 0) return oiqa_fail(OIQA_EXIT_DATA, path, "not a MAT-file (no MATLAB header)");
    buf b = {data, size, 0, path, SIZE_MAX};
    if (data[126] == 'I' && data[127] == 'M') b.swap = 0;
    else if (data[126] == 'M' && data[127] == 'I') b.swap = 1;
    else return oiqa_fail(OIQA_EXIT_DATA, path, "not a level-5 MAT-file (bad endian indicator)");
    if (uN(&b, 124, 2) != 0x0100) {
        if (memcmp(data, "MATLAB 7.3", 10) == 0)
            return oiqa_fail(OIQA_EXIT_DATA, path, "a MATLAB 7.3 (HDF5) MAT-file: read it as HDF5, or save with -v7");
        return oiqa_fail(OIQA_EXIT_DATA, path, "not a level-5 MAT-file (version %#x)", (unsigned)uN(&b, 124, 2));
    }
    oiqa_mat_file *f = calloc(1, sizeof *f);
    if (!f) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    memcpy(f->text, data, 116);
    f->text[116] = '\0';
    for (int k = 115; k >= 0 && (f->text[k] == ' ' || f->text[k] == '\0'); k--) f->text[k] = '\0';
    size_t pos = 128;
    int rc = 0;
    while (!rc && pos < size) {
        tag t;
        if ((rc = read_tag(&b, pos, size, &t))) break;
        oiqa_mat_var *v = NULL;
        if (t.type == MI_COMPRESSED) {
            uint8_t *z = NULL;
            size_t zn = 0;
            if ((rc = inflate_all(&b, pos, data + t.data, t.len, &z, &zn))) break;
            buf zb = {z, zn, b.swap, path, pos};
            tag it;
            if (!(rc = read_tag(&zb, 0, zn, &it))) {
                if (it.type != MI_MATRIX) rc = bad(&zb, 0, "compressed element is not a matrix");
                else rc = parse_matrix(&zb, it.data, it.data + it.len, 0, &v);
            }
            free(z);
        } else if (t.type == MI_MATRIX) {
            rc = parse_matrix(&b, t.data, t.data + t.len, 0, &v);
        } /* other top-level elements carry nothing oiqa needs */
        if (rc) var_free(v);
        else if (v && add_var(f, v)) rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
        pos = t.next;
    }
    if (rc) {
        oiqa_mat5_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

int oiqa_mat5_read(const char *path, oiqa_mat_file **out)
{
    uint8_t *data;
    size_t size;
    *out = NULL;
    int rc = oiqa_read_file(path, OIQA_MAT5_MAX_FILE, &data, &size);
    if (rc) return rc;
    rc = oiqa_mat5_parse(data, size, path, out);
    free(data);
    return rc;
}

const oiqa_mat_var *oiqa_mat5_find(const oiqa_mat_file *f, const char *name)
{
    for (int i = 0; i < f->n_vars; i++)
        if (strcmp(f->vars[i]->name, name) == 0) return f->vars[i];
    return NULL;
}

const oiqa_mat_var *oiqa_mat5_field(const oiqa_mat_var *s, size_t i, const char *field)
{
    if (!s || s->mclass != OIQA_MX_STRUCT || i >= s->count) return NULL;
    for (int f = 0; f < s->n_fields; f++)
        if (strcmp(s->fields[f], field) == 0) return s->elem[i * (size_t)s->n_fields + (size_t)f];
    return NULL;
}
