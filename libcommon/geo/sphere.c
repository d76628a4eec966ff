/* Sphere and ERP geometry: the formulas of DESIGN §5, in double. */
#include "geo/sphere.h"

#include <math.h>

/* Pixel (c, r) -> (lon, lat) in degrees. c and r may be fractional or lie
 * outside the image: the formula is applied as is (no wrapping), so c = -0.5
 * is lon -180 and c = W - 0.5 is lon +180. */
void oiqa_erp_pixel_to_lonlat(int W, int H, double c, double r, double *lon, double *lat)
{
    *lon = ((c + 0.5) / W - 0.5) * 360.0;
    *lat = (0.5 - (r + 0.5) / H) * 180.0;
}

/* (lon, lat) in degrees -> continuous pixel coordinates (u, v); pixel centres
 * are integers. Not wrapped or clamped: lon in (-180, 180] gives u in
 * (-0.5, W - 0.5]. */
void oiqa_erp_lonlat_to_pixel(int W, int H, double lon, double lat, double *u, double *v)
{
    *u = (lon / 360.0 + 0.5) * W - 0.5;
    *v = (0.5 - lat / 180.0) * H - 0.5;
}

/* World frame: X east (lon 90), Y up (north pole), Z toward (lon 0, lat 0). */
void oiqa_lonlat_to_dir(double lon, double lat, double d[3])
{
    double lo = lon * OIQA_DEG2RAD, la = lat * OIQA_DEG2RAD;
    double cl = cos(la);
    d[0] = cl * sin(lo);
    d[1] = sin(la);
    d[2] = cl * cos(lo);
}

/* d need not be unit length. At the poles (d_X = d_Z = 0) lon is 0. */
void oiqa_dir_to_lonlat(const double d[3], double *lon, double *lat)
{
    double lo = atan2(d[0], d[2]) * OIQA_RAD2DEG;
    /* atan2 gives [-180, 180]; the convention is (-180, 180]. */
    *lon = lo <= -180.0 ? lo + 360.0 : lo;
    *lat = atan2(d[1], hypot(d[0], d[2])) * OIQA_RAD2DEG;
}

/* Angle between the two directions as atan2(|a x b|, a . b): accurate for
 * both tiny and near-antipodal separations, unlike acos(a . b). */
double oiqa_great_circle_deg(double lon1, double lat1, double lon2, double lat2)
{
    double a[3], b[3];
    oiqa_lonlat_to_dir(lon1, lat1, a);
    oiqa_lonlat_to_dir(lon2, lat2, b);
    double cx = a[1] * b[2] - a[2] * b[1];
    double cy = a[2] * b[0] - a[0] * b[2];
    double cz = a[0] * b[1] - a[1] * b[0];
    double dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
    return atan2(sqrt(cx * cx + cy * cy + cz * cz), dot) * OIQA_RAD2DEG;
}

double oiqa_wrap_lon(double lon)
{
    double l = fmod(lon + 180.0, 360.0); /* (-360, 360) */
    if (l <= 0.0) l += 360.0;            /* (0, 360] */
    return l - 180.0;
}
