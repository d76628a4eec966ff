/* models/extractor.h as a plug-in interface: backbones that live only in
 * this file are added with one registry row each (oiqa_extractor_register)
 * and then run through the unchanged stages and tools.
 *  - "tinypool": scaled average pooling of the image by 2 and by 4 (3
 *    channels each), with an option of its own (--gain) and a family
 *    ("tiny"): it runs through the viewport stage (stage/backbone.h) and
 *    oiqa-backbone's main with --arch tinypool --gain, is known to
 *    `oiqa-weights verify` (models/arch.h) by its name and its family, its
 *    recorded config replays (what oiqa-score's raw mode does), and its
 *    feature file feeds a method's inputs (methods/features.h with MTFI's
 *    declaration).
 *  - "tinytok": a token backbone (the output kind of ViT and CLIP): 4 x 4
 *    patch tokens, a class token per block and an embedding, stored as
 *    features/README.md says by the viewport and the global stages, and
 *    read by a method input of the vectors layout. */
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
#include "stage/backbone_tool.h"
#include "stage/global.h"
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

/* Its own option: a gain on every output (oiqa-backbone --gain). */
typedef struct {
    double gain;
} tiny_opts;
static const oiqa_opt TINY_OPTS[] = {
    {"gain", 0, OIQA_OPT_DOUBLE, offsetof(tiny_opts, gain), "1", "G", "tinypool: multiply the maps by G", 0.5, 4,
     NULL, 0},
    {0},
};

typedef struct {
    float scale[3];
    oiqa_tensor map[2];
} tiny_state;

static int tiny_open(const oiqa_ckpt *ck, const char *path, const void *opts, void **state)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, "scale");
    if (!t || t->numel != 3) return oiqa_fail(OIQA_EXIT_DATA, path, "tinypool: no tensor 'scale' of 3 values");
    if (!opts) return oiqa_fail(OIQA_EXIT_DATA, path, "tinypool: opened without its options");
    tiny_state *s = calloc(1, sizeof *s);
    int rc = oiqa_ckpt_read_f32(ck, t, s->scale);
    for (int c = 0; c < 3; c++) s->scale[c] *= (float)((const tiny_opts *)opts)->gain;
    if (rc) free(s), s = NULL;
    *state = s;
    return rc;
}

static int tiny_family_check(const oiqa_ckpt *ck, const char *path)
{
    return oiqa_ckpt_find(ck, "scale") ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, path, "tiny family: no 'scale'");
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
    .close = tiny_close, .opts = TINY_OPTS, .opts_size = sizeof(tiny_opts), .family = "tiny",
    .family_check = tiny_family_check,
};

/* ---- a token backbone: "tinytok" ------------------------------------------
 * Patch tokens: the image averaged over 4 x 4 patches (3 channels), times
 * scale; block "tok2" is tok1 squared. Class token of a block: the mean of
 * its patch tokens plus 1; embedding: channel sums of tok1's class token,
 * [c0 + c1, c2]. */

static const oiqa_extractor_block TOK_BLOCKS[2] = {{"tok1", 3}, {"tok2", 3}};

static void tok_map_shape(int b, int h, int w, int *mh, int *mw)
{
    (void)b;
    *mh = h / 4, *mw = w / 4;
}

typedef struct {
    tiny_state pool; /* reuses tinypool's weights and its 4 x 4 pooling */
    oiqa_tensor tok[2], cls[2], emb;
} tok_state;

static int tok_open(const oiqa_ckpt *ck, const char *path, const void *opts, void **state)
{
    (void)opts;
    static const tiny_opts unit = {1.0};
    void *pool;
    int rc = tiny_open(ck, path, &unit, &pool);
    if (rc) return rc;
    tok_state *s = calloc(1, sizeof *s);
    s->pool = *(tiny_state *)pool;
    free(pool);
    *state = s;
    return OIQA_OK;
}

static int tok_forward(void *state, const float *rgb, int n, int h, int w, const oiqa_tensor **maps)
{
    tok_state *s = state;
    const oiqa_tensor *pooled[2];
    int rc = tiny_forward(&s->pool, rgb, n, h, w, pooled);
    if (rc) return rc;
    for (int b = 0; b < 2; b++) {
        oiqa_tensor_free(&s->tok[b]), oiqa_tensor_free(&s->cls[b]);
        rc = oiqa_tensor_create(&s->tok[b], n, h / 4, w / 4, 3);
        if (!rc) rc = oiqa_tensor_create(&s->cls[b], n, 1, 1, 3);
        if (rc) return rc;
        size_t per = (size_t)(h / 4) * (w / 4);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < 3; c++) {
                double sum = 0;
                for (size_t p = 0; p < per; p++) {
                    float v = pooled[1]->data[((size_t)i * per + p) * 3 + c];
                    s->tok[b].data[((size_t)i * per + p) * 3 + c] = b ? v * v : v;
                    sum += b ? v * v : v;
                }
                s->cls[b].data[i * 3 + c] = (float)(sum / per + 1.0);
            }
        maps[b] = &s->tok[b];
    }
    oiqa_tensor_free(&s->emb);
    if ((rc = oiqa_tensor_create(&s->emb, n, 1, 1, 2))) return rc;
    for (int i = 0; i < n; i++) {
        s->emb.data[i * 2] = s->cls[0].data[i * 3] + s->cls[0].data[i * 3 + 1];
        s->emb.data[i * 2 + 1] = s->cls[0].data[i * 3 + 2];
    }
    return OIQA_OK;
}

static int tok_extras(void *state, oiqa_extractor_extras *out)
{
    tok_state *s = state;
    out->cls[0] = &s->cls[0], out->cls[1] = &s->cls[1], out->embedding = &s->emb;
    return OIQA_OK;
}

static void tok_close(void *state)
{
    tok_state *s = state;
    if (!s) return;
    oiqa_tensor_free(&s->pool.map[0]), oiqa_tensor_free(&s->pool.map[1]);
    for (int b = 0; b < 2; b++) oiqa_tensor_free(&s->tok[b]), oiqa_tensor_free(&s->cls[b]);
    oiqa_tensor_free(&s->emb);
    free(s);
}

static const oiqa_extractor_kind TOK = {
    .name = "tinytok", .description = "4 x 4 patch tokens with class tokens and an embedding (test only)",
    .input = OIQA_INPUT_VIEWPORT, .input_h = 16, .input_w = 32,
    .normalisation = "none: v/255 pooled", .init = "as tinypool",
    .n_blocks = 2, .blocks = TOK_BLOCKS, .default_blocks = "tok1,tok2",
    .output = OIQA_OUTPUT_TOKENS, .embed_dim = 2,
    .map_shape = tok_map_shape, .random_ckpt = tiny_random, .open = tok_open, .forward = tok_forward,
    .extras = tok_extras, .close = tok_close,
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
    broken = TOK, broken.name = "broken", broken.extras = NULL; /* tokens without their extras */
    CHECK(oiqa_extractor_register(&broken) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "extras"));
    broken = TINY, broken.name = "broken", broken.family_check = NULL;
    CHECK(oiqa_extractor_register(&broken) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "family"));
    CHECK_MSG(oiqa_extractor_register(&TOK) == 0, "%s", oiqa_errmsg());
}

/* oiqa-backbone's table for --arch tinypool: the common options and --gain;
 * an extractor option named like a common one is refused. */
static void t_tool_table(void)
{
    oiqa_backbone_table t;
    CHECK(oiqa_backbone_table_build(&oiqa_backbone_tool_any, &TINY, &t) == 0);
    int gain = 0, batch = 0;
    for (const oiqa_opt *o = t.tool.opts; o->name; o++)
        gain |= !strcmp(o->name, "gain"), batch |= !strcmp(o->name, "batch");
    CHECK(gain && batch);
    CHECK(strstr(t.arch_help, "tinypool") && strstr(t.blocks_help, "pool2,pool4"));
    /* oiqa-vmamba's --arch is the vmamba family only */
    CHECK(oiqa_backbone_table_build(&oiqa_backbone_tool_vmamba, NULL, &t) == 0 && !strstr(t.arch_help, "tinypool"));
    static const oiqa_opt CLASH[] = {{"batch", 0, OIQA_OPT_INT, 0, "1", "N", "clash", 0, 0, NULL, 0}, {0}};
    oiqa_extractor_kind k = TINY;
    k.opts = CLASH;
    CHECK(oiqa_backbone_table_build(&oiqa_backbone_tool_any, &k, &t) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "option 'batch' is a common option"), "%s", oiqa_errmsg());
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

/* The tool's main, in this process: --arch tinypool --gain 2 doubles the
 * features of the stage run above (gain 1), and the recorded config, which
 * holds gain, replays through the generic table with the option. */
static void t_tool_main(void)
{
    char *argv[] = {"oiqa-backbone", "--arch", "tinypool", "--gain", "2", (char *)check_tmp("vp.h5"), "--weights",
                    "random:1", "-o", (char *)check_tmp("tiny2.h5"), "--batch", "2", "--force", "-q", NULL};
    char vp[512], out[512];
    snprintf(vp, sizeof vp, "%s", argv[5]), snprintf(out, sizeof out, "%s", argv[9]);
    argv[5] = vp, argv[9] = out;
    int rc = oiqa_backbone_main(&oiqa_backbone_tool_any, 14, argv);
    oiqa_log_set_level(OIQA_LOG_WARN);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (rc) return;
    oiqa_store_reader *a, *b;
    CHECK(oiqa_store_open_read(check_tmp("tiny.h5"), "backbone", 0, &a) == 0);
    CHECK(oiqa_store_open_read(out, "backbone", 0, &b) == 0);
    if (!a || !b) return;
    float ma[V * 3], mb[V * 3];
    CHECK(oiqa_store_reader_read_row(a, "/original/pool4/mean", 2, OIQA_F32, ma) == 0);
    CHECK(oiqa_store_reader_read_row(b, "/original/pool4/mean", 2, OIQA_F32, mb) == 0);
    CHECK_MSG(fabs(mb[4] - 2 * ma[4]) < 1e-6, "%g vs 2 x %g", mb[4], ma[4]);
    char *cfg = oiqa_store_reader_attr_string(b, "/", "config");
    CHECK(cfg && strstr(cfg, "arch: tinypool\n") && strstr(cfg, "gain: 2\n"));
    oiqa_backbone_table t;
    oiqa_backbone_cli c;
    oiqa_cli cli;
    CHECK(cfg && oiqa_backbone_config_parse("tinypool", cfg, "tiny2.h5", &t, &c, &cli) == 0);
    if (cfg) {
        oiqa_backbone_opts bo;
        oiqa_backbone_cli_opts(&t, &c, &bo);
        CHECK(bo.extractor_opts && ((const tiny_opts *)bo.extractor_opts)->gain == 2.0);
        oiqa_cli_free(&cli);
    }
    free(cfg);
    oiqa_store_close(a), oiqa_store_close(b);
    /* an out-of-range value of the extractor's option: a usage error naming it */
    argv[4] = "9";
    CHECK(oiqa_backbone_main(&oiqa_backbone_tool_any, 14, argv) == OIQA_EXIT_USAGE);
    oiqa_log_set_level(OIQA_LOG_WARN);
}

/* The token backbone through the viewport stage: mean/std/map over the
 * patch tokens, the class token per block and the embedding per stream. */
static void t_tokens_stage(void)
{
    oiqa_backbone_opts o = {.extractor = "tinytok", .weights = "random:1", .batch = 2, .maps = 1, .force = 1};
    oiqa_provenance prov = {.stage = "backbone", .tool = "test", .command = "test", .config = "t: 1\n"};
    int rc = oiqa_backbone_run(&o, check_tmp("vp.h5"), check_tmp("tok.h5"), &prov);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (rc) return;
    oiqa_store_reader *r;
    CHECK(oiqa_store_open_read(check_tmp("tok.h5"), "backbone", 0, &r) == 0);
    if (!r) return;
    int64_t stat[3] = {N, V, 3}, map[5] = {N, V, 4, 4, 3}, emb[3] = {N, V, 2};
    CHECK(oiqa_store_reader_expect(r, "/original/tok1/mean", OIQA_F32, 3, stat) == 0);
    CHECK(oiqa_store_reader_expect(r, "/original/tok2/cls", OIQA_F32, 3, stat) == 0);
    CHECK(oiqa_store_reader_expect(r, "/original/tok1/map", OIQA_F16, 5, map) == 0);
    CHECK(oiqa_store_reader_expect(r, "/original/embedding", OIQA_F32, 3, emb) == 0);
    char *out = oiqa_store_reader_attr_string(r, "/", "output");
    CHECK(out && !strcmp(out, "tokens"));
    free(out);
    float mean[V * 3], cls[V * 3], e[V * 2];
    CHECK(oiqa_store_reader_read_row(r, "/original/tok1/mean", 1, OIQA_F32, mean) == 0);
    CHECK(oiqa_store_reader_read_row(r, "/original/tok1/cls", 1, OIQA_F32, cls) == 0);
    CHECK(oiqa_store_reader_read_row(r, "/original/embedding", 1, OIQA_F32, e) == 0);
    for (int k = 0; k < V * 3; k++) CHECK_MSG(fabs(cls[k] - mean[k] - 1) < 1e-5, "%d: %g vs %g", k, cls[k], mean[k]);
    CHECK(fabs(e[2] - (cls[3] + cls[4])) < 1e-5 && fabs(e[3] - cls[5]) < 1e-5); /* viewport 1 */
    oiqa_store_close(r);
    /* and the in-memory global step: the same extras for whole images */
    oiqa_global_opts go = {.extractor = "tinytok", .batch = 1};
    oiqa_global_net g;
    CHECK(oiqa_global_net_init(&go, &g) == 0 && oiqa_global_net_load(&g, "random:1") == 0);
    uint8_t img[16 * 32 * 3];
    for (size_t k = 0; k < sizeof img; k++) img[k] = (uint8_t)(k * 7 % 251);
    float gm[2][3], gs[2][3], gc[2][3], ge[2];
    float *m[2] = {gm[0], gm[1]}, *sd[2] = {gs[0], gs[1]}, *c[2] = {gc[0], gc[1]};
    rc = oiqa_global_forward(&g, img, 1, 0, m, sd, NULL, c, ge);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    CHECK(fabs(gc[1][2] - gm[1][2] - 1) < 1e-5 && fabs(ge[0] - (gc[0][0] + gc[0][1])) < 1e-5);
    oiqa_global_net_close(&g);
}

/* A method input of the vectors layout reads a token file's embedding and
 * class tokens as they are: [V, D] per name, block names with '.'. */
static void t_vectors_input(void)
{
    static const oiqa_method_input IN[1] = {
        {"tok", "backbone", OIQA_LAYOUT_VECTORS, {"original"}, "token features", "pick another dataset"}};
    const oiqa_method m = {.name = "vectors-test", .n_inputs = 1, .inputs = IN};
    oiqa_method_select sel = {0};
    sel.use[0] = 1, sel.n_blocks[0] = 2, sel.blocks[0][0] = "embedding", sel.blocks[0][1] = "tok1/cls";
    char path[512];
    snprintf(path, sizeof path, "%s", check_tmp("tok.h5"));
    const char *paths[1] = {path};
    oiqa_feature_spec spec = {.method = &m, .sel = &sel, .paths = paths};
    oiqa_feature_set fs;
    int rc = oiqa_feature_set_load(&spec, NULL, NULL, 0, "test", &fs);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (rc) return;
    const oiqa_feature_input *in = &fs.in[0];
    CHECK(fs.n == N && in->V == V && in->n_blocks == 2 && in->dim[0] == 2 && in->dim[1] == 3 && !in->flat);
    CHECK(!strcmp(in->block[0], "embedding") && !strcmp(in->block[1], "tok1.cls"));
    oiqa_store_reader *r;
    float cls[V * 3];
    CHECK(oiqa_store_open_read(path, "backbone", 0, &r) == 0);
    if (r) {
        CHECK(oiqa_store_reader_read_row(r, "/original/tok1/cls", 2, OIQA_F32, cls) == 0);
        CHECK(!memcmp(cls, in->x[0][1] + 2 * V * 3, sizeof cls));
        oiqa_store_close(r);
    }
    oiqa_feature_set_free(&fs);
    sel.blocks[0][1] = "tok3/cls";
    CHECK(oiqa_feature_set_load(&spec, NULL, NULL, 0, "test", &fs) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "no dataset /original/tok3/cls (pick another dataset)"), "%s", oiqa_errmsg());
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
    /* the family's check: one name for every row of the family */
    CHECK(oiqa_arch_known("tiny") && strstr(oiqa_arch_names(), ", tiny") != NULL);
    CHECK(oiqa_arch_check("tiny", ck, "w.h5") == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "tiny family"));
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
    RUN(t_tool_table);
    RUN(t_stage);
    RUN(t_tool_main);
    RUN(t_tokens_stage);
    RUN(t_vectors_input);
    RUN(t_verify);
    RUN(t_method_input);
    check_tmp_cleanup();
    return check_done();
}
