/* Restorers for distortions that live on the coded image's pixel grid
 * (jpeg, jpeg2000, h264, hevc) and the per-family restorer of one viewport;
 * see iqa/restore.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "iqa/dct_shift.h"
#include "iqa/deblur.h"
#include "iqa/filter.h"
#include "iqa/nlmeans.h"
#include "iqa/restore.h"

int oiqa_restore_is_grid_family(oiqa_dist_family f)
{
    return f == OIQA_DIST_JPEG || f == OIQA_DIST_JPEG2000 || f == OIQA_DIST_H264 || f == OIQA_DIST_HEVC;
}

double oiqa_restore_threshold(int level)
{
    return 4.0 + 2.5 * (level < 1 ? 1 : level > OIQA_DIST_LEVELS ? OIQA_DIST_LEVELS : level);
}

/* BT.601 full-range chroma of one pixel. */
static inline void to_cbcr(const uint8_t *p, float *cb, float *cr)
{
    *cb = -0.168736f * p[0] - 0.331264f * p[1] + 0.5f * p[2];
    *cr = 0.5f * p[0] - 0.418688f * p[1] - 0.081312f * p[2];
}

static inline uint8_t clamp_u8(float v)
{
    return v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)lrintf(v);
}

int oiqa_chroma_reinterpolate(const uint8_t *src, int w, int h, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    int hw = w / 2, hh = h / 2;
    if (hw < 1 || hh < 1) {
        if (dst != src) memcpy(dst, src, (size_t)w * h * 3);
        return OIQA_OK;
    }
    float *cb = malloc((size_t)hw * hh * sizeof(float)), *cr = malloc((size_t)hw * hh * sizeof(float));
    if (!cb || !cr) {
        free(cb), free(cr);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for the chroma of %dx%d", w, h);
    }
    for (int j = 0; j < hh; j++)
        for (int i = 0; i < hw; i++) {
            float sb = 0, sr = 0, b, r;
            for (int k = 0; k < 4; k++) {
                to_cbcr(src + ((size_t)(2 * j + k / 2) * w + 2 * i + k % 2) * 3, &b, &r);
                sb += b, sr += r;
            }
            cb[(size_t)j * hw + i] = sb / 4, cr[(size_t)j * hw + i] = sr / 4;
        }
    /* Pixels of the 2x2 blocks, bilinear at the block centres (3/4, 1/4);
     * an odd last row or column keeps its own chroma. */
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *o = dst + ((size_t)y * w + x) * 3;
            const uint8_t *p = src + ((size_t)y * w + x) * 3;
            if (x >= 2 * hw || y >= 2 * hh) {
                if (o != p) memcpy(o, p, 3);
                continue;
            }
            int i = x / 2, j = y / 2;
            int i2 = x % 2 ? (i + 1 < hw ? i + 1 : i) : (i > 0 ? i - 1 : i);
            int j2 = y % 2 ? (j + 1 < hh ? j + 1 : j) : (j > 0 ? j - 1 : j);
            const float a = 0.5625f, b1 = 0.1875f, d = 0.0625f; /* (3/4)^2, 3/4 * 1/4, (1/4)^2 */
            size_t k00 = (size_t)j * hw + i, k01 = (size_t)j * hw + i2, k10 = (size_t)j2 * hw + i, k11 = (size_t)j2 * hw + i2;
            float b = a * cb[k00] + b1 * (cb[k01] + cb[k10]) + d * cb[k11];
            float r = a * cr[k00] + b1 * (cr[k01] + cr[k10]) + d * cr[k11];
            float yv = 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
            o[0] = clamp_u8(yv + 1.402f * r);
            o[1] = clamp_u8(yv - 0.344136f * b - 0.714136f * r);
            o[2] = clamp_u8(yv + 1.772f * b);
        }
    free(cb), free(cr);
    return OIQA_OK;
}

/* The luma of src through the shift-averaged DCT filter, the change added
 * to every channel (the chroma stays). */
static int luma_dct_filter(const uint8_t *src, int w, int h, const float q[64], oiqa_dct_mode mode, float offset,
                           uint8_t *dst)
{
    size_t n = (size_t)w * h;
    float *y = oiqa_luma_from_rgb(src, w, h), *f = malloc(n * sizeof(float));
    if (!y || !f) {
        free(y), free(f);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for restoring %dx%d", w, h);
    }
    for (size_t k = 0; k < n; k++) y[k] -= offset;
    int rc = oiqa_dct_shift_filter(y, f, w, h, q, mode, OIQA_RESTORE_DCT_STEP);
    if (!rc)
        for (size_t k = 0; k < n; k++) {
            float d = f[k] - y[k];
            for (int c = 0; c < 3; c++) dst[3 * k + c] = clamp_u8(src[3 * k + c] + d);
        }
    free(y), free(f);
    return rc;
}

int oiqa_restore_grid(const uint8_t *src, int w, int h, const oiqa_detection *det, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (!det || !oiqa_restore_is_grid_family(det->family))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'restore': family %s is not restored on the image grid",
                         det ? oiqa_dist_name(det->family) : "(none)");
    float q[64];
    if (det->family == OIQA_DIST_JPEG) {
        /* JPEG's DCT sees Y - 128 (T.81 A.3.1): the lattice is of that. */
        oiqa_jpeg_luma_table(det->quality > 0 ? det->quality : (int)lrint(det->strength), q);
        return luma_dct_filter(src, w, h, q, OIQA_DCT_REQUANT, 128.0f, dst);
    }
    float t = (float)oiqa_restore_threshold(det->level);
    for (int k = 0; k < 64; k++) q[k] = t;
    const uint8_t *in = src;
    if ((det->family == OIQA_DIST_H264 || det->family == OIQA_DIST_HEVC) && det->chroma_pairs <= 0.4) {
        rc = oiqa_chroma_reinterpolate(src, w, h, dst);
        in = dst;
    }
    if (!rc) rc = luma_dct_filter(in, w, h, q, OIQA_DCT_HARD, 0.0f, dst);
    return rc;
}

int oiqa_restore_family(const uint8_t *src, int w, int h, const oiqa_detection *det, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    oiqa_dist_family f = det ? det->family : OIQA_DIST_NONE;
    if (oiqa_restore_is_grid_family(f)) return oiqa_restore_grid(src, w, h, det, dst);
    if (f == OIQA_DIST_NOISE) return oiqa_nlmeans(src, w, h, 0, dst, NULL);
    if (f == OIQA_DIST_BLUR) {
        /* The viewport's own width: resampling changes it from the ERP's. */
        double s = w >= 16 && h >= 16 ? oiqa_blur_sigma(src, w, h) : NAN;
        if (isnan(s)) s = det->strength;
        const double base = OIQA_DEBLUR_BASE_SIGMA;
        return oiqa_deblur(src, w, h, sqrt(fmax(s * s - base * base, 0.09)), 0, dst, NULL);
    }
    if (dst != src) memcpy(dst, src, (size_t)w * h * 3);
    return OIQA_OK;
}
