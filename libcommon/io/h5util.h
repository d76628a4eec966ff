/* Internal HDF5 helpers shared by the feature store (h5store.c) and the
 * inspector (h5inspect*.c): error text, type mapping, attributes, strings
 * and block-wise iteration. Not part of the public API: it exposes hid_t.
 *
 * Conventions: functions returning int give 0 on success and -1 on an HDF5
 * failure (the caller adds the file name with oiqa_h5_fail), unless stated. */
#ifndef OIQA_IO_H5UTIL_H
#define OIQA_IO_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "io/h5store.h"

/* Turns off HDF5's automatic error printing (our messages replace it). */
void oiqa_h5_quiet(void);

/* The innermost message of HDF5's current error stack ("file signature not
 * found"), or "" when the stack is empty. */
void oiqa_h5_reason(char *buf, size_t n);

/* oiqa_fail(code, path, "WHAT (HDF5: reason)"); the reason part is left out
 * when HDF5 recorded none. */
int oiqa_h5_fail(int code, const char *path, const char *what, ...) __attribute__((format(printf, 3, 4)));

/* The failure of H5Fopen/H5Fcreate on path, named from HDF5's error stack
 * (call it before any other HDF5 call clears the stack). OIQA_EXIT_DATA. */
int oiqa_h5_open_failure(const char *path, const char *what);

/* The first line (1-based) where two texts differ, with both lines (cut to
 * fit; "(end)" past the last line) in la and lb; 0 when they are equal. */
int oiqa_first_differing_line(const char *a, const char *b, char *la, char *lb, size_t n);

/* File access properties: HDF5 1.8 format (v18..v18), strong close, file
 * locking that tolerates file systems without locks. Caller closes. */
hid_t oiqa_h5_fapl(void);

/* Types. Every returned hid_t is a copy the caller closes with H5Tclose. */
hid_t oiqa_h5_f16_type(void);                 /* IEEE binary16, little-endian */
hid_t oiqa_h5_file_type(oiqa_dtype t);        /* little-endian storage type */
hid_t oiqa_h5_mem_type(oiqa_dtype t);         /* native memory type */
hid_t oiqa_h5_vlen_utf8(void);                /* variable-length UTF-8 string */
/* The oiqa dtype of an HDF5 type; -1 when it is none of the six. */
int oiqa_h5_dtype_of(hid_t type, oiqa_dtype *out);
/* Element conversion done in C (float16 <-> anything); src and dst may
 * not overlap unless from == to. */
void oiqa_convert_elements(const void *src, oiqa_dtype from, void *dst, oiqa_dtype to, size_t n);
/* Whether type is integer or float (readable as double). */
int oiqa_h5_is_numeric(hid_t type);

/* 1 if every component of the absolute or relative path exists as a link
 * that resolves to an object, 0 otherwise. */
int oiqa_h5_exists(hid_t loc, const char *path);

/* Attributes on an open object (file, group or dataset). Writers replace
 * an existing attribute of that name. */
int oiqa_h5_attr_write_string(hid_t obj, const char *name, const char *value);
int oiqa_h5_attr_write_i64(hid_t obj, const char *name, int64_t value);
int oiqa_h5_attr_write_f64(hid_t obj, const char *name, double value);
/* A scalar (or one-element) string attribute, malloc'ed; NULL when absent
 * or not a string. */
char *oiqa_h5_attr_read_string(hid_t obj, const char *name);
/* A scalar (or one-element) numeric attribute: 0 ok, -1 absent, -2 not a
 * single number. */
int oiqa_h5_attr_read_double(hid_t obj, const char *name, double *out);
/* Copies attribute `name` of src to dst with its exact type and shape. */
int oiqa_h5_attr_copy(hid_t src, const char *name, hid_t dst);

/* Reads the selected elements of a string dataset (variable or fixed
 * length) as `count` malloc'ed strings in *out (itself malloc'ed); free with
 * oiqa_h5_strings_free. space: a file dataspace with the selection made. */
int oiqa_h5_read_strings(hid_t dset, hid_t space, size_t count, char ***out);
void oiqa_h5_strings_free(char **v, size_t n);
/* Appends one string at index `row` of a 1-D extendible string dataset
 * (extending it to row + 1). */
int oiqa_h5_append_string(hid_t dset, hid_t str_type, hsize_t row, const char *value);

/* The deflate level of a dataset's filter pipeline (0 when none) and
 * whether it has shuffle; -1 if the pipeline has any other filter. */
int oiqa_h5_deflate_level(hid_t dset, int *shuffle);

/* Iteration over a box of a dataset in C order, in blocks of at most
 * `budget` elements where possible (a block never splits the innermost
 * axis unless that axis alone exceeds the budget). */
typedef struct {
    int rank;                   /* 0 (a scalar) to H5S_MAX_RANK */
    hsize_t start[H5S_MAX_RANK], count[H5S_MAX_RANK]; /* the box */
    int split;                  /* axis along which blocks are cut */
    hsize_t step;               /* block length along `split` */
    hsize_t pos[H5S_MAX_RANK];  /* next block's start, relative to the box */
    int done;
    /* the current block */
    hsize_t bstart[H5S_MAX_RANK], bcount[H5S_MAX_RANK];
    size_t belems;
} oiqa_h5_blocks;
void oiqa_h5_blocks_init(oiqa_h5_blocks *it, int rank, const hsize_t *start, const hsize_t *count, size_t budget);
/* Moves to the next block; 0 when the box is exhausted. */
int oiqa_h5_blocks_next(oiqa_h5_blocks *it);
/* Reads the current block as `mem_type` into buf (sized belems elements). */
int oiqa_h5_blocks_read(const oiqa_h5_blocks *it, hid_t dset, hid_t mem_type, void *buf);

/* ---- for the inspector (any HDF5 file) ---------------------------------- */

/* Opens an existing file read-only. Failures name the file and the reason:
 * "no such file", "is a directory", "not an HDF5 file", HDF5's own. */
int oiqa_h5_open_file(const char *path, hid_t *file);

/* A readable name of any type: "uint8", "float16", "int16 (big-endian)",
 * "string", "string[12]", "compound {a: float32, b: int32}", ... */
void oiqa_h5_type_name(hid_t type, char *buf, size_t n);
/* "[3,6,64,64,3]"; "[]" for a scalar. */
void oiqa_h5_shape_name(int rank, const hsize_t *dims, char *buf, size_t n);

/* An open dataset with what the inspector asks of it. */
typedef struct {
    char *path;                 /* absolute: "/original/layer1/mean" */
    hid_t dset, type, space;
    int rank;
    hsize_t dims[H5S_MAX_RANK];
    size_t elems;               /* product of dims (saturates at SIZE_MAX) */
    int per_image;              /* has the attribute per_image = 1 */
} oiqa_h5_dset;
int oiqa_h5_dset_open(hid_t file, const char *fname, const char *path, oiqa_h5_dset *d);
void oiqa_h5_dset_close(oiqa_h5_dset *d);

/* Every dataset of the file (each object once), sorted by path; free with
 * oiqa_h5_strings_free. */
int oiqa_h5_list_datasets(hid_t file, const char *fname, char ***paths, size_t *n);

/* /names when it is a 1-D string dataset. OIQA_OK with *names NULL when
 * there is none (or it is of another kind); an exit code when it cannot
 * be read. */
int oiqa_h5_read_names(hid_t file, const char *fname, char ***names, size_t *n);

/* The store's file (merge copies objects into it), and a reader's. */
hid_t oiqa_store_file_id(oiqa_store *s);
hid_t oiqa_store_reader_file_id(const oiqa_store_reader *r);

#endif
