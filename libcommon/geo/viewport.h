/* Gnomonic (rectilinear) viewports of an ERP image, DESIGN §5.
 *
 * Viewport S x S with field of view F centred at (lon0, lat0), no roll:
 * pixel (i, j) (column, row) is the ray (x, y, 1) with
 *   x = (2(i+0.5)/S - 1) tan(F/2),  y = (1 - 2(j+0.5)/S) tan(F/2),
 * rotated by R_y(lon0) R_x(lat0) so the camera looks at (lon0, lat0) with up
 * toward the north pole. The (u, v) map gives, for each viewport pixel, the
 * continuous ERP coordinates it samples (computed in double, stored as
 * float32; u in [-0.5, W-0.5] before wrapping, v unclamped). */
#ifndef OIQA_GEO_VIEWPORT_H
#define OIQA_GEO_VIEWPORT_H

#include <stdint.h>

typedef struct {
    double lon, lat, fov; /* degrees */
} oiqa_view;

/* Ray direction (world frame) of viewport pixel coordinate (i, j), which may be fractional. */
void oiqa_view_ray(const oiqa_view *v, int S, double i, double j, double d[3]);

/* uv[(j*S + i)*2 + 0] = u, [..+1] = v for the ERP W x H. */
void oiqa_view_map(const oiqa_view *v, int S, int W, int H, float *uv);

#endif
