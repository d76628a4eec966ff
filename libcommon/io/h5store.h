/* The HDF5 feature store (DESIGN §3, schema 1).
 *
 * A store file has root provenance attributes (oiqa_schema, stage, tool,
 * created, command, config, inputs, complete), /names (UTF-8 strings [N]),
 * and per-image datasets whose first axis is N ("rows"), chunked one row per
 * chunk, with shuffle + deflate when a level > 0 is asked for. Per-image
 * datasets carry the attribute per_image = 1 so tools (merge, stats) know
 * them from fixed datasets such as /centers [V,3]. Each row also records the
 * sha256 of the input it came from in /input_sha256 (so `inputs` can be
 * written at the end, and a resumed run keeps the hashes of earlier rows).
 *
 * Writing: rows go to OUT.partial; oiqa_store_finish sets complete = 1 and
 * renames it to OUT. A row is committed when its name is appended to /names
 * (always last), and the file is flushed after each row, so a run killed at
 * any point leaves a .partial that --resume can continue: on resume every
 * per-image dataset is cut back to the committed row count.
 *
 * Rows can be encoded (shuffle + deflate) in parallel threads with
 * oiqa_store_encode and then written serially with oiqa_store_append_encoded
 * (HDF5 direct chunk writes). The Debian HDF5 is not thread-safe: every
 * other function here must be called from one thread at a time.
 *
 * Files use the HDF5 1.8 file format (libver v18: dense attribute storage, so
 * long `inputs` lists fit; no SWMR flags), readable by h5py and h5dump. */
#ifndef OIQA_IO_H5STORE_H
#define OIQA_IO_H5STORE_H

#include <stddef.h>
#include <stdint.h>

#define OIQA_SCHEMA_VERSION 1
#define OIQA_MAX_DIMS 8
#define OIQA_STORE_MAX_DSETS 256 /* per-image datasets in one store (ViT-B, 3 streams: 12 x 3 x 4 + 3) */

typedef enum { OIQA_U8, OIQA_I32, OIQA_I64, OIQA_F16, OIQA_F32, OIQA_F64 } oiqa_dtype;
size_t oiqa_dtype_size(oiqa_dtype t);
const char *oiqa_dtype_name(oiqa_dtype t); /* "uint8", "float16", ... */

/* Rows of OIQA_F16 datasets are IEEE binary16 bit patterns (uint16_t).
 * Conversion rounds to nearest even, overflows to Inf, keeps NaN. */
uint16_t oiqa_f32_to_f16(float f);
float oiqa_f16_to_f32(uint16_t h);

typedef struct oiqa_store oiqa_store;

/* Provenance of a writer (strings copied). */
typedef struct {
    const char *stage;   /* "viewports" */
    const char *tool;    /* "oiqa-viewports 0.1.0" */
    const char *command; /* argv, shell-quoted */
    const char *config;  /* resolved YAML text */
} oiqa_provenance;

typedef enum {
    OIQA_STORE_CREATE = 0, /* refuse an existing OUT (exit 2) unless force */
    OIQA_STORE_RESUME = 1, /* continue OUT.partial (must exist, same stage and config) */
} oiqa_store_mode;

/* Opens OUT.partial for writing. CREATE: refuses an existing OUT or
 * OUT.partial unless force (then removes them). RESUME: opens OUT.partial,
 * checks oiqa_schema, stage and that config equals prov->config (else exit 2
 * naming the first differing line), cuts datasets back to the committed
 * rows. Errors name OUT. */
int oiqa_store_open_write(const char *out_path, const oiqa_provenance *prov,
                          oiqa_store_mode mode, int force, oiqa_store **out);

/* Declares a per-image dataset with row shape `dims` (ndim axes after N).
 * deflate_level 0 = no compression; > 0 = shuffle + deflate at that level.
 * On resume the existing dataset must have the same dtype and row shape. */
int oiqa_store_define(oiqa_store *s, const char *dset_path, oiqa_dtype dtype,
                      int ndim, const uint64_t *dims, int deflate_level);

/* Writes a fixed (not per-image) dataset, e.g. /centers [V,3]; replaces it if
 * present (resume) after checking the shape is the same. */
int oiqa_store_write_fixed(oiqa_store *s, const char *dset_path, oiqa_dtype dtype,
                           int ndim, const uint64_t *dims, const void *data);

/* Attributes on the root ("/") or on a dataset/group path. */
int oiqa_store_set_attr_string(oiqa_store *s, const char *obj_path, const char *name, const char *value);
int oiqa_store_set_attr_int(oiqa_store *s, const char *obj_path, const char *name, int64_t value);
int oiqa_store_set_attr_double(oiqa_store *s, const char *obj_path, const char *name, double value);

/* Number of committed rows, and whether `name` is one of them (resume skips it). */
int64_t oiqa_store_rows(const oiqa_store *s);
int oiqa_store_has_name(const oiqa_store *s, const char *name);

/* Appends one row: data[k] is the row of the k-th defined dataset (in
 * definition order). input_path/input_sha256 record the source file. */
int oiqa_store_append(oiqa_store *s, const char *name, const char *input_path,
                      const char *input_sha256, const void *const *data);

/* Thread-safe encoding of one row (no HDF5 calls): the chunk bytes of every
 * defined dataset, filtered as declared. */
typedef struct {
    int n;
    void *buf[OIQA_STORE_MAX_DSETS];
    size_t size[OIQA_STORE_MAX_DSETS];
} oiqa_encoded_row;
int oiqa_store_encode(const oiqa_store *s, const void *const *data, oiqa_encoded_row *enc);
void oiqa_encoded_row_free(oiqa_encoded_row *enc);
int oiqa_store_append_encoded(oiqa_store *s, const char *name, const char *input_path,
                              const char *input_sha256, const oiqa_encoded_row *enc);

/* Writes `inputs` (JSON list of {path, sha256} over all rows), sets
 * complete = 1, closes, renames OUT.partial to OUT, frees s. */
int oiqa_store_finish(oiqa_store *s);
/* Closes without finishing (the .partial stays for --resume); frees s. */
void oiqa_store_abandon(oiqa_store *s);
/* Closes and removes the .partial; frees s. */
void oiqa_store_discard(oiqa_store *s);

/* ---- reading ---------------------------------------------------------- */

typedef struct oiqa_store_reader oiqa_store_reader;

/* Opens a finished store. Refuses (OIQA_EXIT_DATA, naming the file and the
 * expectation) a non-HDF5 file, a missing or different oiqa_schema, a stage
 * other than expected_stage (NULL accepts any), complete != 1 (unless
 * allow_partial), or a missing /names. */
int oiqa_store_open_read(const char *path, const char *expected_stage, int allow_partial,
                         oiqa_store_reader **out);
void oiqa_store_close(oiqa_store_reader *r);

int64_t oiqa_store_reader_rows(const oiqa_store_reader *r);
const char *oiqa_store_reader_name(const oiqa_store_reader *r, int64_t row);
int64_t oiqa_store_reader_find(const oiqa_store_reader *r, const char *name); /* -1 if absent */
/* Root attribute as a malloc'ed string (NULL if absent). */
char *oiqa_store_reader_attr_string(const oiqa_store_reader *r, const char *obj_path, const char *name);
int oiqa_store_reader_attr_double(const oiqa_store_reader *r, const char *obj_path, const char *name, double *out);

/* Shape of a dataset (full shape, including N for per-image ones). */
int oiqa_store_reader_shape(const oiqa_store_reader *r, const char *dset_path, oiqa_dtype *dtype,
                            int *ndim, uint64_t *dims);
/* Checks dtype and shape; want[k] < 0 means any. Error:
 * "F.h5: /viewports is uint8 [8,20,224,224,3], expected uint8 [N,20,256,256,3]". */
int oiqa_store_reader_expect(const oiqa_store_reader *r, const char *dset_path, oiqa_dtype dtype,
                             int ndim, const int64_t *want);
/* Reads one row of a per-image dataset, converted to `as` (buffer sized for it). */
int oiqa_store_reader_read_row(const oiqa_store_reader *r, const char *dset_path, int64_t row,
                               oiqa_dtype as, void *buf);
/* A whole 1-D string dataset (e.g. /input_path, /input_sha256, one entry
 * per row) as malloc'ed strings; free with oiqa_store_strings_free. */
int oiqa_store_reader_strings(const oiqa_store_reader *r, const char *dset_path, char ***out, int64_t *n);
void oiqa_store_strings_free(char **v, int64_t n);
/* Reads a whole dataset converted to `as`. */
int oiqa_store_reader_read_all(const oiqa_store_reader *r, const char *dset_path, oiqa_dtype as, void *buf);

#endif
