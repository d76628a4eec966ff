/* JPEG blocking: measuring it, estimating the quality factor, removing it.
 *
 * Blockiness (after Z. Wang, H. R. Sheikh & A. C. Bovik 2002, "No-reference
 * perceptual quality assessment of JPEG compressed images", ICIP, whose B
 * term is the mean absolute luma difference across 8x8 block boundaries):
 * for each of the 8 column phases p, D_p = mean |Y(x+1,y) - Y(x,y)| over
 * x = p mod 8; likewise for rows. Blockiness = the largest D_p divided by
 * the mean of the seven others, averaged over the two directions (1 for an
 * image without a grid; the phases of the maxima give the grid offset).
 *
 * Quality factor: from the quantisation step of the luma DC coefficient,
 * found as in Z. Fan & R. L. de Queiroz 2003 ("Identification of bitmap
 * compression history: JPEG detection and quantizer estimation", IEEE TIP):
 * the DC of every 8x8 block (8 x block mean of Y - 128, JPEG's scale) of a
 * decoded JPEG lies within rounding of a multiple of the step Q. The step
 * in 6..255 that fits the most blocks beyond chance is taken (fit within
 * 4.5, minus the chance 10/Q of fitting anyway; blocks at the clipping
 * limits left out; at least three multiples used; an excess of at least
 * OIQA_JPEG_LATTICE_MIN = 0.30) and inverted through the IJG scaling
 * (Q = 16 s / 100; s = 5000/q below quality 50, 200 - 2q above). 0 when no
 * step fits (not JPEG, or a step below ~10: quality above ~70). On the
 * shipped panoramas it finds the exact step at JPEG quality 50, 30, 15, 8
 * and 4; their clean renders reach an excess of 0.28 at most.
 *
 * Deblocking: the H.264/AVC in-loop deblocking filter's strong (intra, bS=4)
 * mode (P. List, A. Joch, J. Lainema, G. Bjontegaard & M. Karczewicz 2003,
 * "Adaptive deblocking filter", IEEE TCSVT 13(7)) on the 8x8 grid, applied to
 * each RGB channel, vertical edges then horizontal ones. An edge sample
 * p3 p2 p1 p0 | q0 q1 q2 q3 is filtered only when |p0-q0| < alpha,
 * |p1-p0| < beta and |q1-q0| < beta (a real edge is left alone); alpha and
 * beta follow the standard's curves alpha = 0.8 (2^(A/6) - 1),
 * beta = 0.5 A - 7 (capped at 255 and 18) of an index A = 6 log2(Q/0.625)
 * + 3 derived from the estimated DC step Q, i.e. from the quality. */
#ifndef OIQA_IQA_DEBLOCK_H
#define OIQA_IQA_DEBLOCK_H

#include <stdint.h>

#define OIQA_JPEG_LATTICE_MIN 0.30

/* Blockiness >= 1 (see above); phase_x / phase_y (may be NULL) get the grid
 * offsets: block boundaries lie between columns phase_x + 8k and
 * phase_x + 8k + 1. NAN for images below 16x16. */
double oiqa_blockiness(const uint8_t *rgb, int w, int h, int *phase_x, int *phase_y);

/* Estimated JPEG quality factor 1..100 for the grid at (phase_x, phase_y)
 * (its first full block starts at column (phase_x + 1) % 8), or 0. */
int oiqa_jpeg_quality_estimate(const uint8_t *rgb, int w, int h, int phase_x, int phase_y);

/* Deblocks src into dst (dst == src allowed). quality: the JPEG quality the
 * thresholds follow (1..100); 0 estimates grid and quality from the image
 * (and copies the image unchanged when no JPEG grid is found).
 * *used_quality (may be NULL) gets the quality used (0: none). */
int oiqa_deblock(const uint8_t *src, int w, int h, int quality, uint8_t *dst, int *used_quality);

#endif
