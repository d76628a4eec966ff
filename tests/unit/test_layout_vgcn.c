/* The content-adaptive vgcn20 layout (geo/layout.h, layout_vgcn.c). */
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include <stb_image.h>

#include "base/error.h"
#include "check.h"
#define TEST_RNG_SEED 0x13198a2e03707344ull
#include "test_data.h"
#include "geo/layout.h"
#include "geo/sphere.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* A shipped panorama, decoded with stb_image directly (RGB). */
static int load_panorama(const char *name, oiqa_image *im)
{
    char path[4096];
    const char *root = getenv("OIQA_ROOT");
    snprintf(path, sizeof path, "%s/data/panoramas/%s", root && *root ? root : ".", name);
    if (access(path, R_OK) != 0) {
        SKIP("%s not found (run from the repository root or set OIQA_ROOT)", path);
        return 0;
    }
    int ch;
    im->rgb = stbi_load(path, &im->w, &im->h, &ch, 3);
    CHECK_MSG(im->rgb != NULL, "%s: %s", path, stbi_failure_reason());
    return im->rgb != NULL;
}

static double min_separation(const oiqa_view *v, int n)
{
    double m = 360.0;
    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++) m = fmin(m, oiqa_great_circle_deg(v[a].lon, v[a].lat, v[b].lon, v[b].lat));
    return m;
}

static void check_views_valid(const oiqa_view *v, int n, double fov)
{
    for (int k = 0; k < n; k++) {
        CHECK_MSG(v[k].lon > -180.0 && v[k].lon <= 180.0, "view %d lon %g", k, v[k].lon);
        CHECK_MSG(v[k].lat >= -90.0 && v[k].lat <= 90.0, "view %d lat %g", k, v[k].lat);
        CHECK(v[k].fov == fov);
    }
}

static void t_vgcn_panorama(void)
{
    oiqa_image im;
    if (!load_panorama("forest_tonemapped.png", &im)) return;
    oiqa_view a[20], b[20];
    double t0 = now_s();
    int n = oiqa_layout_vgcn(&im, 20, 90.0, 30.0, a);
    double dt = now_s() - t0;
    CHECK_MSG(n == 20, "returned %d: %s", n, oiqa_errmsg());
    CHECK(oiqa_layout_vgcn(&im, 20, 90.0, 30.0, b) == 20);
    CHECK(memcmp(a, b, sizeof a) == 0); /* deterministic */
    check_views_valid(a, 20, 90.0);
    double sep = min_separation(a, 20);
    printf("  forest %dx%d: 20 centres in %.1f ms, min separation %.1f deg, first (%g, %g)\n", im.w, im.h,
           1e3 * dt, sep, a[0].lon, a[0].lat);
    CHECK_MSG(sep >= 30.0 - 1e-9, "min separation %g", sep);
    stbi_image_free(im.rgb);
}

/* The same panorama at 4096 x 2048 (pixel-repeated): the grey map is box
 * downsampled by 4, so the layout should be close to the 1024 x 512 one. */
static void t_vgcn_large_erp(void)
{
    oiqa_image im;
    if (!load_panorama("city_tonemapped.png", &im)) return;
    oiqa_image big = {im.w * 4, im.h * 4, malloc((size_t)im.w * im.h * 48)};
    for (int y = 0; y < big.h; y++)
        for (int x = 0; x < big.w; x++)
            memcpy(big.rgb + ((size_t)y * big.w + x) * 3, im.rgb + ((size_t)(y / 4) * im.w + x / 4) * 3, 3);
    oiqa_view a[20], b[20];
    double t0 = now_s();
    CHECK(oiqa_layout_vgcn(&big, 20, 90.0, 30.0, a) == 20);
    double dt = now_s() - t0;
    CHECK(oiqa_layout_vgcn(&im, 20, 90.0, 30.0, b) == 20);
    check_views_valid(a, 20, 90.0);
    int same = 0;
    for (int k = 0; k < 20; k++)
        for (int m = 0; m < 20; m++)
            if (oiqa_great_circle_deg(a[k].lon, a[k].lat, b[m].lon, b[m].lat) < 1e-9) { same++; break; }
    printf("  city 4096x2048: %.1f ms per layout, %d of 20 centres as at 1024x512\n", 1e3 * dt, same);
    CHECK(min_separation(a, 20) >= 30.0 - 1e-9);
    CHECK(same == 20); /* box-downsampling 4x pixel-repeated data gives the same grey map */
    free(big.rgb);
    stbi_image_free(im.rgb);
}

/* Texture only around (80, 25): the first centre lands there. */
static void t_vgcn_textured_region(void)
{
    const int W = 1024, H = 512;
    oiqa_image im = {W, H, malloc((size_t)W * H * 3)};
    memset(im.rgb, 128, (size_t)W * H * 3);
    int textured = 0;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            double lon, lat;
            oiqa_erp_pixel_to_lonlat(W, H, x, y, &lon, &lat);
            if (oiqa_great_circle_deg(lon, lat, 80.0, 25.0) < 15.0) {
                memset(im.rgb + ((size_t)y * W + x) * 3, rnd() < 0.5 ? 20 : 235, 3);
                textured++;
            }
        }
    oiqa_view v[20];
    CHECK(oiqa_layout_vgcn(&im, 20, 90.0, 30.0, v) == 20);
    double d = oiqa_great_circle_deg(v[0].lon, v[0].lat, 80.0, 25.0);
    printf("  textured cap at (80, 25): first centre (%g, %g), %.1f deg away\n", v[0].lon, v[0].lat, d);
    CHECK_MSG(d < 10.0, "first centre %.1f deg from the textured region", d);
    check_views_valid(v, 20, 90.0);
    CHECK(min_separation(v, 20) >= 30.0 - 1e-9);
    free(im.rgb);
}

/* No keypoints at all: still n centres, farthest-first from (0, 0). */
static void t_vgcn_flat_image(void)
{
    const int W = 512, H = 256;
    oiqa_image im = {W, H, malloc((size_t)W * H * 3)};
    memset(im.rgb, 77, (size_t)W * H * 3);
    oiqa_view v[20];
    CHECK(oiqa_layout_vgcn(&im, 20, 90.0, 30.0, v) == 20);
    check_views_valid(v, 20, 90.0);
    CHECK(v[0].lon == 0.0 && v[0].lat == 0.0);
    double sep = min_separation(v, 20);
    printf("  flat image: farthest-first fallback, min separation %.1f deg\n", sep);
    CHECK_MSG(sep >= 30.0, "fallback min separation %g", sep);
    free(im.rgb);
}

static void t_vgcn_arguments(void)
{
    oiqa_image im = {8, 4, malloc(8 * 4 * 3)};
    for (int k = 0; k < 8 * 4 * 3; k++) im.rgb[k] = (uint8_t)(rnd() * 256);
    oiqa_view v[40];
    CHECK(oiqa_layout_vgcn(&im, 20, 90.0, 30.0, v) == 20); /* tiny image: no crash */
    CHECK(oiqa_layout_vgcn(&im, 0, 90.0, 30.0, v) == 0);
    CHECK(oiqa_layout_vgcn(&im, 40, 60.0, 30.0, v) == 40); /* more than fit at 30 deg: fallback */
    check_views_valid(v, 40, 60.0);
    CHECK(oiqa_layout_vgcn(&im, 20, 0.0, 30.0, v) == -1);
    CHECK(strstr(oiqa_errmsg(), "fov") != NULL);
    CHECK(oiqa_layout_vgcn(&im, 20, 180.0, 30.0, v) == -1);
    CHECK(oiqa_layout_vgcn(&im, -1, 90.0, 30.0, v) == -1);
    oiqa_image empty = {0, 0, NULL};
    CHECK(oiqa_layout_vgcn(&empty, 20, 90.0, 30.0, v) == -1);
    free(im.rgb);
}

int main(void)
{
    RUN(t_vgcn_panorama);
    RUN(t_vgcn_large_erp);
    RUN(t_vgcn_textured_region);
    RUN(t_vgcn_flat_image);
    RUN(t_vgcn_arguments);
    return check_done();
}
