/* Non-local means by integral images over offsets; see iqa/nlmeans.h. */
#include "iqa/nlmeans.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "iqa/filter.h"
#include "iqa/noise_est.h"

int oiqa_nlmeans(const uint8_t *src, int w, int h, double sigma, uint8_t *dst, double *used_sigma)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (isnan(sigma) || sigma > 255) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'sigma': %g is outside 0..255", sigma);
    if (sigma <= 0) {
        sigma = oiqa_noise_sigma(src, w, h);
        if (isnan(sigma)) sigma = 0;
    }
    if (used_sigma) *used_sigma = sigma;
    if (sigma < 0.5) { /* nothing worth removing */
        if (dst != src) memcpy(dst, src, (size_t)w * h * 3);
        return OIQA_OK;
    }
    const int f = sigma > 25 ? 2 : 1, r = sigma > 25 ? 10 : 7;
    /* 0.8 x IPOL's h: a blind sigma is inflated by texture, so filter a little less. */
    const double hh = 0.8 * (sigma > 25 ? 0.4 : 0.55) * sigma;
    const float inv_h2 = (float)(1 / (hh * hh)), two_s2 = (float)(2 * sigma * sigma);
    const float norm = 1.0f / (3 * (2 * f + 1) * (2 * f + 1));

    /* Padded planar copy: margin m = r + f on every side. */
    const int m = r + f, pw = w + 2 * m, ph = h + 2 * m;
    /* The distance region: pixels q of [-f, w-1+f] x [-f, h-1+f]; integral
     * image I of size (dw+1) x (dh+1) with a zero first row and column. */
    const int dw = w + 2 * f, dh = h + 2 * f;
    size_t np = (size_t)pw * ph, n = (size_t)w * h;
    int16_t *pad = malloc(3 * np * sizeof(int16_t));
    int64_t *integ = malloc((size_t)(dw + 1) * (dh + 1) * sizeof(int64_t));
    float *acc = calloc(5 * n, sizeof(float)); /* sum w*R, w*G, w*B, sum w, max w */
    if (!pad || !integ || !acc) {
        free(pad), free(integ), free(acc);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for non-local means of %dx%d", w, h);
    }
    for (int y = 0; y < ph; y++)
        for (int x = 0; x < pw; x++) {
            const uint8_t *s = src + ((size_t)oiqa_reflect_index(y - m, h) * w + oiqa_reflect_index(x - m, w)) * 3;
            for (int c = 0; c < 3; c++) pad[c * np + (size_t)y * pw + x] = s[c];
        }
    float *sum_w = acc + 3 * n, *max_w = acc + 4 * n;
    /* Box sums are integers: tabulate the weight of every sum below the
     * point where it vanishes (exp(-40)), with the same float expression
     * as the direct formula, so the table changes speed only. */
    int64_t lut_n = (int64_t)((40.0 / inv_h2 + two_s2) / norm) + 2;
    if (lut_n > (1 << 20)) lut_n = 1 << 20;
    float *lut = malloc((size_t)lut_n * sizeof(float));
    if (!lut) {
        free(pad), free(integ), free(acc);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for non-local means of %dx%d", w, h);
    }
    for (int64_t b = 0; b < lut_n; b++) {
        float d2 = (float)b * norm - two_s2;
        lut[b] = d2 > 0 ? expf(-d2 * inv_h2) : 1.0f;
    }
    int big = (double)n * 9 >= OIQA_IQA_PARALLEL_WORK;
    for (int oy = -r; oy <= r; oy++)
        for (int ox = -r; ox <= r; ox++) {
            if (!ox && !oy) continue;
            /* Squared colour differences between q and q + o, summed into I. */
            for (size_t i = 0; i <= (size_t)dw; i++) integ[i] = 0;
            for (int y = 0; y < dh; y++) {
                int64_t *row = integ + (size_t)(y + 1) * (dw + 1), *above = row - (dw + 1);
                size_t base = (size_t)(y - f + m) * pw + (m - f);
                size_t shifted = base + (ptrdiff_t)oy * pw + ox;
                int64_t run = 0;
                row[0] = 0;
                for (int x = 0; x < dw; x++) {
                    int d0 = pad[base + x] - pad[shifted + x];
                    int d1 = pad[np + base + x] - pad[np + shifted + x];
                    int d2 = pad[2 * np + base + x] - pad[2 * np + shifted + x];
                    run += d0 * d0 + d1 * d1 + d2 * d2;
                    row[x + 1] = above[x + 1] + run;
                }
            }
#pragma omp parallel for schedule(static) if (big)
            for (int y = 0; y < h; y++) {
                const int64_t *top = integ + (size_t)y * (dw + 1), *bot = integ + (size_t)(y + 2 * f + 1) * (dw + 1);
                size_t shifted = (size_t)(y + m + oy) * pw + m + ox;
                for (int x = 0; x < w; x++) {
                    int64_t box = bot[x + 2 * f + 1] - bot[x] - top[x + 2 * f + 1] + top[x];
                    float wt;
                    if (box < lut_n) wt = lut[box];
                    else {
                        float d2 = (float)box * norm - two_s2;
                        wt = expf(-d2 * inv_h2);
                    }
                    size_t i = (size_t)y * w + x;
                    acc[i] += wt * pad[shifted + x];
                    acc[n + i] += wt * pad[np + shifted + x];
                    acc[2 * n + i] += wt * pad[2 * np + shifted + x];
                    sum_w[i] += wt;
                    if (wt > max_w[i]) max_w[i] = wt;
                }
            }
        }
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x, pc = (size_t)(y + m) * pw + x + m;
            float wc = max_w[i] > 0 ? max_w[i] : 1.0f, tw = sum_w[i] + wc;
            for (int c = 0; c < 3; c++) {
                float v = (acc[c * n + i] + wc * pad[c * np + pc]) / tw;
                dst[3 * i + c] = (uint8_t)(v <= 0 ? 0 : v >= 255 ? 255 : lrintf(v));
            }
        }
    free(pad), free(integ), free(acc), free(lut);
    return OIQA_OK;
}
