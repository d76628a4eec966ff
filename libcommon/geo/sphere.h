/* Sphere and ERP geometry, exactly DESIGN §5.
 *
 * ERP W x H: pixel (c, r) has its centre at
 *   lon = ((c + 0.5)/W - 0.5) * 360,  lat = (0.5 - (r + 0.5)/H) * 180   (degrees)
 * and back u = (lon/360 + 0.5) W - 0.5, v = (0.5 - lat/180) H - 0.5, so pixel
 * centres are integers. Longitude wraps, latitude clamps.
 * World frame: X east (lon 90), Y up (north pole), Z toward (lon 0, lat 0);
 * the direction of (lon, lat) is (cos lat sin lon, sin lat, cos lat cos lon). */
#ifndef OIQA_GEO_SPHERE_H
#define OIQA_GEO_SPHERE_H

#define OIQA_PI 3.14159265358979323846
#define OIQA_DEG2RAD (OIQA_PI / 180.0)
#define OIQA_RAD2DEG (180.0 / OIQA_PI)

void oiqa_erp_pixel_to_lonlat(int W, int H, double c, double r, double *lon, double *lat);
void oiqa_erp_lonlat_to_pixel(int W, int H, double lon, double lat, double *u, double *v);

void oiqa_lonlat_to_dir(double lon, double lat, double d[3]);
void oiqa_dir_to_lonlat(const double d[3], double *lon, double *lat); /* lon in (-180, 180] */

/* Great-circle distance in degrees. */
double oiqa_great_circle_deg(double lon1, double lat1, double lon2, double lat2);

/* Wraps a longitude into (-180, 180]. */
double oiqa_wrap_lon(double lon);

#endif
