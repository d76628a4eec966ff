/* What every checkpoint format reader shares (io/ckpt_reader.h): appending
 * a tensor record and checking it against its storage. */
#include "io/ckpt_reader.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

oiqa_ck_tensor *ckpt_add_tensor(oiqa_ckpt *ck, const char *name, size_t len)
{
    if (ck->n == ck->cap) {
        int cap = ck->cap ? 2 * ck->cap : 64;
        oiqa_ck_tensor *t = realloc(ck->t, (size_t)cap * sizeof *t);
        if (!t) return oiqa_fail(OIQA_EXIT_DATA, ck->path, "out of memory"), NULL;
        ck->t = t, ck->cap = cap;
    }
    oiqa_ck_tensor *t = &ck->t[ck->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = strndup(name, len))) return oiqa_fail(OIQA_EXIT_DATA, ck->path, "out of memory"), NULL;
    ck->n++;
    return t;
}

int ckpt_check_extent(const oiqa_ckpt *ck, oiqa_ck_tensor *t)
{
    size_t es = oiqa_ck_dtype_size(t->dtype);
    /* Elements the storage holds; an unknown dtype is only checked for sane
     * numbers (2^56 keeps offset + 8 terms of at most elems below 2^63). */
    int64_t elems = es ? (int64_t)(t->storage_bytes / es) : (int64_t)1 << 56;
    if (t->ndim < 0 || t->ndim > OIQA_CK_MAX_DIMS)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: %d dimensions (at most %d)", t->name, t->ndim,
                         OIQA_CK_MAX_DIMS);
    int64_t numel = 1, last = t->storage_offset;
    if (t->storage_offset < 0 || t->storage_offset > elems)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: storage offset %lld outside its storage of %lld elements",
                         t->name, (long long)t->storage_offset, (long long)elems);
    for (int d = 0; d < t->ndim; d++)
        if (t->shape[d] < 0 || t->stride[d] < 0)
            return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: negative size or stride in dimension %d", t->name,
                             d);
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] == 0) numel = 0;
    }
    for (int d = 0; d < t->ndim && numel; d++) {
        if (t->shape[d] > elems / numel)
            return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                             "tensor %s: shape needs more than the %lld elements of its storage", t->name,
                             (long long)elems);
        numel *= t->shape[d];
        /* (shape-1)*stride <= elems keeps the sum below 9*elems: no overflow. */
        if (t->shape[d] > 1 && t->stride[d] > elems / (t->shape[d] - 1))
            return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                             "tensor %s: stride %lld of dimension %d reaches past its storage", t->name,
                             (long long)t->stride[d], d);
        last += (t->shape[d] - 1) * t->stride[d];
    }
    t->numel = numel;
    if (es && numel && (t->storage_offset >= elems || last >= elems))
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "tensor %s: elements up to %lld from offset %lld lie outside its storage of %lld elements",
                         t->name, (long long)last, (long long)t->storage_offset, (long long)elems);
    return OIQA_OK;
}
