/* Blockiness, JPEG quality estimation and H.264-style deblocking; see iqa/deblock.h. */
#include "iqa/deblock.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "iqa/filter.h"

static double direction_blockiness(const float *y, int w, int h, int dx, int *phase)
{
    double d[8] = {0};
    long cnt[8] = {0};
    int len = dx ? w : h;
    for (int j = 0; j < h - !dx; j++)
        for (int i = 0; i < w - dx; i++) {
            size_t k = (size_t)j * w + i;
            float diff = fabsf(y[k + (dx ? 1 : (size_t)w)] - y[k]);
            int pos = dx ? i : j;
            d[pos % 8] += diff, cnt[pos % 8]++;
        }
    (void)len;
    int best = 0;
    for (int p = 0; p < 8; p++) {
        d[p] = cnt[p] ? d[p] / cnt[p] : 0;
        if (d[p] > d[best]) best = p;
    }
    double others = 0;
    for (int p = 0; p < 8; p++)
        if (p != best) others += d[p] / 7;
    if (phase) *phase = best;
    return others > 1e-9 ? d[best] / others : 1.0;
}

double oiqa_blockiness(const uint8_t *rgb, int w, int h, int *phase_x, int *phase_y)
{
    if (!rgb || w < 16 || h < 16) return NAN;
    float *y = oiqa_luma_from_rgb(rgb, w, h);
    if (!y) return NAN;
    double b = 0.5 * (direction_blockiness(y, w, h, 1, phase_x) + direction_blockiness(y, w, h, 0, phase_y));
    free(y);
    return b;
}

/* The DC step of the luma blocks, or 0 (see iqa/deblock.h): the step q in
 * 6..255 whose lattice fits the most blocks beyond chance, i.e. maximises
 * fit(q) - (2 tol + 1) / q with fit(q) the fraction of blocks whose DC lies
 * within tol of a multiple of q. tol = 4.5 covers the decoder's rounding
 * and the RGB round trip (the 95th percentile of the DC error is about 4 on
 * the shipped panoramas). Blocks at the clipping limits (mean luma <= 2 or
 * >= 253) carry no lattice and are left out; the fitting blocks must use
 * at least three multiples (an effective number exp(entropy) >= 3), so that
 * a few large flat areas do not fit a coarse step; the excess must reach
 * OIQA_JPEG_LATTICE_MIN. */
static int dc_step(const float *y, int w, int h, int x0, int y0)
{
    int nbx = (w - x0) / 8, nby = (h - y0) / 8;
    if (nbx < 1 || nby < 1) return 0;
    double *dc = malloc((size_t)nbx * nby * sizeof(double));
    if (!dc) return 0;
    int nb = 0;
    for (int by = 0; by < nby; by++)
        for (int bx = 0; bx < nbx; bx++) {
            double s = 0;
            for (int j = 0; j < 8; j++)
                for (int i = 0; i < 8; i++) s += y[(size_t)(y0 + 8 * by + j) * w + x0 + 8 * bx + i];
            double mean = s / 64;
            if (mean > 2 && mean < 253) dc[nb++] = 8 * (mean - 128.0); /* JPEG's DC: 8 x the block mean of Y - 128 */
        }
    const double tol = 4.5;
    int best_q = 0;
    double best = OIQA_JPEG_LATTICE_MIN;
    int *count = malloc(2 * 256 * sizeof(int)); /* multiples -255..255 of q >= 6 cover |DC| <= 1024 */
    for (int q = 6; q <= 255 && count && nb >= 8; q++) {
        memset(count, 0, 2 * 256 * sizeof(int));
        int fit = 0;
        for (int k = 0; k < nb; k++) {
            int m = (int)lrint(dc[k] / q);
            if (fabs(dc[k] - (double)m * q) <= tol && m > -256 && m < 256) fit++, count[m + 256]++;
        }
        double excess = (double)fit / nb - fmin(1.0, (2 * tol + 1) / q);
        if (excess <= best) continue;
        double ent = 0;
        for (int m = 0; m < 512; m++)
            if (count[m]) {
                double p = (double)count[m] / fit;
                ent -= p * log(p);
            }
        if (exp(ent) >= 3) best = excess, best_q = q;
    }
    free(count);
    free(dc);
    return best_q;
}

static int quality_from_step(int q_dc)
{
    if (q_dc <= 0) return 0;
    double s = q_dc * 100.0 / 16.0; /* IJG: step = (16 s + 50) / 100 */
    double q = s > 100 ? 5000 / s : (200 - s) / 2;
    int qi = (int)lrint(q);
    return qi < 1 ? 1 : qi > 100 ? 100 : qi;
}

int oiqa_jpeg_quality_estimate(const uint8_t *rgb, int w, int h, int phase_x, int phase_y)
{
    if (!rgb || w < 8 || h < 8) return 0;
    float *y = oiqa_luma_from_rgb(rgb, w, h);
    if (!y) return 0;
    int q = quality_from_step(dc_step(y, w, h, ((phase_x % 8) + 9) % 8, ((phase_y % 8) + 9) % 8));
    free(y);
    return q;
}

/* The luma DC step of the IJG tables at a quality. */
static double step_from_quality(int quality)
{
    double s = quality < 50 ? 5000.0 / quality : 200.0 - 2 * quality;
    double q = floor((16 * s + 50) / 100);
    return q < 1 ? 1 : q > 255 ? 255 : q;
}

typedef struct {
    float alpha, beta;
} edge_thresholds;

/* One edge sample: v[k * stride], k = -4..3 (p3..p0 at -4..-1, q0..q3 at 0..3). */
static inline void filter_edge(float *v, ptrdiff_t s, edge_thresholds t)
{
    float p0 = v[-s], p1 = v[-2 * s], p2 = v[-3 * s], p3 = v[-4 * s];
    float q0 = v[0], q1 = v[s], q2 = v[2 * s], q3 = v[3 * s];
    if (!(fabsf(p0 - q0) < t.alpha && fabsf(p1 - p0) < t.beta && fabsf(q1 - q0) < t.beta)) return;
    int small_step = fabsf(p0 - q0) < t.alpha / 4 + 2;
    if (small_step && fabsf(p2 - p0) < t.beta) {
        v[-s] = (p2 + 2 * p1 + 2 * p0 + 2 * q0 + q1) / 8;
        v[-2 * s] = (p2 + p1 + p0 + q0) / 4;
        v[-3 * s] = (2 * p3 + 3 * p2 + p1 + p0 + q0) / 8;
    } else {
        v[-s] = (2 * p1 + p0 + q1) / 4;
    }
    if (small_step && fabsf(q2 - q0) < t.beta) {
        v[0] = (p1 + 2 * p0 + 2 * q0 + 2 * q1 + q2) / 8;
        v[s] = (p0 + q0 + q1 + q2) / 4;
        v[2 * s] = (2 * q3 + 3 * q2 + q1 + q0 + p0) / 8;
    } else {
        v[0] = (2 * q1 + q0 + p1) / 4;
    }
}

static void deblock_plane(float *p, int w, int h, int x0, int y0, edge_thresholds t)
{
    /* Vertical edges (between columns x-1 and x), then horizontal ones. */
    for (int y = 0; y < h; y++)
        for (int x = x0; x < w; x += 8)
            if (x >= 4 && x + 3 < w) filter_edge(p + (size_t)y * w + x, 1, t);
    for (int y = y0; y < h; y += 8)
        if (y >= 4 && y + 3 < h)
            for (int x = 0; x < w; x++) filter_edge(p + (size_t)y * w + x, w, t);
}

int oiqa_deblock(const uint8_t *src, int w, int h, int quality, uint8_t *dst, int *used_quality)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (quality < 0 || quality > 100)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'quality': %d is outside 1..100 (0: estimate)", quality);
    int px = 7, py = 7; /* boundaries after columns 7, 15, ...: a grid at the origin */
    if (quality == 0) {
        /* The detected grid, and the origin's (where a viewport's own JPEG puts it). */
        double b = oiqa_blockiness(src, w, h, &px, &py);
        quality = isnan(b) ? 0 : oiqa_jpeg_quality_estimate(src, w, h, px, py);
        int q0 = oiqa_jpeg_quality_estimate(src, w, h, 7, 7);
        if (q0 && (!quality || q0 < quality)) quality = q0, px = py = 7;
    }
    if (used_quality) *used_quality = quality;
    if (quality == 0) {
        if (dst != src) memcpy(dst, src, (size_t)w * h * 3);
        return OIQA_OK;
    }
    /* +3: half a step of H.264's QP per Qstep doubling above a plain Qstep match,
     * tuned on panorama crops so that quality 50 still gains (docs/iqa.md). */
    double a_idx = 6 * log2(step_from_quality(quality) / 0.625) + 3;
    edge_thresholds t = {(float)fmin(255, 0.8 * (exp2(a_idx / 6) - 1)), (float)fmin(18, fmax(0, 0.5 * a_idx - 7))};
    float *pl = oiqa_planes_from_rgb(src, w, h);
    if (!pl) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for deblocking %dx%d", w, h);
    size_t n = (size_t)w * h;
#pragma omp parallel for schedule(static) if ((double)n >= OIQA_IQA_PARALLEL_WORK / 8)
    for (int c = 0; c < 3; c++) deblock_plane(pl + c * n, w, h, (px + 1) % 8, (py + 1) % 8, t);
    oiqa_planes_to_rgb(pl, w, h, dst);
    free(pl);
    return OIQA_OK;
}
