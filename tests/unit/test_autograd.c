/* nn/ag.h: every op's backward against central finite differences, on
 * awkward shapes; forward values against direct formulas where they are not
 * obvious; the error paths. */
#include <math.h>

#include "base/error.h"
#include "base/rng.h"
#include "nn/ag.h"
#include "nn/optim.h"
#include "check.h"
#include "ag_check.h"

typedef struct {
    int ndim;
    int shape[OIQA_AG_MAX_DIMS];
} shape_spec;

static oiqa_rng rng;

/* Makes parameters of the given shapes with N(0, scale^2) values and runs
 * the finite-difference check on them. */
static double grad_check(const char *what, ag_build_fn build, const shape_spec *shapes, int np, double scale)
{
    oiqa_param ps[AG_CHECK_MAX_PARAMS], *pp[AG_CHECK_MAX_PARAMS];
    for (int i = 0; i < np; i++) {
        oiqa_param_init(&ps[i], what, shapes[i].ndim, shapes[i].shape);
        for (size_t k = 0; k < ps[i].numel; k++) ps[i].w[k] = (float)(scale * oiqa_rng_normal(&rng));
        pp[i] = &ps[i];
    }
    double worst = ag_grad_check(what, build, pp, np);
    for (int i = 0; i < np; i++) oiqa_param_free(&ps[i]);
    return worst;
}


static oiqa_agv b_add(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_add(ag, p[0], p[1])); }
static oiqa_agv b_sub(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_sub(ag, p[0], p[1])); }
static oiqa_agv b_mul(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_mul(ag, p[0], p[1])); }
static oiqa_agv b_scale(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_scale(ag, p[0], -2.5f)); }
static oiqa_agv b_relu(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_relu(ag, p[0])); }
static oiqa_agv b_gelu(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_gelu(ag, p[0])); }
static oiqa_agv b_sigmoid(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_sigmoid(ag, p[0])); }
static oiqa_agv b_tanh(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_tanh(ag, p[0])); }
static oiqa_agv b_concat(oiqa_ag *ag, oiqa_agv *p)
{
    oiqa_agv parts[3] = {p[0], p[1], p[0]};
    return ag_scalarize(ag, oiqa_ag_concat(ag, parts, 3));
}
static oiqa_agv b_slice(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_slice(ag, p[0], 2, 3)); }
static oiqa_agv b_reshape_transpose(oiqa_ag *ag, oiqa_agv *p)
{
    int shape[3] = {2, 3, 5};
    return ag_scalarize(ag, oiqa_ag_transpose(ag, oiqa_ag_reshape(ag, p[0], 3, shape)));
}
static oiqa_agv b_matmul(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_matmul(ag, p[0], p[1])); }
static oiqa_agv b_linear(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_linear(ag, p[0], p[1], p[2])); }
static oiqa_agv b_softmax(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_softmax(ag, p[0])); }
static oiqa_agv b_layernorm(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_layernorm(ag, p[0], p[1], p[2], 1e-5f));
}
static oiqa_agv b_mean_axis(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_mean_axis(ag, p[0], 1)); }
static oiqa_agv b_std_axis(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_std_axis(ag, p[0], 1, 1)); }
static oiqa_agv b_std_pop(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_std_axis(ag, p[0], 0, 0)); }

static const float TARGET[12] = {0.3f, -1.2f, 2.0f, 0.1f, 0.7f, -0.4f, 1.5f, -2.2f, 0.05f, 0.9f, -0.6f, 1.1f};
static oiqa_agv target_of(oiqa_ag *ag, oiqa_agv like)
{
    return oiqa_ag_input(ag, TARGET, oiqa_ag_ndim(ag, like), oiqa_ag_shape(ag, like));
}
static oiqa_agv b_mse(oiqa_ag *ag, oiqa_agv *p) { return oiqa_ag_mse(ag, p[0], target_of(ag, p[0])); }
static oiqa_agv b_l1(oiqa_ag *ag, oiqa_agv *p) { return oiqa_ag_l1(ag, p[0], target_of(ag, p[0])); }
static oiqa_agv b_smooth_l1(oiqa_ag *ag, oiqa_agv *p) { return oiqa_ag_smooth_l1(ag, p[0], target_of(ag, p[0]), 0.5f); }
static oiqa_agv b_ce(oiqa_ag *ag, oiqa_agv *p)
{
    static const int labels[3] = {2, 0, 3};
    return oiqa_ag_cross_entropy(ag, p[0], labels);
}
static oiqa_agv b_plcc(oiqa_ag *ag, oiqa_agv *p) { return oiqa_ag_plcc_loss(ag, p[0], target_of(ag, p[0])); }
/* A small two-layer network with every kind of op in one graph. */
static oiqa_agv b_mlp(oiqa_ag *ag, oiqa_agv *p)
{
    int xs[2] = {4, 3};
    static const float x[12] = {1, 2, -1, 0.5f, -0.3f, 0.8f, 0, 1, 1, -2, 0.2f, 0.4f};
    oiqa_agv h = oiqa_ag_gelu(ag, oiqa_ag_linear(ag, oiqa_ag_input(ag, x, 2, xs), p[0], p[1]));
    oiqa_agv y = oiqa_ag_matmul(ag, h, p[2]);
    int ys[1] = {4};
    return oiqa_ag_mse(ag, oiqa_ag_reshape(ag, y, 1, ys), oiqa_ag_input(ag, TARGET, 1, ys));
}

static void t_gradients(void)
{
    const struct {
        const char *name;
        ag_build_fn fn;
        int np;
        shape_spec s[AG_CHECK_MAX_PARAMS];
        double scale;
    } cases[] = {
        {"add", b_add, 2, {{2, {3, 5}}, {2, {3, 5}}}, 1},
        {"add bias", b_add, 2, {{3, {2, 3, 5}}, {1, {5}}}, 1},
        {"add scalar", b_add, 2, {{2, {3, 5}}, {1, {1}}}, 1},
        {"sub bias", b_sub, 2, {{2, {4, 3}}, {1, {3}}}, 1},
        {"mul bias", b_mul, 2, {{3, {2, 1, 7}}, {1, {7}}}, 1},
        {"scale", b_scale, 1, {{1, {6}}}, 1},
        {"relu", b_relu, 1, {{2, {5, 3}}}, 1},
        {"gelu", b_gelu, 1, {{2, {5, 3}}}, 1.5},
        {"sigmoid", b_sigmoid, 1, {{2, {5, 3}}}, 2},
        {"tanh", b_tanh, 1, {{2, {5, 3}}}, 1},
        {"concat", b_concat, 2, {{2, {3, 2}}, {2, {3, 5}}}, 1},
        {"slice", b_slice, 1, {{3, {2, 2, 7}}}, 1},
        {"transpose", b_reshape_transpose, 1, {{2, {6, 5}}}, 1},
        {"matmul", b_matmul, 2, {{2, {3, 4}}, {2, {4, 5}}}, 1},
        {"matmul shared", b_matmul, 2, {{3, {2, 3, 4}}, {2, {4, 1}}}, 1},
        {"matmul batch", b_matmul, 2, {{3, {2, 3, 4}}, {3, {2, 4, 5}}}, 1},
        {"linear", b_linear, 3, {{3, {2, 3, 5}}, {2, {7, 5}}, {1, {7}}}, 1},
        {"softmax", b_softmax, 1, {{2, {3, 6}}}, 2},
        {"layernorm", b_layernorm, 3, {{2, {4, 9}}, {1, {9}}, {1, {9}}}, 1},
        {"mean axis", b_mean_axis, 1, {{3, {2, 5, 3}}}, 1},
        {"std axis", b_std_axis, 1, {{3, {2, 5, 3}}}, 1},
        {"std pop", b_std_pop, 1, {{2, {4, 3}}}, 1},
        {"mse", b_mse, 1, {{2, {3, 4}}}, 1},
        {"l1", b_l1, 1, {{2, {3, 4}}}, 1},
        {"smooth_l1", b_smooth_l1, 1, {{2, {3, 4}}}, 1},
        {"cross_entropy", b_ce, 1, {{2, {3, 5}}}, 1.5},
        {"plcc", b_plcc, 1, {{1, {12}}}, 1},
        {"mlp", b_mlp, 3, {{2, {6, 3}}, {1, {6}}, {2, {6, 1}}}, 0.7},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double err = grad_check(cases[c].name, cases[c].fn, cases[c].s, cases[c].np, cases[c].scale);
        CHECK_MSG(err < AG_GRAD_TOL, "%s: relative gradient error %.3g", cases[c].name, err);
    }
}

static void t_forward_values(void)
{
    oiqa_ag *ag = oiqa_ag_new();
    int s23[2] = {2, 3};
    const float x[6] = {1, 2, 3, -1, 0, 1};
    oiqa_agv v = oiqa_ag_input(ag, x, 2, s23);
    const float *sm = oiqa_ag_data(ag, oiqa_ag_softmax(ag, v));
    double e = exp(1) + exp(2) + exp(3);
    CHECK_NEAR(sm[0], exp(1) / e, 1e-6);
    CHECK_NEAR(sm[5], exp(1) / (exp(-1) + 1 + exp(1)), 1e-6);
    const float *ln = oiqa_ag_data(ag, oiqa_ag_layernorm(ag, v, -1, -1, 0));
    CHECK_NEAR(ln[0], -sqrt(1.5), 1e-5);
    const float *sd = oiqa_ag_data(ag, oiqa_ag_std_axis(ag, v, 1, 1));
    CHECK_NEAR(sd[0], 1.0, 1e-6);
    const int labels[2] = {2, 0};
    const float *ce = oiqa_ag_data(ag, oiqa_ag_cross_entropy(ag, v, labels));
    CHECK_NEAR(ce[0], 0.5 * ((log(e) - 3) + (log(exp(-1) + 1 + exp(1)) + 1)), 1e-5);
    /* Perfect correlation gives a zero loss; anti-correlation 1. */
    int s6[1] = {6};
    const float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {3, 5, 7, 9, 11, 13}, c[6] = {6, 5, 4, 3, 2, 1};
    oiqa_agv va = oiqa_ag_input(ag, a, 1, s6);
    CHECK_NEAR(oiqa_ag_data(ag, oiqa_ag_plcc_loss(ag, va, oiqa_ag_input(ag, b, 1, s6)))[0], 0, 1e-6);
    CHECK_NEAR(oiqa_ag_data(ag, oiqa_ag_plcc_loss(ag, va, oiqa_ag_input(ag, c, 1, s6)))[0], 1, 1e-6);
    CHECK_NEAR(oiqa_ag_data(ag, oiqa_ag_smooth_l1(ag, va, oiqa_ag_input(ag, b, 1, s6), 1.0f))[0],
               (1.5 + 2.5 + 3.5 + 4.5 + 5.5 + 6.5) / 6, 1e-6);
    oiqa_ag_free(ag);
}

static void t_dropout(void)
{
    oiqa_ag *ag = oiqa_ag_new();
    int s[1] = {10000};
    float *ones = malloc(10000 * sizeof(float));
    for (int i = 0; i < 10000; i++) ones[i] = 1;
    oiqa_agv v = oiqa_ag_input(ag, ones, 1, s);
    oiqa_rng r;
    oiqa_rng_seed(&r, 5);
    const float *d = oiqa_ag_data(ag, oiqa_ag_dropout(ag, v, 0.25f, &r));
    int zeros = 0;
    double sum = 0;
    for (int i = 0; i < 10000; i++) zeros += d[i] == 0, sum += d[i];
    CHECK(zeros > 2300 && zeros < 2700);
    CHECK_NEAR(sum / 10000, 1.0, 0.03);
    oiqa_ag_set_training(ag, 0);
    CHECK(oiqa_ag_dropout(ag, v, 0.25f, &r) == v);
    free(ones);
    oiqa_ag_free(ag);
}

static void t_errors(void)
{
    oiqa_ag *ag = oiqa_ag_new();
    int s23[2] = {2, 3}, s4[1] = {4}, s32[2] = {3, 2};
    oiqa_agv a = oiqa_ag_input(ag, NULL, 2, s23), b = oiqa_ag_input(ag, NULL, 1, s4);
    CHECK(oiqa_ag_add(ag, a, b) == -1 && strstr(oiqa_errmsg(), "broadcast"));
    CHECK(oiqa_ag_matmul(ag, a, a) == -1 && strstr(oiqa_errmsg(), "inner"));
    CHECK(oiqa_ag_matmul(ag, a, oiqa_ag_input(ag, NULL, 2, s32)) >= 0);
    CHECK(oiqa_ag_slice(ag, a, 2, 2) == -1);
    CHECK(oiqa_ag_reshape(ag, a, 1, s4) == -1);
    /* -1 propagates through ops to backward, which names the failure. */
    oiqa_agv bad = oiqa_ag_relu(ag, oiqa_ag_add(ag, a, b));
    CHECK(bad == -1 && oiqa_ag_backward(ag, oiqa_ag_mse(ag, bad, a)) == OIQA_EXIT_DATA);
    CHECK(oiqa_ag_backward(ag, a) == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "6 elements"));
    const int labels[2] = {0, 3};
    CHECK(oiqa_ag_cross_entropy(ag, a, labels) == -1);
    oiqa_ag_free(ag);
}

/* Update rules against hand-unrolled PyTorch formulas for three steps. */
static void t_optimizers(void)
{
    int s[1] = {2};
    oiqa_param p;
    oiqa_param_init(&p, "w", 1, s);
    oiqa_param *ps[1] = {&p};
    p.w[0] = 1.0f, p.w[1] = -2.0f;
    oiqa_optimizer sgd = {.kind = OIQA_OPT_SGD, .momentum = 0.9, .weight_decay = 0.1};
    double w = 1.0, buf = 0;
    for (int t = 1; t <= 3; t++) {
        p.g[0] = 0.5f, p.g[1] = 0.25f;
        oiqa_optimizer_step(&sgd, ps, 1, 0.1);
        double g = 0.5 + 0.1 * w;
        buf = t == 1 ? g : 0.9 * buf + g;
        w -= 0.1 * buf;
    }
    CHECK_NEAR(p.w[0], w, 1e-6);
    oiqa_param_free(&p);
    oiqa_param_init(&p, "w", 1, s);
    p.w[0] = 1.0f;
    oiqa_optimizer adam = {.kind = OIQA_OPT_ADAMW, .weight_decay = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    double m = 0, v = 0;
    w = 1.0;
    for (int t = 1; t <= 3; t++) {
        double g = 0.3 * t;
        p.g[0] = (float)g;
        oiqa_optimizer_step(&adam, ps, 1, 0.01);
        w -= 0.01 * 0.01 * w;
        m = 0.9 * m + 0.1 * g, v = 0.999 * v + 0.001 * g * g;
        w -= 0.01 * (m / (1 - pow(0.9, t))) / (sqrt(v / (1 - pow(0.999, t))) + 1e-8);
    }
    CHECK_NEAR(p.w[0], w, 1e-6);
    p.g[0] = 3, p.g[1] = 4;
    CHECK_NEAR(oiqa_clip_grad_norm(ps, 1, 1.0), 5.0, 1e-9);
    CHECK_NEAR(p.g[0], 0.6, 1e-5);
    CHECK_NEAR(p.g[1], 0.8, 1e-5);
    oiqa_param_free(&p);
    oiqa_schedule cos_s = {.kind = OIQA_SCHED_COSINE, .lr = 1.0, .min_lr = 0.0, .warmup = 2, .total = 12};
    CHECK_NEAR(oiqa_schedule_lr(&cos_s, 0), 0.5, 1e-12);
    CHECK_NEAR(oiqa_schedule_lr(&cos_s, 1), 1.0, 1e-12);
    CHECK_NEAR(oiqa_schedule_lr(&cos_s, 2), 1.0, 1e-12);
    CHECK_NEAR(oiqa_schedule_lr(&cos_s, 7), 0.5, 1e-12);
    CHECK_NEAR(oiqa_schedule_lr(&cos_s, 12), 0.0, 1e-12);
    oiqa_schedule step_s = {.kind = OIQA_SCHED_STEP, .lr = 1.0, .step_size = 3, .gamma = 0.1};
    CHECK_NEAR(oiqa_schedule_lr(&step_s, 2), 1.0, 1e-12);
    CHECK_NEAR(oiqa_schedule_lr(&step_s, 3), 0.1, 1e-12);
    CHECK_NEAR(oiqa_schedule_lr(&step_s, 7), 0.01, 1e-12);
}

/* Parameter groups (one step, lr x scale), freezing by name prefix, and the
 * EMA of the weights against the formulas. */
static void t_groups_freeze_ema(void)
{
    int s[1] = {1};
    oiqa_param a, b, c;
    oiqa_param_init(&a, "layer1.0.w", 1, s), oiqa_param_init(&b, "layer10.w", 1, s);
    oiqa_param_init(&c, "mask.w", 1, s);
    a.w[0] = b.w[0] = c.w[0] = 1.0f;
    oiqa_param *all[3] = {&a, &b, &c}, *live[3];
    const char *frozen[1] = {"layer1"};
    int n = oiqa_params_unfrozen(all, 3, frozen, 1, live);
    CHECK(n == 2 && live[0] == &b && live[1] == &c); /* layer10 is not layer1 */
    oiqa_param *g1[1] = {&b}, *g2[1] = {&c};
    oiqa_param_group groups[2] = {{g1, 1, 1.0}, {g2, 1, 0.5}};
    oiqa_optimizer adam = {.kind = OIQA_OPT_ADAM, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    oiqa_ema ema;
    CHECK(oiqa_ema_init(&ema, live, 2, 0.99) == 0);
    double shadow = 1.0;
    for (int t = 1; t <= 3; t++) {
        b.g[0] = c.g[0] = 0.2f * (float)t;
        CHECK(oiqa_optimizer_step_groups(&adam, groups, 2, 0.01) == 0);
        oiqa_ema_update(&ema);
        shadow = 0.99 * shadow + 0.01 * c.w[0];
    }
    CHECK(adam.step == 3 && a.w[0] == 1.0f);
    /* Adam moves each weight by about lr per step: the half-rate group half as far */
    CHECK_NEAR(1.0 - b.w[0], 2 * (1.0 - c.w[0]), 1e-5);
    float w = c.w[0];
    oiqa_ema_swap(&ema);
    CHECK_NEAR(c.w[0], shadow, 1e-6);
    oiqa_ema_swap(&ema);
    CHECK(c.w[0] == w);
    oiqa_ema_free(&ema);
    oiqa_param_free(&a), oiqa_param_free(&b), oiqa_param_free(&c);
}

/* Training a small MLP with AdamW fits a smooth function: the loss falls by
 * a large factor (the training path end to end). */
static void t_training_converges(void)
{
    oiqa_param w1, b1, w2, b2;
    int s1[2] = {16, 2}, sb1[1] = {16}, s2[2] = {1, 16}, sb2[1] = {1};
    oiqa_param_init(&w1, "w1", 2, s1), oiqa_param_init(&b1, "b1", 1, sb1);
    oiqa_param_init(&w2, "w2", 2, s2), oiqa_param_init(&b2, "b2", 1, sb2);
    oiqa_rng r;
    oiqa_rng_seed(&r, 3);
    for (size_t k = 0; k < w1.numel; k++) w1.w[k] = (float)(0.7 * oiqa_rng_normal(&r));
    for (size_t k = 0; k < w2.numel; k++) w2.w[k] = (float)(0.25 * oiqa_rng_normal(&r));
    oiqa_param *ps[4] = {&w1, &b1, &w2, &b2};
    float x[64 * 2], y[64];
    for (int i = 0; i < 64; i++) {
        x[2 * i] = (float)(oiqa_rng_uniform(&r) * 4 - 2), x[2 * i + 1] = (float)(oiqa_rng_uniform(&r) * 4 - 2);
        y[i] = sinf(x[2 * i]) + 0.5f * x[2 * i + 1];
    }
    oiqa_optimizer opt = {.kind = OIQA_OPT_ADAMW, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
    oiqa_ag *ag = oiqa_ag_new();
    double first = 0, last = 0;
    for (int step = 0; step < 400; step++) {
        oiqa_ag_reset(ag);
        for (int i = 0; i < 4; i++) oiqa_param_zero_grad(ps[i]);
        int xs[2] = {64, 2}, ys[2] = {64, 1};
        oiqa_agv h = oiqa_ag_tanh(ag, oiqa_ag_linear(ag, oiqa_ag_input(ag, x, 2, xs), oiqa_ag_param(ag, &w1),
                                                     oiqa_ag_param(ag, &b1)));
        oiqa_agv out = oiqa_ag_linear(ag, h, oiqa_ag_param(ag, &w2), oiqa_ag_param(ag, &b2));
        oiqa_agv loss = oiqa_ag_mse(ag, out, oiqa_ag_input(ag, y, 2, ys));
        CHECK(oiqa_ag_backward(ag, loss) == OIQA_OK);
        double l = oiqa_ag_data(ag, loss)[0];
        if (step == 0) first = l;
        last = l;
        oiqa_optimizer_step(&opt, ps, 4, 0.02);
    }
    printf("  MLP on sin(x)+y/2: MSE %.4f -> %.4f after 400 AdamW steps\n", first, last);
    CHECK(last < first / 20);
    oiqa_ag_free(ag);
    for (int i = 0; i < 4; i++) oiqa_param_free(ps[i]);
}

/* An op whose new node makes the tape grow: it reads its input's shape
 * from the node array the growth moves (a use after free before the fix;
 * ASan's build of this test sees it), for every op kind at the boundary. */
static void t_tape_growth(void)
{
    oiqa_ag *ag = oiqa_ag_new();
    int s[3] = {2, 3, 5};
    float x[30] = {0};
    for (int k = 0; k < 30; k++) x[k] = (float)k - 10;
    oiqa_agv first = oiqa_ag_input(ag, x, 3, s);
    for (int i = 1; i < 255; i++) oiqa_ag_input(ag, x, 1, s);
    oiqa_agv y = oiqa_ag_relu(ag, first); /* node 255 */
    oiqa_agv z = oiqa_ag_scale(ag, y, 2.0f); /* node 256: the array moves */
    const int *zs = oiqa_ag_shape(ag, z);
    CHECK(z == 256 && oiqa_ag_ndim(ag, z) == 3 && zs[0] == 2 && zs[1] == 3 && zs[2] == 5);
    CHECK(oiqa_ag_data(ag, z)[29] == 38.0f && oiqa_ag_data(ag, z)[0] == 0.0f);
    oiqa_ag_free(ag);
}

int main(void)
{
    oiqa_rng_seed(&rng, 1);
    RUN(t_tape_growth);
    RUN(t_gradients);
    RUN(t_forward_values);
    RUN(t_dropout);
    RUN(t_errors);
    RUN(t_optimizers);
    RUN(t_groups_freeze_ema);
    RUN(t_training_converges);
    return check_done();
}
