#include "nn/eltwise.h"

/* Large maps are memory bound: split them over the OpenMP threads only when
 * there is enough work to pay for waking them. */
enum { PARALLEL_MIN = 1 << 16 };

void oiqa_relu_inplace(float *x, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void oiqa_add(const float *a, const float *b, float *y, size_t n)
{
#pragma omp parallel for schedule(static) if (n >= PARALLEL_MIN)
    for (size_t i = 0; i < n; i++) y[i] = a[i] + b[i];
}
