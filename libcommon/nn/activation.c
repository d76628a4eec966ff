#include "nn/activation.h"

#include <math.h>

#include "nn/vmath.h"

/* erf/exp cost tens of cycles per value, so even mid-sized maps pay for
 * waking the OpenMP threads. */
enum { PARALLEL_MIN = 1 << 15 };

void oiqa_silu_inplace(float *x, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) x[i] = oiqa_silu(x[i]);
}

/* With the vectorisable erf of nn/vmath.h (libm's erff is a scalar call and
 * was a fifth of a VMamba-T[s1l8] forward). */
void oiqa_gelu_inplace(float *x, size_t n)
{
#pragma omp parallel for simd schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) x[i] = 0.5f * x[i] * (1.0f + oiqa_verf(x[i] * 0.70710678118654752f));
}

void oiqa_mul(const float *a, const float *b, float *y, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= 4 * PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) y[i] = a[i] * b[i];
}

void oiqa_softmax_rows(const float *logits, int n, int k, float *out)
{
    for (int i = 0; i < n; i++) {
        const float *x = logits + (size_t)i * k;
        float mx = x[0];
        for (int j = 1; j < k; j++) mx = x[j] > mx ? x[j] : mx;
        double s = 0;
        for (int j = 0; j < k; j++) s += exp((double)x[j] - mx);
        for (int j = 0; j < k; j++) out[(size_t)i * k + j] = (float)(exp((double)x[j] - mx) / s);
    }
}
