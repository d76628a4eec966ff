/* Sampling an ERP at the (u, v) positions of a map (geo/viewport.h).
 * u wraps modulo W; v is clamped to [0, H-1] (the latitude clamps).
 *   bilinear   exact bilinear weights (not OpenCV's 1/32-pixel quantisation)
 *   bicubic    Keys cubic convolution, a = -0.75 (as OpenCV INTER_CUBIC),
 *              result clamped to [0, 255]
 *   antialias  trilinear mipmapping (Williams 1983, "Pyramidal parametrics"):
 *              a 2x2-box pyramid of the ERP (wrapping horizontally), the
 *              level of detail per pixel from the map's Jacobian as in the
 *              OpenGL specification (rho = max of the two axis footprints),
 *              with horizontal steps scaled by cos(lat) so that rho is the
 *              footprint on the sphere (unscaled, ERP rows near a pole are
 *              so stretched that pixels there would blur over half the
 *              image), bilinear within and linear between levels. For ERPs
 *              much larger than the viewport resolution. */
#ifndef OIQA_GEO_SAMPLE_H
#define OIQA_GEO_SAMPLE_H

#include <stdint.h>
#include "io/image.h"

typedef enum { OIQA_FILTER_BILINEAR, OIQA_FILTER_BICUBIC, OIQA_FILTER_ANTIALIAS } oiqa_filter;

/* RGB uint8 output S x S (HWC), rounded to nearest. n_px = S*S. */
void oiqa_sample_bilinear_u8(const oiqa_image *erp, const float *uv, int64_t n_px, uint8_t *out);
void oiqa_sample_bicubic_u8(const oiqa_image *erp, const float *uv, int64_t n_px, uint8_t *out);
/* float output on the 0..255 scale, unrounded (tests, float pipelines). */
void oiqa_sample_bilinear_f32(const oiqa_image *erp, const float *uv, int64_t n_px, float *out);

/* Mip pyramid for the antialias filter. */
typedef struct {
    int levels;
    oiqa_image *level; /* level[0] aliases the ERP (not owned) */
} oiqa_pyramid;
int oiqa_pyramid_build(const oiqa_image *erp, int max_levels, oiqa_pyramid *p);
void oiqa_pyramid_free(oiqa_pyramid *p);
/* Level of detail per pixel of an S x S map on a W x H ERP (log2 of the
 * footprint in ERP pixels, >= 0). */
void oiqa_map_lod(const float *uv, int S, int W, int H, float *lod);
void oiqa_sample_trilinear_u8(const oiqa_pyramid *p, const float *uv, const float *lod,
                              int64_t n_px, uint8_t *out);

#endif
