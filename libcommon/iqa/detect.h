/* Which distortion dominates an image, and how strong it is: the detector
 * behind restore=auto and behind the degrade direction of the pseudo-
 * references ("the detected dominant distortion, applied one clear step
 * stronger").
 *
 * Measurements (each documented in its header):
 *   quality    JPEG quality estimated from the luma DC quantisation step
 *              (iqa/deblock.h; 0 = no quantisation lattice found), on the
 *              grid found by the blockiness measure or at the origin;
 *   blockiness Wang-Sheikh-Bovik boundary / non-boundary difference ratio;
 *   noise      Immerkaer / Donoho noise sigma (iqa/noise_est.h);
 *   blur       Zhuo-Sim re-blur gradient-ratio blur width (iqa/deblur.h).
 * Decision of oiqa_detect (one viewport; --detect viewport), first match
 * wins (thresholds set on crops of the shipped panoramas, docs/iqa.md):
 *   quality > 0 and blockiness >= 1.15   -> jpeg,  strength = quality
 *   noise >= 3.0 grey levels             -> noise, strength = noise sigma
 *   blur >= 0.9 px                       -> blur,  strength = blur width
 *   otherwise                            -> none,  strength = 0
 * level is the nearest level of the family's table in iqa/distort.h (for
 * JPEG in log quality), 0 for none. */
#ifndef OIQA_IQA_DETECT_H
#define OIQA_IQA_DETECT_H

#include <stdint.h>

#include "iqa/distort.h"

#define OIQA_DETECT_BLOCKINESS_MIN 1.15
#define OIQA_DETECT_NOISE_MIN 3.0
#define OIQA_DETECT_BLUR_MIN 0.9

/* Thresholds of the whole-image (ERP) detector, oiqa_detect_erp. */
#define OIQA_DETECT_ERP_LATTICE_MIN 0.010  /* wavelet lattice -> jpeg2000 */
#define OIQA_DETECT_ERP_PAIRS_MAX 0.4      /* chroma pairs -> 4:2:0 video */
#define OIQA_DETECT_ERP_BLOCKINESS_VIDEO 1.5 /* blockiness a JPEG lattice needs with video chroma */
#define OIQA_DETECT_ERP_PATTERN_H264 1.33  /* chroma pattern above: h264, below: hevc */
#define OIQA_DETECT_ERP_NOISE_MIN 3.0      /* cross-channel noise sigma */
#define OIQA_DETECT_ERP_BLUR_MIN 0.6       /* blur width, px */
#define OIQA_DETECT_ERP_MAX_PIXELS (1 << 21) /* larger images are measured on a centred crop */

typedef struct {
    oiqa_dist_family family; /* the dominant family, or OIQA_DIST_NONE */
    double strength;         /* quality factor, noise sigma, blur width, ratio or QP */
    int level;               /* 1..5, 0 for none */
    /* the measurements behind the decision */
    int quality, phase_x, phase_y;
    double blockiness, noise_sigma, blur_sigma;
    /* oiqa_detect_erp only (0 from oiqa_detect) */
    double chroma_pairs, chroma_pattern, wavelet_lattice, detail_decay;
    int crop_x, crop_y, crop_w, crop_h; /* the region measured */
} oiqa_detection;

/* OIQA_OK, or OIQA_EXIT_USAGE for bad arguments or images below 16x16. */
int oiqa_detect(const uint8_t *rgb, int w, int h, oiqa_detection *out);

/* The detector for a whole image as its codec saw it (the ERP of a
 * 360-degree image), where a codec's grid starts at pixel (0, 0). Images
 * above OIQA_DETECT_ERP_MAX_PIXELS are measured on a centred crop whose
 * origin is a multiple of 64 (so every codec grid keeps its phase) and
 * that keeps the middle latitudes. Decision, first match wins:
 *   quality > 0 and blockiness >= 1.15 (the grid of the origin or the
 *            detected one; >= 1.5 when the chroma pairs say 4:2:0 video,
 *            as a smooth HEVC still can fit a weak DC lattice)
 *                                                 -> jpeg,     strength = quality
 *   wavelet lattice >= 0.010                      -> jpeg2000, strength = ratio
 *   chroma pairs <= 0.4 and pattern >= 1.33       -> h264,     strength = QP
 *   chroma pairs <= 0.4                           -> hevc,     strength = QP
 *   cross-channel noise sigma >= 3                -> noise,    strength = sigma
 *   blur width >= 0.6 px                          -> blur,     strength = width
 *   otherwise                                     -> none
 * The traces are those of iqa/codec_traces.h. The noise sigma here is
 * Donoho's MAD estimate on the channel differences R - G and B - G
 * (divided by sqrt 2): natural texture is mostly achromatic and cancels,
 * i.i.d. noise per channel does not (for a grey image, R = G = B, the
 * luma estimator of iqa/noise_est.h is used). Levels: jpeg, noise and
 * blur the nearest of the table; jpeg2000, h264 and hevc from a linear
 * model of the detail decay and the wavelet lattice (jpeg2000) or the
 * blockiness (video), fitted on stills of the 8 shipped panoramas coded
 * at the five levels (docs/pseudoref.md gives its leave-one-panorama-out
 * accuracy); their strength is the table parameter at that continuous
 * level (ratio 50 * 2^(L-1), QP 30 + 5 (L-1)). */
int oiqa_detect_erp(const uint8_t *rgb, int w, int h, oiqa_detection *out);

/* The cross-channel noise sigma above (NAN below 4x4 or out of memory). */
double oiqa_noise_sigma_cross(const uint8_t *rgb, int w, int h);

/* Nearest level 1..5 of a family's table to a parameter value (0 for a bad family). */
int oiqa_dist_nearest_level(oiqa_dist_family f, double param);

#endif
