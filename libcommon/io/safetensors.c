/* safetensors files (huggingface/safetensors, "Format" in its README): an
 * 8-byte little-endian header length N, N bytes of UTF-8 JSON
 * {name: {"dtype", "shape", "data_offsets": [begin, end)}, "__metadata__":
 * {str: str}}, then the data buffer; offsets count from its start, data is
 * row-major little-endian. Every tensor's [begin, end) must lie in the
 * buffer and hold exactly numel * itemsize bytes. Overlaps and gaps, which
 * the format forbids but which cannot make a read go wrong, are tolerated. */
#include "io/safetensors.h"
#include "io/ckpt_reader.h"

#include "base/error.h"
#include "io/json_mini.h"

#include <string.h>

#define HEADER_MAX (100u << 20) /* the reference implementation's limit */

static const struct {
    const char *name;
    oiqa_ck_dtype dt;
} DTYPE_NAMES[] = {
    {"F32", OIQA_CK_F32}, {"F16", OIQA_CK_F16}, {"BF16", OIQA_CK_BF16}, {"F64", OIQA_CK_F64}, {"I64", OIQA_CK_I64},
    {"I32", OIQA_CK_I32}, {"I16", OIQA_CK_I16}, {"I8", OIQA_CK_I8},     {"U8", OIQA_CK_U8},   {"BOOL", OIQA_CK_BOOL},
};

static int tensor_from_json(oiqa_ckpt *ck, const char *name, const oiqa_json *j, uint64_t data_start, uint64_t data_len)
{
    const oiqa_json *dt = oiqa_json_get(j, "dtype"), *shape = oiqa_json_get(j, "shape"),
                    *offs = oiqa_json_get(j, "data_offsets");
    if (j->type != OIQA_JSON_OBJECT || !dt || dt->type != OIQA_JSON_STRING || !shape ||
        shape->type != OIQA_JSON_ARRAY || !offs || offs->type != OIQA_JSON_ARRAY || offs->n != 2 ||
        offs->kids[0].type != OIQA_JSON_INT || offs->kids[1].type != OIQA_JSON_INT)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "safetensors header: tensor %s needs dtype, shape and data_offsets [begin, end]", name);
    oiqa_ck_tensor *t = ckpt_add_tensor(ck, name, strlen(name));
    if (!t) return OIQA_EXIT_DATA;
    for (size_t i = 0; i < sizeof DTYPE_NAMES / sizeof DTYPE_NAMES[0]; i++)
        if (!strcmp(dt->str, DTYPE_NAMES[i].name)) t->dtype = DTYPE_NAMES[i].dt;
    if (t->dtype == OIQA_CK_UNKNOWN)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: unsupported safetensors dtype \"%s\"", name, dt->str);
    if (shape->n > OIQA_CK_MAX_DIMS)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: %d dimensions (at most %d)", name, shape->n,
                         OIQA_CK_MAX_DIMS);
    t->ndim = shape->n;
    for (int d = 0; d < shape->n; d++) {
        if (shape->kids[d].type != OIQA_JSON_INT || shape->kids[d].i < 0)
            return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: shape is not a list of non-negative integers", name);
        t->shape[d] = shape->kids[d].i;
    }
    int64_t begin = offs->kids[0].i, end = offs->kids[1].i;
    if (begin < 0 || end < begin || (uint64_t)end > data_len)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "tensor %s: data_offsets [%lld, %lld) outside the data buffer of %llu bytes", name,
                         (long long)begin, (long long)end, (unsigned long long)data_len);
    /* Row-major contiguous strides; a zero size makes them irrelevant. */
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        t->stride[d] = s;
        if (t->shape[d] > 0 && s <= INT64_MAX / t->shape[d]) s *= t->shape[d];
    }
    t->file_offset = data_start + (uint64_t)begin;
    t->storage_bytes = (uint64_t)(end - begin);
    int rc = ckpt_check_extent(ck, t);
    if (rc) return rc;
    if ((uint64_t)t->numel * oiqa_ck_dtype_size(t->dtype) != t->storage_bytes)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: %lld elements of %s but data_offsets span %llu bytes",
                         name, (long long)t->numel, dt->str, (unsigned long long)t->storage_bytes);
    return OIQA_OK;
}

int ckpt_open_safetensors(oiqa_ckpt *ck)
{
    ck->format = "safetensors";
    uint64_t n = 0;
    for (int i = 7; i >= 0; i--) n = n << 8 | ck->map[i];
    if (n > ck->size - 8)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "safetensors header length %llu is larger than the file (%zu bytes); truncated?",
                         (unsigned long long)n, ck->size);
    if (n > HEADER_MAX)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "safetensors header length %llu above the %u-byte limit",
                         (unsigned long long)n, HEADER_MAX);
    char err[256];
    oiqa_json *h = oiqa_json_parse((const char *)ck->map + 8, (size_t)n, err, sizeof err);
    if (!h) return oiqa_fail(OIQA_EXIT_DATA, ck->path, "safetensors header is not valid JSON (%s)", err);
    int rc = OIQA_OK;
    if (h->type != OIQA_JSON_OBJECT)
        rc = oiqa_fail(OIQA_EXIT_DATA, ck->path, "safetensors header is not a JSON object");
    for (int i = 0; !rc && i < h->n; i++) {
        if (!strcmp(h->keys[i], "__metadata__")) continue; /* free-form strings */
        rc = tensor_from_json(ck, h->keys[i], &h->kids[i], 8 + n, ck->size - 8 - n);
    }
    oiqa_json_free(h);
    return rc;
}
