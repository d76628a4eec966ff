/* CSV tables (RFC 4180, leniently): the labels, splits and predictions
 * files of DESIGN §4 and the score files of the datasets.
 *
 * Reading: fields separated by the delimiter; a field that starts with '"'
 * is quoted and may hold delimiters, newlines and doubled quotes ("");
 * lines end in LF or CRLF; a UTF-8 byte-order mark is skipped; blank lines
 * are skipped. With OIQA_CSV_WHITESPACE, runs of spaces and tabs separate
 * fields and leading / trailing blanks are ignored (the "name score" text
 * files of several databases). Every row remembers its line number, so
 * errors read "labels.csv:17: column 'mos': 'abc' is not a number".
 * Rows may have fewer fields than the header (missing ones read as ""), but
 * not more. Files are bounded (OIQA_CSV_MAX_BYTES). */
#ifndef OIQA_IO_CSV_H
#define OIQA_IO_CSV_H

#include <stddef.h>
#include <stdio.h>

#define OIQA_CSV_MAX_BYTES ((size_t)1 << 30)
#define OIQA_CSV_WHITESPACE ' '

typedef struct {
    char *path;       /* for messages */
    int n_cols;       /* header fields (or the widest row without a header) */
    char **header;    /* n_cols names; NULL without a header */
    int n_rows;
    char ***rows;     /* rows[r][c], NUL-terminated; c < n_cols */
    int *line;        /* 1-based line where row r starts */
} oiqa_csv;

/* delim: ',' (or another byte) or OIQA_CSV_WHITESPACE; header: the first
 * row names the columns. Errors (OIQA_EXIT_DATA) name the file and line. */
int oiqa_csv_read(const char *path, char delim, int header, oiqa_csv **out);
int oiqa_csv_parse(const char *text, size_t len, const char *path, char delim, int header, oiqa_csv **out);
void oiqa_csv_free(oiqa_csv *t);

/* Index of a header column, or -1. */
int oiqa_csv_col(const oiqa_csv *t, const char *name);
/* Like oiqa_csv_col, but a missing column is an error naming the file and
 * the columns it has. */
int oiqa_csv_need_col(const oiqa_csv *t, const char *name, int *col);

/* Cell text ("" for a missing trailing field). */
const char *oiqa_csv_cell(const oiqa_csv *t, int row, int col);

/* Parses a cell as a double (strtod syntax, "nan"/"inf" allowed: callers
 * decide; surrounding blanks ignored) or a long. Errors name file, line and
 * column: "labels.csv:17: column 'mos': 'abc' is not a number". */
int oiqa_csv_double(const oiqa_csv *t, int row, int col, double *v);
int oiqa_csv_long(const oiqa_csv *t, int row, int col, long *v);

/* Writes one field, quoted when it holds ',', '"', CR or LF. */
void oiqa_csv_put(FILE *f, const char *field);

#endif
