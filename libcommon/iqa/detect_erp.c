/* The whole-image (ERP) detector; see iqa/detect.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "iqa/codec_traces.h"
#include "iqa/deblock.h"
#include "iqa/deblur.h"
#include "iqa/detect.h"
#include "iqa/noise_est.h"

double oiqa_noise_sigma_cross(const uint8_t *rgb, int w, int h)
{
    if (!rgb || w < 4 || h < 4) return NAN;
    size_t n = (size_t)w * h;
    double chroma = 0;
    for (size_t k = 0; k < n; k += 7) chroma += abs(rgb[3 * k] - rgb[3 * k + 1]) + abs(rgb[3 * k + 2] - rgb[3 * k + 1]);
    if (chroma / ((n + 6) / 7) < 1.0) return oiqa_noise_sigma(rgb, w, h); /* grey: no channel difference to use */
    float *d = malloc(n * sizeof(float));
    if (!d) return NAN;
    double s = 0;
    for (int c = 0; c < 3; c += 2) { /* R - G, then B - G */
        for (size_t k = 0; k < n; k++) d[k] = (float)rgb[3 * k + c] - (float)rgb[3 * k + 1];
        s += oiqa_noise_sigma_mad(d, w, h) / sqrt(2.0);
    }
    free(d);
    return s / 2;
}

/* Linear level models (fitted on the shipped panoramas' stills, docs/pseudoref.md). */
static double level_jpeg2000(const oiqa_detection *d)
{
    return 1.791 - 1.142 * log(fmax(d->wavelet_lattice, 1e-3)) - 1.342 * d->detail_decay;
}

static double level_video(const oiqa_detection *d)
{
    double b = log(fmax(d->blockiness - 1, 1e-3));
    return d->family == OIQA_DIST_H264 ? 5.991 - 1.608 * d->detail_decay + 0.986 * b
                                       : 7.896 - 3.132 * d->detail_decay + 0.318 * b;
}

/* The centred analysis crop: origin a multiple of 64, at most
 * OIQA_DETECT_ERP_MAX_PIXELS, the aspect of the image. */
static void analysis_crop(int w, int h, int *x0, int *y0, int *cw, int *ch)
{
    *x0 = *y0 = 0, *cw = w, *ch = h;
    if ((double)w * h <= OIQA_DETECT_ERP_MAX_PIXELS) return;
    double f = sqrt((double)OIQA_DETECT_ERP_MAX_PIXELS / ((double)w * h));
    int a = (int)(w * f) / 64 * 64, b = (int)(h * f) / 64 * 64;
    *cw = a < 64 ? (w < 64 ? w : 64) : a;
    *ch = b < 64 ? (h < 64 ? h : 64) : b;
    *x0 = (w - *cw) / 2 / 64 * 64, *y0 = (h - *ch) / 2 / 64 * 64;
}

int oiqa_detect_erp(const uint8_t *rgb, int w, int h, oiqa_detection *out)
{
    if (!rgb || !out) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': no pixels given");
    if (w < 32 || h < 32 || w > 65535 || h > 65535)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': %dx%d is below the ERP detector's 32x32", w, h);
    memset(out, 0, sizeof *out);
    out->family = OIQA_DIST_NONE;
    int x0, y0, cw, ch;
    analysis_crop(w, h, &x0, &y0, &cw, &ch);
    out->crop_x = x0, out->crop_y = y0, out->crop_w = cw, out->crop_h = ch;
    const uint8_t *img = rgb;
    uint8_t *crop = NULL;
    if (cw != w || ch != h) {
        crop = malloc((size_t)cw * ch * 3);
        if (!crop) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for a %dx%d analysis crop", cw, ch);
        for (int y = 0; y < ch; y++) memcpy(crop + (size_t)y * cw * 3, rgb + ((size_t)(y0 + y) * w + x0) * 3, (size_t)cw * 3);
        img = crop;
    }
    oiqa_codec_traces t;
    int rc = oiqa_codec_traces_measure(img, cw, ch, &t);
    if (rc) {
        free(crop);
        return rc;
    }
    out->chroma_pairs = t.chroma_pairs, out->chroma_pattern = t.chroma_pattern;
    out->wavelet_lattice = t.wavelet_lattice, out->detail_decay = t.detail_decay;
    out->blockiness = oiqa_blockiness(img, cw, ch, &out->phase_x, &out->phase_y);
    out->quality = oiqa_jpeg_quality_estimate(img, cw, ch, out->phase_x, out->phase_y);
    int q0 = oiqa_jpeg_quality_estimate(img, cw, ch, 7, 7);
    if (q0 && (!out->quality || q0 < out->quality)) out->quality = q0, out->phase_x = out->phase_y = 7;
    out->noise_sigma = oiqa_noise_sigma_cross(img, cw, ch);
    out->blur_sigma = oiqa_blur_sigma(img, cw, ch);
    free(crop);

    double lvl = 0;
    /* A JPEG lattice on an image with replicated 4:2:0 chroma: JPEG only
     * with strong blocking (smooth HEVC stills can fit a weak lattice). */
    int video_chroma = out->chroma_pairs <= OIQA_DETECT_ERP_PAIRS_MAX;
    double jpeg_blocks = video_chroma ? OIQA_DETECT_ERP_BLOCKINESS_VIDEO : OIQA_DETECT_BLOCKINESS_MIN;
    if (out->quality > 0 && out->blockiness >= jpeg_blocks) {
        out->family = OIQA_DIST_JPEG, out->strength = out->quality;
    } else if (out->wavelet_lattice >= OIQA_DETECT_ERP_LATTICE_MIN) {
        out->family = OIQA_DIST_JPEG2000;
        lvl = level_jpeg2000(out);
    } else if (video_chroma) {
        out->family = out->chroma_pattern >= OIQA_DETECT_ERP_PATTERN_H264 ? OIQA_DIST_H264 : OIQA_DIST_HEVC;
        lvl = level_video(out);
    } else if (out->noise_sigma >= OIQA_DETECT_ERP_NOISE_MIN) {
        out->family = OIQA_DIST_NOISE, out->strength = out->noise_sigma;
    } else if (out->blur_sigma >= OIQA_DETECT_ERP_BLUR_MIN) {
        out->family = OIQA_DIST_BLUR, out->strength = out->blur_sigma;
    }
    if (out->family == OIQA_DIST_JPEG2000 || out->family == OIQA_DIST_H264 || out->family == OIQA_DIST_HEVC) {
        lvl = isnan(lvl) ? 3 : fmin(fmax(lvl, 1), OIQA_DIST_LEVELS);
        out->level = (int)lrint(lvl);
        out->strength = out->family == OIQA_DIST_JPEG2000 ? 50 * exp2(lvl - 1) : 30 + 5 * (lvl - 1);
    } else {
        out->level = out->family == OIQA_DIST_NONE ? 0 : oiqa_dist_nearest_level(out->family, out->strength);
    }
    return OIQA_OK;
}
