/* CSV reader and field writer (see csv.h). */
#include "io/csv.h"

#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"

typedef struct {
    char **f;
    int n, cap;
} fields;

static void fields_push(fields *r, const char *s, size_t len)
{
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->f = oiqa_xrealloc(r->f, (size_t)r->cap * sizeof *r->f);
    }
    r->f[r->n++] = oiqa_strndup(s, len);
}

static void free_row(char **row, int n)
{
    for (int i = 0; row && i < n; i++) free(row[i]);
    free(row);
}

void oiqa_csv_free(oiqa_csv *t)
{
    if (!t) return;
    for (int r = 0; r < t->n_rows; r++) free_row(t->rows[r], t->n_cols);
    free_row(t->header, t->n_cols);
    free(t->rows);
    free(t->line);
    free(t->path);
    free(t);
}

/* Reads one record starting at *pos (line *line) into r; advances both.
 * Returns 0, or OIQA_EXIT_DATA for an unterminated quote. */
static int read_record(const char *s, size_t len, size_t *pos, int *line, char delim, fields *r, const char *path)
{
    oiqa_sbuf cur = {0};
    size_t i = *pos;
    int start_line = *line;
    if (delim == OIQA_CSV_WHITESPACE)
        while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
    for (;;) {
        cur.len = 0;
        if (cur.s) cur.s[0] = '\0';
        if (i < len && s[i] == '"') { /* quoted field */
            i++;
            for (;;) {
                if (i >= len) {
                    free(cur.s);
                    return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: unterminated quoted field", path, start_line);
                }
                if (s[i] == '"') {
                    if (i + 1 < len && s[i + 1] == '"') { oiqa_sbuf_append(&cur, "\""); i += 2; continue; }
                    i++;
                    break;
                }
                if (s[i] == '\n') (*line)++;
                char c[2] = {s[i++], 0};
                if (c[0]) oiqa_sbuf_append(&cur, c);
            }
            /* text after the closing quote up to the delimiter is kept, leniently */
        }
        size_t a = i;
        while (i < len && s[i] != '\n' && s[i] != '\r' &&
               !(delim == OIQA_CSV_WHITESPACE ? (s[i] == ' ' || s[i] == '\t') : s[i] == delim))
            i++;
        if (i > a) {
            char *tmp = oiqa_strndup(s + a, i - a);
            oiqa_sbuf_append(&cur, tmp);
            free(tmp);
        }
        fields_push(r, cur.s ? cur.s : "", cur.len);
        if (delim == OIQA_CSV_WHITESPACE) {
            while (i < len && (s[i] == ' ' || s[i] == '\t')) i++;
            if (i < len && s[i] != '\n' && s[i] != '\r') continue;
        } else if (i < len && s[i] == delim) {
            i++;
            continue;
        }
        break;
    }
    if (i < len && s[i] == '\r') i++;
    if (i < len && s[i] == '\n') i++;
    (*line)++;
    free(cur.s);
    *pos = i;
    return 0;
}

static int blank_line(const char *s, size_t len, size_t pos)
{
    while (pos < len && (s[pos] == ' ' || s[pos] == '\t')) pos++;
    return pos >= len || s[pos] == '\n' || s[pos] == '\r';
}

int oiqa_csv_parse(const char *text, size_t len, const char *path, char delim, int header, oiqa_csv **out)
{
    *out = NULL;
    oiqa_csv *t = oiqa_xcalloc(1, sizeof *t);
    t->path = oiqa_strdup(path ? path : "(csv)");
    size_t pos = 0;
    int line = 1, cap = 0, rc = 0;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    while (pos < len) {
        if (blank_line(text, len, pos)) {
            while (pos < len && text[pos] != '\n') pos++;
            if (pos < len) pos++;
            line++;
            continue;
        }
        fields r = {0};
        int at = line;
        if ((rc = read_record(text, len, &pos, &line, delim, &r, t->path))) { free_row(r.f, r.n); break; }
        if (header && !t->header) {
            t->header = r.f;
            t->n_cols = r.n;
            for (int c = 0; c < r.n; c++) /* tolerate blanks around header names */
                if (isspace((unsigned char)r.f[c][0]) || (r.f[c][0] && isspace((unsigned char)r.f[c][strlen(r.f[c]) - 1]))) {
                    char *s = r.f[c];
                    while (isspace((unsigned char)*s)) s++;
                    char *e = s + strlen(s);
                    while (e > s && isspace((unsigned char)e[-1])) e--;
                    char *clean = oiqa_strndup(s, (size_t)(e - s));
                    free(r.f[c]);
                    r.f[c] = clean;
                }
            continue;
        }
        if (header && r.n > t->n_cols) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: %d fields, but the header has %d", t->path, at, r.n, t->n_cols);
            free_row(r.f, r.n);
            break;
        }
        if (!header && r.n > t->n_cols) { /* widen earlier rows */
            for (int k = 0; k < t->n_rows; k++) {
                t->rows[k] = oiqa_xrealloc(t->rows[k], (size_t)r.n * sizeof **t->rows);
                for (int c = t->n_cols; c < r.n; c++) t->rows[k][c] = oiqa_strdup("");
            }
            t->n_cols = r.n;
        }
        r.f = oiqa_xrealloc(r.f, (size_t)(t->n_cols ? t->n_cols : 1) * sizeof *r.f);
        for (int c = r.n; c < t->n_cols; c++) r.f[c] = oiqa_strdup("");
        if (t->n_rows == cap) {
            cap = cap ? 2 * cap : 64;
            t->rows = oiqa_xrealloc(t->rows, (size_t)cap * sizeof *t->rows);
            t->line = oiqa_xrealloc(t->line, (size_t)cap * sizeof *t->line);
        }
        t->rows[t->n_rows] = r.f;
        t->line[t->n_rows++] = at;
    }
    if (!rc && header && !t->header) rc = oiqa_fail(OIQA_EXIT_DATA, t->path, "no header line (empty table)");
    if (rc) {
        oiqa_csv_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

int oiqa_csv_read(const char *path, char delim, int header, oiqa_csv **out)
{
    uint8_t *data;
    size_t size;
    *out = NULL;
    int rc = oiqa_read_file(path, OIQA_CSV_MAX_BYTES, &data, &size);
    if (rc) return rc;
    rc = oiqa_csv_parse((const char *)data, size, path, delim, header, out);
    free(data);
    return rc;
}

int oiqa_csv_col(const oiqa_csv *t, const char *name)
{
    for (int c = 0; t->header && c < t->n_cols; c++)
        if (strcmp(t->header[c], name) == 0) return c;
    return -1;
}

int oiqa_csv_need_col(const oiqa_csv *t, const char *name, int *col)
{
    *col = oiqa_csv_col(t, name);
    if (*col >= 0) return 0;
    oiqa_sbuf have = {0};
    for (int c = 0; t->header && c < t->n_cols; c++) oiqa_sbuf_appendf(&have, "%s%s", c ? "," : "", t->header[c]);
    int rc = oiqa_fail(OIQA_EXIT_DATA, t->path, "no column '%s' (the header is '%s')", name, have.s ? have.s : "");
    free(have.s);
    return rc;
}

const char *oiqa_csv_cell(const oiqa_csv *t, int row, int col)
{
    if (row < 0 || row >= t->n_rows || col < 0 || col >= t->n_cols) return "";
    return t->rows[row][col];
}

static const char *col_name(const oiqa_csv *t, int col, char buf[16])
{
    if (t->header) return t->header[col];
    snprintf(buf, 16, "%d", col + 1);
    return buf;
}

int oiqa_csv_double(const oiqa_csv *t, int row, int col, double *v)
{
    const char *s = oiqa_csv_cell(t, row, col);
    char *end;
    errno = 0;
    *v = strtod(s, &end);
    while (end != s && isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno == ERANGE) {
        char b[16];
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: column '%s': '%s' is not a number", t->path, t->line[row],
                         col_name(t, col, b), s);
    }
    return 0;
}

int oiqa_csv_long(const oiqa_csv *t, int row, int col, long *v)
{
    const char *s = oiqa_csv_cell(t, row, col);
    char *end;
    errno = 0;
    *v = strtol(s, &end, 10);
    while (end != s && isspace((unsigned char)*end)) end++;
    if (end == s || *end || errno == ERANGE) {
        char b[16];
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: column '%s': '%s' is not an integer", t->path, t->line[row],
                         col_name(t, col, b), s);
    }
    return 0;
}

void oiqa_csv_put(FILE *f, const char *field)
{
    if (!field) field = "";
    if (!strpbrk(field, ",\"\r\n")) {
        fputs(field, f);
        return;
    }
    fputc('"', f);
    for (const char *p = field; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}
