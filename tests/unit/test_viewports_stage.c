/* The viewport stage end to end through the library: the shared forest
 * panorama (PNG) -> oiqa_viewports_run with the fixture's viewport specs ->
 * the store read back -> compared with OpenCV's cv2.remap viewports
 * (fixtures/viewports, mean |diff| <= 0.5 grey levels, max <= 4). */
#include <hdf5.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "io/h5store.h"
#include "stage/viewports.h"
#include "check.h"

static char tmpdir[256];

static int read_fixture_u8(hid_t f, const char *path, uint8_t *buf)
{
    hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
    if (d < 0) return -1;
    herr_t e = H5Dread(d, H5T_NATIVE_UINT8, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    H5Dclose(d);
    return e < 0 ? -1 : 0;
}

/* Runs the stage on one image with the given views and compares each
 * viewport with the fixture's vp{k}_u8. */
static void compare_specs(hid_t fx, const char *image, const char *png, int S, double fov, const int *ks,
                          const oiqa_view *views, int n)
{
    char out[512];
    snprintf(out, sizeof out, "%s/%s_%d.h5", tmpdir, image, S);
    oiqa_viewports_opts o = {.layout = OIQA_LAYOUT_LIST, .size = S, .fov = fov, .filter = OIQA_FILTER_BILINEAR,
                             .list = views, .n_list = n, .max_pixels = 0, .force = 1};
    oiqa_provenance prov = {.stage = "viewports", .tool = "test", .command = "test", .config = "test: 1\n"};
    char *names[1] = {(char *)png};
    int rc = oiqa_viewports_run(&o, names, 1, out, &prov);
    CHECK_MSG(rc == OIQA_OK, "stage failed: %s", oiqa_errmsg());
    if (rc) return;
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(out, "viewports", 0, &r) == OIQA_OK);
    if (!r) return;
    int64_t want[5] = {1, n, S, S, 3};
    CHECK(oiqa_store_reader_expect(r, "/viewports", OIQA_U8, 5, want) == OIQA_OK);
    size_t vp = (size_t)S * S * 3;
    uint8_t *got = malloc(vp * n), *ref = malloc(vp);
    CHECK(oiqa_store_reader_read_row(r, "/viewports", 0, OIQA_U8, got) == OIQA_OK);
    for (int i = 0; i < n; i++) {
        char ds[64];
        snprintf(ds, sizeof ds, "%s/vp%d_u8", image, ks[i]);
        CHECK(read_fixture_u8(fx, ds, ref) == 0);
        double sum = 0, mx = 0;
        for (size_t k = 0; k < vp; k++) {
            double d = fabs((double)got[i * vp + k] - ref[k]);
            sum += d;
            if (d > mx) mx = d;
        }
        printf("  %s vp%d (lon %g, lat %g, S %d): mean |diff| %.4f, max %.0f grey levels vs cv2.remap\n", image,
               ks[i], views[i].lon, views[i].lat, S, sum / vp, mx);
        CHECK_MSG(sum / vp <= 0.5 && mx <= 4, "%s: mean %.3f max %.0f", ds, sum / vp, mx);
    }
    free(got), free(ref);
    oiqa_store_close(r);
}

static void t_stage_matches_opencv(void)
{
    const char *fxp = check_shared("fixtures/viewports/viewports.h5");
    if (access(fxp, R_OK)) { SKIP("fixture %s absent", fxp); return; }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t fx = H5Fopen(fxp, H5F_ACC_RDONLY, H5P_DEFAULT);
    CHECK(fx >= 0);
    const char *images[2] = {"forest", "city"};
    for (int m = 0; m < 2; m++) {
        char png[512];
        snprintf(png, sizeof png, "%s", check_shared(""));
        snprintf(png + strlen(png), sizeof png - strlen(png), "data/panoramas/blender-cc0/%s_tonemapped.png", images[m]);
        if (access(png, R_OK)) { SKIP("%s absent", png); continue; }
        static const int ks[6] = {0, 1, 2, 3, 4, 5};
        static const oiqa_view v224[6] = {{0, 0, 90}, {90, 0, 90}, {-180, 0, 90}, {45, 30, 90}, {0, 89.9, 90}, {120, -60, 90}};
        compare_specs(fx, images[m], png, 224, 90, ks, v224, 6);
        static const int k6[1] = {6};
        static const oiqa_view v128[1] = {{0, 0, 60}};
        compare_specs(fx, images[m], png, 128, 60, k6, v128, 1);
    }
    H5Fclose(fx);
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/oiqa-test-stage.XXXXXX");
    if (!mkdtemp(tmpdir)) return 1;
    oiqa_log_set_level(OIQA_LOG_WARN); /* no progress lines in the test output */
    RUN(t_stage_matches_opencv);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    if (system(cmd)) return 1;
    return check_done();
}
