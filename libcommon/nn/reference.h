/* Naive reference kernels: the oracle the optimised kernels of nn/ are tested
 * against (STYLE.md). Each is the formula written out as loops, accumulating
 * in double, with weights in PyTorch's own layouts, so that a test of a fast
 * kernel also checks its layout conversion. Slow on purpose; never used by
 * the tools. Shapes as in the matching fast kernel's header. */
#ifndef OIQA_NN_REFERENCE_H
#define OIQA_NN_REFERENCE_H

#include "nn/tensor.h"

/* Conv2d, groups = 1, weight in PyTorch's [cout][cin][kh][kw] (OIHW):
 *   y[b,i,j,o] = act( bias[o] + residual[b,i,j,o]
 *                     + sum_{c,u,v} x[b, i*s+u-p, j*s+v-p, c] * w[o][c][u][v] )
 * x = 0 outside the image; bias and residual may be NULL; act = ReLU when
 * relu is set. y must have the shape n x oh x ow x cout (conv2d.h). */
void oiqa_ref_conv2d(const oiqa_tensor *x, const float *weight_oihw, const float *bias, int cout,
                     int kh, int kw, int stride, int pad, const oiqa_tensor *residual, int relu,
                     oiqa_tensor *y);

/* Eval-mode BatchNorm in place, per channel:
 *   x[., ., ., o] = (x - mean[o]) / sqrt(var[o] + eps) * gamma[o] + beta[o] */
void oiqa_ref_batchnorm(oiqa_tensor *x, const float *gamma, const float *beta, const float *mean,
                        const float *var, float eps);

/* Max pooling k x k, stride, pad (padding never wins: only real pixels are
 * compared). y: n x oh x ow x c. */
void oiqa_ref_maxpool2d(const oiqa_tensor *x, int k, int stride, int pad, oiqa_tensor *y);

/* Per-channel mean and std over h*w (divisor N - unbiased), n*c each. */
void oiqa_ref_channel_mean_std(const oiqa_tensor *x, double *mean, double *std, int unbiased);

#endif
