#include "nn/layernorm.h"

#include <math.h>

/* Rows of a few hundred channels each: below ~64k values waking the threads
 * costs more than it saves. */
enum { PARALLEL_MIN_VALUES = 1 << 16 };

void oiqa_layernorm(const float *x, float *y, size_t rows, int channels, const float *gamma,
                    const float *beta, float eps)
{
#pragma omp parallel for schedule(static) if (rows * (size_t)channels >= PARALLEL_MIN_VALUES)
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * (size_t)channels;
        float *yr = y + r * (size_t)channels;
        double sum = 0.0;
        for (int c = 0; c < channels; c++) sum += xr[c];
        double mean = sum / channels, sq = 0.0;
        /* Two passes: the variance of values far from 0 keeps its digits. */
        for (int c = 0; c < channels; c++) {
            double d = xr[c] - mean;
            sq += d * d;
        }
        float m = (float)mean, inv = (float)(1.0 / sqrt(sq / channels + eps));
        for (int c = 0; c < channels; c++) {
            float v = (xr[c] - m) * inv * gamma[c];
            yr[c] = beta ? v + beta[c] : v;
        }
    }
}
