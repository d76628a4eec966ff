/* The tape's row kernels; see nn/ag_kernels.h. */
#include "nn/ag_kernels.h"

#include <stdint.h>

#include "nn/vmath.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define CLONES __attribute__((target_clones("avx2,fma", "default")))
#else
#define CLONES
#endif

/* max(0, v) by the sign bit; whether v > 0 as an all-ones / zero mask. */
static inline float relu_bits(float v)
{
    uint32_t b = oiqa_vmath_bits(v);
    return oiqa_vmath_float(b & ~(uint32_t)((int32_t)b >> 31));
}

static inline uint32_t positive_mask(float v) { return -(uint32_t)((int32_t)oiqa_vmath_bits(v) > 0); }

static inline float masked(float g, uint32_t mask) { return oiqa_vmath_float(oiqa_vmath_bits(g) & mask); }

CLONES void ag_k_channel_sum(const float *x, size_t r0, size_t r1, int C, double *acc)
{
    for (size_t r = r0; r < r1; r++) {
        const float *xr = x + r * C;
#pragma omp simd
        for (int c = 0; c < C; c++) acc[c] += xr[c];
    }
}

CLONES void ag_k_channel_sqdev(const float *x, size_t r0, size_t r1, int C, const double *mean, double *acc)
{
    for (size_t r = r0; r < r1; r++) {
        const float *xr = x + r * C;
#pragma omp simd
        for (int c = 0; c < C; c++) {
            double d = (double)xr[c] - mean[c];
            acc[c] += d * d;
        }
    }
}

CLONES void ag_k_bn_grad_sums(const float *x, const float *dy, const float *y, int relu, size_t r0, size_t r1, int C,
                              const float *mean, const float *invstd, double *sdy, double *sdx)
{
    for (size_t r = r0; r < r1; r++) {
        const float *xr = x + r * C, *gr = dy + r * C, *yr = y + r * C;
        if (relu) {
#pragma omp simd
            for (int c = 0; c < C; c++) {
                float g = masked(gr[c], positive_mask(yr[c]));
                sdy[c] += g, sdx[c] += (double)g * ((xr[c] - mean[c]) * invstd[c]);
            }
        } else {
#pragma omp simd
            for (int c = 0; c < C; c++) sdy[c] += gr[c], sdx[c] += (double)gr[c] * ((xr[c] - mean[c]) * invstd[c]);
        }
    }
}

CLONES void ag_k_bn_apply(const float *x, float *y, size_t r0, size_t r1, int C, const float *mean, const float *scale,
                          const float *shift, int relu)
{
    for (size_t r = r0; r < r1; r++) {
        const float *xr = x + r * C;
        float *yr = y + r * C;
        if (relu) {
#pragma omp simd
            for (int c = 0; c < C; c++) yr[c] = relu_bits((xr[c] - mean[c]) * scale[c] + shift[c]);
        } else {
#pragma omp simd
            for (int c = 0; c < C; c++) yr[c] = (xr[c] - mean[c]) * scale[c] + shift[c];
        }
    }
}

CLONES void ag_k_bn_dx(const float *x, const float *dy, const float *y, int relu, float *gx, size_t r0, size_t r1,
                       int C, const float *mean, const float *invstd, const float *k, const float *a, const float *b)
{
    for (size_t r = r0; r < r1; r++) {
        const float *xr = x + r * C, *gr = dy + r * C, *yr = y + r * C;
        float *dst = gx + r * C;
#pragma omp simd
        for (int c = 0; c < C; c++) {
            float g = relu ? masked(gr[c], positive_mask(yr[c])) : gr[c];
            float xhat = (xr[c] - mean[c]) * invstd[c];
            dst[c] += k[c] * (g - a[c] - xhat * b[c]);
        }
    }
}

CLONES void ag_k_add_relu(const float *a, const float *b, float *y, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) y[i] = relu_bits(a[i] + b[i]);
}

CLONES void ag_k_add_relu_grad(const float *y, const float *g, float *ga, float *gb, size_t n)
{
    if (ga && gb) {
#pragma omp simd
        for (size_t i = 0; i < n; i++) {
            float v = masked(g[i], positive_mask(y[i]));
            ga[i] += v, gb[i] += v;
        }
        return;
    }
    float *dst = ga ? ga : gb;
    if (!dst) return;
#pragma omp simd
    for (size_t i = 0; i < n; i++) dst[i] += masked(g[i], positive_mask(y[i]));
}

CLONES void ag_k_accumulate(float *dst, const float *src, size_t n)
{
#pragma omp simd
    for (size_t i = 0; i < n; i++) dst[i] += src[i];
}
