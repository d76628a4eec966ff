/* Blind estimate of the standard deviation of additive white Gaussian noise
 * (grey levels), by Immerkaer's fast method (J. Immerkaer 1996, "Fast noise
 * variance estimation", CVIU 64(2)): the image is convolved with
 *   N = [1 -2 1; -2 4 -2; 1 -2 1]
 * (the difference of two Laplacians, which cancels most structure) and
 *   sigma = sqrt(pi/2) / (6 (W-2)(H-2)) * sum |I * N|.
 * Edges would inflate it, so (Tai & Yang 2008, "Fast estimation of noise
 * variance with edge detection") the sum runs over the pixels whose Sobel
 * gradient magnitude is below its 90th percentile (the count normalises).
 * Texture inflates it, so the smaller of it and D. L. Donoho's robust
 * estimate (1995, "De-noising by soft-thresholding", IEEE TIT 41(3)):
 * median(|HH|) / 0.6745 over the finest Haar diagonal band,
 * HH = (a - b - c + d) / 2 on 2x2 blocks, is taken per channel.
 * RGB: the mean of the three channels' estimates. */
#ifndef OIQA_IQA_NOISE_EST_H
#define OIQA_IQA_NOISE_EST_H

#include <stddef.h>
#include <stdint.h>

/* NAN when the image is smaller than 3x3 or out of memory. */
double oiqa_noise_sigma(const uint8_t *rgb, int w, int h);
/* One float plane: Immerkaer (edge-excluded) and Donoho's MAD, separately. */
double oiqa_noise_sigma_plane(const float *p, int w, int h);
double oiqa_noise_sigma_mad(const float *p, int w, int h);
/* The median of v[0..n-1] (the mean of the two middle values for even n;
 * NAN for n = 0), by quickselect: v is reordered. */
float oiqa_median_float(float *v, size_t n);

#endif
