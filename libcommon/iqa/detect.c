/* The dominant-distortion detector; see iqa/detect.h. */
#include "iqa/detect.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "iqa/deblock.h"
#include "iqa/deblur.h"
#include "iqa/noise_est.h"

int oiqa_dist_nearest_level(oiqa_dist_family f, double param)
{
    if (f < 0 || f >= OIQA_DIST_COUNT || isnan(param)) return 0;
    int best = 1;
    double best_d = INFINITY;
    for (int l = 1; l <= OIQA_DIST_LEVELS; l++) {
        double t = oiqa_dist_table[f][l - 1];
        /* Quality acts multiplicatively on the quantiser: compare in log. */
        double d = f == OIQA_DIST_JPEG ? fabs(log(fmax(param, 1) / t)) : fabs(param - t);
        if (d < best_d) best_d = d, best = l;
    }
    return best;
}

int oiqa_detect(const uint8_t *rgb, int w, int h, oiqa_detection *out)
{
    if (!rgb || !out) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': no pixels given");
    if (w < 16 || h < 16 || w > 65535 || h > 65535)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': %dx%d is below the detector's 16x16", w, h);
    memset(out, 0, sizeof *out);
    out->family = OIQA_DIST_NONE;
    out->blockiness = oiqa_blockiness(rgb, w, h, &out->phase_x, &out->phase_y);
    out->quality = oiqa_jpeg_quality_estimate(rgb, w, h, out->phase_x, out->phase_y);
    int q0 = oiqa_jpeg_quality_estimate(rgb, w, h, 7, 7);
    if (q0 && (!out->quality || q0 < out->quality)) out->quality = q0, out->phase_x = out->phase_y = 7;
    out->noise_sigma = oiqa_noise_sigma(rgb, w, h);
    out->blur_sigma = oiqa_blur_sigma(rgb, w, h);
    if (out->quality > 0 && out->blockiness >= OIQA_DETECT_BLOCKINESS_MIN)
        out->family = OIQA_DIST_JPEG, out->strength = out->quality;
    else if (out->noise_sigma >= OIQA_DETECT_NOISE_MIN)
        out->family = OIQA_DIST_NOISE, out->strength = out->noise_sigma;
    else if (out->blur_sigma >= OIQA_DETECT_BLUR_MIN)
        out->family = OIQA_DIST_BLUR, out->strength = out->blur_sigma;
    out->level = out->family == OIQA_DIST_NONE ? 0 : oiqa_dist_nearest_level(out->family, out->strength);
    return OIQA_OK;
}
