/* What the checkpoint front end (ckpt.c, ckpt_mem.c) and the format readers
 * (ckpt_torch.c, safetensors.c, ckpt_h5_read.c) share: the handle's fields
 * and two helpers (ckpt_reader.c). The readers include only this, so they
 * fan out from the front end and never call back into it. Not installed API. */
#ifndef OIQA_IO_CKPT_READER_H
#define OIQA_IO_CKPT_READER_H

#include "io/ckpt_tensor.h"

struct oiqa_ckpt {
    char *path;             /* for messages */
    const uint8_t *map;     /* the whole file, read-only */
    size_t size;
    int mapped;             /* 1: mmap'ed; 0: a heap copy (small files) */
    size_t map_capacity;    /* memory checkpoints (ckpt_mem.c): bytes allocated at map */
    const char *format;     /* "torch" / "safetensors" / "oiqa-h5" / "memory" */
    char *prefix;           /* dict key used ("" for the top level) */
    oiqa_ck_tensor *t;
    int n, cap;
};

/* Appends a zeroed tensor named name[0, len); NULL when out of memory (message set). */
oiqa_ck_tensor *ckpt_add_tensor(oiqa_ckpt *ck, const char *name, size_t len);

/* Checks t's shape, strides and storage offset against its storage
 * (storage_bytes) and sets t->numel. Unknown dtypes only get numel. */
int ckpt_check_extent(const oiqa_ckpt *ck, oiqa_ck_tensor *t);

/* Advances a row-major walk over a strided tensor: idx counts the
 * multi-index (start zeroed), *off is the storage element offset of the
 * current element (start at t->storage_offset). */
static inline void oiqa_ck_step(const oiqa_ck_tensor *t, int64_t *idx, int64_t *off)
{
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (++idx[d] < t->shape[d]) {
            *off += t->stride[d];
            return;
        }
        *off -= (t->shape[d] - 1) * t->stride[d];
        idx[d] = 0;
    }
}

#endif
