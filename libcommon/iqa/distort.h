/* Synthetic distortions of uint8 RGB images (viewports), for degraded
 * pseudo-references and dataset synthesis (oiqa-pseudoref, oiqa-synth).
 *
 * Families and their five levels (1 mild .. 5 severe; the OIQA database's
 * scheme of four families x five levels, with parameters chosen here):
 *
 *   family     parameter                    1     2     3     4     5  | beyond
 *   jpeg       quality factor (1..100)     50    30    15     8     4  |   2
 *   blur       Gaussian sigma (pixels)     0.6   1.2   2     3     4.5 |   6.5
 *   noise      AWGN sigma (grey levels)     4     8    14    20    28  |  38
 *   resample   down/up factor (>= 1)       1.5    2     3     4     6  |   8
 *   jpeg2000   compression ratio (24 bpp)  50   100   200   400   800  | 1600
 *   h264       intra QP (0..51)            30    35    40    45    50  |  51
 *   hevc       intra QP (0..51)            30    35    40    45    50  |  51
 *
 * The codec steps follow the 360-degree databases: JPEG quality 50 down to
 * about 4 and H.264/AVC and H.265/HEVC QP 30 to 50 span CVIQ's eleven levels
 * (QF 50..0 in steps of 5, QP 30..50 in steps of 2, as Sun et al. describe
 * it; docs/synth.md); JPEG 2000 at 0.48 down to 0.03 bits per pixel gives
 * PSNRs near those of the JPEG levels on the shipped panoramas (LIVE's
 * JPEG 2000 set reaches 0.028 bpp). The "beyond" column
 * is level 6 (OIQA_DIST_BEYOND): one step stronger than the table, for a
 * degradation above an image detected at level 5.
 *
 * jpeg: re-encoded with stb_image_write (IJG quantisation tables scaled by
 *   quality, 4:2:0 chroma below quality 91) and decoded with stb_image.
 * blur: separable Gaussian, radius ceil(3 sigma), reflect border.
 * noise: i.i.d. N(0, sigma^2) per pixel and channel from base/rng.h seeded
 *   with `seed` (drawn in raster order R,G,B), rounded and clipped to 0..255.
 * resample: area-averaged down to round(w/f) x round(h/f), then linear back up
 *   to w x h (geo/resize.h).
 * jpeg2000: OpenJPEG (Debian's libopenjp2), irreversible 9/7 wavelet, the
 *   irreversible colour transform, one quality layer at the ratio, 64x64 code
 *   blocks, up to 6 resolutions, no tiles (iqa/jpeg2000.h).
 * h264, hevc: intra-coded stills through the ffmpeg program (libx264,
 *   libx265; 4:2:0; iqa/video_codec.h), never linked into oiqa; without
 *   ffmpeg these two are refused with one line saying what to install.
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
    OIQA_DIST_JPEG2000,
    OIQA_DIST_H264,
    OIQA_DIST_HEVC,
    OIQA_DIST_COUNT
} oiqa_dist_family;

#define OIQA_DIST_LEVELS 5
#define OIQA_DIST_BEYOND 6 /* the level past the table (degrading a level-5 image) */

/* The level table above: oiqa_dist_table[family][level - 1], level 1..6. */
extern const double oiqa_dist_table[OIQA_DIST_COUNT][OIQA_DIST_BEYOND];

/* "jpeg", "blur", "noise", "resample", "jpeg2000", "h264", "hevc" ("none"
 * for OIQA_DIST_NONE). */
const char *oiqa_dist_name(oiqa_dist_family f);
/* What the family's parameter is: "quality", "sigma", "factor", "ratio", "qp". */
const char *oiqa_dist_param_name(oiqa_dist_family f);
/* Name -> family; unknown names are OIQA_EXIT_USAGE ("key 'distortion': ..."). */
int oiqa_dist_parse(const char *name, oiqa_dist_family *f);
/* The parameter of a level (1..6); NAN for a bad family or level. */
double oiqa_dist_param(oiqa_dist_family f, int level);
/* Whether a family runs through the ffmpeg program (h264, hevc). */
int oiqa_dist_needs_ffmpeg(oiqa_dist_family f);

/* Applies a family at an explicit parameter (quality, sigma or factor). The
 * seed matters for noise only. */
int oiqa_distort_param(const uint8_t *src, int w, int h, oiqa_dist_family f, double param, uint64_t seed,
                       uint8_t *dst);
/* Applies a family at a level 1..6 of the table. */
int oiqa_distort_level(const uint8_t *src, int w, int h, oiqa_dist_family f, int level, uint64_t seed,
                       uint8_t *dst);

/* The families one by one. */
int oiqa_jpeg_recompress(const uint8_t *src, int w, int h, int quality, uint8_t *dst);
int oiqa_gaussian_blur(const uint8_t *src, int w, int h, double sigma, uint8_t *dst);
int oiqa_awgn(const uint8_t *src, int w, int h, double sigma, uint64_t seed, uint8_t *dst);
int oiqa_resample(const uint8_t *src, int w, int h, double factor, uint8_t *dst);
int oiqa_jpeg2000_recompress(const uint8_t *src, int w, int h, double ratio, uint8_t *dst);
/* n frames of w x h (n*w*h*3 bytes) through one ffmpeg call, each coded as
 * an intra frame at QP qp; family OIQA_DIST_H264 or OIQA_DIST_HEVC. */
int oiqa_video_recompress(const uint8_t *src, int w, int h, int n, oiqa_dist_family codec, int qp, uint8_t *dst);

#endif
