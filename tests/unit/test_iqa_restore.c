/* iqa/restore.h and the restorers behind it, on real panorama crops: each
 * restorer raises PSNR against the clean crop for the distortion it targets
 * at every level 1..5 (the gains are printed), the detector names the right
 * family for JPEG, noise and blur at levels 2..5, restoring is
 * deterministic, and bad arguments are usage errors. */
#include <math.h>
#include <omp.h>

#include "base/error.h"
#include "io/image.h"
#include "iqa/deblock.h"
#include "iqa/deblur.h"
#include "iqa/detect.h"
#include "iqa/distort.h"
#include "iqa/nlmeans.h"
#include "iqa/restore.h"
#include "iqa/ssim.h"
#include "check.h"
#include "test_data.h"

#define S 128
static const char *const panos[2] = {"city", "courtyard"};
static uint8_t *crops[2];

static uint8_t *load_crop(const char *name) { return test_panorama_crop(name, S); }

/* Distorts every crop at every level, restores with op, checks the gain. */
static void gains(oiqa_dist_family f, oiqa_restore_op op)
{
    uint8_t *d = malloc(S * S * 3), *r = malloc(S * S * 3);
    for (int p = 0; p < 2; p++) {
        CHECK_MSG(crops[p], "cannot load the %s panorama (OIQA_ROOT set?)", panos[p]);
        if (!crops[p]) continue;
        printf("    %-9s %-5s -> %-7s PSNR distorted -> restored (gain):", panos[p], oiqa_dist_name(f),
               oiqa_restore_name(op));
        for (int l = 1; l <= OIQA_DIST_LEVELS; l++) {
            double p0 = 0, p1 = 0;
            CHECK(oiqa_distort_level(crops[p], S, S, f, l, 42, d) == OIQA_OK);
            CHECK(oiqa_restore(d, S, S, op, r, NULL) == OIQA_OK);
            CHECK(oiqa_psnr(crops[p], d, S, S, &p0) == OIQA_OK && oiqa_psnr(crops[p], r, S, S, &p1) == OIQA_OK);
            printf(" L%d %.2f->%.2f (%+.2f)", l, p0, p1, p1 - p0);
            CHECK_MSG(p1 > p0, "%s %s level %d: restored PSNR %.3f not above %.3f", panos[p], oiqa_dist_name(f), l,
                      p1, p0);
        }
        printf("\n");
    }
    free(d), free(r);
}

static void t_denoise_gains(void) { gains(OIQA_DIST_NOISE, OIQA_RESTORE_DENOISE); }
static void t_deblock_gains(void) { gains(OIQA_DIST_JPEG, OIQA_RESTORE_DEBLOCK); }
static void t_deblur_gains(void) { gains(OIQA_DIST_BLUR, OIQA_RESTORE_DEBLUR); }

static void t_auto_detects(void)
{
    static const oiqa_dist_family fams[3] = {OIQA_DIST_JPEG, OIQA_DIST_NOISE, OIQA_DIST_BLUR};
    uint8_t *d = malloc(S * S * 3), *r = malloc(S * S * 3);
    int right = 0, total = 0, level_right = 0;
    for (int p = 0; p < 2; p++) {
        if (!crops[p]) continue;
        oiqa_detection det;
        CHECK(oiqa_detect(crops[p], S, S, &det) == OIQA_OK);
        printf("    %-9s clean: %s (blockiness %.2f, quality %d, noise %.2f, blur %.2f)\n", panos[p],
               oiqa_dist_name(det.family), det.blockiness, det.quality, det.noise_sigma, det.blur_sigma);
        CHECK_MSG(det.family == OIQA_DIST_NONE, "%s clean detected as %s", panos[p], oiqa_dist_name(det.family));
        for (int k = 0; k < 3; k++)
            for (int l = 2; l <= 5; l++) {
                double p0 = 0, p1 = 0;
                CHECK(oiqa_distort_level(crops[p], S, S, fams[k], l, 7, d) == OIQA_OK);
                CHECK(oiqa_restore(d, S, S, OIQA_RESTORE_AUTO, r, &det) == OIQA_OK);
                CHECK(oiqa_psnr(crops[p], d, S, S, &p0) == OIQA_OK && oiqa_psnr(crops[p], r, S, S, &p1) == OIQA_OK);
                total++;
                right += det.family == fams[k];
                level_right += det.family == fams[k] && det.level == l;
                printf("    %-9s %-5s L%d -> %-5s strength %6.2f level %d, auto PSNR %.2f->%.2f (%+.2f)\n", panos[p],
                       oiqa_dist_name(fams[k]), l, oiqa_dist_name(det.family), det.strength, det.level, p0, p1,
                       p1 - p0);
                CHECK_MSG(det.family == fams[k], "%s %s level %d detected as %s", panos[p], oiqa_dist_name(fams[k]),
                          l, oiqa_dist_name(det.family));
                CHECK_MSG(p1 > p0, "%s %s level %d: auto restore lost PSNR", panos[p], oiqa_dist_name(fams[k]), l);
            }
    }
    printf("    auto detection: family %d/%d right, level %d/%d right\n", right, total, level_right, total);
    free(d), free(r);
}

static void t_jpeg_quality_estimate(void)
{
    uint8_t *d = malloc(S * S * 3);
    for (int p = 0; p < 2; p++)
        for (int l = 1; crops[p] && l <= 5; l++) {
            int q = (int)oiqa_dist_param(OIQA_DIST_JPEG, l);
            CHECK(oiqa_jpeg_recompress(crops[p], S, S, q, d) == OIQA_OK);
            int est = oiqa_jpeg_quality_estimate(d, S, S, 7, 7);
            CHECK_MSG(abs(est - q) <= 1 + q / 10, "%s quality %d estimated %d", panos[p], q, est);
        }
    if (crops[0]) CHECK(oiqa_jpeg_quality_estimate(crops[0], S, S, 7, 7) == 0);
    free(d);
}

static void t_deterministic(void)
{
    if (!crops[0]) {
        SKIP("panorama absent");
        return;
    }
    uint8_t *d = malloc(S * S * 3), *a = malloc(S * S * 3), *b = malloc(S * S * 3);
    CHECK(oiqa_distort_level(crops[0], S, S, OIQA_DIST_NOISE, 2, 1, d) == OIQA_OK);
    for (int op = 0; op < OIQA_RESTORE_COUNT; op++) {
        CHECK(oiqa_restore(d, S, S, op, a, NULL) == OIQA_OK);
        memcpy(b, d, S * S * 3);
        CHECK(oiqa_restore(b, S, S, op, b, NULL) == OIQA_OK); /* in place */
        CHECK_MSG(memcmp(a, b, S * S * 3) == 0, "%s differs between runs / in place", oiqa_restore_name(op));
    }
    free(d), free(a), free(b);
}

/* On a whole panorama the filters run in parallel over rows: the bytes must
 * not depend on the thread count. */
static void t_same_bytes_any_threads(void)
{
    const char *root = getenv("OIQA_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/panoramas/city_tonemapped.png", root && *root ? root : ".");
    oiqa_image im = {0};
    oiqa_image_load_opts lo = {0};
    if (oiqa_image_load(path, &lo, &im)) {
        CHECK_MSG(0, "cannot load %s", path);
        return;
    }
    size_t nb = (size_t)im.w * im.h * 3;
    uint8_t *out[2] = {malloc(nb), malloc(nb)}, *blur[2] = {malloc(nb), malloc(nb)};
    double ssim[2] = {0, 0};
    for (int t = 0; t < 2; t++) {
        omp_set_num_threads(t + 1);
        CHECK(oiqa_gaussian_blur(im.rgb, im.w, im.h, 2.0, blur[t]) == OIQA_OK);
        CHECK(oiqa_deblur(blur[t], im.w, im.h, 1.9, 3, out[t], NULL) == OIQA_OK);
        CHECK(oiqa_ssim(im.rgb, out[t], im.w, im.h, &ssim[t]) == OIQA_OK);
    }
    omp_set_num_threads(2);
    CHECK(memcmp(blur[0], blur[1], nb) == 0);
    CHECK(memcmp(out[0], out[1], nb) == 0);
    CHECK(ssim[0] == ssim[1]);
    free(out[0]), free(out[1]), free(blur[0]), free(blur[1]);
    oiqa_image_free(&im);
}

static void t_bad_arguments(void)
{
    uint8_t px[16 * 16 * 3] = {0}, out[16 * 16 * 3];
    oiqa_restore_op op;
    oiqa_detection det;
    CHECK(oiqa_restore_parse("sharpen", &op) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "key 'restore'"));
    CHECK(oiqa_restore_parse("auto", &op) == OIQA_OK && op == OIQA_RESTORE_AUTO);
    CHECK(oiqa_restore(px, 16, 16, (oiqa_restore_op)17, out, NULL) == OIQA_EXIT_USAGE);
    CHECK(oiqa_restore(NULL, 16, 16, OIQA_RESTORE_AUTO, out, NULL) == OIQA_EXIT_USAGE);
    CHECK(oiqa_nlmeans(px, 16, 16, NAN, out, NULL) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "key 'sigma'"));
    CHECK(oiqa_deblur(px, 16, 16, 50, 0, out, NULL) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "key 'sigma'"));
    CHECK(oiqa_deblock(px, 16, 16, 101, out, NULL) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "key 'quality'"));
    CHECK(oiqa_detect(px, 8, 8, &det) == OIQA_EXIT_USAGE);
    /* Tiny and flat images: every operator returns a copy or a filtered image, never crashes. */
    for (int k = 0; k < OIQA_RESTORE_COUNT; k++) {
        CHECK(oiqa_restore(px, 1, 1, k, out, NULL) == OIQA_OK);
        CHECK(oiqa_restore(px, 3, 2, k, out, NULL) == OIQA_OK);
        CHECK(oiqa_restore(px, 16, 16, k, out, &det) == OIQA_OK && !memcmp(px, out, sizeof px));
    }
    CHECK(oiqa_nlmeans(px, 2, 2, 20, out, NULL) == OIQA_OK);
    CHECK(oiqa_deblur(px, 2, 2, 3, 5, out, NULL) == OIQA_OK);
    CHECK(oiqa_deblock(px, 5, 5, 10, out, NULL) == OIQA_OK);
}

int main(void)
{
    for (int p = 0; p < 2; p++) crops[p] = load_crop(panos[p]);
    RUN(t_denoise_gains);
    RUN(t_deblock_gains);
    RUN(t_deblur_gains);
    RUN(t_auto_detects);
    RUN(t_jpeg_quality_estimate);
    RUN(t_deterministic);
    RUN(t_same_bytes_any_threads);
    RUN(t_bad_arguments);
    free(crops[0]), free(crops[1]);
    return check_done();
}
