/* The viewport feature stage (stage/backbone.h) through the library, on small
 * files written here with the store API: the statistics against a direct
 * forward, the pseudo-reference streams, the maps, and every bad input the
 * stage handles (NaN rows with and without skip_bad, wrong stage, wrong
 * schema, missing pseudo-reference rows, maps too small for a std). */
#include <math.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "io/h5store.h"
#include "models/extractor.h"
#include "nn/pool.h"
#include "stage/backbone.h"
#include "check.h"

#define V 3
#define S 40
#define VP (S * S * 3)

static const oiqa_provenance PROV = {.stage = "backbone", .tool = "test", .command = "test", .config = "t: 1\n"};


/* A pixel pattern that differs per row, viewport and stream. */
static float pixel(int row, int v, int k, int stream) { return (float)((k * 7 + v * 31 + row * 53 + stream * 17) % 256); }

/* Writes a store of `stage` with per-image image datasets dsets[0..n) of
 * dtype (U8 or F32) [rows, V, S, S, ch]; nan_row >= 0 puts a NaN there. */
static int write_images(const char *path, const char *stage, const char *const *dsets, int n_dsets, oiqa_dtype dtype,
                        int rows, int ch, const char *const *names, int nan_row)
{
    char out[512];
    snprintf(out, sizeof out, "%s", path);
    oiqa_provenance prov = {.stage = stage, .tool = "test", .command = "test", .config = "t: 1\n"};
    oiqa_store *s;
    int rc = oiqa_store_open_write(out, &prov, OIQA_STORE_CREATE, 1, &s);
    if (rc) return rc;
    uint64_t dims[4] = {V, S, S, (uint64_t)ch};
    for (int d = 0; d < n_dsets && !rc; d++) rc = oiqa_store_define(s, dsets[d], dtype, 4, dims, 0);
    size_t values = (size_t)V * S * S * ch;
    void *rowbuf[3];
    for (int d = 0; d < n_dsets; d++) rowbuf[d] = malloc(values * 4);
    for (int r = 0; r < rows && !rc; r++) {
        for (int d = 0; d < n_dsets; d++)
            for (size_t k = 0; k < values; k++) {
                float p = pixel(r, (int)(k / ((size_t)S * S * ch)), (int)(k % ((size_t)S * S * ch)), d);
                if (dtype == OIQA_U8) ((uint8_t *)rowbuf[d])[k] = (uint8_t)p;
                else ((float *)rowbuf[d])[k] = (r == nan_row && k == values / 2) ? NAN : p;
            }
        rc = oiqa_store_append(s, names[r], "src.png", "00", (const void *const *)rowbuf);
    }
    for (int d = 0; d < n_dsets; d++) free(rowbuf[d]);
    if (rc) {
        oiqa_store_discard(s);
        return rc;
    }
    return oiqa_store_finish(s);
}

static const char *const NAMES[3] = {"a.png", "sub/b.png", "c.png"};
static const char *const VP_DSET[1] = {"/viewports"};
static const char *const PR_DSETS[2] = {"/restored", "/degraded"};

static oiqa_backbone_opts defaults(void)
{
    return (oiqa_backbone_opts){.extractor = "resnet50", .weights = "random:3", .batch = 2, .deflate = 1, .force = 1};
}

static float *read_all(const char *path, const char *dset, size_t n)
{
    oiqa_store_reader *r;
    if (oiqa_store_open_read(path, NULL, 0, &r)) return NULL;
    float *buf = malloc(n * sizeof(float));
    int rc = oiqa_store_reader_read_all(r, dset, OIQA_F32, buf);
    oiqa_store_close(r);
    if (rc) free(buf), buf = NULL;
    return buf;
}

/* mean/std in the file equal a direct forward of the same viewports with
 * the same weights, the statistics taken in double here. */
static void t_stats_match_direct_forward(void)
{
    CHECK(write_images(check_tmp("vp.h5"), "viewports", VP_DSET, 1, OIQA_U8, 2, 3, NAMES, -1) == OIQA_OK);
    oiqa_backbone_opts o = defaults();
    o.blocks = "layer2,layer4";
    int rc = oiqa_backbone_run(&o, check_tmp("vp.h5"), check_tmp("feat.h5"), &PROV);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    if (rc) return;
    oiqa_store_reader *r;
    CHECK(oiqa_store_open_read(check_tmp("feat.h5"), "backbone", 0, &r) == OIQA_OK);
    if (!r) return;
    int64_t want_mean[3] = {2, V, 512}, want_map4[3] = {2, V, 2048};
    CHECK(oiqa_store_reader_expect(r, "/original/layer2/mean", OIQA_F32, 3, want_mean) == OIQA_OK);
    CHECK(oiqa_store_reader_expect(r, "/original/layer4/std", OIQA_F32, 3, want_map4) == OIQA_OK);
    oiqa_dtype dt;
    int nd;
    uint64_t dims[8];
    CHECK(oiqa_store_reader_shape(r, "/original/layer3/mean", &dt, &nd, dims) != OIQA_OK);
    char *w = oiqa_store_reader_attr_string(r, "/", "weights"), *bl = oiqa_store_reader_attr_string(r, "/", "blocks");
    CHECK_STR(w, "random:3");
    CHECK_STR(bl, "layer2,layer4");
    free(w), free(bl);
    CHECK_STR(oiqa_store_reader_name(r, 1), "sub/b.png");
    oiqa_store_close(r);

    float *mean = read_all(check_tmp("feat.h5"), "/original/layer4/mean", 2 * V * 2048);
    float *std = read_all(check_tmp("feat.h5"), "/original/layer4/std", 2 * V * 2048);
    oiqa_extractor ex;
    CHECK(oiqa_extractor_open("resnet50", "random:3", &ex) == OIQA_OK);
    float *rgb = malloc(sizeof(float) * V * VP);
    double worst = 0, scale = 0;
    for (int row = 0; row < 2 && mean && std; row++) {
        for (int k = 0; k < V * VP; k++) rgb[k] = pixel(row, k / VP, k % VP, 0);
        const oiqa_tensor *maps[8];
        CHECK(oiqa_extractor_forward(&ex, rgb, V, S, S, maps) == OIQA_OK);
        const oiqa_tensor *m = maps[3];
        int P = m->h * m->w;
        for (int v = 0; v < V; v++)
            for (int c = 0; c < 2048; c++) {
                double s = 0, s2 = 0;
                for (int p = 0; p < P; p++) s += m->data[((size_t)v * P + p) * 2048 + c];
                double mu = s / P;
                for (int p = 0; p < P; p++) {
                    double d = m->data[((size_t)v * P + p) * 2048 + c] - mu;
                    s2 += d * d;
                }
                size_t at = ((size_t)row * V + v) * 2048 + c;
                double e = fmax(fabs(mean[at] - mu), fabs(std[at] - sqrt(s2 / (P - 1))));
                worst = fmax(worst, e), scale = fmax(scale, fabs(mu));
            }
    }
    printf("  layer4 mean/std vs direct forward: max |diff| %.3g (max |mean| %.3g)\n", worst, scale);
    CHECK(mean && std && worst <= 1e-5 * scale);
    free(rgb), free(mean), free(std);
    oiqa_extractor_close(&ex);
}

/* With a pseudoref file: three streams; the original stream is the same as
 * without it; the restored stream differs. Maps averaged to 1 x 1 are the
 * means (to float16 precision). */
static void t_pseudoref_streams_and_maps(void)
{
    CHECK(write_images(check_tmp("vp.h5"), "viewports", VP_DSET, 1, OIQA_U8, 2, 3, NAMES, -1) == OIQA_OK);
    const char *const rev[2] = {NAMES[1], NAMES[0]}; /* other row order: matched by name */
    CHECK(write_images(check_tmp("pr.h5"), "pseudoref", PR_DSETS, 2, OIQA_U8, 2, 3, rev, -1) == OIQA_OK);
    oiqa_backbone_opts o = defaults();
    o.blocks = "layer3";
    o.pseudoref = check_tmp("pr.h5");
    o.maps = 1;
    o.map_size = 1;
    int rc = oiqa_backbone_run(&o, check_tmp("vp.h5"), check_tmp("feat3.h5"), &PROV);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    o.pseudoref = NULL;
    o.maps = 0;
    CHECK(oiqa_backbone_run(&o, check_tmp("vp.h5"), check_tmp("feat1.h5"), &PROV) == OIQA_OK);
    size_t n = 2 * V * 1024;
    float *orig3 = read_all(check_tmp("feat3.h5"), "/original/layer3/mean", n);
    float *orig1 = read_all(check_tmp("feat1.h5"), "/original/layer3/mean", n);
    float *rest = read_all(check_tmp("feat3.h5"), "/restored/layer3/mean", n);
    float *degr = read_all(check_tmp("feat3.h5"), "/degraded/layer3/std", n);
    float *map = read_all(check_tmp("feat3.h5"), "/degraded/layer3/map", n);
    float *dmean = read_all(check_tmp("feat3.h5"), "/degraded/layer3/mean", n);
    CHECK(orig3 && orig1 && rest && degr && map && dmean);
    if (orig3 && orig1 && rest && map && dmean) {
        CHECK(!memcmp(orig3, orig1, n * sizeof(float)));
        CHECK(memcmp(orig3, rest, n * sizeof(float)) != 0);
        double worst = 0;
        for (size_t i = 0; i < n; i++) worst = fmax(worst, fabs(map[i] - dmean[i]) / fmax(fabs(dmean[i]), 1e-3));
        CHECK_MSG(worst < 1e-3, "1x1 map vs mean: max rel diff %g", worst);
    }
    free(orig3), free(orig1), free(rest), free(degr), free(map), free(dmean);
    oiqa_store_reader *r;
    if (oiqa_store_open_read(check_tmp("feat3.h5"), "backbone", 0, &r) == OIQA_OK) {
        char *streams = oiqa_store_reader_attr_string(r, "/", "streams");
        CHECK_STR(streams, "original,restored,degraded");
        free(streams);
        int64_t want[5] = {2, V, 1, 1, 1024};
        CHECK(oiqa_store_reader_expect(r, "/restored/layer3/map", OIQA_F16, 5, want) == OIQA_OK);
        oiqa_store_close(r);
    }
}

static void t_nan_row_fails_or_is_skipped(void)
{
    CHECK(write_images(check_tmp("vpf.h5"), "viewports", VP_DSET, 1, OIQA_F32, 3, 3, NAMES, 1) == OIQA_OK);
    oiqa_backbone_opts o = defaults();
    o.blocks = "layer2";
    unlink(check_tmp("bad.h5.partial"));
    int rc = oiqa_backbone_run(&o, check_tmp("vpf.h5"), check_tmp("bad.h5"), &PROV);
    CHECK(rc == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "row 1 (sub/b.png): NaN or Inf in /viewports (viewport 1)") &&
                  strstr(oiqa_errmsg(), "--skip-bad") && strstr(oiqa_errmsg(), "vpf.h5"),
              "message: %s", oiqa_errmsg());
    CHECK(access(check_tmp("bad.h5"), F_OK) != 0);           /* no output */
    CHECK(access(check_tmp("bad.h5.partial"), F_OK) == 0);   /* row 0 kept for --resume */
    o.skip_bad = 1;
    oiqa_log_set_level(OIQA_LOG_ERROR);
    rc = oiqa_backbone_run(&o, check_tmp("vpf.h5"), check_tmp("skip.h5"), &PROV);
    oiqa_log_set_level(OIQA_LOG_INFO);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    oiqa_store_reader *r;
    if (oiqa_store_open_read(check_tmp("skip.h5"), "backbone", 0, &r) == OIQA_OK) {
        CHECK(oiqa_store_reader_rows(r) == 2);
        CHECK_STR(oiqa_store_reader_name(r, 1), "c.png");
        char *skipped = oiqa_store_reader_attr_string(r, "/", "skipped");
        CHECK_STR(skipped, "[\"sub/b.png\"]");
        free(skipped);
        oiqa_store_close(r);
    }
}

/* Inputs the stage refuses, each with a message naming the file. */
static void t_bad_inputs(void)
{
    oiqa_backbone_opts o = defaults();
    o.blocks = "layer2";
    /* A feature file is not a viewports file. */
    CHECK(write_images(check_tmp("vp.h5"), "viewports", VP_DSET, 1, OIQA_U8, 1, 3, NAMES, -1) == OIQA_OK);
    CHECK(write_images(check_tmp("f.h5"), "backbone", VP_DSET, 1, OIQA_U8, 1, 3, NAMES, -1) == OIQA_OK);
    CHECK(oiqa_backbone_run(&o, check_tmp("f.h5"), check_tmp("g.h5"), &PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "f.h5") && strstr(oiqa_errmsg(), "viewports"), "%s", oiqa_errmsg());
    /* Wrong schema: 4 channels. */
    CHECK(write_images(check_tmp("vp4.h5"), "viewports", VP_DSET, 1, OIQA_U8, 1, 4, NAMES, -1) == OIQA_OK);
    CHECK(oiqa_backbone_run(&o, check_tmp("vp4.h5"), check_tmp("g.h5"), &PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "vp4.h5: /viewports is uint8 [1,3,40,40,4], expected uint8 or float32 [N,V,S,S,3]"),
              "%s", oiqa_errmsg());
    /* Wrong schema: no /viewports at all (a pseudoref-like file declared as viewports). */
    CHECK(write_images(check_tmp("vpx.h5"), "viewports", PR_DSETS, 1, OIQA_U8, 1, 3, NAMES, -1) == OIQA_OK);
    CHECK(oiqa_backbone_run(&o, check_tmp("vpx.h5"), check_tmp("g.h5"), &PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "no /viewports dataset"), "%s", oiqa_errmsg());
    /* A pseudoref file without a row of the viewports. */
    CHECK(write_images(check_tmp("vp2.h5"), "viewports", VP_DSET, 1, OIQA_U8, 2, 3, NAMES, -1) == OIQA_OK);
    CHECK(write_images(check_tmp("pr1.h5"), "pseudoref", PR_DSETS, 2, OIQA_U8, 1, 3, NAMES, -1) == OIQA_OK);
    o.pseudoref = check_tmp("pr1.h5");
    CHECK(oiqa_backbone_run(&o, check_tmp("vp2.h5"), check_tmp("g.h5"), &PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "pr1.h5: has no row for sub/b.png"), "%s", oiqa_errmsg());
    /* A viewports file given as the pseudoref. */
    o.pseudoref = check_tmp("vp2.h5");
    CHECK(oiqa_backbone_run(&o, check_tmp("vp2.h5"), check_tmp("g.h5"), &PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "pseudoref"), "%s", oiqa_errmsg());
    o.pseudoref = NULL;
    o.blocks = "layer9";
    CHECK(oiqa_backbone_run(&o, check_tmp("vp.h5"), check_tmp("h.h5"), &PROV) == OIQA_EXIT_USAGE);
    o.blocks = NULL;
    o.weights = "random:x";
    CHECK(oiqa_backbone_run(&o, check_tmp("vp.h5"), check_tmp("h.h5"), &PROV) == OIQA_EXIT_USAGE);
    CHECK(access(check_tmp("g.h5.partial"), F_OK) != 0 && access(check_tmp("h.h5"), F_OK) != 0);
}

static void t_tiny_viewports_refused(void)
{
    /* S = 16 through a dedicated writer call: layer4 maps would be 1 x 1. */
    char path[512];
    snprintf(path, sizeof path, "%s", check_tmp("tiny.h5"));
    oiqa_provenance prov = {.stage = "viewports", .tool = "test", .command = "test", .config = "t: 1\n"};
    oiqa_store *s;
    CHECK(oiqa_store_open_write(path, &prov, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    uint64_t dims[4] = {2, 16, 16, 3};
    CHECK(oiqa_store_define(s, "/viewports", OIQA_U8, 4, dims, 0) == OIQA_OK);
    uint8_t px[2 * 16 * 16 * 3] = {0};
    const void *rows[1] = {px};
    CHECK(oiqa_store_append(s, "t.png", "t.png", "00", rows) == OIQA_OK);
    CHECK(oiqa_store_finish(s) == OIQA_OK);
    oiqa_backbone_opts o = defaults();
    CHECK(oiqa_backbone_run(&o, path, check_tmp("tiny_f.h5"), &PROV) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "viewports of 16x16 give layer3 maps of 1x1"), "%s", oiqa_errmsg());
}

int main(void)
{
    oiqa_log_init("test_backbone_stage");
    check_tmp_init();
    RUN(t_stats_match_direct_forward);
    RUN(t_pseudoref_streams_and_maps);
    RUN(t_nan_row_fails_or_is_skipped);
    RUN(t_bad_inputs);
    RUN(t_tiny_viewports_refused);
    return check_tmp_cleanup() | check_done();
}
