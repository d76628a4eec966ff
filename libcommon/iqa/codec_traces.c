/* Codec traces on the decoded pixel grid; see iqa/codec_traces.h. */
#include "iqa/codec_traces.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "iqa/filter.h"

/* CDF 9/7 lifting constants (Daubechies & Sweldens 1998, as in ISO/IEC
 * 15444-1 Annex F), with the band scaling K applied as low * K, high / K. */
#define L97_A (-1.586134342)
#define L97_B (-0.05298011854)
#define L97_G 0.8829110762
#define L97_D 0.4435068522
#define L97_K 1.149604398

/* One line x[0..n-1] (n even, stride s) -> low half then high half in out. */
static void lift97(const float *x, ptrdiff_t s, int n, float *work, float *out, ptrdiff_t os)
{
    for (int i = 0; i < n; i++) work[i] = x[i * s];
    const double c[4] = {L97_A, L97_B, L97_G, L97_D};
    for (int step = 0; step < 4; step++) {
        int first = step % 2 ? 0 : 1; /* odd samples first, then even, twice */
        for (int i = first; i < n; i += 2) {
            float l = work[i > 0 ? i - 1 : i + 1], r = work[i + 1 < n ? i + 1 : i - 1]; /* whole-sample mirror */
            work[i] += (float)c[step] * (l + r);
        }
    }
    int m = n / 2;
    for (int k = 0; k < m; k++) {
        out[k * os] = work[2 * k] * (float)L97_K;
        out[(m + k) * os] = work[2 * k + 1] / (float)L97_K;
    }
}

void oiqa_dwt97_level(float *p, int w, int h, float *tmp)
{
    int big = w > h ? w : h;
    float *work = tmp, *line = tmp + big;
    for (int y = 0; y < h; y++) {
        lift97(p + (size_t)y * w, 1, w, work, line, 1);
        memcpy(p + (size_t)y * w, line, (size_t)w * sizeof(float));
    }
    for (int x = 0; x < w; x++) {
        lift97(p + x, w, h, work, line, 1);
        for (int y = 0; y < h; y++) p[(size_t)y * w + x] = line[y];
    }
}

/* Mean |d| and the fraction below 1 of the three detail bands of a level
 * already in p (w x h, LL top left). */
static void detail_stats(const float *p, int w, int h, double *mean_abs, double *zero_frac)
{
    int hw = w / 2, hh = h / 2;
    double s = 0;
    size_t zeros = 0, n = 0;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            if (x < hw && y < hh) continue;
            float a = fabsf(p[(size_t)y * w + x]);
            s += a, zeros += a < 1.0f, n++;
        }
    *mean_abs = n ? s / n : 0;
    *zero_frac = n ? (double)zeros / n : 0;
}

/* The zero fraction of level 1 on the w x h window of y at (x0, y0). */
static double level1_zero_frac(const float *y, int stride, int x0, int y0, int w, int h, float *buf, float *tmp)
{
    for (int j = 0; j < h; j++) memcpy(buf + (size_t)j * w, y + (size_t)(y0 + j) * stride + x0, (size_t)w * sizeof(float));
    oiqa_dwt97_level(buf, w, h, tmp);
    double m, z;
    detail_stats(buf, w, h, &m, &z);
    return z;
}

/* Mean of the |dC| profile over x mod 16 in both directions, each
 * normalised to its own mean, into prof[16] (accumulated). */
static void step_profile(const float *c, int w, int h, double *prof)
{
    double d[2][16] = {{0}};
    long cnt[2][16] = {{0}};
    for (int y = 0; y < h; y++) {
        const float *row = c + (size_t)y * w;
        for (int x = 0; x + 1 < w; x++) d[0][x & 15] += fabsf(row[x + 1] - row[x]), cnt[0][x & 15]++;
        if (y + 1 < h)
            for (int x = 0; x < w; x++) d[1][y & 15] += fabsf(row[x + w] - row[x]), cnt[1][y & 15]++;
    }
    for (int k = 0; k < 2; k++) {
        double mean = 0;
        for (int p = 0; p < 16; p++) d[k][p] = cnt[k][p] ? d[k][p] / cnt[k][p] : 0, mean += d[k][p] / 16;
        for (int p = 0; p < 16; p++) prof[p] += mean > 1e-12 ? d[k][p] / mean / 2 : 0.5;
    }
}

int oiqa_codec_traces_measure(const uint8_t *rgb, int w, int h, oiqa_codec_traces *out)
{
    if (!rgb || !out || w < 32 || h < 32)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': %dx%d is below the codec traces' 32x32", w, h);
    size_t n = (size_t)w * h;
    float *y = malloc(n * sizeof(float)), *cb = malloc(n * sizeof(float)), *cr = malloc(n * sizeof(float));
    float *buf = malloc(n * sizeof(float)), *tmp = malloc(3 * (size_t)(w > h ? w : h) * sizeof(float));
    if (!y || !cb || !cr || !buf || !tmp) {
        free(y), free(cb), free(cr), free(buf), free(tmp);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for the codec traces of %dx%d", w, h);
    }
    for (size_t k = 0; k < n; k++) {
        float r = rgb[3 * k], g = rgb[3 * k + 1], b = rgb[3 * k + 2];
        y[k] = 0.299f * r + 0.587f * g + 0.114f * b;
        cb[k] = -0.168736f * r - 0.331264f * g + 0.5f * b;
        cr[k] = 0.5f * r - 0.418688f * g - 0.081312f * b;
    }
    double prof[16] = {0};
    step_profile(cb, w, h, prof);
    step_profile(cr, w, h, prof);
    double even = 0, odd = 0;
    for (int p = 0; p < 16; p++) *(p % 2 ? &odd : &even) += prof[p];
    out->chroma_pairs = odd > 1e-12 ? even / odd : 1;
    out->chroma_pattern = prof[1] + prof[13] > 1e-12 ? (prof[7] + prof[15]) / (prof[1] + prof[13]) : 1;

    /* Aligned and (1,1)-shifted windows of the same even size. */
    int ww = (w - 2) / 4 * 4, wh = (h - 2) / 4 * 4;
    out->wavelet_lattice = level1_zero_frac(y, w, 0, 0, ww, wh, buf, tmp) - level1_zero_frac(y, w, 1, 1, ww, wh, buf, tmp);

    /* Detail decay: levels 2 and 3 of the Mallat pyramid, each LL halved
     * before the next level and level k's details divided by 2^k. */
    int lw = w / 8 * 8, lh = h / 8 * 8;
    for (int j = 0; j < lh; j++) memcpy(buf + (size_t)j * lw, y + (size_t)j * w, (size_t)lw * sizeof(float));
    double mean[3] = {0}, z;
    for (int lev = 0; lev < 3; lev++) {
        oiqa_dwt97_level(buf, lw, lh, tmp);
        detail_stats(buf, lw, lh, &mean[lev], &z);
        mean[lev] /= (double)(1 << lev);
        int hw = lw / 2, hh = lh / 2; /* LL / 2 into a contiguous hw x hh plane */
        for (int j = 0; j < hh; j++)
            for (int i = 0; i < hw; i++) buf[(size_t)j * hw + i] = buf[(size_t)j * lw + i] * 0.5f;
        lw = hw, lh = hh;
        if (lw < 2 || lh < 2 || (lw & 1) || (lh & 1)) break;
    }
    out->detail_decay = mean[2] > 1e-12 ? mean[1] / mean[2] : 1;
    free(y), free(cb), free(cr), free(buf), free(tmp);
    return OIQA_OK;
}
