/* Synthetic distortions of uint8 RGB images (viewports), for degraded
 * pseudo-references and dataset synthesis (oiqa-pseudoref, oiqa-synth).
 *
 * Families and their five levels (1 mild .. 5 severe; the OIQA database's
 * scheme of four families x five levels, with parameters chosen here):
 *
 *   family     parameter                    1     2     3     4     5
 *   jpeg       quality factor (1..100)     50    30    15     8     4
 *   blur       Gaussian sigma (pixels)     0.6   1.2   2     3     4.5
 *   noise      AWGN sigma (grey levels)     4     8    14    20    28
 *   resample   down/up factor (>= 1)       1.5    2     3     4     6
 *
 * jpeg: re-encoded with stb_image_write (IJG quantisation tables scaled by
 *   quality, 4:2:0 chroma below quality 91) and decoded with stb_image.
 * blur: separable Gaussian, radius ceil(3 sigma), reflect border.
 * noise: i.i.d. N(0, sigma^2) per pixel and channel from base/rng.h seeded
 *   with `seed` (drawn in raster order R,G,B), rounded and clipped to 0..255.
 * resample: area-averaged down to round(w/f) x round(h/f), then linear back up
 *   to w x h (geo/resize.h).
 * JPEG 2000 is not offered: libopenjp2-7-dev is not installed and oiqa adds
 * no build dependency for it.
 *
 * Every function takes src (w x h x 3 bytes) and writes dst (the same size,
 * allocated by the caller; dst == src is allowed). Returns OIQA_OK, or
 * OIQA_EXIT_USAGE naming the bad key ('distortion', 'level', 'quality',
 * 'sigma', 'factor', 'image'), or OIQA_EXIT_DATA when out of memory. */
#ifndef OIQA_IQA_DISTORT_H
#define OIQA_IQA_DISTORT_H

#include <stdint.h>

typedef enum {
    OIQA_DIST_NONE = -1, /* the detector's answer for a clean-looking image */
    OIQA_DIST_JPEG = 0,
    OIQA_DIST_BLUR,
    OIQA_DIST_NOISE,
    OIQA_DIST_RESAMPLE,
    OIQA_DIST_COUNT
} oiqa_dist_family;

#define OIQA_DIST_LEVELS 5

/* The level table above: oiqa_dist_table[family][level - 1]. */
extern const double oiqa_dist_table[OIQA_DIST_COUNT][OIQA_DIST_LEVELS];

/* "jpeg", "blur", "noise", "resample" ("none" for OIQA_DIST_NONE). */
const char *oiqa_dist_name(oiqa_dist_family f);
/* Name -> family; unknown names are OIQA_EXIT_USAGE ("key 'distortion': ..."). */
int oiqa_dist_parse(const char *name, oiqa_dist_family *f);
/* The parameter of a level (1..5); NAN for a bad family or level. */
double oiqa_dist_param(oiqa_dist_family f, int level);

/* Applies a family at an explicit parameter (quality, sigma or factor). The
 * seed matters for noise only. */
int oiqa_distort_param(const uint8_t *src, int w, int h, oiqa_dist_family f, double param, uint64_t seed,
                       uint8_t *dst);
/* Applies a family at a level 1..5 of the table. */
int oiqa_distort_level(const uint8_t *src, int w, int h, oiqa_dist_family f, int level, uint64_t seed,
                       uint8_t *dst);

/* The families one by one. */
int oiqa_jpeg_recompress(const uint8_t *src, int w, int h, int quality, uint8_t *dst);
int oiqa_gaussian_blur(const uint8_t *src, int w, int h, double sigma, uint8_t *dst);
int oiqa_awgn(const uint8_t *src, int w, int h, double sigma, uint64_t seed, uint8_t *dst);
int oiqa_resample(const uint8_t *src, int w, int h, double factor, uint8_t *dst);

#endif
