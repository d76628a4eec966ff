/* A float32 tensor in channels-last order (NHWC), as DESIGN §6 asks for
 * images and feature maps: element (b, y, x, ch) lives at
 *   data[((b * h + y) * w + x) * c + ch]
 * so the c values of one pixel are contiguous, which makes a 1x1 convolution
 * a plain matrix product of an (n*h*w) x c matrix and a c x cout matrix.
 * The data are one contiguous block aligned to 64 bytes (a cache line, and
 * the widest vector load), owned by the tensor. */
#ifndef OIQA_NN_TENSOR_H
#define OIQA_NN_TENSOR_H

#include <stddef.h>

typedef struct {
    int n, h, w, c;
    float *data; /* n*h*w*c floats, 64-byte aligned; NULL when empty */
} oiqa_tensor;

/* Allocates an n x h x w x c tensor (contents undefined). All sizes must be
 * >= 1. Returns OIQA_OK, or OIQA_EXIT_DATA with the message set on a bad shape
 * or a failed allocation (t is then left empty). */
int oiqa_tensor_create(oiqa_tensor *t, int n, int h, int w, int c);

/* Frees the data and empties t (a no-op on an empty tensor). */
void oiqa_tensor_free(oiqa_tensor *t);

/* Sets every element to 0. */
void oiqa_tensor_zero(oiqa_tensor *t);

/* n*h*w*c. */
size_t oiqa_tensor_numel(const oiqa_tensor *t);

/* 1 when a and b have the same n, h, w, c. */
int oiqa_tensor_same_shape(const oiqa_tensor *a, const oiqa_tensor *b);

/* Offset of element (b, y, x, ch). */
static inline size_t oiqa_tensor_index(const oiqa_tensor *t, int b, int y, int x, int ch)
{
    return (((size_t)b * t->h + y) * t->w + x) * t->c + ch;
}

/* 64-byte aligned allocation of `bytes` (rounded up to a multiple of 64) and
 * its release; used for tensors and kernel scratch. NULL on failure. */
void *oiqa_nn_alloc(size_t bytes);
void oiqa_nn_free(void *p);

#endif
