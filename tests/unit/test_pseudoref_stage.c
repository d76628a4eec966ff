/* The pseudo-reference stage through the library: a viewports store of
 * real panorama crops with a known distortion (AWGN level 3) -> restored
 * closer to the clean crops, degraded farther; the same bytes on 1 and 2
 * threads; the error-map formula on hand-made pairs; the auto rule and its
 * fallback; refusals of bad sources and options. */
#include <math.h>
#include <stdint.h>

#include "base/error.h"
#include "base/log.h"
#include "base/threads.h"
#include "io/h5store.h"
#include "io/image.h"
#include "iqa/distort.h"
#include "iqa/ssim.h"
#include "stage/pseudoref.h"
#include "stage/viewports.h"
#include "check.h"

#define S 64
#define V 4

static uint8_t clean[V * S * S * 3], noisy[V * S * S * 3];
static int have_crops;
static const oiqa_provenance VP_PROV = {.stage = "viewports", .tool = "test", .command = "test", .config = "t: 1\n"};
static const oiqa_provenance PR_PROV = {.stage = "pseudoref", .tool = "test", .command = "test", .config = "t: 1\n"};

/* V crops of S x S across the city panorama (clean), and the same with
 * AWGN of level 3 (sigma 14). */
static int load_crops(void)
{
    const char *root = getenv("OIQA_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/panoramas/city_tonemapped.png", root && *root ? root : ".");
    oiqa_image im = {0};
    oiqa_image_load_opts lo = {0};
    if (oiqa_image_load(path, &lo, &im)) return 0;
    for (int v = 0; v < V; v++) {
        int x0 = 100 + v * (im.w / V), y0 = im.h / 2 - S / 2;
        uint8_t *c = clean + (size_t)v * S * S * 3;
        for (int y = 0; y < S; y++) memcpy(c + (size_t)y * S * 3, im.rgb + ((size_t)(y0 + y) * im.w + x0) * 3, S * 3);
        oiqa_distort_level(c, S, S, OIQA_DIST_NOISE, 3, 77 + v, noisy + (size_t)v * S * S * 3);
    }
    oiqa_image_free(&im);
    return 1;
}

/* A viewports store holding `rows` rows named a.png, b.png, ... of `data`. */
static int write_viewports(const char *path, const uint8_t *data, int rows)
{
    oiqa_store *s = NULL;
    uint64_t dims[4] = {V, S, S, 3};
    int rc = oiqa_store_open_write(path, &VP_PROV, OIQA_STORE_CREATE, 1, &s);
    if (!rc) rc = oiqa_store_define(s, "/viewports", OIQA_U8, 4, dims, 0);
    for (int r = 0; r < rows && !rc; r++) {
        char name[16];
        snprintf(name, sizeof name, "%c.png", 'a' + r);
        const void *row[1] = {data};
        rc = oiqa_store_append(s, name, "x", "0", row);
    }
    if (rc) { oiqa_store_discard(s); return rc; }
    return oiqa_store_finish(s);
}

static int read_row(const char *path, const char *dset, int64_t row, uint8_t *buf)
{
    oiqa_store_reader *r = NULL;
    int rc = oiqa_store_open_read(path, "pseudoref", 0, &r);
    if (!rc) rc = oiqa_store_reader_read_row(r, dset, row, OIQA_U8, buf);
    if (r) oiqa_store_close(r);
    return rc;
}

static double mean_psnr(const uint8_t *a, const uint8_t *b)
{
    double sum = 0;
    for (int v = 0; v < V; v++) {
        double p;
        oiqa_psnr(a + (size_t)v * S * S * 3, b + (size_t)v * S * S * 3, S, S, &p);
        sum += p;
    }
    return sum / V;
}

static void t_restore_and_degrade_move_psnr(void)
{
    if (!have_crops) { SKIP("panorama absent (set OIQA_ROOT)"); return; }
    CHECK(write_viewports(check_tmp("noisy_vp.h5"), noisy, 1) == OIQA_OK);
    oiqa_pseudoref_opts o = {.restore = OIQA_PR_RESTORE_AUTO, .degrade = OIQA_PR_DEGRADE_AUTO,
                             .detect = OIQA_PR_DETECT_VIEWPORT, .seed = 5, .force = 1};
    int rc = oiqa_pseudoref_run(&o, check_tmp("noisy_vp.h5"), check_tmp("pr.h5"), &PR_PROV);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    static uint8_t rest[V * S * S * 3], deg[V * S * S * 3];
    CHECK(read_row(check_tmp("pr.h5"), "/restored", 0, rest) == OIQA_OK);
    CHECK(read_row(check_tmp("pr.h5"), "/degraded", 0, deg) == OIQA_OK);
    double p_in = mean_psnr(clean, noisy), p_rest = mean_psnr(clean, rest), p_deg = mean_psnr(clean, deg);
    printf("    noise L3 crops: PSNR vs clean %.2f, restored %.2f, degraded %.2f dB\n", p_in, p_rest, p_deg);
    CHECK(p_rest > p_in + 1.0);
    CHECK(p_deg < p_in - 1.0);
    /* the detector sees noise on every crop, so auto degrades with noise one level up */
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(check_tmp("pr.h5"), "pseudoref", 0, &r) == OIQA_OK);
    int32_t det[V * 2], app[V * 2];
    CHECK(r && oiqa_store_reader_read_row(r, "/detected", 0, OIQA_I32, det) == OIQA_OK);
    CHECK(r && oiqa_store_reader_read_row(r, "/degrade_applied", 0, OIQA_I32, app) == OIQA_OK);
    for (int v = 0; v < V; v++) {
        CHECK_MSG(det[2 * v] == OIQA_DIST_NOISE, "viewport %d detected as %d", v, det[2 * v]);
        CHECK(app[2 * v] == det[2 * v] && app[2 * v + 1] == det[2 * v + 1] + 1);
    }
    if (r) oiqa_store_close(r);
}

static void t_same_bytes_on_any_thread_count(void)
{
    if (!have_crops) { SKIP("panorama absent (set OIQA_ROOT)"); return; }
    /* three rows (a, b, c) of the same noisy viewports: the per-row seeds differ */
    CHECK(write_viewports(check_tmp("three.h5"), noisy, 3) == OIQA_OK);
    oiqa_pseudoref_opts o = {.restore = OIQA_PR_RESTORE_DEBLOCK, .degrade = OIQA_PR_DEGRADE_NOISE, .detect = OIQA_PR_DETECT_VIEWPORT,
                             .degrade_level = 2, .seed = 9, .error_maps = 1, .error_eps = 1, .force = 1};
    oiqa_threads_set(1);
    CHECK(oiqa_pseudoref_run(&o, check_tmp("three.h5"), check_tmp("t1.h5"), &PR_PROV) == OIQA_OK);
    oiqa_threads_set(2);
    CHECK(oiqa_pseudoref_run(&o, check_tmp("three.h5"), check_tmp("t2.h5"), &PR_PROV) == OIQA_OK);
    static uint8_t a[V * S * S * 3], b[V * S * S * 3], c[V * S * S * 3];
    for (int row = 0; row < 3; row++) {
        CHECK(read_row(check_tmp("t1.h5"), "/degraded", row, a) == OIQA_OK);
        CHECK(read_row(check_tmp("t2.h5"), "/degraded", row, b) == OIQA_OK);
        CHECK_MSG(!memcmp(a, b, sizeof a), "row %d differs between 1 and 2 threads", row);
        CHECK(read_row(check_tmp("t1.h5"), "/restored", row, a) == OIQA_OK);
        CHECK(read_row(check_tmp("t2.h5"), "/restored", row, b) == OIQA_OK);
        CHECK(!memcmp(a, b, sizeof a));
    }
    CHECK(read_row(check_tmp("t1.h5"), "/degraded", 0, a) == OIQA_OK);
    CHECK(read_row(check_tmp("t1.h5"), "/degraded", 1, c) == OIQA_OK);
    CHECK_MSG(memcmp(a, c, sizeof a), "rows a and b got the same noise");
    /* the same seed again gives the same file content */
    CHECK(oiqa_pseudoref_run(&o, check_tmp("three.h5"), check_tmp("t1.h5"), &PR_PROV) == OIQA_OK);
    CHECK(read_row(check_tmp("t1.h5"), "/degraded", 2, a) == OIQA_OK);
    CHECK(read_row(check_tmp("t2.h5"), "/degraded", 2, b) == OIQA_OK);
    CHECK(!memcmp(a, b, sizeof a));
    oiqa_threads_set(0);
}

static void t_error_map_formula(void)
{
    /* pixels: equal, 10 grey levels apart, black vs white, a coloured pair
     * with equal luma (the map is on luma) */
    const uint8_t a[4 * 3] = {50, 60, 70, 10, 10, 10, 0, 0, 0, 255, 0, 0};
    const uint8_t b[4 * 3] = {50, 60, 70, 0, 0, 0, 255, 255, 255, 0, 130, 0};
    float e[4];
    oiqa_error_map(a, b, 4, 1, 1.0, e);
    CHECK_NEAR(e[0], 1.0, 1e-6);
    double want = log(1.0 / (pow(10 / 255.0, 2) + 1 / 65025.0)) / log(65025.0); /* = log(65025/101)/log(65025) */
    CHECK_NEAR(e[1], want, 1e-6);
    CHECK_NEAR(e[1], 0.58350, 1e-4);
    CHECK_NEAR(e[2], 0.0, 1e-6); /* log(1/(1 + eps')) < 0, clamped */
    double ya = 0.299 * 255 / 255.0, yb = 0.587 * 130 / 255.0;
    CHECK_NEAR(e[3], fmin(1, fmax(0, log(1 / ((ya - yb) * (ya - yb) + 1 / 65025.0)) / log(65025.0))), 1e-6);
    /* a larger eps flattens the map: the same 10-level step scores higher */
    oiqa_error_map(a, b, 4, 1, 100.0, e);
    CHECK_NEAR(e[1], log(1.0 / (pow(10 / 255.0, 2) + 100 / 65025.0)) / log(650.25), 1e-6);
}

static void t_auto_rule_and_seed(void)
{
    int f, l;
    oiqa_pseudoref_auto_degrade(OIQA_DIST_NONE, 0, 0, &f, &l);
    CHECK(f == OIQA_DIST_BLUR && l == 1); /* the fallback */
    oiqa_pseudoref_auto_degrade(OIQA_DIST_JPEG, 2, 0, &f, &l);
    CHECK(f == OIQA_DIST_JPEG && l == 3);
    oiqa_pseudoref_auto_degrade(OIQA_DIST_NOISE, 5, 0, &f, &l);
    CHECK(f == OIQA_DIST_NOISE && l == OIQA_DIST_BEYOND); /* the table's "beyond" level */
    oiqa_pseudoref_auto_degrade(OIQA_DIST_BLUR, 1, 4, &f, &l);
    CHECK(f == OIQA_DIST_BLUR && l == 4); /* a fixed level */
    CHECK(oiqa_pseudoref_seed(1, "a.png", 0) == oiqa_pseudoref_seed(1, "a.png", 0));
    CHECK(oiqa_pseudoref_seed(1, "a.png", 0) != oiqa_pseudoref_seed(1, "a.png", 1));
    CHECK(oiqa_pseudoref_seed(1, "a.png", 0) != oiqa_pseudoref_seed(1, "b.png", 0));
    CHECK(oiqa_pseudoref_seed(1, "a.png", 0) != oiqa_pseudoref_seed(2, "a.png", 0));
}

static void t_bad_sources_and_options(void)
{
    oiqa_pseudoref_opts o = {.restore = OIQA_PR_RESTORE_NONE, .degrade = OIQA_PR_DEGRADE_BLUR, .force = 1};
    /* not HDF5 */
    FILE *f = fopen(check_tmp("text.h5"), "w");
    if (f) fputs("not hdf5\n", f), fclose(f);
    CHECK(oiqa_pseudoref_run(&o, check_tmp("text.h5"), check_tmp("x.h5"), &PR_PROV) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "text.h5") != NULL);
    /* wrong stage: a pseudoref file */
    if (have_crops) {
        CHECK(oiqa_pseudoref_run(&o, check_tmp("pr.h5"), check_tmp("x.h5"), &PR_PROV) == OIQA_EXIT_DATA);
        CHECK_MSG(strstr(oiqa_errmsg(), "viewports") != NULL, "%s", oiqa_errmsg());
        /* detect = erp needs the source ERP and the cut's geometry, which
         * these hand-written viewports lack: refused, naming the file */
        oiqa_pseudoref_opts e = {.restore = OIQA_PR_RESTORE_AUTO, .degrade = OIQA_PR_DEGRADE_AUTO, .force = 1};
        CHECK(oiqa_pseudoref_run(&e, check_tmp("noisy_vp.h5"), check_tmp("x.h5"), &PR_PROV) == OIQA_EXIT_DATA);
        CHECK_MSG(strstr(oiqa_errmsg(), "noisy_vp.h5") != NULL && !strchr(oiqa_errmsg(), '\n'), "%s",
                  oiqa_errmsg());
    }
    /* wrong schema: /viewports float32 */
    oiqa_store *s = NULL;
    uint64_t dims[4] = {2, 16, 16, 3};
    static float row[2 * 16 * 16 * 3];
    CHECK(oiqa_store_open_write(check_tmp("f32.h5"), &VP_PROV, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    CHECK(oiqa_store_define(s, "/viewports", OIQA_F32, 4, dims, 0) == OIQA_OK);
    const void *rows[1] = {row};
    CHECK(oiqa_store_append(s, "a.png", "x", "0", rows) == OIQA_OK);
    CHECK(oiqa_store_finish(s) == OIQA_OK);
    CHECK(oiqa_pseudoref_run(&o, check_tmp("f32.h5"), check_tmp("x.h5"), &PR_PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "/viewports is float32 [1,2,16,16,3], expected uint8") != NULL, "%s",
              oiqa_errmsg());
    /* more viewports per image than the ERP path re-cuts: refused (not an overflow), --detect viewport named */
    {
        enum { MANY = OIQA_VIEWPORTS_MAX + 1 };
        static uint8_t many[MANY * 16 * 16 * 3];
        uint64_t mdims[4] = {MANY, 16, 16, 3};
        const void *mrow[1] = {many};
        CHECK(oiqa_store_open_write(check_tmp("many.h5"), &VP_PROV, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
        CHECK(oiqa_store_define(s, "/viewports", OIQA_U8, 4, mdims, 0) == OIQA_OK);
        CHECK(oiqa_store_append(s, "a.png", "x", "0", mrow) == OIQA_OK);
        CHECK(oiqa_store_finish(s) == OIQA_OK);
        oiqa_pseudoref_opts e = {.restore = OIQA_PR_RESTORE_AUTO, .degrade = OIQA_PR_DEGRADE_AUTO, .force = 1};
        CHECK(oiqa_pseudoref_run(&e, check_tmp("many.h5"), check_tmp("x.h5"), &PR_PROV) == OIQA_EXIT_DATA);
        CHECK_MSG(strstr(oiqa_errmsg(), "many.h5") && strstr(oiqa_errmsg(), "65 viewports per image") &&
                      strstr(oiqa_errmsg(), "--detect viewport"), "%s", oiqa_errmsg());
    }
    /* bad options are usage errors naming the key, before any file is touched */
    o.degrade_level = 6;
    CHECK(oiqa_pseudoref_run(&o, check_tmp("f32.h5"), check_tmp("x.h5"), &PR_PROV) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "key 'degrade-level'") != NULL);
    o.degrade_level = 0, o.error_maps = 1, o.error_eps = -1;
    CHECK(oiqa_pseudoref_run(&o, check_tmp("f32.h5"), check_tmp("x.h5"), &PR_PROV) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "key 'error-eps'") != NULL);
    FILE *x = fopen(check_tmp("x.h5"), "r"), *xp = fopen(check_tmp("x.h5.partial"), "r");
    CHECK(!x && !xp);
    if (x) fclose(x);
    if (xp) fclose(xp);
}

int main(void)
{
    check_tmp_init();
    oiqa_log_set_level(OIQA_LOG_WARN);
    have_crops = load_crops();
    RUN(t_restore_and_degrade_move_psnr);
    RUN(t_same_bytes_on_any_thread_count);
    RUN(t_error_map_formula);
    RUN(t_auto_rule_and_seed);
    RUN(t_bad_sources_and_options);
    int cleanup = check_tmp_cleanup();
    return check_done() | cleanup;
}
