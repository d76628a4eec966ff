/* In-memory checkpoints (io/ckpt.h, oiqa_ckpt_new): the tensors live in one
 * heap buffer standing in for a file's bytes, so loaders read them through
 * the same oiqa_ckpt API as a .pth or .safetensors file. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/ckpt.h"
#include "io/ckpt_reader.h"

int oiqa_ckpt_new(const char *label, oiqa_ckpt **out)
{
    *out = NULL;
    oiqa_ckpt *ck = calloc(1, sizeof *ck);
    if (!ck || !(ck->path = strdup(label)) || !(ck->prefix = strdup("")) || !(ck->map = malloc(64))) {
        if (ck) free(ck->path), free(ck->prefix);
        free(ck);
        return oiqa_fail(OIQA_EXIT_DATA, label, "out of memory");
    }
    ck->format = "memory";
    ck->map_capacity = 64;
    *out = ck;
    return OIQA_OK;
}

float *oiqa_ckpt_add_f32(oiqa_ckpt *ck, const char *name, int ndim, const int64_t *shape)
{
    if (ndim < 0 || ndim > OIQA_CK_MAX_DIMS)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: %d dimensions", name, ndim), NULL;
    int64_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0 || (shape[d] && numel > ((int64_t)1 << 40) / shape[d]))
            return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: bad shape", name), NULL;
        numel *= shape[d];
    }
    /* Offsets on 64-byte boundaries, as in the files the loaders read. */
    size_t offset = (ck->size + 63) & ~(size_t)63, bytes = (size_t)numel * sizeof(float);
    /* Geometric growth: one realloc per tensor copied the whole buffer each
     * time (ResNet-50's 320 tensors moved ~16 GB, minutes under ASan). */
    uint8_t *map = (uint8_t *)ck->map;
    if (offset + bytes + 64 > ck->map_capacity) {
        size_t cap = ck->map_capacity * 2;
        if (cap < offset + bytes + 64) cap = offset + bytes + 64;
        if (!(map = realloc(map, cap))) return oiqa_fail(OIQA_EXIT_DATA, ck->path, "out of memory"), NULL;
        ck->map = map;
        ck->map_capacity = cap;
    }
    oiqa_ck_tensor *t = ckpt_add_tensor(ck, name, strlen(name));
    if (!t) return NULL;
    t->dtype = OIQA_CK_F32;
    t->ndim = ndim;
    int64_t stride = 1;
    for (int d = ndim - 1; d >= 0; d--) {
        t->shape[d] = shape[d];
        t->stride[d] = stride;
        stride *= shape[d];
    }
    t->numel = numel;
    t->file_offset = offset;
    t->storage_bytes = bytes;
    ck->size = offset + bytes;
    memset(map + offset, 0, bytes);
    return (float *)(map + offset);
}
