/* The row kernels of the tape's convolutional-network ops (nn/ag_cnn.c,
 * nn/ag_ops.c): BatchNorm's statistics, normalisation and gradient, the
 * fused ReLUs, and col2im's accumulation, each over rows [r0, r1) of C
 * channels (NHWC). Callers split the rows across threads; each kernel is
 * built twice (AVX2+FMA and baseline, picked at load time) and written so
 * that GCC vectorises it at -O2 (no float comparisons: the ReLU works on the
 * sign bit, as nn/vmath.h explains). Sums are in double, per row in order,
 * so a fixed split gives the same bits every run. Not API. */
#ifndef OIQA_NN_AG_KERNELS_H
#define OIQA_NN_AG_KERNELS_H

#include <stddef.h>

/* acc[c] += sum_r x[r, c] */
void ag_k_channel_sum(const float *x, size_t r0, size_t r1, int C, double *acc);
/* acc[c] += sum_r (x[r, c] - mean[c])^2 */
void ag_k_channel_sqdev(const float *x, size_t r0, size_t r1, int C, const double *mean, double *acc);
/* With dy masked where y <= 0 when relu: sdy[c] += sum dy,
 * sdx[c] += sum dy (x - mean) invstd. */
void ag_k_bn_grad_sums(const float *x, const float *dy, const float *y, int relu, size_t r0, size_t r1, int C,
                       const float *mean, const float *invstd, double *sdy, double *sdx);
/* y = (x - mean) scale + shift, then max(0, .) when relu (the sign bit: a
 * NaN stays NaN, as torch's relu). */
void ag_k_bn_apply(const float *x, float *y, size_t r0, size_t r1, int C, const float *mean, const float *scale,
                   const float *shift, int relu);
/* gx += k (dy - a - xhat b), xhat = (x - mean) invstd, dy masked as above
 * (a = b = 0: the running-statistics form). */
void ag_k_bn_dx(const float *x, const float *dy, const float *y, int relu, float *gx, size_t r0, size_t r1, int C,
                const float *mean, const float *invstd, const float *k, const float *a, const float *b);
/* y = max(0, a + b) on n values; ga, gb (each may be NULL) += g where y > 0. */
void ag_k_add_relu(const float *a, const float *b, float *y, size_t n);
void ag_k_add_relu_grad(const float *y, const float *g, float *ga, float *gb, size_t n);
/* dst += src on n values. */
void ag_k_accumulate(float *dst, const float *src, size_t n);

#endif
