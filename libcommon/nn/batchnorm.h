/* Eval-mode BatchNorm folded into the convolution before it.
 *
 * BatchNorm2d in eval mode is, per channel o (BACKBONES.md §1),
 *   bn(z)[o] = (z[o] - mean[o]) / sqrt(var[o] + eps) * gamma[o] + beta[o]
 * and z = conv(x) + conv_bias is linear in the weight, so with
 *   scale[o] = gamma[o] / sqrt(var[o] + eps)
 *   w'[.][.][.][o] = w[.][.][.][o] * scale[o]
 *   b'[o] = beta[o] + (conv_bias[o] - mean[o]) * scale[o]
 * conv'(x) = bn(conv(x)) exactly up to rounding. */
#ifndef OIQA_NN_BATCHNORM_H
#define OIQA_NN_BATCHNORM_H

#define OIQA_BN_EPS 1e-5f /* PyTorch BatchNorm2d's default */

/* Folds BN into a conv in place: weight is [kh][kw][cin][cout] (conv2d.h,
 * scaled in place), conv_bias is [cout] or NULL (no bias, as in ResNet), and
 * bias_out [cout] receives b' (it may be conv_bias itself). scale is computed
 * in double. */
void oiqa_bn_fold(int kh, int kw, int cin, int cout, float *weight, const float *conv_bias,
                  const float *gamma, const float *beta, const float *mean, const float *var,
                  float eps, float *bias_out);

#endif
