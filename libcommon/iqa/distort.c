/* The distortion families, their level table and the dispatch; see iqa/distort.h. */
#include "iqa/distort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "geo/resize.h"
#include "iqa/filter.h"

const double oiqa_dist_table[OIQA_DIST_COUNT][OIQA_DIST_BEYOND] = {
    [OIQA_DIST_JPEG] = {50, 30, 15, 8, 4, 2},
    [OIQA_DIST_BLUR] = {0.6, 1.2, 2, 3, 4.5, 6.5},
    [OIQA_DIST_NOISE] = {4, 8, 14, 20, 28, 38},
    [OIQA_DIST_RESAMPLE] = {1.5, 2, 3, 4, 6, 8},
    [OIQA_DIST_JPEG2000] = {50, 100, 200, 400, 800, 1600},
    [OIQA_DIST_H264] = {30, 35, 40, 45, 50, 51},
    [OIQA_DIST_HEVC] = {30, 35, 40, 45, 50, 51},
};

static const char *const names[OIQA_DIST_COUNT] = {"jpeg", "blur", "noise", "resample", "jpeg2000", "h264", "hevc"};
static const char *const param_names[OIQA_DIST_COUNT] = {"quality", "sigma", "sigma", "factor", "ratio", "qp", "qp"};

const char *oiqa_dist_param_name(oiqa_dist_family f)
{
    return f >= 0 && f < OIQA_DIST_COUNT ? param_names[f] : "?";
}

int oiqa_dist_needs_ffmpeg(oiqa_dist_family f)
{
    return f == OIQA_DIST_H264 || f == OIQA_DIST_HEVC;
}

const char *oiqa_dist_name(oiqa_dist_family f)
{
    if (f == OIQA_DIST_NONE) return "none";
    return f >= 0 && f < OIQA_DIST_COUNT ? names[f] : "?";
}

int oiqa_dist_parse(const char *name, oiqa_dist_family *f)
{
    for (int i = 0; name && i < OIQA_DIST_COUNT; i++)
        if (!strcmp(name, names[i])) {
            *f = (oiqa_dist_family)i;
            return OIQA_OK;
        }
    return oiqa_fail(OIQA_EXIT_USAGE, NULL,
                     "key 'distortion': unknown family '%s' (jpeg, blur, noise, resample, jpeg2000, h264, hevc)",
                     name ? name : "(null)");
}

double oiqa_dist_param(oiqa_dist_family f, int level)
{
    if (f < 0 || f >= OIQA_DIST_COUNT || level < 1 || level > OIQA_DIST_BEYOND) return NAN;
    return oiqa_dist_table[f][level - 1];
}

int oiqa_gaussian_blur(const uint8_t *src, int w, int h, double sigma, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (!(sigma >= 0) || sigma > 100)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'sigma': %g is outside 0..100", sigma);
    float *p = oiqa_planes_from_rgb(src, w, h);
    if (!p) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for a %dx%d blur", w, h);
    size_t n = (size_t)w * h;
    for (int c = 0; c < 3 && !rc; c++) rc = oiqa_gauss_blur_f(p + c * n, p + c * n, w, h, sigma);
    if (!rc) oiqa_planes_to_rgb(p, w, h, dst);
    free(p);
    return rc;
}

int oiqa_awgn(const uint8_t *src, int w, int h, double sigma, uint64_t seed, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (!(sigma >= 0) || sigma > 255)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'sigma': %g is outside 0..255", sigma);
    /* One stream in raster order: the same bytes on every thread count. */
    oiqa_rng r;
    oiqa_rng_seed(&r, seed);
    size_t n = (size_t)w * h * 3;
    for (size_t i = 0; i < n; i++) {
        double v = rint(src[i] + sigma * oiqa_rng_normal(&r));
        dst[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return OIQA_OK;
}

int oiqa_resample(const uint8_t *src, int w, int h, double factor, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (!(factor >= 1) || factor > 64)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'factor': %g is outside 1..64", factor);
    int sw = (int)lrint(w / factor), sh = (int)lrint(h / factor);
    sw = sw < 1 ? 1 : sw, sh = sh < 1 ? 1 : sh;
    uint8_t *small = malloc((size_t)sw * sh * 3);
    if (!small) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for resampling %dx%d", w, h);
    oiqa_image in = {w, h, (uint8_t *)src};
    rc = oiqa_resize_rgb_u8(&in, sw, sh, small);
    if (!rc) {
        oiqa_image mid = {sw, sh, small};
        rc = oiqa_resize_rgb_u8(&mid, w, h, dst);
    }
    free(small);
    return rc;
}

int oiqa_distort_param(const uint8_t *src, int w, int h, oiqa_dist_family f, double param, uint64_t seed,
                       uint8_t *dst)
{
    switch (f) {
    case OIQA_DIST_JPEG:
        if (!(param >= 1 && param <= 100) || param != floor(param))
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'quality': %g is not a whole number in 1..100", param);
        return oiqa_jpeg_recompress(src, w, h, (int)param, dst);
    case OIQA_DIST_BLUR: return oiqa_gaussian_blur(src, w, h, param, dst);
    case OIQA_DIST_NOISE: return oiqa_awgn(src, w, h, param, seed, dst);
    case OIQA_DIST_RESAMPLE: return oiqa_resample(src, w, h, param, dst);
    case OIQA_DIST_JPEG2000: return oiqa_jpeg2000_recompress(src, w, h, param, dst);
    case OIQA_DIST_H264:
    case OIQA_DIST_HEVC:
        if (!(param >= 0 && param <= 51) || param != floor(param))
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'qp': %g is not a whole number in 0..51", param);
        return oiqa_video_recompress(src, w, h, 1, f, (int)param, dst);
    default: return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'distortion': unknown family %d", (int)f);
    }
}

int oiqa_distort_level(const uint8_t *src, int w, int h, oiqa_dist_family f, int level, uint64_t seed,
                       uint8_t *dst)
{
    if (f < 0 || f >= OIQA_DIST_COUNT)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'distortion': unknown family %d", (int)f);
    if (level < 1 || level > OIQA_DIST_BEYOND)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'level': %d is outside 1..%d", level, OIQA_DIST_BEYOND);
    return oiqa_distort_param(src, w, h, f, oiqa_dist_table[f][level - 1], seed, dst);
}
