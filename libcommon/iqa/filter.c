/* Planar float images and separable reflect-border filtering; see iqa/filter.h. */
#include "iqa/filter.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int oiqa_reflect_index(int i, int n)
{
    if (n <= 1) return 0;
    int period = 2 * n;
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - 1 - i;
}

void oiqa_gauss_taps(double sigma, int r, double *k)
{
    double sum = 0;
    for (int i = -r; i <= r; i++) sum += k[i + r] = exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) k[i] /= sum;
}

/* One macro body for both precisions: horizontal pass into tmp, vertical
 * pass into out (rows of tmp are complete before any row of out is read).
 * Taps and sums are in T, so that the inner loops vectorise. */
#define SEP_FILTER_BODY(T)                                                                    \
    T kt[2 * r + 1];                                                                          \
    for (int t = 0; t <= 2 * r; t++) kt[t] = (T)k[t];                                         \
    int big = (double)w * h * (2 * r + 1) >= OIQA_IQA_PARALLEL_WORK;                          \
    _Pragma("omp parallel if (big)")                                                          \
    {                                                                                         \
        /* Each row reflected into a padded copy, then tap by tap over x. */                  \
        T *padded = malloc((size_t)(w + 2 * r) * sizeof(T));                                  \
        _Pragma("omp for schedule(static)")                                                   \
        for (int y = 0; y < h; y++) {                                                         \
            const T *row = in + (size_t)y * w;                                                \
            T *o = tmp + (size_t)y * w;                                                       \
            if (!padded) { /* out of memory: the slow way */                                  \
                for (int x = 0; x < w; x++) {                                                 \
                    T acc = 0;                                                                \
                    for (int t = -r; t <= r; t++) acc += kt[t + r] * row[oiqa_reflect_index(x + t, w)]; \
                    o[x] = acc;                                                               \
                }                                                                             \
                continue;                                                                     \
            }                                                                                 \
            for (int x = -r; x < w + r; x++) padded[x + r] = row[oiqa_reflect_index(x, w)];   \
            for (int x = 0; x < w; x++) o[x] = 0;                                             \
            for (int t = 0; t <= 2 * r; t++) {                                                \
                const T *src = padded + t;                                                    \
                T c = kt[t];                                                                  \
                _Pragma("omp simd")                                                           \
                for (int x = 0; x < w; x++) o[x] += c * src[x];                               \
            }                                                                                 \
        }                                                                                     \
        free(padded);                                                                         \
    }                                                                                         \
    _Pragma("omp parallel for schedule(static) if (big)")                                     \
    for (int y = 0; y < h; y++) {                                                             \
        T *o = out + (size_t)y * w;                                                           \
        for (int x = 0; x < w; x++) o[x] = 0;                                                 \
        for (int t = -r; t <= r; t++) {                                                       \
            const T *src = tmp + (size_t)oiqa_reflect_index(y + t, h) * w;                    \
            T c = kt[t + r];                                                                  \
            _Pragma("omp simd")                                                               \
            for (int x = 0; x < w; x++) o[x] += c * src[x];                                   \
        }                                                                                     \
    }

void oiqa_sep_filter_f(const float *in, float *out, int w, int h, const double *k, int r, float *tmp)
{
    SEP_FILTER_BODY(float)
}

void oiqa_sep_filter_d(const double *in, double *out, int w, int h, const double *k, int r, double *tmp)
{
    SEP_FILTER_BODY(double)
}

int oiqa_gauss_blur_f(const float *in, float *out, int w, int h, double sigma)
{
    if (sigma <= 0) {
        if (out != in) memcpy(out, in, (size_t)w * h * sizeof(float));
        return OIQA_OK;
    }
    int r = (int)ceil(3 * sigma);
    double *k = malloc((size_t)(2 * r + 1) * sizeof(double));
    float *tmp = malloc((size_t)w * h * sizeof(float));
    if (!k || !tmp) {
        free(k), free(tmp);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for a %dx%d blur", w, h);
    }
    oiqa_gauss_taps(sigma, r, k);
    oiqa_sep_filter_f(in, out, w, h, k, r, tmp);
    free(k), free(tmp);
    return OIQA_OK;
}

float *oiqa_planes_from_rgb(const uint8_t *rgb, int w, int h)
{
    size_t n = (size_t)w * h;
    float *p = malloc(3 * n * sizeof(float));
    if (!p) return NULL;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) p[c * n + i] = rgb[3 * i + c];
    return p;
}

static inline uint8_t to_u8(float v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)lrintf(v);
}

void oiqa_planes_to_rgb(const float *planes, int w, int h, uint8_t *rgb)
{
    size_t n = (size_t)w * h;
    for (size_t i = 0; i < n; i++)
        for (int c = 0; c < 3; c++) rgb[3 * i + c] = to_u8(planes[c * n + i]);
}

float *oiqa_luma_from_rgb(const uint8_t *rgb, int w, int h)
{
    size_t n = (size_t)w * h;
    float *y = malloc(n * sizeof(float));
    if (!y) return NULL;
    for (size_t i = 0; i < n; i++)
        y[i] = 0.299f * rgb[3 * i] + 0.587f * rgb[3 * i + 1] + 0.114f * rgb[3 * i + 2];
    return y;
}

int oiqa_iqa_check_image(const uint8_t *src, int w, int h, const uint8_t *dst)
{
    if (!src || !dst) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': no pixels given");
    if (w < 1 || h < 1 || w > 65535 || h > 65535)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': bad size %dx%d", w, h);
    return OIQA_OK;
}
