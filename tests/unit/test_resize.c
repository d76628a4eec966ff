/* geo/resize.h: whole-number shrinking against OpenCV's cv2.resize(INTER_AREA)
 * (the VMamba fixture's ERP input), fractional shrinking and enlarging
 * against direct evaluations of the definitions. */
#include <hdf5.h>

#include "base/error.h"
#include "geo/resize.h"
#include "io/image.h"
#include "check.h"
#include "fixture_h5.h"

static void t_area_matches_opencv(void)
{
    const char *fx_path = check_shared("fixtures/vmamba/vmamba_small_io.h5");
    const char *png = check_shared("data/panoramas/blender-cc0/courtyard_tonemapped.png");
    FILE *f = fopen(fx_path, "rb"), *g = fopen(png, "rb");
    if (f) fclose(f);
    if (g) fclose(g);
    if (!f || !g) {
        SKIP("fixture or panorama absent under %s (set OIQA_SHARED)", check_shared(""));
        return;
    }
    oiqa_image img = {0};
    oiqa_image_load_opts lo = {0};
    CHECK(oiqa_image_load(png, &lo, &img) == OIQA_OK && img.w == 1024 && img.h == 512);
    hid_t fx = H5Fopen(fx_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hsize_t dims[4];
    size_t n = 0;
    uint8_t *ref = fixture_read_dataset(fx, "input/erp_u8", H5T_NATIVE_UINT8, 1, dims, &n);
    H5Fclose(fx);
    CHECK(ref && n == 128 * 256 * 3);
    uint8_t *got = malloc(128 * 256 * 3);
    CHECK(oiqa_resize_rgb_u8(&img, 256, 128, got) == OIQA_OK);
    int worst = 0;
    size_t differ = 0;
    for (size_t i = 0; ref && i < n; i++) {
        int d = abs((int)got[i] - ref[i]);
        worst = d > worst ? d : worst;
        differ += d != 0;
    }
    printf("  courtyard 1024x512 -> 256x128 vs cv2 INTER_AREA: %zu of %zu values differ, max %d\n", differ, n, worst);
    CHECK(ref && worst == 0);
    free(ref), free(got);
    oiqa_image_free(&img);
}

/* Fractional shrink (7 -> 3: scale 7/3) and enlarging (3 -> 7), on one
 * channel pattern, against the definitions evaluated independently. */
static void t_fractional_and_enlarge(void)
{
    int w = 7, h = 5;
    oiqa_image img = {w, h, malloc((size_t)w * h * 3)};
    for (int i = 0; i < w * h * 3; i++) img.rgb[i] = (uint8_t)((i * 53) % 256);
    uint8_t out[3 * 4 * 3];
    CHECK(oiqa_resize_rgb_u8(&img, 3, 4, out) == OIQA_OK);
    /* x: area over [o*7/3, (o+1)*7/3); y: 5 -> 4 is a shrink too (scale 1.25). */
    int worst = 0;
    for (int oy = 0; oy < 4; oy++)
        for (int ox = 0; ox < 3; ox++)
            for (int c = 0; c < 3; c++) {
                double acc = 0, sx = 7.0 / 3, sy = 5.0 / 4;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++) {
                        double wx = fmax(0, fmin(x + 1, (ox + 1) * sx) - fmax(x, ox * sx)) / sx;
                        double wy = fmax(0, fmin(y + 1, (oy + 1) * sy) - fmax(y, oy * sy)) / sy;
                        acc += wx * wy * img.rgb[(y * w + x) * 3 + c];
                    }
                int d = abs((int)lrint(acc) - out[(oy * 3 + ox) * 3 + c]);
                worst = d > worst ? d : worst;
            }
    CHECK_MSG(worst == 0, "area 7x5 -> 3x4: max diff %d", worst);
    uint8_t big[9 * 11 * 3];
    CHECK(oiqa_resize_rgb_u8(&img, 9, 11, big) == OIQA_OK);
    worst = 0;
    for (int oy = 0; oy < 11; oy++)
        for (int ox = 0; ox < 9; ox++)
            for (int c = 0; c < 3; c++) {
                double sx = fmin(fmax((ox + 0.5) * 7 / 9 - 0.5, 0), w - 1), sy = fmin(fmax((oy + 0.5) * 5 / 11 - 0.5, 0), h - 1);
                int x0 = (int)sx, y0 = (int)sy, x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
                double fx = sx - x0, fy = sy - y0;
#define P(x, y) img.rgb[((y) * w + (x)) * 3 + c]
                double v = (1 - fy) * ((1 - fx) * P(x0, y0) + fx * P(x1, y0)) + fy * ((1 - fx) * P(x0, y1) + fx * P(x1, y1));
#undef P
                int d = abs((int)lrint(v) - big[(oy * 9 + ox) * 3 + c]);
                worst = d > worst ? d : worst;
            }
    CHECK_MSG(worst == 0, "linear 7x5 -> 9x11: max diff %d", worst);
    /* Same size is the identity; 1 x 1 is the mean. */
    uint8_t same[7 * 5 * 3], one[3];
    CHECK(oiqa_resize_rgb_u8(&img, 7, 5, same) == OIQA_OK && !memcmp(same, img.rgb, sizeof same));
    CHECK(oiqa_resize_rgb_u8(&img, 1, 1, one) == OIQA_OK);
    double mean = 0;
    for (int i = 0; i < w * h; i++) mean += img.rgb[i * 3];
    CHECK(one[0] == (uint8_t)lrint(mean / (w * h)));
    CHECK(oiqa_resize_rgb_u8(&img, 0, 3, one) == OIQA_EXIT_DATA);
    free(img.rgb);
}

int main(void)
{
    RUN(t_area_matches_opencv);
    RUN(t_fractional_and_enlarge);
    return check_done();
}
