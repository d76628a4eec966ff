/* Checkpoint readers: the weight files users bring, read in C (no Python).
 *
 * Formats, detected by their first bytes:
 *   "torch"        PyTorch >= 1.6 torch.save zip ("PK\x03\x04"): <dir>/data.pkl
 *                  (a pickle, zip_reader.h + pickle.h) and <dir>/data/<key>
 *                  (raw little-endian storages, stored entries read in place).
 *   "safetensors"  u64 little-endian header length N, N bytes of JSON, data.
 *   "oiqa-h5"      an oiqa HDF5 weight file ("\x89HDF\r\n\x1a\n" and the root
 *                  attribute oiqa_weights_schema; io/ckpt_h5.h), read into
 *                  memory; other HDF5 files are refused.
 *   "memory"       built in the program (oiqa_ckpt_new, below).
 *   Legacy (< 1.6) torch files are refused with a message naming the format.
 *
 * Nested dicts: a torch file may hold {'model': state_dict} or
 * {'state_dict': ...} instead of a plain state dict. The tensors listed are
 * those of ONE dict, chosen as follows (opts.dict_key):
 *   NULL (default)  the value of key "model" if the top-level dict has it and
 *                   it is a dict, else that of "state_dict", else the
 *                   top-level dict itself;
 *   ""              the top-level dict;
 *   "name"          the dict under that top-level key (an error if absent).
 * oiqa_ckpt_prefix() names the key used ("" for the top level). Names are the
 * keys of that dict unchanged ("conv1.weight", not "model.conv1.weight").
 * Entries that are not tensors (ints, strings, ...) are not listed. A tensor
 * whose storage class is unknown is listed with dtype OIQA_CK_UNKNOWN; only
 * reading it fails.
 *
 * Hostile input: every offset and length is checked against the file size;
 * shapes must fit their storage; pickle stack and memo are capped. Failures
 * return OIQA_EXIT_DATA with a one-line message "PATH: problem"
 * (base/error.h). The file is mapped read-only while open.
 *
 * Ownership: the oiqa_ckpt owns every tensor descriptor and name; they live
 * until oiqa_ckpt_close(). Not thread-safe for concurrent open/close; reads
 * of different tensors from several threads are fine (they only read). */
#ifndef OIQA_IO_CKPT_H
#define OIQA_IO_CKPT_H

#include "io/ckpt_tensor.h" /* oiqa_ck_dtype, oiqa_ck_tensor, oiqa_ckpt */

typedef struct {
    const char *dict_key; /* which nested dict holds the tensors; see above */
} oiqa_ckpt_opts;

/* Opens path with the default dict rule. On success *out is set; on failure
 * *out is NULL and the message names the file. */
int oiqa_ckpt_open(const char *path, oiqa_ckpt **out);
int oiqa_ckpt_open_opts(const char *path, const oiqa_ckpt_opts *opts, oiqa_ckpt **out);

/* "torch", "safetensors" or "oiqa-h5". */
const char *oiqa_ckpt_format(const oiqa_ckpt *ck);
/* The top-level key whose dict was listed: "model", "state_dict", "" (top). */
const char *oiqa_ckpt_prefix(const oiqa_ckpt *ck);

/* Tensors in file order (pickle dict order / safetensors header order). */
int oiqa_ckpt_count(const oiqa_ckpt *ck);
const oiqa_ck_tensor *oiqa_ckpt_tensor(const oiqa_ckpt *ck, int i); /* NULL if out of range */
const oiqa_ck_tensor *oiqa_ckpt_find(const oiqa_ckpt *ck, const char *name); /* NULL if absent */

/* Copies tensor t (from this ckpt) into dst, t->numel floats, row-major
 * contiguous, converting any dtype to float32 (integers and f64 rounded to
 * the nearest float). Strides and storage offsets are honoured. */
int oiqa_ckpt_read_f32(const oiqa_ckpt *ck, const oiqa_ck_tensor *t, float *dst);

/* Raw bytes of the whole storage of t, in place in the mapping (valid until
 * close); NULL for an unknown dtype. */
const void *oiqa_ckpt_storage(const oiqa_ckpt *ck, const oiqa_ck_tensor *t);

void oiqa_ckpt_close(oiqa_ckpt *ck);

/* An empty in-memory checkpoint of format "memory" (io/ckpt_mem.c), for
 * weights made in the program (random initialisations) so that they reach a
 * model through the same loader as a file's. label stands for the path in
 * messages ("random:7"). Close it with oiqa_ckpt_close. */
int oiqa_ckpt_new(const char *label, oiqa_ckpt **out);

/* Appends a zero-filled float32 tensor of the given shape (row-major) and
 * returns its elements to fill, valid until the next add; NULL (message set)
 * on a bad shape or when out of memory. */
float *oiqa_ckpt_add_f32(oiqa_ckpt *ck, const char *name, int ndim, const int64_t *shape);

#endif
