#include "nn/tensor.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

enum { TENSOR_ALIGN = 64 };

void *oiqa_nn_alloc(size_t bytes)
{
    /* aligned_alloc wants a size that is a multiple of the alignment. */
    size_t rounded = (bytes + TENSOR_ALIGN - 1) / TENSOR_ALIGN * TENSOR_ALIGN;
    if (rounded < bytes) return NULL; /* overflow */
    return aligned_alloc(TENSOR_ALIGN, rounded ? rounded : TENSOR_ALIGN);
}

void oiqa_nn_free(void *p) { free(p); }

int oiqa_tensor_create(oiqa_tensor *t, int n, int h, int w, int c)
{
    memset(t, 0, sizeof *t);
    if (n < 1 || h < 1 || w < 1 || c < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "tensor: bad shape %d x %d x %d x %d", n, h, w, c);
    /* In double so that the guard itself cannot overflow. */
    if ((double)n * h * w * c * sizeof(float) > (double)(SIZE_MAX / 2))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "tensor: %d x %d x %d x %d is too large", n, h, w, c);
    size_t count = (size_t)n * h * w * c;
    t->data = oiqa_nn_alloc(count * sizeof(float));
    if (!t->data)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "tensor: out of memory for %d x %d x %d x %d floats",
                         n, h, w, c);
    t->n = n, t->h = h, t->w = w, t->c = c;
    return OIQA_OK;
}

void oiqa_tensor_free(oiqa_tensor *t)
{
    oiqa_nn_free(t->data);
    memset(t, 0, sizeof *t);
}

void oiqa_tensor_zero(oiqa_tensor *t)
{
    if (t->data) memset(t->data, 0, oiqa_tensor_numel(t) * sizeof(float));
}

size_t oiqa_tensor_numel(const oiqa_tensor *t) { return (size_t)t->n * t->h * t->w * t->c; }

int oiqa_tensor_same_shape(const oiqa_tensor *a, const oiqa_tensor *b)
{
    return a->n == b->n && a->h == b->h && a->w == b->w && a->c == b->c;
}
