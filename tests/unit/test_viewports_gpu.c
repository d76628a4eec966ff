/* GPU viewports (geo/viewports_gpu.h) against the CPU path (oiqa_view_map +
 * geo/sample.h), for every filter: a shipped panorama (icosa20 224 x 224 and
 * cube6 at an odd S), an awkward small ERP (37 x 19, views at the poles and
 * the seam, wide and narrow fields of view, S = 1, 2, 17), buffer reuse
 * across sizes within one context, and bad arguments. Tolerance
 * (geo/viewports_gpu.h): max |diff| <= 1, at most 1e-4 of the bytes differ.
 * Without a usable GPU the comparisons print SKIP with the reason, and only
 * the failure of context creation (one message, no crash) is checked. */
#include <stdint.h>
#include <stdlib.h>

#include "base/error.h"
#include "check.h"
#include "geo/layout.h"
#include "geo/sample.h"
#include "geo/viewport.h"
#include "geo/viewports_gpu.h"
#include "io/image.h"
#include "nn/device.h"

#define MAX_FRAC_DIFF 1e-4

static const char *const filter_names[] = {"bilinear", "bicubic", "antialias"};

static int gpu_ok;
static char gpu_why[256];
static oiqa_vp_gpu *ctx; /* shared by the cases, so its buffers grow and shrink in use */

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static double rnd(void)
{
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static const char *pano_path(const char *name)
{
    static char buf[1024];
    const char *root = getenv("OIQA_ROOT");
    snprintf(buf, sizeof buf, "%s/data/panoramas/%s", root && *root ? root : ".", name);
    return buf;
}

/* The CPU reference: what the stage writes for these views. */
static int cpu_viewports(const oiqa_image *erp, const oiqa_view *views, int V, int S, oiqa_filter f, uint8_t *out)
{
    size_t n = (size_t)S * S;
    float *uv = malloc(n * 2 * sizeof(float)), *lod = malloc(n * sizeof(float));
    oiqa_pyramid pyr = {0};
    int rc = uv && lod ? OIQA_OK : OIQA_EXIT_DATA;
    if (!rc && f == OIQA_FILTER_ANTIALIAS) rc = oiqa_pyramid_build(erp, OIQA_VP_PYRAMID_LEVELS, &pyr);
    for (int v = 0; v < V && !rc; v++) {
        oiqa_view_map(&views[v], S, erp->w, erp->h, uv);
        uint8_t *o = out + (size_t)v * n * 3;
        if (f == OIQA_FILTER_BILINEAR) oiqa_sample_bilinear_u8(erp, uv, (int64_t)n, o);
        else if (f == OIQA_FILTER_BICUBIC) oiqa_sample_bicubic_u8(erp, uv, (int64_t)n, o);
        else {
            oiqa_map_lod(uv, S, erp->w, erp->h, lod);
            oiqa_sample_trilinear_u8(&pyr, uv, lod, (int64_t)n, o);
        }
    }
    if (pyr.level) oiqa_pyramid_free(&pyr);
    free(uv), free(lod);
    return rc;
}

/* GPU against CPU for one (ERP, views, S, filter); label names it in failures. */
static void compare(const oiqa_image *erp, const oiqa_view *views, int V, int S, oiqa_filter f, const char *label)
{
    size_t bytes = (size_t)V * S * S * 3;
    uint8_t *cpu = malloc(bytes), *gpu = malloc(bytes);
    CHECK(cpu && gpu);
    if (!cpu || !gpu) goto done;
    CHECK_MSG(cpu_viewports(erp, views, V, S, f, cpu) == OIQA_OK, "%s: CPU reference failed", label);
    memset(gpu, 0xA5, bytes);
    int rc = oiqa_vp_gpu_sample(ctx, erp, views, V, S, f, gpu);
    CHECK_MSG(rc == OIQA_OK, "%s %s: %s", label, filter_names[f], oiqa_errmsg());
    if (rc) goto done;
    size_t n_diff = 0, first = 0;
    int max_d = 0;
    for (size_t k = 0; k < bytes; k++) {
        int d = abs((int)cpu[k] - (int)gpu[k]);
        if (d && !n_diff++) first = k;
        if (d > max_d) max_d = d;
    }
    size_t fp = first / 3, S2 = (size_t)S * S;
    CHECK_MSG(max_d <= 1, "%s %s (%dx%d, V=%d, S=%d): max |gpu - cpu| = %d (first at view %zu pixel (%zu, %zu): %d vs %d)",
              label, filter_names[f], erp->w, erp->h, V, S, max_d, fp / S2, fp % S2 % S, fp % S2 / S, gpu[first],
              cpu[first]);
    CHECK_MSG((double)n_diff <= MAX_FRAC_DIFF * bytes, "%s %s (%dx%d, V=%d, S=%d): %zu of %zu bytes differ", label,
              filter_names[f], erp->w, erp->h, V, S, n_diff, bytes);
done:
    free(cpu), free(gpu);
}

static oiqa_image random_image(int W, int H)
{
    oiqa_image im = {W, H, malloc((size_t)W * H * 3)};
    for (size_t k = 0; im.rgb && k < (size_t)W * H * 3; k++) im.rgb[k] = (uint8_t)(rnd() * 256.0);
    return im;
}

/* 32 awkward views: poles, the seam at +-180, lon beyond +-180, fov from 1 to 170. */
static void awkward_views(oiqa_view *v, int n)
{
    for (int k = 0; k < n; k++) {
        v[k].lon = rnd() * 720.0 - 360.0;
        v[k].lat = rnd() * 180.0 - 90.0;
        v[k].fov = 1.0 + rnd() * 169.0;
        if (k % 8 == 0) v[k].lat = (k & 8) ? 90.0 : -90.0;
        if (k % 8 == 1) v[k].lon = (k & 8) ? 180.0 : -180.0;
        if (k % 8 == 2) v[k].fov = 170.0;
    }
}

/* ---- cases ----------------------------------------------------------------- */

static void t_create(void)
{
    oiqa_vp_gpu *g = (oiqa_vp_gpu *)&g; /* must be reset */
    int rc = oiqa_vp_gpu_create(&g);
    if (gpu_ok) {
        CHECK_MSG(rc == OIQA_OK && g, "no context on a usable GPU: %s", oiqa_errmsg());
    } else {
        CHECK_MSG(rc == OIQA_EXIT_DATA, "create without a usable GPU returned %d", rc);
        CHECK(g == NULL);
        CHECK_MSG(strstr(oiqa_errmsg(), "GPU viewports") != NULL, "message '%s'", oiqa_errmsg());
    }
    if (rc == OIQA_OK) oiqa_vp_gpu_destroy(g);
    oiqa_vp_gpu_destroy(NULL);
}

static int need_gpu(void)
{
    if (gpu_ok && ctx) return 1;
    SKIP("no usable GPU: %s", gpu_ok ? "context creation failed" : gpu_why);
    return 0;
}

static void panorama_case(oiqa_filter f)
{
    if (!need_gpu()) return;
    oiqa_image_load_opts lo = {0};
    oiqa_image erp = {0};
    const char *path = pano_path("city_tonemapped.png");
    if (oiqa_image_load(path, &lo, &erp)) {
        CHECK_MSG(0, "%s: %s (OIQA_ROOT set?)", path, oiqa_errmsg());
        return;
    }
    oiqa_view ico[20], cube[6];
    oiqa_layout_icosa20(90.0, ico);
    oiqa_layout_cube6(90.0, cube);
    compare(&erp, ico, 20, 224, f, "city icosa20");
    compare(&erp, cube, 6, 97, f, "city cube6");
    oiqa_image_free(&erp);
}

static void t_panorama_bilinear(void) { panorama_case(OIQA_FILTER_BILINEAR); }
static void t_panorama_bicubic(void) { panorama_case(OIQA_FILTER_BICUBIC); }
static void t_panorama_antialias(void) { panorama_case(OIQA_FILTER_ANTIALIAS); }

static void t_small_erp_all_filters(void)
{
    if (!need_gpu()) return;
    oiqa_image erp = random_image(37, 19);
    oiqa_view v[32];
    awkward_views(v, 32);
    static const int sizes[] = {1, 2, 17};
    for (int f = 0; f < 3; f++)
        for (int s = 0; s < 3; s++) compare(&erp, v, 32, sizes[s], (oiqa_filter)f, "random 37x19");
    free(erp.rgb);
}

/* One context, sizes up and down: the reused buffers must not leak old bytes. */
static void t_buffer_reuse(void)
{
    if (!need_gpu()) return;
    static const int dims[][3] = {{640, 320, 64}, {8, 4, 3}, {1001, 500, 129}, {37, 19, 31}};
    oiqa_view v[32];
    awkward_views(v, 32);
    for (int k = 0; k < 4; k++) {
        oiqa_image erp = random_image(dims[k][0], dims[k][1]);
        for (int f = 0; f < 3; f++) compare(&erp, v, k == 1 ? 1 : 32, dims[k][2], (oiqa_filter)f, "reuse");
        free(erp.rgb);
    }
}

static void t_bad_arguments(void)
{
    if (!need_gpu()) return;
    oiqa_image erp = random_image(16, 8);
    oiqa_view v = {0.0, 0.0, 90.0};
    uint8_t out[3 * 4];
    CHECK(oiqa_vp_gpu_sample(ctx, &erp, &v, 1, 0, OIQA_FILTER_BILINEAR, out) == OIQA_EXIT_USAGE);
    CHECK(oiqa_vp_gpu_sample(ctx, &erp, &v, 0, 2, OIQA_FILTER_BILINEAR, out) == OIQA_EXIT_USAGE);
    CHECK(oiqa_vp_gpu_sample(ctx, &erp, &v, 1, 2, (oiqa_filter)7, out) == OIQA_EXIT_USAGE);
    CHECK(oiqa_vp_gpu_sample(NULL, &erp, &v, 1, 2, OIQA_FILTER_BILINEAR, out) == OIQA_EXIT_USAGE);
    /* and the context still works */
    compare(&erp, &v, 1, 2, OIQA_FILTER_BILINEAR, "after bad arguments");
    free(erp.rgb);
}

int main(void)
{
    gpu_ok = oiqa_cuda_usable(gpu_why, sizeof gpu_why);
    if (gpu_ok && oiqa_vp_gpu_create(&ctx)) printf("note: %s\n", oiqa_errmsg());
    RUN(t_create);
    RUN(t_panorama_bilinear);
    RUN(t_panorama_bicubic);
    RUN(t_panorama_antialias);
    RUN(t_small_erp_all_filters);
    RUN(t_buffer_reuse);
    RUN(t_bad_arguments);
    oiqa_vp_gpu_destroy(ctx);
    return check_done();
}
