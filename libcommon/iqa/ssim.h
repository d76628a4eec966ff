/* Full-reference metrics on uint8 RGB images of the same size (the
 * pseudo-score of oiqa-synth).
 *
 * SSIM (Wang, Bovik, Sheikh & Simoncelli 2004, "Image quality assessment:
 * from error visibility to structural similarity") exactly as scikit-image's
 *   structural_similarity(a, b, channel_axis=-1, gaussian_weights=True,
 *                         sigma=1.5, use_sample_covariance=False, data_range=255)
 * i.e. per channel in double precision: Gaussian window sigma 1.5 truncated
 * at 3.5 sigma (11 taps, radius 5), scipy's reflect border; mu, sigma^2 and
 * the covariance from the window (population moments);
 *   S = (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a^2 + s_b^2 + C2)),
 * C1 = (0.01*255)^2, C2 = (0.03*255)^2; the map's mean over pixels at least
 * 5 from every border; then the mean of the three channels (skimage's
 * behaviour for RGB). Images need both sides >= 11.
 *
 * MS-SSIM (Wang, Simoncelli & Bovik 2003, "Multi-scale structural similarity
 * for image quality assessment"): M = 5 scales with weights 0.0448, 0.2856,
 * 0.3001, 0.2363, 0.1333; at each scale the per-channel mean (same window,
 * border and cropping as SSIM) of the contrast-structure term
 * cs = (2 s_ab + C2)/(s_a^2 + s_b^2 + C2), and at the coarsest scale of the
 * full SSIM; between scales a 2x2 box average (odd last row/column dropped).
 * Result = prod_j max(cs_j, 0)^w_j * max(ssim_M, 0)^w_M, channels averaged
 * per scale. When the image is too small for 5 scales (coarsest side < 11)
 * fewer scales are used, the first ones' weights renormalised to sum 1.
 *
 * PSNR = 10 log10(255^2 / MSE), MSE over all pixels and channels
 * (skimage's peak_signal_noise_ratio with data_range=255); identical images
 * give INFINITY. */
#ifndef OIQA_IQA_SSIM_H
#define OIQA_IQA_SSIM_H

#include <stdint.h>

/* Each returns OIQA_OK with *out set, or OIQA_EXIT_USAGE on bad sizes, or
 * OIQA_EXIT_DATA when out of memory. */
int oiqa_ssim(const uint8_t *a, const uint8_t *b, int w, int h, double *out);
int oiqa_ms_ssim(const uint8_t *a, const uint8_t *b, int w, int h, double *out);
int oiqa_psnr(const uint8_t *a, const uint8_t *b, int w, int h, double *out);

/* SSIM of one plane pair of doubles (w x h); *cs gets the mean
 * contrast-structure term when not NULL. */
int oiqa_ssim_plane(const double *a, const double *b, int w, int h, double *ssim, double *cs);

#endif
