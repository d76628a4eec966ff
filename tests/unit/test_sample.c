/* The sampling filters of geo/sample.h against naive double-precision
 * reference implementations written here, on awkward shapes (odd and tiny
 * ERPs, S = 1, 3, 17), at the seam, beyond the poles and on hostile maps. */
#include <stdint.h>

#include "check.h"
#include "geo/sample.h"
#include "geo/sphere.h"
#include "geo/viewport.h"

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static oiqa_image random_image(int W, int H)
{
    oiqa_image im = {W, H, malloc((size_t)W * H * 3)};
    for (size_t k = 0; k < (size_t)W * H * 3; k++) im.rgb[k] = (uint8_t)(rnd() * 256.0);
    return im;
}

static double px(const oiqa_image *im, long x, long y, int c) { return im->rgb[((size_t)y * im->w + x) * 3 + c]; }

static long wrap(long x, long W) { return ((x % W) + W) % W; }

/* ---- references (double) ----------------------------------------------- */

/* Exact bilinear: x0 = floor(u) mod W, x1 = (x0+1) mod W, v clamped to
 * [0, H-1], y1 = min(y0+1, H-1). */
static void ref_bilinear(const oiqa_image *im, double u, double v, double out[3])
{
    const int W = im->w, H = im->h;
    if (isnan(u)) u = 0.0;
    if (isnan(v)) v = 0.0;
    v = v < 0 ? 0 : (v > H - 1 ? H - 1 : v);
    double fu = floor(u), fv = floor(v);
    double fx = u - fu, fy = v - fv;
    long x0 = wrap((long)fmod(fu, W), W), x1 = (x0 + 1) % W;
    long y0 = (long)fv, y1 = y0 + 1 < H ? y0 + 1 : H - 1;
    for (int c = 0; c < 3; c++)
        out[c] = (1 - fx) * (1 - fy) * px(im, x0, y0, c) + fx * (1 - fy) * px(im, x1, y0, c) +
                 (1 - fx) * fy * px(im, x0, y1, c) + fx * fy * px(im, x1, y1, c);
}

/* Keys (1981) cubic convolution kernel, a = -0.75. */
static double keys(double s)
{
    const double a = -0.75;
    s = fabs(s);
    if (s <= 1) return (a + 2) * s * s * s - (a + 3) * s * s + 1;
    if (s < 2) return a * s * s * s - 5 * a * s * s + 8 * a * s - 4 * a;
    return 0;
}

static void ref_bicubic(const oiqa_image *im, double u, double v, double out[3])
{
    const int W = im->w, H = im->h;
    v = v < 0 ? 0 : (v > H - 1 ? H - 1 : v);
    double fu = floor(u), fv = floor(v);
    for (int c = 0; c < 3; c++) {
        double s = 0;
        for (int dy = -1; dy <= 2; dy++)
            for (int dx = -1; dx <= 2; dx++) {
                long x = wrap((long)fu + dx, W), y = (long)fv + dy;
                y = y < 0 ? 0 : (y >= H ? H - 1 : y);
                s += keys(u - (fu + dx)) * keys(v - (fv + dy)) * px(im, x, y, c);
            }
        out[c] = s < 0 ? 0 : (s > 255 ? 255 : s);
    }
}

/* One pyramid level from the previous: rounded 2 x 2 means, columns wrap, rows clamp. */
static oiqa_image ref_downsample(const oiqa_image *src)
{
    oiqa_image d = {(src->w + 1) / 2, (src->h + 1) / 2, NULL};
    d.rgb = malloc((size_t)d.w * d.h * 3);
    for (int y = 0; y < d.h; y++)
        for (int x = 0; x < d.w; x++)
            for (int c = 0; c < 3; c++) {
                long x0 = 2 * x, x1 = wrap(2 * x + 1, src->w), y0 = 2 * y, y1 = 2 * y + 1 < src->h ? 2 * y + 1 : src->h - 1;
                double m = (px(src, x0, y0, c) + px(src, x1, y0, c) + px(src, x0, y1, c) + px(src, x1, y1, c)) / 4;
                d.rgb[((size_t)y * d.w + x) * 3 + c] = (uint8_t)floor(m + 0.5);
            }
    return d;
}

static void ref_trilinear(const oiqa_pyramid *p, double u, double v, double lod, double out[3])
{
    int last = p->levels - 1;
    double l = lod > 0 ? lod : 0;
    int l0 = l < last ? (int)floor(l) : last;
    double t = l0 < last ? l - l0 : 0, a[3], b[3] = {0, 0, 0};
    double s0 = ldexp(1.0, -l0), s1 = s0 / 2;
    ref_bilinear(&p->level[l0], (u + 0.5) * s0 - 0.5, (v + 0.5) * s0 - 0.5, a);
    if (t > 0) ref_bilinear(&p->level[l0 + 1], (u + 0.5) * s1 - 0.5, (v + 0.5) * s1 - 0.5, b);
    for (int c = 0; c < 3; c++) out[c] = a[c] + t * (b[c] - a[c]);
}

/* ---- maps ---------------------------------------------------------------- */

static const int shapes[][2] = {{8, 4}, {7, 5}, {1, 1}, {2, 1}, {3, 2}, {33, 17}, {64, 32}, {1024, 512}};
#define N_SHAPES (int)(sizeof shapes / sizeof shapes[0])
static const int sizes[] = {1, 3, 17};

/* A map of n positions that stresses the edges: pixel centres, the seam at
 * -0.5 and W-0.5, tiny negatives, far outside on both axes, and random. */
static void hostile_map(int W, int H, int n, float *uv)
{
    for (int p = 0; p < n; p++) {
        double u, v;
        switch (p % 8) {
        case 0: u = floor(rnd() * W), v = floor(rnd() * H); break;
        case 1: u = rnd() < 0.5 ? -0.5 : W - 0.5, v = -0.5 + rnd() * H; break;
        case 2: u = -1e-6 * rnd(), v = -3 * rnd(); break;
        case 3: u = W - 1 + rnd(), v = H - 1 + 3 * rnd(); break;
        case 4: u = (rnd() - 0.5) * 20 * W, v = (rnd() - 0.5) * 4 * H; break;
        default: u = -0.5 + rnd() * W, v = -0.5 + rnd() * H; break;
        }
        uv[2 * p] = (float)u;
        uv[2 * p + 1] = (float)v;
    }
}

static void t_bilinear_vs_reference(void)
{
    double worst_f = 0, worst_u = 0;
    for (int s = 0; s < N_SHAPES; s++)
        for (int z = 0; z < 3; z++)
            for (int rep = 0; rep < 4; rep++) {
                int W = shapes[s][0], H = shapes[s][1], n = sizes[z] * sizes[z] * (rep + 1);
                oiqa_image im = random_image(W, H);
                float *uv = malloc(sizeof *uv * n * 2), *of = malloc(sizeof *of * n * 3);
                uint8_t *ou = malloc((size_t)n * 3);
                hostile_map(W, H, n, uv);
                oiqa_sample_bilinear_f32(&im, uv, n, of);
                oiqa_sample_bilinear_u8(&im, uv, n, ou);
                for (int p = 0; p < n; p++) {
                    double r[3];
                    ref_bilinear(&im, uv[2 * p], uv[2 * p + 1], r);
                    for (int c = 0; c < 3; c++) {
                        worst_f = fmax(worst_f, fabs(of[3 * p + c] - r[c]));
                        worst_u = fmax(worst_u, fabs(ou[3 * p + c] - r[c]));
                    }
                }
                free(im.rgb), free(uv), free(of), free(ou);
            }
    printf("  bilinear vs double reference: f32 max %.2e, u8 max %.4f grey levels\n", worst_f, worst_u);
    CHECK_MSG(worst_f <= 1e-3, "f32 off by %g", worst_f);
    CHECK_MSG(worst_u <= 0.5 + 0.05, "u8 off by %g (rounding allows 0.5 + 14-bit weights 0.05)", worst_u);
}

/* The u8 output against the rounded exact blend on real viewports: the bar
 * of geo/sample.h is mean <= 0.5 and max <= 1 grey level. */
static void t_bilinear_u8_rounding(void)
{
    const int W = 1024, H = 512, S = 224;
    oiqa_image im = random_image(W, H);
    float *uv = malloc(sizeof *uv * S * S * 2);
    uint8_t *out = malloc((size_t)S * S * 3);
    double sum = 0, worst = 0;
    long n = 0, off = 0;
    const oiqa_view views[] = {{0, 0, 90}, {-180, 0, 90}, {120, -60, 90}, {0, 89.9, 90}};
    for (int k = 0; k < 4; k++) {
        oiqa_view_map(&views[k], S, W, H, uv);
        oiqa_sample_bilinear_u8(&im, uv, S * S, out);
        for (int p = 0; p < S * S; p++) {
            double r[3];
            ref_bilinear(&im, uv[2 * p], uv[2 * p + 1], r);
            for (int c = 0; c < 3; c++, n++) {
                double d = fabs(out[3 * p + c] - floor(r[c] + 0.5));
                sum += d, worst = fmax(worst, d), off += d > 0;
            }
        }
    }
    printf("  bilinear u8 vs rounded exact blend: mean %.2e, max %.0f, %ld of %ld values differ\n", sum / n, worst,
           off, n);
    CHECK(sum / n <= 0.5 && worst <= 1);
    free(im.rgb), free(uv), free(out);
}

static void t_bilinear_seam_and_poles(void)
{
    const int W = 8, H = 4;
    oiqa_image im = {W, H, calloc(W * H * 3, 1)};
    for (int y = 0; y < H; y++)
        for (int c = 0; c < 3; c++) {
            im.rgb[(y * W + 0) * 3 + c] = 200;     /* column 0 */
            im.rgb[(y * W + W - 1) * 3 + c] = 0;   /* column W-1 */
        }
    for (int x = 1; x < W - 1; x++)
        for (int c = 0; c < 3; c++) {
            im.rgb[(0 * W + x) * 3 + c] = 50;       /* north row */
            im.rgb[((H - 1) * W + x) * 3 + c] = 90; /* south row */
        }
    /* u: half way across the seam either way, a quarter into it, one period off */
    const float uv[] = {-0.5f, 1.5f, W - 0.5f, 1.5f, -0.25f, 1.5f, W + 0.25f - 1.0f, 2.0f,
                        3.0f, -7.0f, 3.0f, H + 5.0f, 3.0f, -0.5f, 3.0f, H - 0.5f};
    const double want[] = {100, 100, 150, 50, 50, 90, 50, 90};
    float of[8 * 3];
    uint8_t ou[8 * 3];
    oiqa_sample_bilinear_f32(&im, uv, 8, of);
    oiqa_sample_bilinear_u8(&im, uv, 8, ou);
    for (int p = 0; p < 8; p++)
        for (int c = 0; c < 3; c++) {
            CHECK_NEAR(of[3 * p + c], want[p], 1e-4);
            CHECK_NEAR(ou[3 * p + c], want[p], 0);
        }
    free(im.rgb);
}

static void t_hostile_maps_stay_defined(void)
{
    oiqa_image im = random_image(7, 5);
    const float uv[] = {NAN, 1.0f, 2.0f, NAN, INFINITY, -INFINITY, -INFINITY, INFINITY, 3e30f, -3e30f, -0.0f, -0.0f};
    const int n = 6;
    float of[6 * 3];
    uint8_t ou[6 * 3], oc[6 * 3];
    oiqa_sample_bilinear_f32(&im, uv, n, of);
    oiqa_sample_bilinear_u8(&im, uv, n, ou);
    oiqa_sample_bicubic_u8(&im, uv, n, oc);
    for (int k = 0; k < n * 3; k++) CHECK(isfinite(of[k]) && of[k] >= 0 && of[k] <= 255);
    oiqa_sample_bilinear_u8(&im, uv, 0, ou); /* n = 0: nothing, no crash */
    free(im.rgb);
}

static void t_constant_images_stay_constant(void)
{
    const uint8_t values[] = {0, 1, 127, 128, 254, 255};
    for (int s = 0; s < N_SHAPES; s++) {
        int W = shapes[s][0], H = shapes[s][1], n = 17 * 17;
        for (int k = 0; k < 6; k++) {
            oiqa_image im = {W, H, malloc((size_t)W * H * 3)};
            memset(im.rgb, values[k], (size_t)W * H * 3);
            float *uv = malloc(sizeof *uv * n * 2), *of = malloc(sizeof *of * n * 3), *lod = malloc(sizeof *lod * n);
            uint8_t *ou = malloc((size_t)n * 3), *oc = malloc((size_t)n * 3), *ot = malloc((size_t)n * 3);
            hostile_map(W, H, n, uv);
            for (int p = 0; p < n; p++) lod[p] = (float)(rnd() * 14 - 2);
            oiqa_pyramid pyr;
            CHECK(oiqa_pyramid_build(&im, 16, &pyr) == 0);
            oiqa_sample_bilinear_f32(&im, uv, n, of);
            oiqa_sample_bilinear_u8(&im, uv, n, ou);
            oiqa_sample_bicubic_u8(&im, uv, n, oc);
            oiqa_sample_trilinear_u8(&pyr, uv, lod, n, ot);
            for (int q = 0; q < n * 3; q++) {
                CHECK_NEAR(of[q], values[k], 1e-3);
                CHECK(ou[q] == values[k]);
                CHECK(oc[q] == values[k]);
                CHECK(ot[q] == values[k]);
            }
            oiqa_pyramid_free(&pyr);
            free(im.rgb), free(uv), free(of), free(lod), free(ou), free(oc), free(ot);
        }
    }
}

static void t_bicubic_vs_reference(void)
{
    double worst = 0;
    for (int s = 0; s < N_SHAPES; s++)
        for (int z = 0; z < 3; z++) {
            int W = shapes[s][0], H = shapes[s][1], n = sizes[z] * sizes[z] * 3;
            oiqa_image im = random_image(W, H);
            float *uv = malloc(sizeof *uv * n * 2);
            uint8_t *out = malloc((size_t)n * 3);
            hostile_map(W, H, n, uv);
            oiqa_sample_bicubic_u8(&im, uv, n, out);
            for (int p = 0; p < n; p++) {
                double r[3];
                ref_bicubic(&im, uv[2 * p], uv[2 * p + 1], r);
                for (int c = 0; c < 3; c++) worst = fmax(worst, fabs(out[3 * p + c] - r[c]));
            }
            free(im.rgb), free(uv), free(out);
        }
    printf("  bicubic u8 vs double reference: max %.4f grey levels\n", worst);
    CHECK_MSG(worst <= 0.5 + 1e-3, "bicubic off by %g", worst);
}

static void t_bicubic_interpolates_at_centres(void)
{
    oiqa_image im = random_image(33, 17);
    const int n = 33 * 17;
    float *uv = malloc(sizeof *uv * n * 2);
    uint8_t *out = malloc((size_t)n * 3);
    for (int y = 0; y < 17; y++)
        for (int x = 0; x < 33; x++) uv[2 * (y * 33 + x)] = (float)x, uv[2 * (y * 33 + x) + 1] = (float)y;
    oiqa_sample_bicubic_u8(&im, uv, n, out);
    CHECK(memcmp(out, im.rgb, (size_t)n * 3) == 0);
    free(im.rgb), free(uv), free(out);
}

static void t_pyramid_odd_sizes(void)
{
    oiqa_image im = random_image(7, 5);
    oiqa_pyramid p;
    CHECK(oiqa_pyramid_build(&im, 16, &p) == 0);
    const int want[][2] = {{7, 5}, {4, 3}, {2, 2}, {1, 1}};
    CHECK(p.levels == 4);
    CHECK(p.level[0].rgb == im.rgb); /* level 0 aliases the ERP */
    oiqa_image prev = im;
    for (int l = 0; l < p.levels && l < 4; l++) {
        CHECK(p.level[l].w == want[l][0] && p.level[l].h == want[l][1]);
        if (l > 0) {
            oiqa_image r = ref_downsample(&prev);
            CHECK(memcmp(r.rgb, p.level[l].rgb, (size_t)r.w * r.h * 3) == 0);
            if (l > 1) free(prev.rgb);
            prev = r;
        }
    }
    if (prev.rgb != im.rgb) free(prev.rgb);
    oiqa_pyramid_free(&p);
    CHECK(p.level == NULL && p.levels == 0);
    /* max_levels caps the depth; a 1 x 1 image has one level */
    CHECK(oiqa_pyramid_build(&im, 2, &p) == 0 && p.levels == 2);
    oiqa_pyramid_free(&p);
    CHECK(oiqa_pyramid_build(&im, 0, &p) == 0 && p.levels == 1);
    oiqa_pyramid_free(&p);
    oiqa_image one = random_image(1, 1);
    CHECK(oiqa_pyramid_build(&one, 16, &p) == 0 && p.levels == 1);
    oiqa_pyramid_free(&p);
    /* 4096 x 2048: 13 levels down to 1 x 1, each exactly half */
    oiqa_image big = {4096, 2048, calloc(4096 * 2048, 3)};
    CHECK(oiqa_pyramid_build(&big, 16, &p) == 0 && p.levels == 13);
    for (int l = 1; l < p.levels; l++) CHECK(p.level[l].w == 4096 >> l && p.level[l].h == (2048 >> l ? 2048 >> l : 1));
    oiqa_pyramid_free(&p);
    free(big.rgb), free(one.rgb), free(im.rgb);
}

static void t_trilinear_vs_reference(void)
{
    double worst = 0;
    const int dims[][2] = {{37, 19}, {8, 4}, {64, 32}, {1, 1}};
    for (int s = 0; s < 4; s++) {
        oiqa_image im = random_image(dims[s][0], dims[s][1]);
        oiqa_pyramid pyr;
        CHECK(oiqa_pyramid_build(&im, 16, &pyr) == 0);
        const int n = 17 * 17 * 4;
        float *uv = malloc(sizeof *uv * n * 2), *lod = malloc(sizeof *lod * n);
        uint8_t *out = malloc((size_t)n * 3);
        hostile_map(im.w, im.h, n, uv);
        for (int p = 0; p < n; p++) lod[p] = p % 5 == 0 ? (float)(p % 7) : (float)(rnd() * 9 - 1);
        oiqa_sample_trilinear_u8(&pyr, uv, lod, n, out);
        for (int p = 0; p < n; p++) {
            double r[3];
            ref_trilinear(&pyr, uv[2 * p], uv[2 * p + 1], lod[p], r);
            for (int c = 0; c < 3; c++) worst = fmax(worst, fabs(out[3 * p + c] - r[c]));
        }
        oiqa_pyramid_free(&pyr);
        free(im.rgb), free(uv), free(lod), free(out);
    }
    printf("  trilinear u8 vs double reference: max %.4f grey levels\n", worst);
    CHECK_MSG(worst <= 0.5 + 1e-3, "trilinear off by %g", worst);
}

static void t_lod(void)
{
    const int S = 224, W = 4096, H = 2048;
    float *uv = malloc(sizeof *uv * S * S * 2), *lod = malloc(sizeof *lod * S * S);
    /* at the centre: log2 of ERP pixels per viewport pixel = log2(W/(2 pi) * 2 tan(F/2) / S) */
    oiqa_view front = {0, 0, 90};
    oiqa_view_map(&front, S, W, H, uv);
    oiqa_map_lod(uv, S, W, H, lod);
    double want = log2(W / (2 * OIQA_PI) * 2 * tan(45 * OIQA_DEG2RAD) / S);
    CHECK_NEAR(lod[(S / 2) * S + S / 2], want, 0.01);
    printf("  LOD at the view centre %.4f (expected %.4f)\n", lod[(S / 2) * S + S / 2], want);
    /* across the seam: no spike from the wrap of u */
    oiqa_view back = {180, 0, 90};
    oiqa_view_map(&back, S, W, H, uv);
    oiqa_map_lod(uv, S, W, H, lod);
    float mx = 0;
    for (int p = 0; p < S * S; p++) mx = fmaxf(mx, lod[p]);
    CHECK_MSG(mx < 3.5f, "seam view: max lod %g", mx);
    CHECK_NEAR(lod[(S / 2) * S + S / 2], want, 0.01);
    /* a viewport finer than the ERP: lod 0 */
    oiqa_view narrow = {10, 20, 30};
    oiqa_view_map(&narrow, S, 1024, 512, uv);
    oiqa_map_lod(uv, S, 1024, 512, lod);
    for (int p = 0; p < S * S; p++) CHECK(lod[p] == 0.0f);
    /* S = 1 and 2 */
    oiqa_view_map(&front, 1, W, H, uv);
    oiqa_map_lod(uv, 1, W, H, lod);
    CHECK(lod[0] == 0.0f);
    oiqa_view_map(&front, 2, W, H, uv);
    oiqa_map_lod(uv, 2, W, H, lod);
    for (int p = 0; p < 4; p++) CHECK(lod[p] > 8.0f && isfinite(lod[p])); /* ~600 ERP px per pixel */
    free(uv), free(lod);
}

static double std_of(const uint8_t *v, int n)
{
    double s = 0, s2 = 0;
    for (int k = 0; k < n; k++) s += v[k], s2 += (double)v[k] * v[k];
    double m = s / n;
    return sqrt(fmax(0, s2 / n - m * m));
}

/* A 1-pixel checkerboard aliases under bilinear sampling and averages to
 * grey under the antialias filter. */
static void t_antialias_checkerboard(void)
{
    const int W = 4096, H = 2048, S = 224;
    oiqa_image im = {W, H, malloc((size_t)W * H * 3)};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) memset(im.rgb + ((size_t)y * W + x) * 3, (x + y) % 2 ? 255 : 0, 3);
    oiqa_pyramid pyr;
    CHECK(oiqa_pyramid_build(&im, 16, &pyr) == 0);
    float *uv = malloc(sizeof *uv * S * S * 2), *lod = malloc(sizeof *lod * S * S);
    uint8_t *bil = malloc((size_t)S * S * 3), *aa = malloc((size_t)S * S * 3);
    const oiqa_view views[] = {{0, 0, 90}, {45, 30, 90}, {-180, -45, 90}};
    for (int k = 0; k < 3; k++) {
        oiqa_view_map(&views[k], S, W, H, uv);
        oiqa_map_lod(uv, S, W, H, lod);
        oiqa_sample_bilinear_u8(&im, uv, S * S, bil);
        oiqa_sample_trilinear_u8(&pyr, uv, lod, S * S, aa);
        double sb = std_of(bil, S * S * 3), sa = std_of(aa, S * S * 3);
        printf("  checkerboard view (%g, %g): std bilinear %.1f, antialias %.2f\n", views[k].lon, views[k].lat, sb,
               sa);
        CHECK_MSG(sb > 30.0, "bilinear std %g: expected aliasing", sb);
        CHECK_MSG(sa < 2.0, "antialias std %g: expected near-uniform grey", sa);
    }
    oiqa_pyramid_free(&pyr);
    free(im.rgb), free(uv), free(lod), free(bil), free(aa);
}

/* On a smooth image the antialias filter changes little. The image is a
 * smooth function of the direction on the sphere (an ERP of a function of
 * lon alone would be discontinuous at the poles, where the filter rightly
 * averages over all longitudes). */
static void t_antialias_smooth(void)
{
    const int W = 2048, H = 1024, S = 224;
    oiqa_image im = {W, H, malloc((size_t)W * H * 3)};
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                double lon, lat, d[3];
                oiqa_erp_pixel_to_lonlat(W, H, x, y, &lon, &lat);
                oiqa_lonlat_to_dir(lon, lat, d);
                double val = 128 + 90 * sin(2.5 * d[0] + c) * cos(2 * d[1] - 0.5 * d[2]);
                im.rgb[((size_t)y * W + x) * 3 + c] = (uint8_t)floor(val + 0.5);
            }
    oiqa_pyramid pyr;
    CHECK(oiqa_pyramid_build(&im, 16, &pyr) == 0);
    float *uv = malloc(sizeof *uv * S * S * 2), *lod = malloc(sizeof *lod * S * S);
    uint8_t *bil = malloc((size_t)S * S * 3), *aa = malloc((size_t)S * S * 3);
    /* the last two contain a pole */
    const oiqa_view views[] = {{0, 0, 90}, {100, 40, 90}, {-180, -60, 90}, {36, 75, 90}};
    for (int k = 0; k < 4; k++) {
        oiqa_view_map(&views[k], S, W, H, uv);
        oiqa_map_lod(uv, S, W, H, lod);
        oiqa_sample_bilinear_u8(&im, uv, S * S, bil);
        oiqa_sample_trilinear_u8(&pyr, uv, lod, S * S, aa);
        double sum = 0, mx = 0;
        for (int q = 0; q < S * S * 3; q++) {
            double d = fabs((double)bil[q] - aa[q]);
            sum += d, mx = fmax(mx, d);
        }
        printf("  smooth view (%g, %g): antialias vs bilinear mean %.3f max %.0f\n", views[k].lon, views[k].lat,
               sum / (S * S * 3), mx);
        CHECK_MSG(sum / (S * S * 3) < 0.5 && mx <= 3, "mean %g max %g", sum / (S * S * 3), mx);
    }
    oiqa_pyramid_free(&pyr);
    free(im.rgb), free(uv), free(lod), free(bil), free(aa);
}

int main(void)
{
    RUN(t_bilinear_vs_reference);
    RUN(t_bilinear_u8_rounding);
    RUN(t_bilinear_seam_and_poles);
    RUN(t_hostile_maps_stay_defined);
    RUN(t_constant_images_stay_constant);
    RUN(t_bicubic_vs_reference);
    RUN(t_bicubic_interpolates_at_centres);
    RUN(t_pyramid_odd_sizes);
    RUN(t_trilinear_vs_reference);
    RUN(t_lod);
    RUN(t_antialias_checkerboard);
    RUN(t_antialias_smooth);
    return check_done();
}
