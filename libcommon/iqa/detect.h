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
 * Decision, first match wins (thresholds set on crops of the shipped
 * panoramas, docs/iqa.md):
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

typedef struct {
    oiqa_dist_family family; /* OIQA_DIST_JPEG, _NOISE, _BLUR or _NONE */
    double strength;         /* quality factor, noise sigma or blur width */
    int level;               /* 1..5, 0 for none */
    /* the measurements behind the decision */
    int quality, phase_x, phase_y;
    double blockiness, noise_sigma, blur_sigma;
} oiqa_detection;

/* OIQA_OK, or OIQA_EXIT_USAGE for bad arguments or images below 16x16. */
int oiqa_detect(const uint8_t *rgb, int w, int h, oiqa_detection *out);

/* Nearest level 1..5 of a family's table to a parameter value (0 for a bad family). */
int oiqa_dist_nearest_level(oiqa_dist_family f, double param);

#endif
