/* Non-local means denoising (A. Buades, B. Coll & J.-M. Morel 2005, "A
 * non-local algorithm for image denoising", CVPR), in the fast formulation
 * that loops over the offsets of the search window and gets every patch
 * distance for one offset from an integral image of the squared differences
 * (J. Darbon, A. Cunha, T. F. Chan, S. Osher & G. J. Jensen 2008, "Fast
 * nonlocal filtering applied to electron cryomicroscopy"; J. Froment 2014,
 * "Parameter-free fast pixelwise non-local means denoising", IPOL) — the
 * cost is O(pixels x window) instead of O(pixels x window x patch).
 *
 * Colour distance and weights as in Buades, Coll & Morel's IPOL 2011 paper
 * ("Non-local means denoising"): d^2 is the mean over the (2f+1)^2 patch and
 * the three channels of the squared difference, w = exp(-max(d^2 - 2 sigma^2,
 * 0) / h^2); the centre pixel gets the largest weight of its neighbours.
 * Parameters by sigma (the IPOL table for colour, with smaller search
 * windows for speed and h at 0.8 of the table's, since a blind sigma is
 * inflated by texture): sigma <= 25: f = 1 (3x3 patches), search 15x15
 * (r = 7), h = 0.44 sigma; sigma > 25: f = 2, search 21x21 (r = 10),
 * h = 0.32 sigma. Borders: the image is extended by reflection. */
#ifndef OIQA_IQA_NLMEANS_H
#define OIQA_IQA_NLMEANS_H

#include <stdint.h>

/* sigma: the noise standard deviation in grey levels; <= 0 estimates it
 * (iqa/noise_est.h). *used_sigma (may be NULL) gets the value used.
 * dst == src is allowed. Returns OIQA_OK, OIQA_EXIT_USAGE (bad image or a
 * NaN / huge sigma) or OIQA_EXIT_DATA (out of memory). */
int oiqa_nlmeans(const uint8_t *src, int w, int h, double sigma, uint8_t *dst, double *used_sigma);

#endif
