/* Gnomonic viewports, DESIGN §5.
 *
 * The camera looks at (lon0, lat0) = (phi, theta) with no roll. In world
 * coordinates its basis is
 *   right r = (cos phi, 0, -sin phi), up = (-sin theta sin phi, cos theta, -sin theta cos phi),
 *   forward f = (cos theta sin phi, sin theta, cos theta cos phi),
 * and the ray of image-plane point (x, y) is d = x r + y up + f
 * (= R_y(phi) R_x(theta) (x, y, 1)). */
#include "geo/viewport.h"

#include <math.h>
#include <stddef.h>

#include "geo/sphere.h"

void oiqa_view_ray(const oiqa_view *v, int S, double i, double j, double d[3])
{
    double t = tan(0.5 * v->fov * OIQA_DEG2RAD);
    double x = (2.0 * (i + 0.5) / S - 1.0) * t;
    double y = (1.0 - 2.0 * (j + 0.5) / S) * t;
    double ph = v->lon * OIQA_DEG2RAD, th = v->lat * OIQA_DEG2RAD;
    double sp = sin(ph), cp = cos(ph), st = sin(th), ct = cos(th);
    d[0] = x * cp - y * st * sp + ct * sp;
    d[1] = y * ct + st;
    d[2] = -x * sp - y * st * cp + ct * cp;
    double n = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    d[0] /= n;
    d[1] /= n;
    d[2] /= n;
}

/* uv: S x S x 2 float32, row-major (row j, column i), (u, v) per pixel.
 *
 * Rather than d = x r + y up + f followed by lon = atan2(d_X, d_Z), we use
 * the same rotation split in two: R_x(theta) maps (x, y, 1) to
 * (x, b, a) with a = cos theta - y sin theta and b = y cos theta + sin theta
 * (constant along a row), and R_y(phi) only adds phi to the longitude. So
 *   lon = phi + atan2(x, a),  lat = atan2(b, hypot(x, a)),
 * equal to the direct formula up to rounding (about 1e-13 px). Both are even
 * or odd in x, so one atan2 pair serves the pixels i and S-1-i: half the trig.
 * Everything is in double and rounded to float32 once at the end (float32
 * trig would cost about 3e-4 px near the poles). */
void oiqa_view_map(const oiqa_view *v, int S, int W, int H, float *uv)
{
    const double t = tan(0.5 * v->fov * OIQA_DEG2RAD);
    const double ph = oiqa_wrap_lon(v->lon) * OIQA_DEG2RAD;
    const double th = v->lat * OIQA_DEG2RAD;
    const double st = sin(th), ct = cos(th);
    /* u = (lon/(2 pi) + 1/2) W - 1/2, v = (1/2 - lat/pi) H - 1/2 (lon, lat in radians). */
    const double ku = W / (2.0 * OIQA_PI), cu = 0.5 * W - 0.5;
    const double kv = -H / OIQA_PI, cv = 0.5 * H - 0.5;
    const int half = (S + 1) / 2;

    for (int j = 0; j < S; j++) {
        double y = (1.0 - 2.0 * (j + 0.5) / S) * t;
        double a = ct - y * st, b = y * ct + st;
        float *row = uv + (size_t)j * S * 2;
        for (int i = 0; i < half; i++) {
            double x = (2.0 * (i + 0.5) / S - 1.0) * t; /* <= 0 on this half */
            double alpha = atan2(x, a);
            double lat = atan2(b, sqrt(x * x + a * a));
            double vv = lat * kv + cv;
            double lon_l = ph + alpha, lon_r = ph - alpha; /* columns i and S-1-i */
            if (lon_l <= -OIQA_PI) lon_l += 2.0 * OIQA_PI;
            else if (lon_l > OIQA_PI) lon_l -= 2.0 * OIQA_PI;
            if (lon_r <= -OIQA_PI) lon_r += 2.0 * OIQA_PI;
            else if (lon_r > OIQA_PI) lon_r -= 2.0 * OIQA_PI;
            row[2 * i] = (float)(lon_l * ku + cu);
            row[2 * i + 1] = (float)vv;
            row[2 * (S - 1 - i)] = (float)(lon_r * ku + cu);
            row[2 * (S - 1 - i) + 1] = (float)vv;
        }
    }
}
