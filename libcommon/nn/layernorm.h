/* LayerNorm over the channel axis of NHWC data, as VMamba's `ln` (nn.LayerNorm
 * on channels-last maps) and `ln2d` (LayerNorm2d, the same over C of an NCHW
 * map) both compute:
 *   y[r, c] = (x[r, c] - mean_r) / sqrt(var_r + eps) * gamma[c] + beta[c]
 * over rows r < rows of `channels` values, var the biased variance. */
#ifndef OIQA_NN_LAYERNORM_H
#define OIQA_NN_LAYERNORM_H

#include <stddef.h>

#define OIQA_LN_EPS 1e-5f /* nn.LayerNorm's default, used by every VMamba norm */

/* x, y: rows x channels, row-major; y may alias x. gamma/beta: [channels]
 * (beta may be NULL). Mean and variance accumulate in double. Rows are split
 * over the OpenMP threads (no BLAS inside, so any serial caller is fine). */
void oiqa_layernorm(const float *x, float *y, size_t rows, int channels, const float *gamma,
                    const float *beta, float eps);

#endif
