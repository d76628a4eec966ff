/* Gaussian blur: estimating its width and inverting it.
 *
 * Blur estimate (the re-blur gradient ratio of S. Zhuo & T. Sim 2011,
 * "Defocus map estimation from a single image", Pattern Recognition 44(9)):
 * an ideal step edge blurred by a Gaussian of width s has a gradient peak
 * proportional to 1/s; blurring it again with a known s0 gives
 * 1/sqrt(s^2 + s0^2), so the ratio R of the two gradient magnitudes at the
 * edge gives s = s0 / sqrt(R^2 - 1). It is evaluated on the luma at edge
 * pixels (gradient magnitude a local maximum along its dominant axis and in
 * the top 10% of the image, at least 2 grey levels per pixel); the median
 * over edges is the estimate, refined once with s0 set to the first
 * estimate (the ratio is best conditioned when s0 is near s). The result
 * includes the image's own sharpness limit (0.4-0.6 px on the shipped
 * panoramas' crops; OIQA_DEBLUR_BASE_SIGMA), which oiqa_deblur subtracts in quadrature.
 *
 * Deblurring: Richardson-Lucy deconvolution (W. H. Richardson 1972,
 * "Bayesian-based iterative method of image restoration", JOSA 62(1);
 * L. B. Lucy 1974, "An iterative technique for the rectification of observed
 * distributions", AJ 79(6)) with a Gaussian PSF:
 *   u <- u * K (g / (K u)),
 * K the Gaussian of width psf_sigma (radius ceil(3 sigma), symmetric so
 * K^T = K), u0 = g, a fixed number of iterations, computed on each RGB
 * channel offset by +1 (so no ratio divides by zero). Boundaries: every
 * convolution extends the image by half-sample reflection, i.e. the image is
 * treated as one tile of its mirrored periodic extension (no ringing from a
 * hard edge); the result is rounded and clipped to 0..255. */
#ifndef OIQA_IQA_DEBLUR_H
#define OIQA_IQA_DEBLUR_H

#include <stdint.h>

#define OIQA_DEBLUR_ITERATIONS 30
/* Sharpness limit of undistorted content subtracted from the estimate. */
#define OIQA_DEBLUR_BASE_SIGMA 0.45

/* Estimated Gaussian blur width in pixels (NAN below 16x16 or without edges). */
double oiqa_blur_sigma(const uint8_t *rgb, int w, int h);

/* psf_sigma > 0: that PSF; <= 0: sqrt(est^2 - BASE^2) from oiqa_blur_sigma
 * (a copy when that is below 0.3). iterations <= 0: OIQA_DEBLUR_ITERATIONS.
 * *used_sigma (may be NULL) gets the PSF width used (0: none). dst == src
 * is allowed. */
int oiqa_deblur(const uint8_t *src, int w, int h, double psf_sigma, int iterations, uint8_t *dst,
                double *used_sigma);

#endif
