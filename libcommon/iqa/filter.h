/* Shared pixel plumbing of iqa/: planar float images and separable filtering
 * with the reflect border of scipy.ndimage (half-sample symmetric:
 * d c b a | a b c d | d c b a), used by the blur distortion, the restorers
 * and the metrics alike so that all of them treat borders the same way. */
#ifndef OIQA_IQA_FILTER_H
#define OIQA_IQA_FILTER_H

#include <stdint.h>

/* Loops run in parallel (OpenMP) only above this many multiply-adds: a
 * viewport is too small to pay for a team of threads, so callers with many
 * viewports parallelise over viewports instead. */
#define OIQA_IQA_PARALLEL_WORK (1 << 22)

/* Index i folded into 0..n-1 by half-sample reflection (any i, n >= 1). */
int oiqa_reflect_index(int i, int n);

/* Normalised Gaussian taps k[0..2r] (k[r] is the centre) of standard
 * deviation sigma > 0: exp(-x^2 / (2 sigma^2)) / sum. */
void oiqa_gauss_taps(double sigma, int r, double *k);

/* out = in filtered by the 1-D kernel k (2r+1 taps) along x then along y,
 * reflect borders. in == out is allowed; tmp holds w*h floats. Threads:
 * OpenMP over rows for large images (OIQA_IQA_PARALLEL_WORK). */
void oiqa_sep_filter_f(const float *in, float *out, int w, int h, const double *k, int r, float *tmp);

/* The same in double precision (the metrics). */
void oiqa_sep_filter_d(const double *in, double *out, int w, int h, const double *k, int r, double *tmp);

/* Gaussian blur of a float plane, radius ceil(3 sigma); sigma <= 0 copies. */
int oiqa_gauss_blur_f(const float *in, float *out, int w, int h, double sigma);

/* Interleaved RGB bytes <-> three planes (R, G, B), each w*h floats. */
float *oiqa_planes_from_rgb(const uint8_t *rgb, int w, int h);
void oiqa_planes_to_rgb(const float *planes, int w, int h, uint8_t *rgb);

/* Luma Y = 0.299 R + 0.587 G + 0.114 B (ITU-R BT.601, as JPEG's JFIF). */
float *oiqa_luma_from_rgb(const uint8_t *rgb, int w, int h);

/* Shared argument checks: OIQA_EXIT_USAGE with a message naming the key. */
int oiqa_iqa_check_image(const uint8_t *src, int w, int h, const uint8_t *dst);

#endif
