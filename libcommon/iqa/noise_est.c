/* Immerkaer's noise estimate with Tai & Yang's edge exclusion; see iqa/noise_est.h. */
#include "iqa/noise_est.h"

#include <math.h>
#include <stdlib.h>

#include "iqa/filter.h"

double oiqa_noise_sigma_plane(const float *p, int w, int h)
{
    if (w < 3 || h < 3) return NAN;
    size_t m = (size_t)(w - 2) * (h - 2);
    float *g = malloc(m * sizeof(float)), *r = malloc(m * sizeof(float));
    if (!g || !r) {
        free(g), free(r);
        return NAN;
    }
    int hist[1024] = {0};
    size_t k = 0;
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++, k++) {
            const float *a = p + (size_t)(y - 1) * w + x, *b = a + w, *c = b + w;
            float gx = (a[1] + 2 * b[1] + c[1]) - (a[-1] + 2 * b[-1] + c[-1]);
            float gy = (c[-1] + 2 * c[0] + c[1]) - (a[-1] + 2 * a[0] + a[1]);
            g[k] = fabsf(gx) + fabsf(gy);
            r[k] = fabsf(a[-1] - 2 * a[0] + a[1] - 2 * b[-1] + 4 * b[0] - 2 * b[1] + c[-1] - 2 * c[0] + c[1]);
            int bin = (int)(g[k] / 2);
            hist[bin > 1023 ? 1023 : bin]++;
        }
    /* Threshold at the 90th percentile of the Sobel magnitude (bins of 2). */
    size_t want = m - m / 10, acc = 0;
    int tbin = 0;
    while (tbin < 1023 && acc + hist[tbin] < want) acc += hist[tbin++];
    float thr = 2.0f * (tbin + 1);
    double sum = 0;
    size_t used = 0;
    for (k = 0; k < m; k++)
        if (g[k] < thr) sum += r[k], used++;
    free(g), free(r);
    if (!used) return 0;
    return sqrt(M_PI / 2) * sum / (6.0 * used);
}

/* The k-th smallest of v[0..n-1] (0-based), reordering v: Hoare's
 * quickselect with a median-of-three pivot, O(n) expected. */
static float select_kth(float *v, size_t n, size_t k)
{
    size_t lo = 0, hi = n - 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        float a = v[lo], b = v[mid], c = v[hi];
        float pivot = a < b ? (b < c ? b : a < c ? c : a) : (a < c ? a : b < c ? c : b);
        size_t i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) {
                float t = v[i];
                v[i] = v[j], v[j] = t;
                i++;
                if (j == 0) break;
                j--;
            }
        }
        if (k <= j) hi = j;
        else if (k >= i) lo = i;
        else return v[k];
    }
    return v[k];
}

float oiqa_median_float(float *v, size_t n)
{
    if (n == 0) return NAN;
    float upper = select_kth(v, n, n / 2);
    if (n % 2) return upper;
    float lower = v[0]; /* the largest of v[0 .. n/2 - 1], all <= upper after the select */
    for (size_t i = 1; i < n / 2; i++) lower = v[i] > lower ? v[i] : lower;
    return 0.5f * (lower + upper);
}

double oiqa_noise_sigma_mad(const float *p, int w, int h)
{
    int bw = w / 2, bh = h / 2;
    if (bw < 1 || bh < 1) return NAN;
    float *v = malloc((size_t)bw * bh * sizeof(float));
    if (!v) return NAN;
    size_t k = 0;
    for (int y = 0; y < bh; y++)
        for (int x = 0; x < bw; x++) {
            const float *a = p + (size_t)(2 * y) * w + 2 * x;
            v[k++] = fabsf(a[0] - a[1] - a[w] + a[w + 1]) / 2;
        }
    double med = oiqa_median_float(v, k);
    free(v);
    return med / 0.6745;
}

double oiqa_noise_sigma(const uint8_t *rgb, int w, int h)
{
    if (!rgb || w < 3 || h < 3) return NAN;
    float *pl = oiqa_planes_from_rgb(rgb, w, h);
    if (!pl) return NAN;
    size_t n = (size_t)w * h;
    double s = 0;
    for (int c = 0; c < 3; c++) {
        double a = oiqa_noise_sigma_plane(pl + c * n, w, h), b = oiqa_noise_sigma_mad(pl + c * n, w, h);
        s += fmin(a, b); /* texture inflates both, differently: the smaller is nearer */
    }
    free(pl);
    return s / 3;
}
