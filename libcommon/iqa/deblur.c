/* Blur-width estimation and Richardson-Lucy deconvolution; see iqa/deblur.h. */
#include "iqa/deblur.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "iqa/filter.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static inline float grad_mag(const float *p, int w, int x, int y)
{
    const float *c = p + (size_t)y * w + x;
    float gx = 0.5f * (c[1] - c[-1]), gy = 0.5f * (c[w] - c[-w]);
    return sqrtf(gx * gx + gy * gy);
}

/* One pass of the re-blur ratio with s0; NAN without edges. */
static double ratio_estimate(const float *y, float *y1, int w, int h, double s0, double *vals)
{
    if (oiqa_gauss_blur_f(y, y1, w, h, s0)) return NAN;
    int hist[512] = {0}, m = 0;
    for (int j = 1; j < h - 1; j++)
        for (int i = 1; i < w - 1; i++) {
            int b = (int)(grad_mag(y, w, i, j) * 2);
            hist[b > 511 ? 511 : b]++, m++;
        }
    int want = m - m / 10, acc = 0, tb = 0;
    while (tb < 511 && acc + hist[tb] < want) acc += hist[tb++];
    float thr = fmaxf(2.0f, (tb + 1) / 2.0f);
    int n = 0;
    for (int j = 2; j < h - 2; j++)
        for (int i = 2; i < w - 2; i++) {
            float g = grad_mag(y, w, i, j);
            if (g < thr) continue;
            const float *c = y + (size_t)j * w + i;
            int along_x = fabsf(c[1] - c[-1]) >= fabsf(c[w] - c[-w]);
            float g_a = along_x ? grad_mag(y, w, i - 1, j) : grad_mag(y, w, i, j - 1);
            float g_b = along_x ? grad_mag(y, w, i + 1, j) : grad_mag(y, w, i, j + 1);
            if (g < g_a || g < g_b) continue; /* not the edge's centre */
            float g1 = grad_mag(y1, w, i, j);
            double r = g1 > 1e-6f ? g / g1 : 1e9;
            vals[n++] = r > 1.0001 ? s0 / sqrt(r * r - 1) : 20.0;
        }
    if (!n) return NAN;
    qsort(vals, (size_t)n, sizeof(double), cmp_double);
    return vals[n / 2];
}

double oiqa_blur_sigma(const uint8_t *rgb, int w, int h)
{
    if (!rgb || w < 16 || h < 16) return NAN;
    float *y = oiqa_luma_from_rgb(rgb, w, h), *y1 = malloc((size_t)w * h * sizeof(float));
    double *vals = malloc((size_t)w * h * sizeof(double));
    double s = NAN;
    if (y && y1 && vals) {
        s = ratio_estimate(y, y1, w, h, 1.0, vals);
        if (!isnan(s)) s = ratio_estimate(y, y1, w, h, fmin(fmax(s, 1.0), 6.0), vals);
    }
    free(y), free(y1), free(vals);
    return s;
}

int oiqa_deblur(const uint8_t *src, int w, int h, double psf_sigma, int iterations, uint8_t *dst,
                double *used_sigma)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (isnan(psf_sigma) || psf_sigma > 20)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'sigma': %g is outside 0..20 (0: estimate)", psf_sigma);
    if (iterations > 1000)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'iterations': %d is above 1000", iterations);
    if (iterations <= 0) iterations = OIQA_DEBLUR_ITERATIONS;
    if (psf_sigma <= 0) {
        double est = oiqa_blur_sigma(src, w, h);
        const double base = OIQA_DEBLUR_BASE_SIGMA;
        psf_sigma = isnan(est) ? 0 : sqrt(fmax(est * est - base * base, 0));
        if (psf_sigma < 0.3) psf_sigma = 0;
    }
    if (used_sigma) *used_sigma = psf_sigma;
    if (psf_sigma <= 0) {
        if (dst != src) memcpy(dst, src, (size_t)w * h * 3);
        return OIQA_OK;
    }
    size_t n = (size_t)w * h;
    int r = (int)ceil(3 * psf_sigma);
    double *k = malloc((size_t)(2 * r + 1) * sizeof(double));
    float *g = oiqa_planes_from_rgb(src, w, h), *u = malloc(3 * n * sizeof(float)),
          *t = malloc(n * sizeof(float)), *tmp = malloc(n * sizeof(float));
    if (!k || !g || !u || !t || !tmp) {
        free(k), free(g), free(u), free(t), free(tmp);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for deblurring %dx%d", w, h);
    }
    oiqa_gauss_taps(psf_sigma, r, k);
    for (size_t i = 0; i < 3 * n; i++) u[i] = g[i] += 1.0f;
    for (int c = 0; c < 3; c++) {
        float *gc = g + c * n, *uc = u + c * n;
        for (int it = 0; it < iterations; it++) {
            oiqa_sep_filter_f(uc, t, w, h, k, r, tmp);
#pragma omp simd
            for (size_t i = 0; i < n; i++) t[i] = gc[i] / fmaxf(t[i], 1e-3f);
            oiqa_sep_filter_f(t, t, w, h, k, r, tmp);
#pragma omp simd
            for (size_t i = 0; i < n; i++) uc[i] *= t[i];
        }
        for (size_t i = 0; i < n; i++) uc[i] -= 1.0f;
    }
    oiqa_planes_to_rgb(u, w, h, dst);
    free(k), free(g), free(u), free(t), free(tmp);
    return OIQA_OK;
}
