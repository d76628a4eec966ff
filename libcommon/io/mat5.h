/* A reader of MATLAB level-5 MAT-files (the "-v5"/"-v7" format of
 * MATLAB's save; not -v7.3, which is HDF5): the official score files of
 * several databases (OIQA's 360IQA_MOS.mat).
 *
 * Read: the 128-byte header (either byte order), data elements with 8-byte
 * tags and the 4-byte small-element form, miCOMPRESSED (zlib) elements, and
 * miMATRIX arrays of class double, single and the integer classes (real
 * part converted to double; the imaginary part is skipped), char arrays
 * (UTF-16/UTF-8/8-bit data to UTF-8, column-major), logical arrays, cell
 * arrays and structs. Sparse arrays and objects are refused.
 *
 * Hostile input: every length is checked against the bytes that remain,
 * element counts against the data present, nesting is capped, and inflated
 * data is capped at OIQA_MAT5_MAX_INFLATE bytes; any violation is one error
 * naming the file and the byte offset. */
#ifndef OIQA_IO_MAT5_H
#define OIQA_IO_MAT5_H

#include <stddef.h>
#include <stdint.h>

#define OIQA_MAT5_MAX_FILE ((size_t)256 << 20)
#define OIQA_MAT5_MAX_INFLATE ((size_t)512 << 20)
#define OIQA_MAT5_MAX_DEPTH 16
#define OIQA_MAT5_MAX_DIMS 32

enum {
    OIQA_MX_CELL = 1, OIQA_MX_STRUCT = 2, OIQA_MX_OBJECT = 3, OIQA_MX_CHAR = 4, OIQA_MX_SPARSE = 5,
    OIQA_MX_DOUBLE = 6, OIQA_MX_SINGLE = 7, OIQA_MX_INT8 = 8, OIQA_MX_UINT8 = 9, OIQA_MX_INT16 = 10,
    OIQA_MX_UINT16 = 11, OIQA_MX_INT32 = 12, OIQA_MX_UINT32 = 13, OIQA_MX_INT64 = 14, OIQA_MX_UINT64 = 15,
};

typedef struct oiqa_mat_var oiqa_mat_var;
struct oiqa_mat_var {
    char *name;              /* "" for cell elements */
    int mclass;              /* OIQA_MX_* */
    int logical, complex;
    int ndims;
    int64_t dims[OIQA_MAT5_MAX_DIMS];
    size_t count;            /* product of dims */
    double *re;              /* numeric / logical: count values, column-major */
    char *str;               /* char: the characters as UTF-8, column-major, NUL-terminated */
    oiqa_mat_var **elem;     /* cell: count elements; struct: count * n_fields (field f of element i at i*n_fields+f) */
    char **fields;           /* struct: field names */
    int n_fields;
};

typedef struct {
    char text[117];          /* header text, NUL-terminated, trailing blanks removed */
    oiqa_mat_var **vars;
    int n_vars;
} oiqa_mat_file;

int oiqa_mat5_read(const char *path, oiqa_mat_file **out);
int oiqa_mat5_parse(const uint8_t *data, size_t size, const char *path, oiqa_mat_file **out);
void oiqa_mat5_free(oiqa_mat_file *f);
const oiqa_mat_var *oiqa_mat5_find(const oiqa_mat_file *f, const char *name);
/* A struct field of element i, or NULL. */
const oiqa_mat_var *oiqa_mat5_field(const oiqa_mat_var *s, size_t i, const char *field);

#endif
