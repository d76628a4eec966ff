/* models/extractor.h as a plug-in interface: a backbone that lives only in
 * this file — "tinypool", scaled average pooling of the image by 2 and by 4
 * (3 channels each) — is added with one registry row
 * (oiqa_extractor_register) and then runs through the unchanged viewport
 * stage (stage/backbone.h, what oiqa-resnet runs), is known to
 * `oiqa-weights verify` (models/arch.h), and its feature file feeds a
 * method's inputs (methods/features.h with MTFI's declaration). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "io/ckpt.h"
#include "io/h5store.h"
#include "methods/features.h"
#include "methods/registry.h"
#include "models/arch.h"
#include "models/extractor.h"
#include "stage/backbone.h"
#include "check.h"

/* ---- the backbone: everything a plug-in writes -------------------------- */

static const oiqa_extractor_block TINY_BLOCKS[2] = {{"pool2", 3}, {"pool4", 3}};

static void tiny_map_shape(int b, int h, int w, int *mh, int *mw)
{
    int f = b ? 4 : 2;
    *mh = h / f, *mw = w / f;
}

/* The weights: one tensor "scale" [3], a factor per channel. */
static int tiny_random(uint64_t seed, oiqa_ckpt **out)
{
    int rc = oiqa_ckpt_new("tinypool random", out);
    if (rc) return rc;
    int64_t shape[1] = {3};
    float *v = oiqa_ckpt_add_f32(*out, "scale", 1, shape);
    if (!v) return OIQA_EXIT_DATA;
    for (int c = 0; c < 3; c++) v[c] = 1.0f + (float)((seed + (uint64_t)c) % 3);
    return OIQA_OK;
}

typedef struct {
    float scale[3];
    oiqa_tensor map[2];
} tiny_state;

static int tiny_open(const oiqa_ckpt *ck, const char *path, void **state)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, "scale");
    if (!t || t->numel != 3) return oiqa_fail(OIQA_EXIT_DATA, path, "tinypool: no tensor 'scale' of 3 values");
    tiny_state *s = calloc(1, sizeof *s);
    int rc = oiqa_ckpt_read_f32(ck, t, s->scale);
    if (rc) free(s), s = NULL;
    *state = s;
    return rc;
}

static int tiny_forward(void *state, const float *rgb, int n, int h, int w, const oiqa_tensor **maps)
{
    tiny_state *s = state;
    for (int b = 0; b < 2; b++) {
        int f = b ? 4 : 2, mh = h / f, mw = w / f;
        oiqa_tensor_free(&s->map[b]);
        int rc = oiqa_tensor_create(&s->map[b], n, mh, mw, 3);
        if (rc) return rc;
        for (int i = 0; i < n; i++)
            for (int y = 0; y < mh; y++)
                for (int x = 0; x < mw; x++)
                    for (int c = 0; c < 3; c++) {
                        double sum = 0;
                        for (int dy = 0; dy < f; dy++)
                            for (int dx = 0; dx < f; dx++)
                                sum += rgb[(((size_t)i * h + y * f + dy) * w + x * f + dx) * 3 + c];
                        s->map[b].data[oiqa_tensor_index(&s->map[b], i, y, x, c)] =
                            (float)(s->scale[c] * sum / (f * f) / 255.0);
                    }
        maps[b] = &s->map[b];
    }
    return OIQA_OK;
}

static void tiny_close(void *state)
{
    tiny_state *s = state;
    if (!s) return;
    oiqa_tensor_free(&s->map[0]), oiqa_tensor_free(&s->map[1]);
    free(s);
}

static const oiqa_extractor_kind TINY = {
    .name = "tinypool", .description = "scaled average pooling by 2 and 4 (test only)",
    .input = OIQA_INPUT_VIEWPORT, .input_h = 16, .input_w = 16,
    .normalisation = "none: v/255 pooled", .init = "scale = 1 + (seed + c) % 3",
    .n_blocks = 2, .blocks = TINY_BLOCKS, .default_blocks = "pool2,pool4",
    .map_shape = tiny_map_shape, .random_ckpt = tiny_random, .open = tiny_open, .forward = tiny_forward,
    .close = tiny_close,
};

/* ---- a viewports file ------------------------------------------------------ */

enum { N = 3, V = 2, S = 16 };

static int write_viewports(const char *path)
{
    oiqa_provenance prov = {.stage = "viewports", .tool = "test", .command = "test", .config = "t: 1\n"};
    oiqa_store *s;
    int rc = oiqa_store_open_write(path, &prov, OIQA_STORE_CREATE, 1, &s);
    if (rc) return rc;
    uint64_t dims[4] = {V, S, S, 3};
    rc = oiqa_store_define(s, "/viewports", OIQA_U8, 4, dims, 0);
    static uint8_t px[V * S * S * 3];
    for (int r = 0; r < N && !rc; r++) {
        for (size_t k = 0; k < sizeof px; k++) px[k] = (uint8_t)((k * 13 + (size_t)r * 71) % 256);
        char name[16];
        snprintf(name, sizeof name, "img%d.png", r);
        const void *row[1] = {px};
        rc = oiqa_store_append(s, name, "src.png", "00", row);
    }
    if (rc) {
        oiqa_store_discard(s);
        return rc;
    }
    return oiqa_store_finish(s);
}

static void t_register(void)
{
    CHECK_MSG(oiqa_extractor_register(&TINY) == 0, "%s", oiqa_errmsg());
    CHECK(oiqa_extractor_find("tinypool") == &TINY && oiqa_extractor_find("resnet50") != NULL);
    CHECK(strstr(oiqa_extractor_names(), "tinypool") != NULL && strstr(oiqa_arch_names(), "tinypool") != NULL);
    CHECK(oiqa_extractor_register(&TINY) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "registered twice"));
    oiqa_extractor_kind broken = TINY;
    broken.name = "broken", broken.forward = NULL;
    CHECK(oiqa_extractor_register(&broken) == OIQA_EXIT_USAGE);
}

/* The stage's file: per block mean and std per viewport, the backbone named. */
static void t_stage(void)
{
    CHECK(write_viewports(check_tmp("vp.h5")) == 0);
    oiqa_backbone_opts o = {.extractor = "tinypool", .weights = "random:1", .batch = 2, .force = 1};
    oiqa_provenance prov = {.stage = "backbone", .tool = "test", .command = "test", .config = "t: 1\n"};
    int rc = oiqa_backbone_run(&o, check_tmp("vp.h5"), check_tmp("tiny.h5"), &prov);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (rc) return;
    oiqa_store_reader *r;
    CHECK(oiqa_store_open_read(check_tmp("tiny.h5"), "backbone", 0, &r) == 0);
    if (!r) return;
    int64_t want[3] = {N, V, 3};
    CHECK(oiqa_store_reader_expect(r, "/original/pool2/mean", OIQA_F32, 3, want) == 0);
    CHECK(oiqa_store_reader_expect(r, "/original/pool4/std", OIQA_F32, 3, want) == 0);
    char *bb = oiqa_store_reader_attr_string(r, "/", "backbone");
    CHECK(bb && !strcmp(bb, "tinypool"));
    free(bb);
    /* The mean of pool2 is the channel's scaled image mean: check row 1. */
    float mean[V * 3];
    CHECK(oiqa_store_reader_read_row(r, "/original/pool2/mean", 1, OIQA_F32, mean) == 0);
    double want0 = 0;
    for (int k = 0; k < S * S; k++) want0 += (double)(((size_t)k * 3 * 13 + 71) % 256);
    want0 = 2.0 * want0 / (S * S) / 255.0; /* scale[0] = 1 + (1 + 0) % 3 = 2, viewport 0, channel 0 */
    CHECK_MSG(fabs(mean[0] - want0) < 1e-5, "%g vs %g", mean[0], want0);
    oiqa_store_close(r);
}

/* oiqa-weights verify: the row's own loader decides. */
static void t_verify(void)
{
    oiqa_ckpt *ck;
    CHECK(tiny_random(0, &ck) == 0);
    CHECK(oiqa_arch_known("tinypool") && oiqa_arch_check("tinypool", ck, "w.h5") == 0);
    oiqa_ckpt_close(ck);
    CHECK(oiqa_ckpt_new("empty", &ck) == 0);
    CHECK(oiqa_arch_check("tinypool", ck, "w.h5") == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "no tensor 'scale'"));
    oiqa_ckpt_close(ck);
}

/* A method reads the file as its local input: MTFI's declaration with the
 * backbone's blocks. */
static void t_method_input(void)
{
    const oiqa_method *m = oiqa_method_find("mtfi");
    oiqa_method_select sel = {0};
    sel.use[0] = 1, sel.n_blocks[0] = 2, sel.blocks[0][0] = "pool2", sel.blocks[0][1] = "pool4";
    const char *paths[2] = {check_tmp("tiny.h5"), NULL};
    char path[512];
    snprintf(path, sizeof path, "%s", paths[0]);
    paths[0] = path;
    oiqa_feature_spec spec = {.method = m, .sel = &sel, .paths = paths};
    oiqa_feature_set fs;
    int rc = oiqa_feature_set_load(&spec, NULL, NULL, 0, "test", &fs);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (rc) return;
    CHECK(fs.n == N && fs.in[0].V == V && fs.in[0].n_blocks == 2 && fs.in[0].dim[1] == 6);
    CHECK(!strcmp(fs.in[0].prov.v[OIQA_PROV_BACKBONE], "tinypool"));
    oiqa_feature_set_free(&fs);
    /* A stream the file lacks is named with the method's hint. */
    sel.stream[0][1] = 1;
    CHECK(oiqa_feature_set_load(&spec, NULL, NULL, 0, "test", &fs) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "/restored/pool2/mean") && strstr(oiqa_errmsg(), "model.use_restored"), "%s",
              oiqa_errmsg());
}

int main(void)
{
    oiqa_log_set_level(OIQA_LOG_WARN);
    check_tmp_init();
    RUN(t_register);
    RUN(t_stage);
    RUN(t_verify);
    RUN(t_method_input);
    check_tmp_cleanup();
    return check_done();
}
