/* iqa/ssim.h: SSIM and PSNR against scikit-image on real panorama crops
 * (tests/fixtures/ssim_skimage.h5, written by tests/gen_ssim_fixture.py),
 * MS-SSIM's defining properties, and bad arguments. */
#include <hdf5.h>
#include <math.h>

#include "base/error.h"
#include "iqa/distort.h"
#include "iqa/ssim.h"
#include "check.h"
#include "fixture_h5.h"

static const char *fixture_path(void)
{
    static char buf[4096];
    const char *root = getenv("OIQA_ROOT");
    snprintf(buf, sizeof buf, "%s/tests/fixtures/ssim_skimage.h5", root && *root ? root : ".");
    return buf;
}

static double read_attr(hid_t file, const char *obj, const char *name)
{
    double v = NAN;
    hid_t a = H5Aopen_by_name(file, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) {
        if (H5Aread(a, H5T_NATIVE_DOUBLE, &v) < 0) v = NAN;
        H5Aclose(a);
    }
    return v;
}

static void t_matches_skimage(void)
{
    hid_t f = H5Fopen(fixture_path(), H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK_MSG(f >= 0, "cannot open %s (OIQA_ROOT set?)", fixture_path());
    if (f < 0) return;
    static const char *crops[] = {"city", "forest", "interior"};
    static const char *dists[] = {"noise10", "blur2", "contrast", "posterize"};
    double worst_ssim = 0, worst_psnr = 0;
    int compared = 0;
    for (int c = 0; c < 3; c++) {
        hsize_t da[4], db[4];
        uint8_t *a = fixture_read_dataset(f, check_fmt("/crops/%s/clean", crops[c]), H5T_NATIVE_UINT8, 1, da, NULL);
        CHECK(a && da[2] == 3);
        for (int d = 0; a && d < 4; d++) {
            char obj[128];
            snprintf(obj, sizeof obj, "/crops/%s/%s", crops[c], dists[d]);
            uint8_t *b = fixture_read_dataset(f, obj, H5T_NATIVE_UINT8, 1, db, NULL);
            CHECK(b && db[0] == da[0] && db[1] == da[1]);
            double ref_s = read_attr(f, obj, "ssim"), ref_p = read_attr(f, obj, "psnr"), s = 0, p = 0;
            CHECK(oiqa_ssim(a, b, (int)da[1], (int)da[0], &s) == OIQA_OK);
            CHECK(oiqa_psnr(a, b, (int)da[1], (int)da[0], &p) == OIQA_OK);
            CHECK_NEAR(s, ref_s, 1e-4);
            CHECK_NEAR(p, ref_p, 1e-6);
            worst_ssim = fmax(worst_ssim, fabs(s - ref_s));
            worst_psnr = fmax(worst_psnr, fabs(p - ref_p));
            compared++;
            free(b);
        }
        free(a);
    }
    H5Fclose(f);
    CHECK(compared == 12);
    printf("    ssim parity: %d pairs, max |ssim - skimage| = %.3g, max |psnr - skimage| = %.3g dB\n", compared,
           worst_ssim, worst_psnr);
}

/* A smooth synthetic RGB test image. */
static uint8_t *pattern(int w, int h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                p[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)(128 + 100 * sin(0.11 * x * (c + 1) + 0.07 * y) * cos(0.05 * y - 0.03 * x));
    return p;
}

static void t_identity_and_order(void)
{
    int w = 224, h = 224;
    uint8_t *a = pattern(w, h), *b = malloc((size_t)w * h * 3);
    double s, m, p, prev_m = 1.01, prev_s = 1.01;
    CHECK(oiqa_ssim(a, a, w, h, &s) == OIQA_OK && fabs(s - 1) < 1e-12);
    CHECK(oiqa_ms_ssim(a, a, w, h, &m) == OIQA_OK && fabs(m - 1) < 1e-12);
    CHECK(oiqa_psnr(a, a, w, h, &p) == OIQA_OK && isinf(p));
    for (int level = 1; level <= 5; level++) {
        CHECK(oiqa_distort_level(a, w, h, OIQA_DIST_NOISE, level, 7, b) == OIQA_OK);
        CHECK(oiqa_ssim(a, b, w, h, &s) == OIQA_OK && oiqa_ms_ssim(a, b, w, h, &m) == OIQA_OK);
        CHECK_MSG(s < prev_s && m < prev_m && m > 0, "level %d: ssim %g ms-ssim %g", level, s, m);
        prev_s = s, prev_m = m;
    }
    /* 64x64 has 3 scales (64, 32, 16 >= 11); 12x12 one scale, where MS-SSIM is SSIM. */
    CHECK(oiqa_ms_ssim(a, b, 64, 64, &m) == OIQA_OK && m > 0 && m < 1);
    uint8_t *sa = pattern(12, 12), *sb = malloc(12 * 12 * 3);
    CHECK(oiqa_awgn(sa, 12, 12, 10, 1, sb) == OIQA_OK);
    CHECK(oiqa_ms_ssim(sa, sb, 12, 12, &m) == OIQA_OK && oiqa_ssim(sa, sb, 12, 12, &s) == OIQA_OK);
    CHECK_NEAR(m, s, 1e-12);
    free(a), free(b), free(sa), free(sb);
}

static void t_bad_arguments(void)
{
    uint8_t px[10 * 10 * 3] = {0};
    double v = 0;
    CHECK(oiqa_ssim(px, px, 10, 10, &v) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "key 'image'") != NULL);
    CHECK(oiqa_ms_ssim(px, px, 10, 10, &v) == OIQA_EXIT_USAGE);
    CHECK(oiqa_psnr(NULL, px, 10, 10, &v) == OIQA_EXIT_USAGE);
    CHECK(oiqa_psnr(px, px, 0, 10, &v) == OIQA_EXIT_USAGE);
}

int main(void)
{
    RUN(t_matches_skimage);
    RUN(t_identity_and_order);
    RUN(t_bad_arguments);
    return check_done();
}
