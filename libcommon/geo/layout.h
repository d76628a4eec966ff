/* Viewport layouts (DESIGN §5): where the V viewports of an image look.
 *   icosa20  the 20 face centres of an icosahedron with a vertex at each pole
 *   cube6    front (0,0), right (90,0), back (180,0), left (-90,0), top (0,90), bottom (0,-90)
 *   vgcn20   content-adaptive: 20 centres picked greedily from a keypoint-density
 *            map with a minimum great-circle separation of 30 degrees
 *   list     an explicit list of {lon, lat, fov}
 * Centres are in degrees. */
#ifndef OIQA_GEO_LAYOUT_H
#define OIQA_GEO_LAYOUT_H

#include "geo/viewport.h"
#include "io/image.h"

typedef enum { OIQA_LAYOUT_ICOSA20, OIQA_LAYOUT_CUBE6, OIQA_LAYOUT_VGCN20, OIQA_LAYOUT_LIST } oiqa_layout_kind;

/* Fixed layouts: fills views[0..n) with fov; returns n (20 or 6). */
int oiqa_layout_icosa20(double fov, oiqa_view views[20]);
int oiqa_layout_cube6(double fov, oiqa_view views[6]);

/* Content-adaptive centres (VGCN-style, Xu et al. 2021, IEEE TCSVT
 * "Blind omnidirectional image quality assessment with viewport oriented
 * graph convolutional networks"): corner keypoints of the image, weighted by
 * cos(lat) for the ERP's oversampling near the poles; each candidate centre
 * scores the keypoints within fov/2 of it; greedy picks with min_sep_deg
 * separation; if fewer than n fit, the rest are placed farthest-first.
 * Deterministic. Returns n, or -1 with the reason in oiqa_errmsg() (empty
 * image, fov outside (0, 180), n out of range, out of memory). */
int oiqa_layout_vgcn(const oiqa_image *erp, int n, double fov, double min_sep_deg, oiqa_view *views);

#endif
