/* Sphere, ERP and viewport geometry (DESIGN §5) and the fixed layouts. */
#include <stdint.h>

#include "check.h"
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#include "test_data.h"
#include "geo/layout.h"
#include "geo/sample.h"
#include "geo/sphere.h"
#include "geo/viewport.h"

static double angle_deg(const double a[3], const double b[3])
{
    double cx = a[1] * b[2] - a[2] * b[1], cy = a[2] * b[0] - a[0] * b[2], cz = a[0] * b[1] - a[1] * b[0];
    return atan2(sqrt(cx * cx + cy * cy + cz * cz), a[0] * b[0] + a[1] * b[1] + a[2] * b[2]) * OIQA_RAD2DEG;
}

/* |a - b| for ERP columns, modulo W. */
static double du_mod(double a, double b, int W)
{
    double d = fmod(fabs(a - b), W);
    return d < W - d ? d : W - d;
}

static void t_erp_pixel_centres_and_corners(void)
{
    const int W = 1024, H = 512;
    double lon, lat, u, v;
    oiqa_erp_pixel_to_lonlat(W, H, 0, 0, &lon, &lat);
    CHECK_NEAR(lon, -180.0 + 180.0 / W, 1e-12);
    CHECK_NEAR(lat, 90.0 - 90.0 / H, 1e-12);
    oiqa_erp_pixel_to_lonlat(W, H, W - 1, H - 1, &lon, &lat);
    CHECK_NEAR(lon, 180.0 - 180.0 / W, 1e-12);
    CHECK_NEAR(lat, -90.0 + 90.0 / H, 1e-12);
    /* image corners are half a pixel outside the centres */
    oiqa_erp_pixel_to_lonlat(W, H, -0.5, -0.5, &lon, &lat);
    CHECK_NEAR(lon, -180.0, 1e-12);
    CHECK_NEAR(lat, 90.0, 1e-12);
    oiqa_erp_pixel_to_lonlat(W, H, W - 0.5, H - 0.5, &lon, &lat);
    CHECK_NEAR(lon, 180.0, 1e-12);
    CHECK_NEAR(lat, -90.0, 1e-12);
    /* the image centre is the front direction */
    oiqa_erp_pixel_to_lonlat(W, H, W / 2 - 0.5, H / 2 - 0.5, &lon, &lat);
    CHECK_NEAR(lon, 0.0, 1e-12);
    CHECK_NEAR(lat, 0.0, 1e-12);
    /* back: the seam and the poles */
    oiqa_erp_lonlat_to_pixel(W, H, -180.0, 90.0, &u, &v);
    CHECK_NEAR(u, -0.5, 1e-12);
    CHECK_NEAR(v, -0.5, 1e-12);
    oiqa_erp_lonlat_to_pixel(W, H, 180.0, -90.0, &u, &v);
    CHECK_NEAR(u, W - 0.5, 1e-12);
    CHECK_NEAR(v, H - 0.5, 1e-12);
    oiqa_erp_lonlat_to_pixel(W, H, 90.0, 45.0, &u, &v);
    CHECK_NEAR(u, 0.75 * W - 0.5, 1e-12);
    CHECK_NEAR(v, 0.25 * H - 0.5, 1e-12);
}

static void t_erp_round_trips(void)
{
    const int sizes[][2] = {{1024, 512}, {4096, 2048}, {7, 3}, {1, 1}};
    double worst = 0.0;
    for (int s = 0; s < 4; s++) {
        int W = sizes[s][0], H = sizes[s][1];
        for (int k = 0; k < 20000; k++) {
            double lon = -180.0 + 360.0 * rnd(), lat = -90.0 + 180.0 * rnd(), u, v, lon2, lat2;
            oiqa_erp_lonlat_to_pixel(W, H, lon, lat, &u, &v);
            oiqa_erp_pixel_to_lonlat(W, H, u, v, &lon2, &lat2);
            worst = fmax(worst, fmax(fabs(lon - lon2), fabs(lat - lat2)));
            double c = -0.5 + W * rnd(), r = -0.5 + H * rnd(), c2, r2;
            oiqa_erp_pixel_to_lonlat(W, H, c, r, &lon, &lat);
            oiqa_erp_lonlat_to_pixel(W, H, lon, lat, &c2, &r2);
            worst = fmax(worst, fmax(fabs(c - c2), fabs(r - r2)));
        }
    }
    CHECK_MSG(worst < 1e-9, "round trip error %g", worst);
}

static void t_dir_lonlat(void)
{
    double d[3], lon, lat;
    oiqa_lonlat_to_dir(0, 0, d);
    CHECK_NEAR(d[0], 0, 1e-15);
    CHECK_NEAR(d[1], 0, 1e-15);
    CHECK_NEAR(d[2], 1, 1e-15);
    oiqa_lonlat_to_dir(90, 0, d); /* east is +X */
    CHECK_NEAR(d[0], 1, 1e-15);
    CHECK_NEAR(d[2], 0, 1e-15);
    oiqa_lonlat_to_dir(0, 90, d); /* north pole is +Y */
    CHECK_NEAR(d[1], 1, 1e-15);
    oiqa_lonlat_to_dir(-180, 0, d);
    oiqa_dir_to_lonlat(d, &lon, &lat);
    CHECK_NEAR(lon, 180.0, 1e-12); /* lon in (-180, 180] */
    double back[3] = {-0.0, 0.0, -1.0};
    oiqa_dir_to_lonlat(back, &lon, &lat);
    CHECK(lon == 180.0);
    double pole[3] = {0.0, -2.0, 0.0};
    oiqa_dir_to_lonlat(pole, &lon, &lat);
    CHECK_NEAR(lat, -90.0, 1e-12);
    double worst = 0.0;
    for (int k = 0; k < 20000; k++) {
        double lo = -180.0 + 360.0 * rnd(), la = -89.999 + 179.998 * rnd();
        if (lo == -180.0) continue;
        oiqa_lonlat_to_dir(lo, la, d);
        oiqa_dir_to_lonlat(d, &lon, &lat);
        worst = fmax(worst, fmax(fabs(lon - lo), fabs(lat - la)));
        CHECK_NEAR(d[0] * d[0] + d[1] * d[1] + d[2] * d[2], 1.0, 1e-14);
    }
    CHECK_MSG(worst < 1e-9, "dir round trip error %g", worst);
}

static void t_wrap_lon(void)
{
    CHECK_NEAR(oiqa_wrap_lon(180.0), 180.0, 0);
    CHECK_NEAR(oiqa_wrap_lon(-180.0), 180.0, 0);
    CHECK_NEAR(oiqa_wrap_lon(0.0), 0.0, 0);
    CHECK_NEAR(oiqa_wrap_lon(190.0), -170.0, 1e-12);
    CHECK_NEAR(oiqa_wrap_lon(-190.0), 170.0, 1e-12);
    CHECK_NEAR(oiqa_wrap_lon(720.0 + 45.0), 45.0, 1e-12);
    CHECK_NEAR(oiqa_wrap_lon(-540.0), 180.0, 1e-12);
}

static void t_great_circle(void)
{
    CHECK_NEAR(oiqa_great_circle_deg(0, 0, 90, 0), 90.0, 1e-12);
    CHECK_NEAR(oiqa_great_circle_deg(0, 90, 0, -90), 180.0, 1e-12);
    CHECK_NEAR(oiqa_great_circle_deg(0, 0, 180, 0), 180.0, 1e-12);
    CHECK_NEAR(oiqa_great_circle_deg(179, 0, -179, 0), 2.0, 1e-12); /* across the seam */
    CHECK_NEAR(oiqa_great_circle_deg(10, 0, -10, 0), 20.0, 1e-12);
    CHECK_NEAR(oiqa_great_circle_deg(0, 89, 180, 89), 2.0, 1e-12); /* over the pole */
    CHECK_NEAR(oiqa_great_circle_deg(123, 45, 123, 45), 0.0, 1e-12);
    CHECK_NEAR(oiqa_great_circle_deg(30, 0, 30, 1e-7), 1e-7, 1e-15); /* tiny: accurate, unlike acos */
    CHECK_NEAR(oiqa_great_circle_deg(0, 0, 180, 1e-7), 180.0 - 1e-7, 1e-12); /* near antipodal */
    /* against the spherical law of cosines on random pairs */
    for (int k = 0; k < 1000; k++) {
        double a = 360 * rnd() - 180, b = 180 * rnd() - 90, c = 360 * rnd() - 180, d = 180 * rnd() - 90;
        double ref = acos(fmin(1.0, sin(b * OIQA_DEG2RAD) * sin(d * OIQA_DEG2RAD) +
                                        cos(b * OIQA_DEG2RAD) * cos(d * OIQA_DEG2RAD) *
                                            cos((a - c) * OIQA_DEG2RAD))) * OIQA_RAD2DEG;
        CHECK_NEAR(oiqa_great_circle_deg(a, b, c, d), ref, 1e-6);
    }
}

static const oiqa_view some_views[] = {
    {0, 0, 90}, {90, 0, 90}, {-180, 0, 90}, {45, 30, 90}, {0, 89.9, 90},
    {120, -60, 90}, {170, 60, 60}, {-45, -20, 120}, {10, 0, 1},
};
#define N_SOME (int)(sizeof some_views / sizeof some_views[0])

static void t_view_centre_ray(void)
{
    const int sizes[] = {1, 3, 17, 225};
    for (int v = 0; v < N_SOME; v++) {
        for (int s = 0; s < 4; s++) {
            int S = sizes[s];
            double d[3], f[3];
            oiqa_view_ray(&some_views[v], S, (S - 1) / 2.0, (S - 1) / 2.0, d);
            oiqa_lonlat_to_dir(some_views[v].lon, some_views[v].lat, f);
            CHECK_MSG(angle_deg(d, f) < 1e-9, "view %d S %d: centre ray %g deg off", v, S, angle_deg(d, f));
        }
    }
}

static void t_view_corner_angles(void)
{
    for (int v = 0; v < N_SOME; v++) {
        const oiqa_view *w = &some_views[v];
        const int S = 224;
        double f[3], d[3];
        oiqa_lonlat_to_dir(w->lon, w->lat, f);
        double want = atan(tan(0.5 * w->fov * OIQA_DEG2RAD) * sqrt(2.0)) * OIQA_RAD2DEG;
        /* the image corners are at pixel coordinates -0.5 and S-0.5 */
        const double corners[4][2] = {{-0.5, -0.5}, {S - 0.5, -0.5}, {-0.5, S - 0.5}, {S - 0.5, S - 0.5}};
        for (int c = 0; c < 4; c++) {
            oiqa_view_ray(w, S, corners[c][0], corners[c][1], d);
            CHECK_NEAR(angle_deg(d, f), want, 1e-9);
        }
        /* edge midpoints: fov/2 */
        oiqa_view_ray(w, S, S - 0.5, (S - 1) / 2.0, d);
        CHECK_NEAR(angle_deg(d, f), w->fov / 2, 1e-9);
        oiqa_view_ray(w, S, (S - 1) / 2.0, -0.5, d);
        CHECK_NEAR(angle_deg(d, f), w->fov / 2, 1e-9);
    }
}

/* Up is toward the north pole (no roll): the pixel above the centre has a
 * higher latitude, the pixel to the right is east (larger lon, same side). */
static void t_view_up_and_right(void)
{
    const double lats[] = {-80, -60, -30, 0, 30, 45, 60, 80};
    for (int k = 0; k < 8; k++) {
        oiqa_view w = {20, lats[k], 90};
        const int S = 101, c = 50;
        double d[3], lon_above, lat_above, lon_c, lat_c, lon_r, lat_r;
        oiqa_view_ray(&w, S, c, c, d);
        oiqa_dir_to_lonlat(d, &lon_c, &lat_c);
        oiqa_view_ray(&w, S, c, c - 3, d); /* 3 px: stays below the pole at lat0 80 */
        oiqa_dir_to_lonlat(d, &lon_above, &lat_above);
        oiqa_view_ray(&w, S, c + 10, c, d);
        oiqa_dir_to_lonlat(d, &lon_r, &lat_r);
        CHECK_MSG(lat_above > lat_c, "lat0 %g: above %g <= centre %g", lats[k], lat_above, lat_c);
        CHECK_NEAR(lon_above, 20.0, 1e-9); /* straight up the meridian: no roll */
        CHECK_MSG(lon_r > lon_c, "lat0 %g: right %g <= centre %g", lats[k], lon_r, lon_c);
        /* the right vector is horizontal: left and right pixels have the same latitude */
        double lon_l, lat_l;
        oiqa_view_ray(&w, S, c - 10, c, d);
        oiqa_dir_to_lonlat(d, &lon_l, &lat_l);
        CHECK_NEAR(lat_l, lat_r, 1e-9);
        CHECK_NEAR(lon_r - 20.0, 20.0 - lon_l, 1e-9);
    }
}

/* oiqa_view_map (fast path, float32) against the ray of every pixel (double). */
static void t_view_map_matches_rays(void)
{
    const int W = 1024, H = 512;
    const int sizes[] = {1, 2, 3, 17, 64};
    double worst = 0.0;
    for (int v = 0; v < N_SOME; v++) {
        for (int s = 0; s < 5; s++) {
            int S = sizes[s];
            float *uv = malloc(sizeof *uv * S * S * 2);
            oiqa_view_map(&some_views[v], S, W, H, uv);
            for (int j = 0; j < S; j++)
                for (int i = 0; i < S; i++) {
                    double d[3], lon, lat, u, vv;
                    oiqa_view_ray(&some_views[v], S, i, j, d);
                    oiqa_dir_to_lonlat(d, &lon, &lat);
                    oiqa_erp_lonlat_to_pixel(W, H, lon, lat, &u, &vv);
                    float mu = uv[2 * (j * S + i)], mv = uv[2 * (j * S + i) + 1];
                    CHECK_MSG(mu >= -0.5f && mu <= W - 0.5f, "u %g outside [-0.5, W-0.5]", mu);
                    worst = fmax(worst, fmax(du_mod(mu, u, W), fabs(mv - vv)));
                }
            free(uv);
        }
    }
    printf("  map vs rays: max error %.2e px\n", worst);
    CHECK_MSG(worst < 1e-3, "map differs from rays by %g px", worst);
}

/* A view centred on the seam sees u near both -0.5 and W-0.5, and samples
 * wrap: it equals the front view of the ERP rolled by half a turn. */
static void t_seam(void)
{
    const int W = 64, H = 32, S = 48;
    oiqa_image erp = {W, H, malloc(W * H * 3)}, rolled = {W, H, malloc(W * H * 3)};
    for (int r = 0; r < H; r++)
        for (int c = 0; c < W; c++)
            for (int ch = 0; ch < 3; ch++) {
                uint8_t val = (uint8_t)((c * 37 + r * 11 + ch * 71 + (c * r) % 13) & 255);
                erp.rgb[(r * W + c) * 3 + ch] = val;
                rolled.rgb[(r * W + (c + W / 2) % W) * 3 + ch] = val;
            }
    const double lons[] = {180.0, -180.0};
    for (int k = 0; k < 2; k++) {
        oiqa_view back = {lons[k], 10, 90}, front = {0, 10, 90};
        float uv_b[S * S * 2], uv_f[S * S * 2], out_b[S * S * 3], out_f[S * S * 3];
        oiqa_view_map(&back, S, W, H, uv_b);
        oiqa_view_map(&front, S, W, H, uv_f);
        float umin = 1e9f, umax = -1e9f;
        for (int p = 0; p < S * S; p++) umin = fminf(umin, uv_b[2 * p]), umax = fmaxf(umax, uv_b[2 * p]);
        /* the two pixels next to the seam: half a pixel step from -0.5 and W-0.5 */
        CHECK_MSG(umin < 0.0f && umin >= -0.5f, "min u %g", umin);
        CHECK_MSG(umax > W - 1.0f && umax <= W - 0.5f, "max u %g", umax);
        oiqa_sample_bilinear_f32(&erp, uv_b, S * S, out_b);
        oiqa_sample_bilinear_f32(&rolled, uv_f, S * S, out_f);
        double worst = 0.0;
        for (int p = 0; p < S * S * 3; p++) worst = fmax(worst, fabs(out_b[p] - out_f[p]));
        CHECK_MSG(worst < 0.02, "lon %g: seam view differs from rolled front view by %g", lons[k], worst);
    }
    free(erp.rgb);
    free(rolled.rgb);
}

/* Views at and near the poles: finite maps, the pole ray at v = -0.5 (north)
 * or H - 0.5 (south), and sampling clamps to the edge row. */
static void t_poles(void)
{
    const int W = 256, H = 128, S = 33, c = 16;
    const double lats[] = {90.0, 89.9, -90.0, -89.9};
    oiqa_image erp = {W, H, malloc(W * H * 3)};
    for (int r = 0; r < H; r++)
        for (int x = 0; x < W * 3; x++) erp.rgb[r * W * 3 + x] = r == 0 ? 200 : (r == H - 1 ? 20 : (uint8_t)(r + x));
    for (int k = 0; k < 4; k++) {
        oiqa_view w = {33, lats[k], 90};
        float uv[S * S * 2];
        uint8_t out[S * S * 3];
        oiqa_view_map(&w, S, W, H, uv);
        for (int p = 0; p < S * S * 2; p++) CHECK(isfinite(uv[p]));
        float vc = uv[2 * (c * S + c) + 1];
        double want = (0.5 - lats[k] / 180.0) * H - 0.5;
        CHECK_NEAR(vc, want, 1e-3);
        /* every ray is within the cap: |lat| >= |lat0| - corner angle */
        double corner = atan(sqrt(2.0)) * OIQA_RAD2DEG;
        for (int p = 0; p < S * S; p++) {
            double lat = (0.5 - (uv[2 * p + 1] + 0.5) / H) * 180.0;
            CHECK(fabs(lat) >= fabs(lats[k]) - corner - 1e-6);
            CHECK(lats[k] * lat > 0);
        }
        oiqa_sample_bilinear_u8(&erp, uv, S * S, out);
        if (fabs(lats[k]) == 90.0) {
            /* the pole pixel samples v = -0.5 or H - 0.5, clamped to the edge row */
            uint8_t edge = lats[k] > 0 ? 200 : 20;
            for (int ch = 0; ch < 3; ch++) CHECK(out[(c * S + c) * 3 + ch] == edge);
        }
    }
    free(erp.rgb);
}

static void t_icosa20(void)
{
    oiqa_view v[20];
    CHECK(oiqa_layout_icosa20(75.0, v) == 20);
    double dir[20][3];
    for (int k = 0; k < 20; k++) {
        CHECK(v[k].fov == 75.0);
        CHECK(v[k].lon > -180.0 && v[k].lon <= 180.0);
        oiqa_lonlat_to_dir(v[k].lon, v[k].lat, dir[k]);
    }
    /* the documented values and order */
    const double lat_cap = 52.6226318594, lat_band = 10.8123169636;
    const double lat_of_group[4] = {lat_cap, lat_band, -lat_band, -lat_cap};
    const double lon_of_group[4][5] = {
        {-108, -36, 36, 108, 180}, {-108, -36, 36, 108, 180}, {-144, -72, 0, 72, 144}, {-144, -72, 0, 72, 144}};
    for (int g = 0; g < 4; g++)
        for (int i = 0; i < 5; i++) {
            CHECK_NEAR(v[5 * g + i].lat, lat_of_group[g], 1e-9);
            CHECK_NEAR(v[5 * g + i].lon, lon_of_group[g][i], 1e-9);
        }
    /* each centre: its 3 nearest neighbours at the same angle (41.81 deg), the 4th farther */
    for (int k = 0; k < 20; k++) {
        double a[19];
        int n = 0;
        for (int m = 0; m < 20; m++)
            if (m != k) a[n++] = angle_deg(dir[k], dir[m]);
        for (int i = 0; i < 19; i++) /* sort */
            for (int j = i + 1; j < 19; j++)
                if (a[j] < a[i]) { double t = a[i]; a[i] = a[j]; a[j] = t; }
        CHECK_NEAR(a[0], 41.8103148958, 1e-6);
        CHECK_NEAR(a[1], a[0], 1e-9);
        CHECK_NEAR(a[2], a[0], 1e-9);
        CHECK(a[3] > a[0] + 1.0);
    }
    /* symmetric about the equator: 10 centres on each side, and the antipode of each centre is a centre */
    int north = 0;
    for (int k = 0; k < 20; k++) {
        north += v[k].lat > 0;
        double anti[3] = {-dir[k][0], -dir[k][1], -dir[k][2]};
        double best = 180.0;
        for (int m = 0; m < 20; m++) best = fmin(best, angle_deg(anti, dir[m]));
        CHECK(best < 1e-9);
    }
    CHECK(north == 10);
    /* coverage: every direction within 37.38 deg (centre to vertex) of a centre */
    double worst = 0.0;
    for (int k = 0; k < 200000; k++) {
        double p[3];
        oiqa_lonlat_to_dir(360 * rnd() - 180, asin(2 * rnd() - 1) * OIQA_RAD2DEG, p);
        double best = 180.0;
        for (int m = 0; m < 20; m++) best = fmin(best, angle_deg(p, dir[m]));
        worst = fmax(worst, best);
    }
    double npole[3] = {0, 1, 0}, best = 180.0;
    for (int m = 0; m < 20; m++) best = fmin(best, angle_deg(npole, dir[m]));
    CHECK_NEAR(best, 37.3773681406, 1e-6); /* a vertex: the farthest point from the centres */
    CHECK_MSG(worst <= 37.3773681407 && worst > 36.5, "coverage radius %g", worst);
}

static void t_cube6(void)
{
    oiqa_view v[6];
    CHECK(oiqa_layout_cube6(90.0, v) == 6);
    const double want[6][2] = {{0, 0}, {90, 0}, {180, 0}, {-90, 0}, {0, 90}, {0, -90}};
    for (int k = 0; k < 6; k++) {
        CHECK(v[k].lon == want[k][0] && v[k].lat == want[k][1] && v[k].fov == 90.0);
    }
    /* six 90-degree faces tile the sphere: every direction is inside one face */
    for (int k = 0; k < 20000; k++) {
        double p[3];
        oiqa_lonlat_to_dir(360 * rnd() - 180, asin(2 * rnd() - 1) * OIQA_RAD2DEG, p);
        int inside = 0;
        for (int m = 0; m < 6 && !inside; m++) {
            double f[3];
            oiqa_lonlat_to_dir(v[m].lon, v[m].lat, f);
            /* inside a face if its gnomonic projection lands in [-1, 1]^2: the
             * components of p across the (axis-aligned) face normal are <= z */
            double z = p[0] * f[0] + p[1] * f[1] + p[2] * f[2];
            inside = z > 0 &&
                     fmax(fabs(p[0] - z * f[0]), fmax(fabs(p[1] - z * f[1]), fabs(p[2] - z * f[2]))) <= z + 1e-12;
        }
        CHECK(inside);
    }
}

int main(void)
{
    RUN(t_erp_pixel_centres_and_corners);
    RUN(t_erp_round_trips);
    RUN(t_dir_lonlat);
    RUN(t_wrap_lon);
    RUN(t_great_circle);
    RUN(t_view_centre_ray);
    RUN(t_view_corner_angles);
    RUN(t_view_up_and_right);
    RUN(t_view_map_matches_rays);
    RUN(t_seam);
    RUN(t_poles);
    RUN(t_icosa20);
    RUN(t_cube6);
    return check_done();
}
