/* oiqa HDF5 weight files (docs/weights.md): writing one from any checkpoint
 * oiqa_ckpt reads. Reading goes through oiqa_ckpt_open (io/ckpt.h), which
 * detects them by the HDF5 magic and the root attribute oiqa_weights_schema.
 *
 * Layout (schema 1): group /tensors, one dataset per tensor in file order
 * (link creation order is tracked), named by its key with '/' replaced by
 * '|'; attribute "key" holds the original key, "source_dtype" the dtype name
 * of the source ("F32", "BF16", ...). bf16 is stored as float32 (exact), bool
 * as uint8; everything else keeps its dtype. Root attributes:
 * oiqa_weights_schema = 1, arch (when checked), source, source_sha256,
 * source_format, source_prefix, tool, created, command, and any extra
 * string attributes the caller adds (oiqa_weights_write_opts). */
#ifndef OIQA_IO_CKPT_H5_H
#define OIQA_IO_CKPT_H5_H

#include "io/ckpt.h"
#include "io/ckpt_h5_read.h" /* OIQA_WEIGHTS_SCHEMA */


typedef struct {
    const char *source_path; /* the checkpoint ck was opened from */
    const char *arch;        /* recorded when non-NULL (checked by the caller) */
    const char *tool;        /* "oiqa-weights 0.1" */
    const char *command;     /* argv, shell-quoted */
    int force;               /* replace an existing out */
    int deflate_level;       /* 0: none; else shuffle + deflate */
    /* Optional additions (zero: unchanged behaviour). extra_attrs holds
     * n_extra_attrs (name, value) pairs written as more root string
     * attributes (a trained model's config and provenance). With
     * source_path NULL (weights made in the program, e.g. by oiqa-train)
     * `source` is the checkpoint's label and `source_sha256` is empty. */
    const char *const *extra_attrs; /* name0, value0, name1, value1, ... */
    int n_extra_attrs;
} oiqa_weights_write_opts;

/* Writes every tensor of ck to out_path (via out_path.partial, renamed at
 * the end). Refuses an existing out_path unless force (OIQA_EXIT_USAGE). */
int oiqa_ckpt_write_h5(const oiqa_ckpt *ck, const char *out_path, const oiqa_weights_write_opts *o);

/* Copies tensor t's elements in row-major order into dst (numel elements of
 * its own dtype size), honouring strides and the storage offset. */
int oiqa_ckpt_read_raw(const oiqa_ckpt *ck, const oiqa_ck_tensor *t, void *dst);

#endif
