/* A fully connected layer on rows of channels-last data: PyTorch's nn.Linear
 * (and VMamba's Linear2d, a 1x1 conv whose weight is stored 2-D):
 *   y[r, o] = bias[o] + sum_i x[r, i] * weight[o][i]      (+ y[r, o] before)
 * weight in PyTorch's (out, in) row-major layout, so one cblas_sgemm with the
 * weight transposed: Y(rows x cout) = X(rows x cin) * W^T. */
#ifndef OIQA_NN_LINEAR_H
#define OIQA_NN_LINEAR_H

#include <stddef.h>

/* x: rows x cin with row stride ldx (>= cin), y: rows x cout with row stride
 * ldy (>= cout); the strides let callers read and write column slices of a
 * wider matrix (VMamba's x_proj output split into dt, B, C). bias may be NULL.
 * accumulate = 1 adds to y (a fused residual add), 0 overwrites it. y must
 * not overlap x. Threads: blocks of rows over the OpenMP threads, each a
 * single-threaded sgemm (OpenBLAS is set to 1 thread meanwhile, as in
 * conv2d.h), so call it from serial code. */
void oiqa_linear(const float *x, size_t ldx, size_t rows, int cin, const float *weight,
                 const float *bias, int cout, float *y, size_t ldy, int accumulate);

#endif
