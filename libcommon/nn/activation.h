/* Pointwise activations of the VMamba blocks (Liu et al. 2024, "VMamba:
 * Visual State Space Model"), with PyTorch's definitions:
 *   silu(x)     = x * sigmoid(x)
 *   gelu(x)     = x/2 * (1 + erf(x / sqrt 2))        (exact, not tanh)
 *   softplus(x) = log(1 + exp(x)), or x when x > 20   (F.softplus threshold) */
#ifndef OIQA_NN_ACTIVATION_H
#define OIQA_NN_ACTIVATION_H

#include <math.h>
#include <stddef.h>

static inline float oiqa_silu(float x) { return x / (1.0f + expf(-x)); }

static inline float oiqa_gelu(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

static inline float oiqa_softplus(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

/* x[i] = silu(x[i]) / gelu(x[i]), i < n. The in-place GELU uses the
 * vectorisable erf of nn/vmath.h: within 1.4e-7 max(1, |x|) of the exact
 * value, as close as libm's erff in float gets (1.1e-7). */
void oiqa_silu_inplace(float *x, size_t n);
void oiqa_gelu_inplace(float *x, size_t n);

/* Row-wise softmax of n rows of k logits (max subtracted, sums in double). */
void oiqa_softmax_rows(const float *logits, int n, int k, float *out);

/* y[i] = a[i] * b[i], i < n (the z gate of SS2D v0); y may alias a or b. */
void oiqa_mul(const float *a, const float *b, float *y, size_t n);

#endif
