/* train/: the MTFI training pipeline on a synthetic problem written with the
 * store API. 60 images of 12 contents x 5 distortion levels (2 types), 4
 * viewports, two scales (C = 6, 8) and a global file; the distortion
 * strength s shifts the original features along a fixed direction, the
 * restored stream is the content without it and the degraded one has a
 * stronger shift, so s is visible only in the differences o - r, o - d;
 * MOS = 80 - 60 s^1.5 + noise. Content-disjoint split 8 / 2 / 2 contents.
 * Checks: it learns (val and test SRCC >= 0.9), two runs with one seed give
 * identical weights, stop + --resume gives the weights of an uninterrupted
 * run, model.h5's layout, the config round trip, and the refusals (a label
 * without features, NaN features, a leaking split, other features at
 * scoring time). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "base/log.h"
#include "base/rng.h"
#include "io/ckpt.h"
#include "io/csv.h"
#include "io/h5store.h"
#include "iqa/metrics.h"
#include "train/train_loop.h"
#include "methods/mtfi/mtfi.h"
#include "methods/registry.h"
#include "score/score.h"
#include "check.h"
#include "test_features.h"

enum { N = 60, NREF = 12, V = 4, C0 = 6, C1 = 8, G0 = 3, G1 = 4 };

static double g_s[N]; /* distortion strength per image */

static void name_of(int i, char *buf, size_t n) { snprintf(buf, n, "c%02d/img%d.png", i / 5, i % 5); }

/* Writes the backbone file (backbone attr `backbone`; NaN at row nan_row,
 * -1 for none) and the global file. */
/* Global features: N(0, 1) noise (G1 draws per dataset, the stream the
 * tolerances were set on; stage0 keeps its first G0). */
static void global_row(int i, float *const *v, void *ctx)
{
    (void)i;
    for (int j = 0; j < 4; j++)
        for (int k = 0; k < G1; k++) v[j][k] = (float)oiqa_rng_normal(ctx);
}

static int write_features(const char *local, const char *global, const char *backbone, int nan_row)
{
    oiqa_rng r;
    oiqa_rng_seed(&r, 42);
    static float content[NREF][V][2 * (C0 + C1)];
    float dir[2 * (C0 + C1)];
    for (int k = 0; k < 2 * (C0 + C1); k++) dir[k] = (float)(0.5 + oiqa_rng_uniform(&r));
    for (int c = 0; c < NREF; c++)
        for (int v = 0; v < V; v++)
            for (int k = 0; k < 2 * (C0 + C1); k++) content[c][v][k] = (float)(2 * oiqa_rng_normal(&r));
    for (int i = 0; i < N; i++) g_s[i] = ((i % 5) + 1 + 0.6 * (oiqa_rng_uniform(&r) - 0.5)) / 5.0;

    oiqa_provenance prov = {.stage = "backbone", .tool = "test_train", .command = "test", .config = "x: 1\n"};
    oiqa_store *s;
    int rc = oiqa_store_open_write(local, &prov, OIQA_STORE_CREATE, 1, &s);
    if (rc) return rc;
    const char *streams[3] = {"original", "restored", "degraded"}, *blocks[2] = {"layer2", "layer3"};
    const int C[2] = {C0, C1};
    for (int st = 0; st < 3 && !rc; st++)
        for (int b = 0; b < 2 && !rc; b++)
            for (int p = 0; p < 2 && !rc; p++) {
                char ds[64];
                snprintf(ds, sizeof ds, "/%s/%s/%s", streams[st], blocks[b], p ? "std" : "mean");
                uint64_t dims[2] = {V, (uint64_t)C[b]};
                rc = oiqa_store_define(s, ds, OIQA_F32, 2, dims, 0);
            }
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "backbone", backbone);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "weights", "random:1");
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "weights_sha256", "");
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "blocks", "layer2,layer3");
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "streams", "original,restored,degraded");
    static float rows[12][V * C1];
    for (int i = 0; i < N && !rc; i++) {
        const void *data[12];
        int j = 0;
        for (int st = 0; st < 3; st++) {
            double shift = st == 0 ? g_s[i] : st == 1 ? 0 : g_s[i] + 0.2;
            for (int b = 0; b < 2; b++)
                for (int p = 0; p < 2; p++, j++) {
                    int off = (b ? 2 * C0 : 0) + p * C[b];
                    for (int v = 0; v < V; v++)
                        for (int k = 0; k < C[b]; k++)
                            rows[j][v * C[b] + k] = content[i / 5][v][off + k] + (float)(shift * 2 * dir[off + k]) +
                                                    (float)(0.05 * oiqa_rng_normal(&r));
                    if (i == nan_row && j == 5) rows[j][1] = NAN;
                    data[j] = rows[j];
                }
        }
        char name[32];
        name_of(i, name, sizeof name);
        rc = oiqa_store_append(s, name, "in.png", "0", data);
    }
    if (rc) {
        oiqa_store_discard(s);
        return rc;
    }
    if ((rc = oiqa_store_finish(s)) || !global) return rc;

    const int GC[2] = {G0, G1};
    return test_write_global(global, &prov, N, GC, name_of, global_row, &r);
}

/* labels.csv (skipping image `skip`, naming `extra` when given) and
 * splits.csv (content c in test for c >= 10, val for 8, 9; `leak` puts one
 * image of content 0 in test). */
static void write_tables(const char *labels, const char *splits, const char *extra, int leak)
{
    oiqa_rng r;
    oiqa_rng_seed(&r, 7);
    FILE *f = fopen(labels, "w"), *g = fopen(splits, "w");
    fprintf(f, "name,mos,ref,dist_type,dist_level\n");
    fprintf(g, "name,s0\n");
    for (int i = 0; i < N; i++) {
        char name[32];
        name_of(i, name, sizeof name);
        double mos = 80 - 60 * pow(g_s[i], 1.5) + 0.5 * oiqa_rng_normal(&r);
        fprintf(f, "%s,%.4f,c%02d,%s,%d\n", name, mos, i / 5, (i % 2) ? "blur" : "jpeg", i % 5 + 1);
        int c = i / 5;
        const char *part = c >= 10 ? "test" : c >= 8 ? "val" : "train";
        if (leak && i == 1) part = "test";
        fprintf(g, "%s,%s\n", name, part);
    }
    if (extra) {
        fprintf(f, "%s,50,cx,jpeg,1\n", extra);
        fprintf(g, "%s,train\n", extra);
    }
    fclose(f), fclose(g);
}

/* A parsed config and the parse that owns its strings. */
typedef struct {
    oiqa_train_config c;
    oiqa_cli cli;
    char labels[512], splits[512], local[512];
} test_cfg;

static void cfg_free(test_cfg *t) { oiqa_cli_free(&t->cli); }

/* The config as a user would write it (MTFI with two scales, AdamW +
 * cosine), through the same parser as oiqa-train's. */
static void base_config(test_cfg *t, long epochs)
{
    char *text = oiqa_asprintf("model: {hidden: 32, dropout: 0.1, scales: [layer2, layer3]}\n"
                               "features: {local: '%s', global: '%s'}\n"
                               "labels: '%s'\nsplits: '%s'\n"
                               "optimizer: {type: adamw, lr: 0.003, weight_decay: 0.0001}\n"
                               "schedule: {type: cosine, warmup: 2, min_lr: 0.0001}\n"
                               "epochs: %ld\nbatch_size: 8\nclip: 5\nseed: 3\n",
                               check_tmp("r50.h5"), check_tmp("vm.h5"), check_tmp("labels.csv"),
                               check_tmp("splits.csv"), epochs);
    int rc = oiqa_train_config_parse(oiqa_method_find("mtfi"), text, "test", &t->c, &t->cli);
    CHECK_MSG(rc == 0, "config: %s", oiqa_errmsg());
    free(text);
}

/* The config of a command line, parsed as oiqa-train parses it. */
static int parse_args(int argc, char **argv, test_cfg *t)
{
    const oiqa_method *m;
    int rc = oiqa_train_method_of_args(argc, argv, &m);
    if (rc) return rc;
    oiqa_train_table table;
    oiqa_tool tool = {.name = "oiqa-train"};
    rc = oiqa_train_tool_table(m, NULL, 0, 0, &table, &tool);
    if (!rc) rc = oiqa_cli_parse(&tool, argc, argv, &t->c, &t->cli);
    return rc ? rc : oiqa_train_config_bind(&t->c, m);
}

static int train_into(const oiqa_train_config *c, const char *dir, int resume, long stop, oiqa_train_result *res)
{
    oiqa_train_opts o = {.out_dir = dir, .resume = resume, .force = !resume, .command = "test", .stop_after = stop};
    return oiqa_train_run(c, &o, res);
}

/* Bitwise equality of every tensor of two weight files. */
static int same_weights(const char *a, const char *b)
{
    oiqa_ckpt *x, *y;
    if (oiqa_ckpt_open(a, &x)) return 0;
    if (oiqa_ckpt_open(b, &y)) return oiqa_ckpt_close(x), 0;
    int same = oiqa_ckpt_count(x) == oiqa_ckpt_count(y) && oiqa_ckpt_count(x) > 0;
    for (int i = 0; same && i < oiqa_ckpt_count(x); i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_tensor(x, i), *u = oiqa_ckpt_find(y, t->name);
        if (!u || u->numel != t->numel) { same = 0; break; }
        float *p = malloc((size_t)t->numel * 4), *q = malloc((size_t)t->numel * 4);
        oiqa_ckpt_read_f32(x, t, p), oiqa_ckpt_read_f32(y, u, q);
        same = !memcmp(p, q, (size_t)t->numel * 4);
        free(p), free(q);
    }
    oiqa_ckpt_close(x), oiqa_ckpt_close(y);
    return same;
}

static oiqa_train_result g_res;
static int g_trained;

static void t_learns(void)
{
    test_cfg t;
    base_config(&t, 40);
    int rc = train_into(&t.c, check_tmp("run"), 0, 0, &g_res);
    CHECK_MSG(rc == 0, "train: %s", oiqa_errmsg());
    g_trained = rc == 0;
    printf("  synthetic problem: best epoch %ld, val SRCC %.4f PLCC %.4f, %.4f s/epoch (%d train, %d val)\n",
           g_res.best_epoch, g_res.best_srcc, g_res.best_plcc, g_res.seconds_per_epoch, g_res.n_train, g_res.n_val);
    CHECK(g_res.n_train == 40 && g_res.n_val == 10);
    CHECK(g_res.best_srcc >= 0.9);
    cfg_free(&t);
}

/* Scores every image and checks the test part's SRCC and the columns. */
static void t_score_test_part(void)
{
    if (!g_trained) { SKIP("training failed"); return; }
    char local[512], global[512];
    snprintf(local, sizeof local, "%s", check_tmp("r50.h5"));
    snprintf(global, sizeof global, "%s", check_tmp("vm.h5"));
    const oiqa_score_input in[2] = {{NULL, local, "--features"}, {"global", global, "--global"}};
    oiqa_score_opts so = {.model = check_tmp("run/model.h5"), .inputs = in, .n_inputs = 2, .out = check_tmp("pred.csv"),
                          .force = 1};
    int rc = oiqa_score_run(&so);
    CHECK_MSG(rc == 0, "score: %s", oiqa_errmsg());
    oiqa_csv *t = NULL, *l = NULL;
    if (rc || oiqa_csv_read(check_tmp("pred.csv"), ',', 1, &t) || oiqa_csv_read(check_tmp("labels.csv"), ',', 1, &l)) {
        CHECK(0);
        oiqa_csv_free(t);
        return;
    }
    CHECK(t->n_rows == N);
    CHECK(t->n_cols == 2 + 2 + 5 + 2);
    CHECK_STR(t->header[2], "level");
    CHECK_STR(t->header[3], "type");
    CHECK_STR(t->header[4], "p_level_1");
    CHECK_STR(t->header[9], "p_type_jpeg"); /* first in labels.csv */
    double x[10], y[10];
    int n = 0;
    for (int i = 50; i < N; i++) oiqa_csv_double(t, i, 1, &x[n]), oiqa_csv_double(l, i, 1, &y[n]), n++;
    double srcc = oiqa_spearman(x, y, n);
    printf("  synthetic problem: test SRCC %.4f PLCC %.4f\n", srcc, oiqa_pearson(x, y, n));
    CHECK(srcc >= 0.9);
    oiqa_csv_free(t), oiqa_csv_free(l);
}

static void t_model_layout(void)
{
    if (!g_trained) { SKIP("training failed"); return; }
    oiqa_ckpt *ck;
    CHECK(oiqa_ckpt_open(check_tmp("run/model.h5"), &ck) == 0);
    if (!ck) return;
    CHECK(oiqa_ckpt_find(ck, "stream0.unit0.weight") != NULL);
    CHECK(oiqa_ckpt_find(ck, "stream1.proj1.weight") != NULL);
    CHECK(oiqa_ckpt_find(ck, "norm.layer2.mean") != NULL && oiqa_ckpt_find(ck, "norm.layer2.mean")->numel == 2 * C0);
    CHECK(oiqa_ckpt_find(ck, "norm.global.std") != NULL && oiqa_ckpt_find(ck, "norm.global.std")->numel == 2 * (G0 + G1));
    CHECK(oiqa_ckpt_find(ck, "norm.target") != NULL);
    CHECK(oiqa_ckpt_find(ck, "optim.m.stream0.unit0.weight") == NULL);
    oiqa_ckpt_close(ck);
    CHECK(oiqa_ckpt_open(check_tmp("run/last.h5"), &ck) == 0);
    if (ck) {
        CHECK(oiqa_ckpt_find(ck, "optim.m.stream0.unit0.weight") != NULL);
        oiqa_ckpt_close(ck);
    }
    FILE *f = fopen(check_tmp("run/log.csv"), "r");
    int lines = 0;
    char buf[512];
    while (f && fgets(buf, sizeof buf, f)) lines++;
    if (f) fclose(f);
    CHECK(lines == 41);
}

static void t_deterministic_and_resume(void)
{
    test_cfg t;
    base_config(&t, 6);
    oiqa_train_config c = t.c;
    oiqa_train_result r;
    CHECK_MSG(train_into(&c, check_tmp("det_a"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    CHECK_MSG(train_into(&c, check_tmp("det_b"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    CHECK(same_weights(check_tmp("det_a/last.h5"), check_tmp("det_b/last.h5")));
    CHECK(same_weights(check_tmp("det_a/model.h5"), check_tmp("det_b/model.h5")));
    /* Interrupted after epoch 3, then resumed. */
    CHECK_MSG(train_into(&c, check_tmp("det_c"), 0, 3, &r) == 0 && r.epochs_run == 3, "%s", oiqa_errmsg());
    CHECK(!same_weights(check_tmp("det_a/last.h5"), check_tmp("det_c/last.h5")));
    CHECK_MSG(train_into(&c, check_tmp("det_c"), 1, 0, &r) == 0 && r.epochs_run == 3, "%s", oiqa_errmsg());
    CHECK(same_weights(check_tmp("det_a/last.h5"), check_tmp("det_c/last.h5")));
    CHECK(same_weights(check_tmp("det_a/model.h5"), check_tmp("det_c/model.h5")));
    /* Another seed, other weights; --resume with another config is refused. */
    c.seed = 4;
    CHECK(train_into(&c, check_tmp("det_c"), 1, 0, &r) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "another config") != NULL);
    CHECK(train_into(&c, check_tmp("det_d"), 0, 0, &r) == 0);
    CHECK(!same_weights(check_tmp("det_a/last.h5"), check_tmp("det_d/last.h5")));
    /* Outputs of an earlier run are not replaced without force. */
    oiqa_train_opts o = {.out_dir = check_tmp("det_d")};
    CHECK(oiqa_train_run(&c, &o, &r) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "exists"));
    cfg_free(&t);
}

/* The values of tensor `name` of a weight file (malloc'ed; NULL when
 * absent), *n of them. */
static float *read_tensor(const char *path, const char *name, long *n)
{
    oiqa_ckpt *ck;
    if (oiqa_ckpt_open(path, &ck)) return NULL;
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, name);
    float *v = t ? malloc((size_t)t->numel * sizeof *v) : NULL;
    if (v && oiqa_ckpt_read_f32(ck, t, v)) free(v), v = NULL;
    if (v) *n = (long)t->numel;
    oiqa_ckpt_close(ck);
    return v;
}

/* Whether tensor `name` holds the same bits in files a and b. */
static int same_tensor(const char *a, const char *name_a, const char *b, const char *name_b)
{
    long na = 0, nb = 0;
    float *x = read_tensor(a, name_a, &na), *y = read_tensor(b, name_b, &nb);
    int same = x && y && na == nb && !memcmp(x, y, (size_t)na * sizeof *x);
    free(x), free(y);
    return same;
}

/* log.csv rows equal but for the seconds column (the last). */
static int same_log(const char *a, const char *b)
{
    FILE *f = fopen(a, "r"), *g = fopen(b, "r");
    int same = f && g, rows = 0;
    char x[1024], y[1024];
    while (same) {
        char *p = fgets(x, sizeof x, f), *q = fgets(y, sizeof y, g);
        if (!p || !q) {
            same = !p && !q && rows > 1;
            break;
        }
        char *cp = strrchr(x, ','), *cq = strrchr(y, ',');
        if (cp) *cp = 0;
        if (cq) *cq = 0;
        same = !strcmp(x, y), rows++;
    }
    if (f) fclose(f);
    if (g) fclose(g);
    return same;
}

/* A run stopped inside epochs (twice) and resumed ends with the weights, the
 * average and the log of an uninterrupted one; under a per-batch warm-up +
 * periodic cosine, a weight average with its decay warm-up, a parameter
 * group and a frozen layer,
 * so that every piece of state has to travel. Writing last.h5 every few
 * batches changes nothing either. */
static void t_mid_epoch_resume(void)
{
    test_cfg t;
    base_config(&t, 4);
    oiqa_train_config c = t.c;
    char *scale[] = {"stream1=0.5"}, *frozen[] = {"stream0.unit0"};
    c.schedule.per = OIQA_TRAIN_PER_BATCH, c.schedule.warmup = 3, c.schedule.period = 7;
    c.schedule.warmup_rule = 1, c.schedule.warmup_init = 1e-4; /* from_init */
    c.ema = 0.9, c.ema_warmup = 1;
    c.optimizer.lr_scale = (oiqa_opt_strings){1, scale};
    c.freeze = (oiqa_opt_strings){1, frozen};
    oiqa_train_result r;
    char dir_a[512], dir_b[512], dir_c[512]; /* check_tmp's buffer is reused */
    snprintf(dir_a, sizeof dir_a, "%s", check_tmp("mid_a"));
    snprintf(dir_b, sizeof dir_b, "%s", check_tmp("mid_b"));
    snprintf(dir_c, sizeof dir_c, "%s", check_tmp("mid_c"));
    oiqa_train_opts o = {.out_dir = dir_a, .force = 1, .command = "test"};
    CHECK_MSG(oiqa_train_run(&c, &o, &r) == 0 && r.batches_run == 20, "%s", oiqa_errmsg()); /* 40 images / 8 */
    o.out_dir = dir_b, o.stop_after_batches = 7;
    CHECK_MSG(oiqa_train_run(&c, &o, &r) == 0 && r.batches_run == 7 && r.epochs_run == 1, "%s", oiqa_errmsg());
    CHECK(!same_weights(check_tmp("mid_a/last.h5"), check_tmp("mid_b/last.h5")));
    o.resume = 1, o.force = 0, o.stop_after_batches = 6; /* to batch 3 of epoch 3 */
    CHECK_MSG(oiqa_train_run(&c, &o, &r) == 0 && r.batches_run == 6 && r.epochs_run == 1, "%s", oiqa_errmsg());
    o.stop_after_batches = 0;
    CHECK_MSG(oiqa_train_run(&c, &o, &r) == 0 && r.batches_run == 7 && r.epochs_run == 2, "%s", oiqa_errmsg());
    CHECK(same_weights(check_tmp("mid_a/last.h5"), check_tmp("mid_b/last.h5")));
    CHECK(same_weights(check_tmp("mid_a/model.h5"), check_tmp("mid_b/model.h5")));
    CHECK(same_log(check_tmp("mid_a/log.csv"), check_tmp("mid_b/log.csv")));
    o.out_dir = dir_c, o.resume = 0, o.force = 1, o.save_every = 3;
    CHECK_MSG(oiqa_train_run(&c, &o, &r) == 0, "%s", oiqa_errmsg());
    CHECK(same_weights(check_tmp("mid_a/last.h5"), check_tmp("mid_c/last.h5")));
    /* The frozen layer kept its initial weights; the average is last.h5's
     * ema.* and what model.h5 holds when the last epoch is the best. */
    long n = 0;
    float *w = read_tensor(check_tmp("mid_a/last.h5"), "stream0.unit1.weight", &n);
    float *avg = read_tensor(check_tmp("mid_a/last.h5"), "ema.stream0.unit1.weight", &n);
    CHECK(w && avg && memcmp(w, avg, (size_t)n * sizeof *w));
    free(w), free(avg);
    long none = 0;
    float *absent = read_tensor(check_tmp("mid_a/last.h5"), "ema.stream0.unit0.weight", &none);
    CHECK_MSG(!absent, "a frozen layer is averaged"); /* nothing to average, as torch_ema's parameters() */
    free(absent);
    if (r.best_epoch == 4)
        CHECK(same_tensor(check_tmp("mid_a/last.h5"), "ema.stream1.fuse.weight", check_tmp("mid_a/model.h5"),
                          "stream1.fuse.weight"));
    /* The same run resumed from an epoch's end refuses another config. */
    c.ema = 0.5;
    o.resume = 1, o.force = 0, o.save_every = 0;
    int rc = oiqa_train_run(&c, &o, &r);
    CHECK_MSG(rc == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "another config"), "%d %s", rc, oiqa_errmsg());
    cfg_free(&t);
}

/* freeze keeps parameters constant, lr_scale gives a group its multiple of
 * the learning rate: one plain SGD step (batch = all training images) moves
 * a group at scale 0.5 half as far as at scale 1, one at scale 0 not at all,
 * and a frozen layer is exactly a layer at scale 0. */
static void t_freeze_and_groups(void)
{
    test_cfg t;
    base_config(&t, 1);
    oiqa_train_config c = t.c;
    c.optimizer.type = OIQA_TRAIN_SGD, c.optimizer.momentum = 0, c.optimizer.weight_decay = 0;
    c.schedule.type = OIQA_TRAIN_CONSTANT, c.schedule.warmup = 0;
    c.batch_size = 64, c.clip = 0, c.optimizer.lr = 0.01;
    oiqa_train_result r;
    char *half[] = {"stream1=0.5", "stream1.unit0=3"}; /* the first that names one wins */
    char *zero[] = {"stream0=0"}, *frozen[] = {"stream0"};
    CHECK_MSG(train_into(&c, check_tmp("g_one"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    c.optimizer.lr_scale = (oiqa_opt_strings){2, half};
    CHECK_MSG(train_into(&c, check_tmp("g_half"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    c.optimizer.lr_scale = (oiqa_opt_strings){1, zero};
    CHECK_MSG(train_into(&c, check_tmp("g_zero"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    c.optimizer.lr_scale = (oiqa_opt_strings){0, NULL};
    c.freeze = (oiqa_opt_strings){1, frozen};
    CHECK_MSG(train_into(&c, check_tmp("g_frozen"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    c.freeze = (oiqa_opt_strings){0, NULL}, c.optimizer.lr = 0;
    CHECK_MSG(train_into(&c, check_tmp("g_init"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    CHECK(same_weights(check_tmp("g_zero/model.h5"), check_tmp("g_frozen/model.h5")));
    CHECK(same_tensor(check_tmp("g_init/model.h5"), "stream0.unit0.weight", check_tmp("g_frozen/model.h5"),
                      "stream0.unit0.weight"));
    CHECK(!same_tensor(check_tmp("g_init/model.h5"), "stream1.unit0.weight", check_tmp("g_frozen/model.h5"),
                       "stream1.unit0.weight"));
    const char *names[2] = {"stream1.unit0.weight", "stream1.fuse.weight"};
    for (int k = 0; k < 2; k++) {
        long n = 0;
        float *w0 = read_tensor(check_tmp("g_init/model.h5"), names[k], &n);
        float *w1 = read_tensor(check_tmp("g_one/model.h5"), names[k], &n);
        float *wh = read_tensor(check_tmp("g_half/model.h5"), names[k], &n);
        double worst = 0, big = 0;
        for (long i = 0; w0 && w1 && wh && i < n; i++) {
            double d1 = (double)w1[i] - w0[i], dh = (double)wh[i] - w0[i];
            if (fabs(dh - 0.5 * d1) > worst) worst = fabs(dh - 0.5 * d1);
            if (fabs(d1) > big) big = fabs(d1);
        }
        CHECK_MSG(w0 && big > 1e-5 && worst <= 1e-6 * (1 + fabs(big)) + 2e-7, "%s: step %g, off by %g", names[k], big,
                  worst);
        free(w0), free(w1), free(wh);
    }
    /* Refusals name the key and the prefix. */
    char *nosuch[] = {"streamX"}, *bad[] = {"stream1:0.5"};
    c.freeze = (oiqa_opt_strings){1, nosuch};
    CHECK(train_into(&c, check_tmp("g_bad"), 0, 0, &r) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "key 'freeze': 'streamX' names no parameter") && strstr(oiqa_errmsg(), "stream0"),
              "%s", oiqa_errmsg());
    c.freeze = (oiqa_opt_strings){0, NULL}, c.optimizer.lr_scale = (oiqa_opt_strings){1, nosuch};
    CHECK(train_into(&c, check_tmp("g_bad"), 0, 0, &r) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "key 'optimizer.lr_scale': 'streamX' is not PREFIX=SCALE"), "%s", oiqa_errmsg());
    char *nosuch2[] = {"streamX=2"};
    c.optimizer.lr_scale = (oiqa_opt_strings){1, nosuch2};
    CHECK(train_into(&c, check_tmp("g_bad"), 0, 0, &r) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "key 'optimizer.lr_scale': 'streamX' names no parameter"), "%s", oiqa_errmsg());
    c.optimizer.lr_scale = (oiqa_opt_strings){1, bad};
    CHECK(train_into(&c, check_tmp("g_bad"), 0, 0, &r) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "stream1:0.5"));
    cfg_free(&t);
}

/* schedule.per batch with in_epochs: SIND's 2 warm-up epochs from 0, then a
 * cosine over `period` epochs, warm-up included; log.csv's lr is that of an
 * epoch's first batch: 0, lr/2, lr, then the cosine at a = 1 epoch of 4. */
static void t_schedule_in_epochs(void)
{
    test_cfg t;
    base_config(&t, 4);
    oiqa_train_config c = t.c;
    c.schedule.type = OIQA_TRAIN_COSINE, c.schedule.per = OIQA_TRAIN_PER_BATCH, c.schedule.in_epochs = 1;
    c.schedule.warmup = 2, c.schedule.warmup_rule = 1, c.schedule.warmup_init = 0, c.schedule.period = 4;
    c.schedule.min_lr = 0;
    oiqa_train_result r;
    CHECK_MSG(train_into(&c, check_tmp("sched"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    oiqa_csv *log = NULL;
    CHECK(oiqa_csv_read(check_tmp("sched/log.csv"), ',', 1, &log) == 0 && log->n_rows == 4);
    double lr = c.optimizer.lr, want[4] = {0, lr / 2, lr, lr * 0.5 * (1 + cos(M_PI / 4))}, got;
    for (int e = 0; log && e < 4; e++) {
        CHECK(oiqa_csv_double(log, e, 1, &got) == 0);
        CHECK_MSG(fabs(got - want[e]) <= 1e-8 * lr, "epoch %d: lr %.9g, want %.9g", e + 1, got, want[e]);
    }
    oiqa_csv_free(log);
    cfg_free(&t);
}

static void t_config_roundtrip(void)
{
    test_cfg t = {0}, u = {0};
    char *argv[] = {"oiqa-train", "--set", "model.hidden=64", "--set", "model.scales=[layer4]", "--set",
                    "schedule.type=step", "--set", "features.local=r50.h5", NULL};
    CHECK_MSG(parse_args(9, argv, &t) == 0, "%s", oiqa_errmsg());
    const oiqa_mtfi_opts *mo = (const oiqa_mtfi_opts *)&t.c.model;
    CHECK(t.c.m == oiqa_method_find("mtfi"));
    CHECK(mo->hidden == 64 && mo->scales.n == 1 && !strcmp(mo->scales.v[0], "layer4"));
    CHECK(mo->use_global == 1 && mo->loss_weights.n == 3 && mo->loss_weights.v[1] == 0.1);
    CHECK(t.c.schedule.type == OIQA_TRAIN_STEP && t.c.optimizer.lr == 1e-3 && t.c.epochs == 100);
    char *y = oiqa_train_config_yaml(&t.c);
    CHECK(strncmp(y, "method: mtfi\nmodel:\n  hidden: 64\n  dropout: 0.1\n", 48) == 0);
    CHECK(strstr(y, "\n  scales: [layer4]\n") && strstr(y, "\n  loss_weights: [1, 0.1, 0.1]\n"));
    CHECK(strstr(y, "features:\n  local: r50.h5\n  global: null\n"));
    CHECK(oiqa_train_config_parse(oiqa_method_find("mtfi"), y, "test", &u.c, &u.cli) == 0);
    char *z = oiqa_train_config_yaml(&u.c);
    CHECK_STR(z, y);
    free(y), free(z);
    cfg_free(&t), cfg_free(&u);
    /* Refusals name the key. */
    char *bad1[] = {"oiqa-train", "--set", "model.hiden=3", NULL};
    CHECK(parse_args(3, bad1, &t) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "model.hiden"));
    char *bad2[] = {"oiqa-train", "--set", "optimizer.type=adagrad", NULL};
    CHECK(parse_args(3, bad2, &t) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "optimizer.type"));
    char *bad3[] = {"oiqa-train", "--set", "method=nosuch", NULL};
    CHECK(parse_args(3, bad3, &t) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "unknown method 'nosuch'"));
    char *bad4[] = {"oiqa-train", "--set", "model.loss_weights=[1, 2]", NULL};
    CHECK(parse_args(3, bad4, &t) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "loss_weights"));
    /* A config written before the method key (an older model.h5's) reads as MTFI's. */
    CHECK(oiqa_train_config_parse(oiqa_method_find("mtfi"), "model: {hidden: 8}\nepochs: 3\n", "old", &u.c, &u.cli) == 0);
    CHECK(u.c.m == oiqa_method_find("mtfi") && ((const oiqa_mtfi_opts *)&u.c.model)->hidden == 8 && u.c.epochs == 3);
    cfg_free(&u);
}

static void t_refusals(void)
{
    test_cfg t;
    base_config(&t, 2);
    oiqa_train_config c = t.c;
    oiqa_train_result r;
    /* A label without features. */
    write_tables(check_tmp("labels_x.csv"), check_tmp("splits_x.csv"), "c99/ghost.png", 0);
    snprintf(t.labels, sizeof t.labels, "%s", check_tmp("labels_x.csv"));
    snprintf(t.splits, sizeof t.splits, "%s", check_tmp("splits_x.csv"));
    c.labels = t.labels, c.splits = t.splits;
    CHECK(train_into(&c, check_tmp("bad"), 0, 0, &r) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "no row for 'c99/ghost.png'") != NULL, "%s", oiqa_errmsg());
    /* A leaking split. */
    write_tables(check_tmp("labels_x.csv"), check_tmp("splits_x.csv"), NULL, 1);
    CHECK(train_into(&c, check_tmp("bad"), 0, 0, &r) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "content-disjoint") != NULL, "%s", oiqa_errmsg());
    /* NaN features. */
    write_tables(check_tmp("labels_x.csv"), check_tmp("splits_x.csv"), NULL, 0);
    CHECK(write_features(check_tmp("nan.h5"), NULL, "resnet50", 7) == 0);
    snprintf(t.local, sizeof t.local, "%s", check_tmp("nan.h5"));
    c.features[0] = t.local;
    CHECK(train_into(&c, check_tmp("bad"), 0, 0, &r) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "row 7 ('c01/img2.png'): NaN in /restored/layer2/std") != NULL, "%s", oiqa_errmsg());
    /* Scoring features of another backbone. */
    if (g_trained) {
        CHECK(write_features(check_tmp("other.h5"), NULL, "resnet101", -1) == 0);
        char other[512], global[512];
        snprintf(other, sizeof other, "%s", check_tmp("other.h5"));
        snprintf(global, sizeof global, "%s", check_tmp("vm.h5"));
        oiqa_score_input in[2] = {{NULL, other, "--features"}, {"global", global, "--global"}};
        oiqa_score_opts so = {.model = check_tmp("run/model.h5"), .inputs = in, .n_inputs = 2,
                              .out = check_tmp("pred2.csv"), .force = 1};
        CHECK(oiqa_score_run(&so) == OIQA_EXIT_DATA);
        CHECK_MSG(strstr(oiqa_errmsg(), "backbone 'resnet101' differs from the training features' 'resnet50'") != NULL,
                  "%s", oiqa_errmsg());
        snprintf(other, sizeof other, "%s", check_tmp("r50.h5"));
        in[1].path = NULL;
        CHECK(oiqa_score_run(&so) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "--global"));
    }
    cfg_free(&t);
}

/* `test_train --write-fixtures DIR`: the synthetic files for
 * tests/e2e/test_train.sh (r50.h5, vm.h5, other.h5 of another backbone,
 * labels.csv, splits.csv). */
static int write_fixtures(const char *dir)
{
    snprintf(check_tmp_dir, sizeof check_tmp_dir, "%s", dir);
    int rc = write_features(check_tmp("r50.h5"), check_tmp("vm.h5"), "resnet50", -1);
    if (!rc) rc = write_features(check_tmp("other.h5"), NULL, "resnet101", -1);
    if (rc) fprintf(stderr, "test_train: %s\n", oiqa_errmsg());
    else write_tables(check_tmp("labels.csv"), check_tmp("splits.csv"), NULL, 0);
    return rc ? 1 : 0;
}

int main(int argc, char **argv)
{
    oiqa_log_set_level(OIQA_LOG_WARN);
    if (argc == 3 && !strcmp(argv[1], "--write-fixtures")) return write_fixtures(argv[2]);
    check_tmp_init();
    if (write_features(check_tmp("r50.h5"), check_tmp("vm.h5"), "resnet50", -1)) {
        printf("FAIL setup: %s\n", oiqa_errmsg());
        return 1;
    }
    write_tables(check_tmp("labels.csv"), check_tmp("splits.csv"), NULL, 0);
    RUN(t_config_roundtrip);
    RUN(t_learns);
    RUN(t_score_test_part);
    RUN(t_model_layout);
    RUN(t_deterministic_and_resume);
    RUN(t_mid_epoch_resume);
    RUN(t_freeze_and_groups);
    RUN(t_schedule_in_epochs);
    RUN(t_refusals);
    check_tmp_cleanup();
    return check_done();
}
