/* iqa/distort.h on real panorama crops: every family lowers PSNR
 * monotonically with its level, noise is reproducible for a seed, the level
 * table and the names round-trip, and bad parameters are usage errors that
 * name their key. */
#include <math.h>

#include "base/error.h"
#include "io/image.h"
#include "iqa/distort.h"
#include "iqa/ssim.h"
#include "check.h"
#include "test_data.h"

#define S 128
static const char *const panos[2] = {"city", "courtyard"};
static uint8_t *crops[2];

static uint8_t *load_crop(const char *name) { return test_panorama_crop(name, S); }

static void t_levels_lower_psnr(void)
{
    uint8_t *d = malloc(S * S * 3);
    for (int p = 0; p < 2; p++) {
        CHECK_MSG(crops[p], "cannot load the %s panorama (OIQA_ROOT set?)", panos[p]);
        if (!crops[p]) continue;
        for (int f = 0; f < OIQA_DIST_COUNT; f++) {
            double prev = INFINITY;
            printf("    %-9s %-8s PSNR by level:", panos[p], oiqa_dist_name(f));
            for (int l = 1; l <= OIQA_DIST_LEVELS; l++) {
                double psnr = 0;
                CHECK(oiqa_distort_level(crops[p], S, S, f, l, 1234, d) == OIQA_OK);
                CHECK(oiqa_psnr(crops[p], d, S, S, &psnr) == OIQA_OK);
                printf(" %.2f", psnr);
                /* a 128^2 crop at JPEG 2000 ratio 400 or 800 has a budget of 123
                 * or 61 bytes, under the codestream's headers: both decode to
                 * the coarsest image (t_jpeg2000_levels_on_erp has the real
                 * size) */
                int floor_hit = f == OIQA_DIST_JPEG2000 && l >= 5;
                CHECK_MSG(floor_hit ? psnr <= prev : psnr < prev, "%s %s level %d: PSNR %.3f not below %.3f", panos[p],
                          oiqa_dist_name(f), l, psnr, prev);
                prev = psnr;
            }
            printf("\n");
        }
    }
    free(d);
}

/* JPEG 2000 on a whole 1024 x 512 panorama: every level, "beyond" included,
 * is farther from the image than the one before. */
static void t_jpeg2000_levels_on_erp(void)
{
    oiqa_image im;
    if (test_panorama_load("city", &im)) {
        SKIP("panorama absent");
        return;
    }
    uint8_t *d = malloc((size_t)im.w * im.h * 3);
    double prev = INFINITY;
    printf("    city ERP jpeg2000 PSNR by level:");
    for (int l = 1; l <= OIQA_DIST_BEYOND; l++) {
        double psnr = 0;
        CHECK(oiqa_distort_level(im.rgb, im.w, im.h, OIQA_DIST_JPEG2000, l, 0, d) == OIQA_OK);
        CHECK(oiqa_psnr(im.rgb, d, im.w, im.h, &psnr) == OIQA_OK);
        printf(" %.2f", psnr);
        CHECK_MSG(psnr < prev - 0.3, "level %d: PSNR %.3f not below %.3f", l, psnr, prev);
        prev = psnr;
    }
    printf("\n");
    free(d);
    oiqa_image_free(&im);
}

static void t_deterministic(void)
{
    if (!crops[0]) {
        SKIP("panorama absent");
        return;
    }
    uint8_t *a = malloc(S * S * 3), *b = malloc(S * S * 3);
    CHECK(oiqa_distort_level(crops[0], S, S, OIQA_DIST_NOISE, 3, 99, a) == OIQA_OK);
    CHECK(oiqa_distort_level(crops[0], S, S, OIQA_DIST_NOISE, 3, 99, b) == OIQA_OK);
    CHECK(memcmp(a, b, S * S * 3) == 0);
    CHECK(oiqa_distort_level(crops[0], S, S, OIQA_DIST_NOISE, 3, 100, b) == OIQA_OK);
    CHECK(memcmp(a, b, S * S * 3) != 0);
    /* In place gives the same bytes as out of place, for every family. */
    for (int f = 0; f < OIQA_DIST_COUNT; f++) {
        CHECK(oiqa_distort_level(crops[0], S, S, f, 2, 5, a) == OIQA_OK);
        memcpy(b, crops[0], S * S * 3);
        CHECK(oiqa_distort_level(b, S, S, f, 2, 5, b) == OIQA_OK);
        CHECK_MSG(memcmp(a, b, S * S * 3) == 0, "%s in place differs", oiqa_dist_name(f));
    }
    /* Noise statistics: the sample sigma of (noisy - clean) on mid-grey is sigma. */
    uint8_t *grey = malloc(S * S * 3);
    memset(grey, 128, S * S * 3);
    CHECK(oiqa_awgn(grey, S, S, 10, 3, a) == OIQA_OK);
    double s2 = 0, m = 0;
    for (int i = 0; i < S * S * 3; i++) m += a[i] - 128.0, s2 += (a[i] - 128.0) * (a[i] - 128.0);
    m /= S * S * 3;
    CHECK_NEAR(sqrt(s2 / (S * S * 3) - m * m), sqrt(100 + 1.0 / 12), 0.15);
    CHECK_NEAR(m, 0, 0.15);
    /* sigma 0, factor 1 and quality 100 are (nearly) identities. */
    CHECK(oiqa_gaussian_blur(crops[0], S, S, 0, a) == OIQA_OK && !memcmp(a, crops[0], S * S * 3));
    CHECK(oiqa_awgn(crops[0], S, S, 0, 1, a) == OIQA_OK && !memcmp(a, crops[0], S * S * 3));
    CHECK(oiqa_resample(crops[0], S, S, 1, a) == OIQA_OK && !memcmp(a, crops[0], S * S * 3));
    double psnr = 0;
    CHECK(oiqa_jpeg_recompress(crops[0], S, S, 100, a) == OIQA_OK && oiqa_psnr(crops[0], a, S, S, &psnr) == 0);
    CHECK_MSG(psnr > 40, "quality 100 PSNR %.2f", psnr);
    free(a), free(b), free(grey);
}

static void t_table_and_names(void)
{
    static const char *n[] = {"jpeg", "blur", "noise", "resample", "jpeg2000", "h264", "hevc"};
    static const char *p[] = {"quality", "sigma", "sigma", "factor", "ratio", "qp", "qp"};
    CHECK(sizeof n / sizeof *n == OIQA_DIST_COUNT);
    for (int f = 0; f < OIQA_DIST_COUNT; f++) {
        oiqa_dist_family g = OIQA_DIST_NONE;
        CHECK(oiqa_dist_parse(n[f], &g) == OIQA_OK && g == (oiqa_dist_family)f);
        CHECK_STR(oiqa_dist_name(f), n[f]);
        CHECK_STR(oiqa_dist_param_name(f), p[f]);
        CHECK(oiqa_dist_needs_ffmpeg(f) == (f == OIQA_DIST_H264 || f == OIQA_DIST_HEVC));
        /* Every level is one step stronger than the last, the beyond level too. */
        for (int l = 1; l < OIQA_DIST_BEYOND; l++) CHECK(oiqa_dist_param(f, l) != oiqa_dist_param(f, l + 1));
    }
    CHECK(oiqa_dist_param(OIQA_DIST_JPEG2000, 1) == 50 && oiqa_dist_param(OIQA_DIST_JPEG2000, 6) == 1600);
    CHECK(oiqa_dist_param(OIQA_DIST_H264, 1) == 30 && oiqa_dist_param(OIQA_DIST_HEVC, 6) == 51);
    CHECK(oiqa_dist_param(OIQA_DIST_JPEG, 1) == 50 && oiqa_dist_param(OIQA_DIST_JPEG, 5) == 4);
    CHECK(oiqa_dist_param(OIQA_DIST_BLUR, 5) == 4.5 && oiqa_dist_param(OIQA_DIST_NOISE, 3) == 14);
    CHECK(oiqa_dist_param(OIQA_DIST_RESAMPLE, 4) == 4);
    CHECK(isnan(oiqa_dist_param(OIQA_DIST_JPEG, 0)) && isnan(oiqa_dist_param(OIQA_DIST_JPEG, 7)));
    CHECK(oiqa_dist_param(OIQA_DIST_JPEG, 6) == 2);
    CHECK_STR(oiqa_dist_name(OIQA_DIST_NONE), "none");
}

static void t_bad_parameters(void)
{
    uint8_t px[16 * 16 * 3] = {0}, out[16 * 16 * 3];
    oiqa_dist_family f;
#define EXPECT_USAGE(call, key)                                                                        \
    do {                                                                                               \
        CHECK((call) == OIQA_EXIT_USAGE);                                                              \
        CHECK_MSG(strstr(oiqa_errmsg(), "key '" key "'") != NULL, "message \"%s\" lacks key '%s'", \
                  oiqa_errmsg(), key);                                                                 \
    } while (0)
    EXPECT_USAGE(oiqa_dist_parse("jpegxl", &f), "distortion");
    EXPECT_USAGE(oiqa_dist_parse(NULL, &f), "distortion");
    EXPECT_USAGE(oiqa_gaussian_blur(px, 16, 16, -1, out), "sigma");
    EXPECT_USAGE(oiqa_gaussian_blur(px, 16, 16, NAN, out), "sigma");
    EXPECT_USAGE(oiqa_awgn(px, 16, 16, -0.5, 1, out), "sigma");
    EXPECT_USAGE(oiqa_jpeg_recompress(px, 16, 16, 0, out), "quality");
    EXPECT_USAGE(oiqa_jpeg_recompress(px, 16, 16, 101, out), "quality");
    EXPECT_USAGE(oiqa_distort_param(px, 16, 16, OIQA_DIST_JPEG, 50.5, 0, out), "quality");
    EXPECT_USAGE(oiqa_resample(px, 16, 16, 0.5, out), "factor");
    EXPECT_USAGE(oiqa_distort_level(px, 16, 16, OIQA_DIST_BLUR, 0, 0, out), "level");
    EXPECT_USAGE(oiqa_distort_level(px, 16, 16, OIQA_DIST_BLUR, 7, 0, out), "level");
    EXPECT_USAGE(oiqa_jpeg2000_recompress(px, 16, 16, 0.5, out), "ratio");
    EXPECT_USAGE(oiqa_video_recompress(px, 16, 16, 1, OIQA_DIST_H264, 52, out), "qp");
    EXPECT_USAGE(oiqa_distort_level(px, 16, 16, (oiqa_dist_family)9, 1, 0, out), "distortion");
    EXPECT_USAGE(oiqa_distort_param(px, 16, 16, OIQA_DIST_NONE, 1, 0, out), "distortion");
    EXPECT_USAGE(oiqa_gaussian_blur(NULL, 16, 16, 1, out), "image");
    EXPECT_USAGE(oiqa_awgn(px, 0, 16, 1, 1, out), "image");
    /* Tiny images work (reflection of a 1-pixel image, JPEG of 1x1). */
    for (int fam = 0; fam < OIQA_DIST_COUNT; fam++)
        CHECK_MSG(oiqa_distort_level(px, 1, 1, fam, 5, 0, out) == OIQA_OK, "1x1 %s: %s", oiqa_dist_name(fam),
                  oiqa_errmsg());
#undef EXPECT_USAGE
}

int main(void)
{
    for (int p = 0; p < 2; p++) crops[p] = load_crop(panos[p]);
    RUN(t_levels_lower_psnr);
    RUN(t_jpeg2000_levels_on_erp);
    RUN(t_deterministic);
    RUN(t_table_and_names);
    RUN(t_bad_parameters);
    free(crops[0]), free(crops[1]);
    return check_done();
}
