/* Fixed viewport layouts: icosa20 and cube6 (DESIGN §5). The content-adaptive
 * vgcn20 layout is in layout_vgcn.c. */
#include "geo/layout.h"

#include <math.h>
#include <stdlib.h>

#include "geo/sphere.h"

/* Face centres of the icosahedron with a vertex at each pole. Its 12 vertices:
 * the two poles, an upper ring of 5 at lat +atan(1/2) = 26.565 deg and
 * lon 0, 72, 144, 216, 288, and a lower ring of 5 at lat -atan(1/2) and
 * lon 36, 108, 180, 252, 324. The 20 faces are
 *   north cap   N,  U_k, U_k+1        south band  L_k, L_k+1, U_k+1
 *   north band  U_k, U_k+1, L_k       south cap   S,  L_k, L_k+1
 * and each centre is the normalised centroid of its face. The result, in
 * this order (each group by ascending lon in (-180, 180]):
 *   north cap   lat +52.6226318594, lon -108, -36, 36, 108, 180
 *   north band  lat +10.8123169636, lon -108, -36, 36, 108, 180
 *   south band  lat -10.8123169636, lon -144, -72, 0, 72, 144
 *   south cap   lat -52.6226318594, lon -144, -72, 0, 72, 144
 * Neighbouring centres are 41.81 deg apart and every direction is within
 * 37.38 deg (centre to vertex) of one. */
static void face_centre(const double a[3], const double b[3], const double c[3], oiqa_view *v)
{
    double s[3] = {a[0] + b[0] + c[0], a[1] + b[1] + c[1], a[2] + b[2] + c[2]};
    double lon, lat;
    oiqa_dir_to_lonlat(s, &lon, &lat);
    /* Snap away last-ulp noise (the lon 180 faces come out as +-179.99999...),
     * so the ordering and the printed values are exact and portable. */
    v->lon = oiqa_wrap_lon(round(lon * 1e9) / 1e9);
    v->lat = round(lat * 1e10) / 1e10;
}

static int by_lon(const void *pa, const void *pb)
{
    const oiqa_view *a = pa, *b = pb;
    return (a->lon > b->lon) - (a->lon < b->lon);
}

int oiqa_layout_icosa20(double fov, oiqa_view views[20])
{
    const double ring = atan(0.5) * OIQA_RAD2DEG;
    double north[3], south[3], up[5][3], lo[5][3];
    oiqa_lonlat_to_dir(0.0, 90.0, north);
    oiqa_lonlat_to_dir(0.0, -90.0, south);
    for (int k = 0; k < 5; k++) {
        oiqa_lonlat_to_dir(72.0 * k, ring, up[k]);
        oiqa_lonlat_to_dir(36.0 + 72.0 * k, -ring, lo[k]);
    }
    for (int k = 0; k < 5; k++) {
        int k1 = (k + 1) % 5;
        face_centre(north, up[k], up[k1], &views[k]);
        face_centre(up[k], up[k1], lo[k], &views[5 + k]);
        face_centre(lo[k], lo[k1], up[k1], &views[10 + k]);
        face_centre(south, lo[k], lo[k1], &views[15 + k]);
    }
    for (int g = 0; g < 4; g++) qsort(views + 5 * g, 5, sizeof *views, by_lon);
    for (int k = 0; k < 20; k++) views[k].fov = fov;
    return 20;
}

int oiqa_layout_cube6(double fov, oiqa_view views[6])
{
    static const double centres[6][2] = {{0, 0}, {90, 0}, {180, 0}, {-90, 0}, {0, 90}, {0, -90}};
    for (int k = 0; k < 6; k++) {
        views[k].lon = centres[k][0];
        views[k].lat = centres[k][1];
        views[k].fov = fov;
    }
    return 6;
}
