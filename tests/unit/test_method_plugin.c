/* methods/method.h as a plug-in interface: a method that lives only in this
 * file — a linear probe on the global features with an L1 loss — is added
 * with one registry row (oiqa_method_register) and then trained, resumed
 * and scored by the unchanged engine (train/, score/), config keys and all.
 * The synthetic problem: 40 images, a global file of two blocks (3 + 5
 * channels, mean || std: G = 16) whose features are a random linear map of
 * the MOS plus noise; 6 / 2 / 2 groups of 4 images train / val / test.
 * Checks: the row is accepted (and bad rows refused), the probe learns
 * (test SRCC >= 0.9), log.csv has the probe's loss column, model.h5 names
 * the method and its parameters, --resume gives the weights of an
 * uninterrupted run, scoring refuses a missing input and writes the
 * probe's extra column, and the method's keys are refused where unknown. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "base/strutil.h"
#include "io/ckpt.h"
#include "io/csv.h"
#include "io/h5store.h"
#include "iqa/metrics.h"
#include "methods/registry.h"
#include "nn/ag_layers.h"
#include "score/score.h"
#include "train/train_loop.h"
#include "check.h"
#include "test_features.h"

/* ---- the method: everything a plug-in writes --------------------------- */

typedef struct {
    double l1_weight;
    int bias;
} probe_opts;

static const oiqa_opt PROBE_OPTS[] = {
    {"l1_weight", 0, OIQA_OPT_DOUBLE, offsetof(probe_opts, l1_weight), "1", "W", "weight of the L1 loss", 0, 100, NULL,
     0},
    {"bias", 0, OIQA_OPT_FLAG, offsetof(probe_opts, bias), "true", NULL, "a bias term", 0, 0, NULL, 0},
    {0},
};
static const oiqa_method_input PROBE_INPUTS[] = {
    {"global", "global", OIQA_LAYOUT_IMAGE_CONCAT, {"global"}, "the global features", NULL, NULL, NULL},
};
static const oiqa_method_output PROBE_OUTPUTS[] = {{"quality", OIQA_OUT_SCORE}};
static const char *const PROBE_PARTS[] = {"l1"};

typedef struct {
    oiqa_linear_layer fc;
    float w;
} probe;

static void probe_select(const void *opts, oiqa_method_select *sel)
{
    (void)opts;
    memset(sel, 0, sizeof *sel);
    sel->use[0] = 1;
}

static int probe_build(const void *opts, const oiqa_method_shape *s, oiqa_rng *rng, void **model)
{
    const probe_opts *o = opts;
    probe *p = oiqa_xcalloc(1, sizeof *p);
    p->w = (float)o->l1_weight;
    int rc = oiqa_linear_layer_init(&p->fc, "probe", s->dim[0][0], 1, o->bias, rng);
    if (rc) free(p), p = NULL;
    *model = p;
    return rc;
}

static int probe_params(void *model, oiqa_param **out, int max)
{
    oiqa_param *all[2];
    int n = oiqa_linear_layer_params(&((probe *)model)->fc, all);
    if (n > max) return -1;
    memcpy(out, all, (size_t)n * sizeof *out);
    return n;
}

static int probe_forward(void *model, oiqa_ag *ag, const oiqa_method_batch *in, oiqa_rng *rng, oiqa_agv *out)
{
    (void)rng;
    out[0] = oiqa_linear_layer_apply(ag, &((probe *)model)->fc, in->x[0][0][0]);
    return out[0] < 0 ? OIQA_EXIT_DATA : OIQA_OK;
}

static oiqa_agv probe_loss(void *model, oiqa_ag *ag, const oiqa_agv *out, oiqa_agv target, const int *level,
                           const int *type)
{
    (void)level, (void)type;
    return oiqa_ag_scale(ag, oiqa_ag_l1(ag, out[0], target), ((probe *)model)->w);
}

static void probe_log_parts(const void *model, const oiqa_method_pred *p, const oiqa_method_targets *t, double *sum,
                            long *count)
{
    (void)model;
    for (int b = 0; b < p->n; b++) sum[0] += fabs(p->v[0][b] - t->score[b]), count[0]++;
}

static double probe_log_total(const void *model, const double *part) { return ((const probe *)model)->w * part[0]; }

/* An extra column: the prediction on the normalised scale. */
static void probe_csv_header(const void *model, const oiqa_train_classes *c, FILE *f)
{
    (void)model, (void)c;
    fputs(",z", f);
}

static void probe_csv_row(const void *model, const oiqa_train_classes *c, const oiqa_method_pred *p, int i, FILE *f)
{
    (void)model, (void)c;
    fprintf(f, ",%.6f", p->v[0][i]);
}

static void probe_free(void *model)
{
    if (!model) return;
    oiqa_linear_layer_free(&((probe *)model)->fc);
    free(model);
}

static const oiqa_method PROBE = {
    .name = "probe", .summary = "a linear probe on the global features (test only)",
    .opts = PROBE_OPTS, .opts_size = sizeof(probe_opts),
    .n_inputs = 1, .inputs = PROBE_INPUTS, .n_outputs = 1, .outputs = PROBE_OUTPUTS,
    .n_parts = 1, .loss_parts = PROBE_PARTS,
    .select = probe_select, .build = probe_build, .params = probe_params, .forward = probe_forward,
    .loss = probe_loss, .log_parts = probe_log_parts, .log_total = probe_log_total,
    .csv_header = probe_csv_header, .csv_row = probe_csv_row, .free = probe_free,
};

/* The same probe on one dataset as it is (the vectors layout, how a method
 * reads a token backbone's embedding or class token): /global/stage1/mean. */
static const oiqa_method_input VEC_INPUTS[] = {
    {"global", "global", OIQA_LAYOUT_VECTORS, {"global"}, "one global dataset", NULL, NULL, NULL},
};

static void vec_select(const void *opts, oiqa_method_select *sel)
{
    (void)opts;
    memset(sel, 0, sizeof *sel);
    sel->use[0] = 1, sel->n_blocks[0] = 1, sel->blocks[0][0] = "stage1/mean";
}

static const oiqa_method PROBE_VEC = {
    .name = "probe_vec", .summary = "a linear probe on one global dataset (test only)",
    .opts = PROBE_OPTS, .opts_size = sizeof(probe_opts),
    .n_inputs = 1, .inputs = VEC_INPUTS, .n_outputs = 1, .outputs = PROBE_OUTPUTS,
    .n_parts = 1, .loss_parts = PROBE_PARTS,
    .select = vec_select, .build = probe_build, .params = probe_params, .forward = probe_forward,
    .loss = probe_loss, .log_parts = probe_log_parts, .log_total = probe_log_total, .free = probe_free,
};

/* ---- the synthetic problem ------------------------------------------------- */

enum { N = 40, GROUP = 4, C0 = 3, C1 = 5 };
static double g_mos[N];

static void name_of(int i, char *buf, size_t n) { snprintf(buf, n, "g%02d/img%d.png", i / GROUP, i % GROUP); }

/* The global features: the MOS along a fixed direction, plus noise. */
typedef struct {
    oiqa_rng *r;
    const float *dir;
} problem_ctx;

static void problem_row(int i, float *const *v, void *ctx)
{
    const problem_ctx *p = ctx;
    const int C[2] = {C0, C1};
    int off = 0;
    for (int b = 0; b < 2; b++)
        for (int q = 0; q < 2; q++)
            for (int k = 0; k < C[b]; k++, off++)
                v[2 * b + q][k] = (float)((g_mos[i] - 50) / 20 * p->dir[off] + 0.05 * oiqa_rng_normal(p->r));
}

static int write_problem(void)
{
    oiqa_rng r;
    oiqa_rng_seed(&r, 11);
    float dir[2 * (C0 + C1)];
    for (int k = 0; k < 2 * (C0 + C1); k++) dir[k] = (float)oiqa_rng_normal(&r);
    for (int i = 0; i < N; i++) g_mos[i] = 20 + 60 * oiqa_rng_uniform(&r);
    FILE *f = fopen(check_tmp("labels.csv"), "w"), *g = fopen(check_tmp("splits.csv"), "w");
    if (!f || !g) return OIQA_EXIT_DATA;
    fprintf(f, "name,mos,ref,dist_type,dist_level\n");
    fprintf(g, "name,s0\n");
    for (int i = 0; i < N; i++) {
        char name[32];
        name_of(i, name, sizeof name);
        int grp = i / GROUP;
        fprintf(f, "%s,%.4f,g%02d,jpeg,%d\n", name, g_mos[i], grp, i % 2 + 1);
        fprintf(g, "%s,%s\n", name, grp >= 8 ? "test" : grp >= 6 ? "val" : "train");
    }
    fclose(f), fclose(g);
    oiqa_provenance prov = {.stage = "global", .tool = "test_method_plugin", .command = "test", .config = "x: 1\n"};
    problem_ctx ctx = {&r, dir};
    const int C[2] = {C0, C1};
    return test_write_global(check_tmp("global.h5"), &prov, N, C, name_of, problem_row, &ctx);
}

typedef struct {
    oiqa_train_config c;
    oiqa_cli cli;
} probe_cfg;

static int method_config(const oiqa_method *m, probe_cfg *t, const char *extra, long epochs)
{
    char *text = oiqa_asprintf("method: %s\nmodel: {l1_weight: 1%s}\nfeatures: {global: '%s'}\nlabels: '%s'\n"
                               "splits: '%s'\noptimizer: {type: adamw, lr: 0.05, weight_decay: 0}\nepochs: %ld\n"
                               "batch_size: 8\nseed: 5\n",
                               m->name, extra, check_tmp("global.h5"), check_tmp("labels.csv"), check_tmp("splits.csv"),
                               epochs);
    int rc = oiqa_train_config_parse(m, text, "probe.yaml", &t->c, &t->cli);
    free(text);
    return rc;
}

static int probe_config(probe_cfg *t, const char *extra, long epochs) { return method_config(&PROBE, t, extra, epochs); }

static int train_into(const oiqa_train_config *c, const char *dir, int resume, long stop, oiqa_train_result *res)
{
    oiqa_train_opts o = {.out_dir = dir, .resume = resume, .force = !resume, .command = "test", .stop_after = stop};
    return oiqa_train_run(c, &o, res);
}

static int same_tensor(const char *a, const char *b, const char *name)
{
    oiqa_ckpt *x, *y;
    if (oiqa_ckpt_open(a, &x)) return 0;
    if (oiqa_ckpt_open(b, &y)) return oiqa_ckpt_close(x), 0;
    const oiqa_ck_tensor *t = oiqa_ckpt_find(x, name), *u = oiqa_ckpt_find(y, name);
    int same = t && u && t->numel == u->numel;
    if (same) {
        float *p = malloc((size_t)t->numel * 4), *q = malloc((size_t)t->numel * 4);
        oiqa_ckpt_read_f32(x, t, p), oiqa_ckpt_read_f32(y, u, q);
        same = !memcmp(p, q, (size_t)t->numel * 4);
        free(p), free(q);
    }
    oiqa_ckpt_close(x), oiqa_ckpt_close(y);
    return same;
}

/* ---- tests ------------------------------------------------------------------ */

static void t_register(void)
{
    CHECK_MSG(oiqa_method_register(&PROBE) == 0, "%s", oiqa_errmsg());
    CHECK(oiqa_method_find("probe") == &PROBE && oiqa_method_find("mtfi") != NULL);
    CHECK(strstr(oiqa_method_names(), "mtfi, resnet_ft, probe") != NULL);
    CHECK(oiqa_method_register(&PROBE) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "registered twice"));
    oiqa_method broken = PROBE;
    broken.name = "broken", broken.loss = NULL;
    CHECK(oiqa_method_register(&broken) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "hook is missing"));
}

static int g_trained;

static void t_train_and_score(void)
{
    probe_cfg t;
    CHECK_MSG(probe_config(&t, "", 60) == 0, "%s", oiqa_errmsg());
    CHECK(t.c.m == &PROBE);
    oiqa_train_result res;
    int rc = train_into(&t.c, check_tmp("run"), 0, 0, &res);
    CHECK_MSG(rc == 0, "train: %s", oiqa_errmsg());
    g_trained = !rc;
    CHECK(res.n_train == 24 && res.n_val == 8 && res.best_srcc >= 0.9);
    printf("  probe: best epoch %ld, val SRCC %.4f\n", res.best_epoch, res.best_srcc);
    FILE *f = fopen(check_tmp("run/log.csv"), "r");
    char head[256] = "";
    if (f && fgets(head, sizeof head, f)) {}
    if (f) fclose(f);
    CHECK_STR(head, "epoch,lr,train_loss,train_l1,val_loss,val_plcc,val_srcc,seconds\n");
    oiqa_ckpt *ck;
    CHECK(oiqa_ckpt_open(check_tmp("run/model.h5"), &ck) == 0);
    if (ck) {
        CHECK(oiqa_ckpt_find(ck, "probe.weight") && oiqa_ckpt_find(ck, "probe.weight")->numel == 2 * (C0 + C1));
        CHECK(oiqa_ckpt_find(ck, "norm.global.mean") && oiqa_ckpt_find(ck, "norm.target"));
        oiqa_ckpt_close(ck);
    }
    oiqa_train_model tm;
    CHECK(oiqa_train_load(check_tmp("run/model.h5"), &tm) == 0);
    if (tm.m) {
        CHECK(tm.m == &PROBE && tm.shape.dim[0][0] == 2 * (C0 + C1));
        CHECK(strncmp(tm.config_yaml, "method: probe\nmodel:\n  l1_weight: 1\n  bias: true\n", 49) == 0);
        oiqa_train_model_free(&tm);
    }
    /* Scoring: the method's input by role, its extra column. */
    char path[512];
    snprintf(path, sizeof path, "%s", check_tmp("global.h5"));
    oiqa_score_input none[1] = {{"global", NULL, "--global"}};
    oiqa_score_opts so = {.model = check_tmp("run/model.h5"), .inputs = none, .n_inputs = 1,
                          .out = check_tmp("pred.csv"), .force = 1};
    CHECK(oiqa_score_run(&so) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "uses global features: give --global"));
    oiqa_score_input in[1] = {{"global", path, "--global"}};
    so.inputs = in;
    rc = oiqa_score_run(&so);
    CHECK_MSG(rc == 0, "score: %s", oiqa_errmsg());
    oiqa_csv *p = NULL;
    if (!rc && !oiqa_csv_read(check_tmp("pred.csv"), ',', 1, &p)) {
        CHECK(p->n_rows == N && p->n_cols == 3);
        CHECK_STR(p->header[2], "z");
        double x[8], y[8];
        for (int i = 32; i < N; i++) oiqa_csv_double(p, i, 1, &x[i - 32]), y[i - 32] = g_mos[i];
        double srcc = oiqa_spearman(x, y, 8);
        printf("  probe: test SRCC %.4f\n", srcc);
        CHECK(srcc >= 0.9);
        oiqa_csv_free(p);
    }
    oiqa_cli_free(&t.cli);
}

static void t_resume(void)
{
    probe_cfg t;
    CHECK(probe_config(&t, ", bias: false", 8) == 0);
    oiqa_train_result r;
    CHECK_MSG(train_into(&t.c, check_tmp("full"), 0, 0, &r) == 0, "%s", oiqa_errmsg());
    CHECK(train_into(&t.c, check_tmp("part"), 0, 3, &r) == 0 && r.epochs_run == 3);
    CHECK(train_into(&t.c, check_tmp("part"), 1, 0, &r) == 0 && r.epochs_run == 5);
    CHECK(same_tensor(check_tmp("full/last.h5"), check_tmp("part/last.h5"), "probe.weight"));
    CHECK(same_tensor(check_tmp("full/last.h5"), check_tmp("part/last.h5"), "optim.m.probe.weight"));
    oiqa_cli_free(&t.cli);
    /* MTFI's keys are not the probe's. */
    CHECK(probe_config(&t, ", hidden: 3", 8) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "model.hidden"));
}

/* A vectors input through the engine: trained on the one dataset, its norm
 * tensors named with '.', scored from the file. */
static void t_vectors_train_and_score(void)
{
    CHECK_MSG(oiqa_method_register(&PROBE_VEC) == 0, "%s", oiqa_errmsg());
    probe_cfg t;
    CHECK_MSG(method_config(&PROBE_VEC, &t, "", 60) == 0, "%s", oiqa_errmsg());
    oiqa_train_result res;
    int rc = train_into(&t.c, check_tmp("vec"), 0, 0, &res);
    CHECK_MSG(rc == 0 && res.best_srcc >= 0.8, "train: %s (SRCC %g)", oiqa_errmsg(), res.best_srcc);
    oiqa_ckpt *ck;
    CHECK(oiqa_ckpt_open(check_tmp("vec/model.h5"), &ck) == 0);
    if (ck) {
        CHECK(oiqa_ckpt_find(ck, "probe.weight") && oiqa_ckpt_find(ck, "probe.weight")->numel == C1);
        CHECK(oiqa_ckpt_find(ck, "norm.stage1.mean.mean") && oiqa_ckpt_find(ck, "norm.stage1.mean.std"));
        oiqa_ckpt_close(ck);
    }
    char path[512];
    snprintf(path, sizeof path, "%s", check_tmp("global.h5"));
    oiqa_score_input in[1] = {{"global", path, "--global"}};
    oiqa_score_opts so = {.model = check_tmp("vec/model.h5"), .inputs = in, .n_inputs = 1,
                          .out = check_tmp("vec_pred.csv"), .force = 1};
    rc = oiqa_score_run(&so);
    CHECK_MSG(rc == 0, "score: %s", oiqa_errmsg());
    oiqa_csv *p = NULL;
    if (!rc && !oiqa_csv_read(check_tmp("vec_pred.csv"), ',', 1, &p)) {
        double x[8], y[8];
        for (int i = 32; i < N; i++) oiqa_csv_double(p, i, 1, &x[i - 32]), y[i - 32] = g_mos[i];
        CHECK(p->n_rows == N && oiqa_spearman(x, y, 8) >= 0.8);
        oiqa_csv_free(p);
    }
    oiqa_cli_free(&t.cli);
}

int main(void)
{
    oiqa_log_set_level(OIQA_LOG_WARN);
    check_tmp_init();
    if (write_problem()) {
        printf("FAIL setup: %s\n", oiqa_errmsg());
        return 1;
    }
    RUN(t_register);
    RUN(t_train_and_score);
    RUN(t_resume);
    RUN(t_vectors_train_and_score);
    check_tmp_cleanup();
    return check_done();
}
