/* The trainable ResNet (models/resnet_tape.h) and the tape's CNN ops
 * (nn/ag_cnn.c):
 *  - conv2d (strided, padded, grouped, depthwise, pointwise), batch norm
 *    (batch and running statistics) and max pooling against central finite
 *    differences on awkward shapes (odd sides, stride 2 on odd sizes,
 *    batch 1);
 *  - ResNet-18 (width 8, ../shared/fixtures/resnet18) in eval mode against
 *    torchvision's forward, and one training step against PyTorch's: the
 *    loss, the gradient of every parameter, the running statistics after the
 *    train-mode forward, the weights after one SGD and one Adam step. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "io/ckpt.h"
#include "models/resnet.h"
#include "models/resnet_tape.h"
#include "nn/ag.h"
#include "nn/optim.h"
#include "check.h"
#include "ag_check.h"
#include "fixture_h5.h"

static oiqa_rng rng;

/* ---- finite differences ------------------------------------------------- */

/* Parameters of the given shapes ({ndim, sizes...}) with N(0, 1) values,
 * or (spaced) a shuffle of values 0.05 apart, so that no finite-difference
 * step changes which element of a pooling window is the largest. */
static double fd_check_values(const char *what, ag_build_fn build, const int (*shapes)[5], int np, int spaced)
{
    oiqa_param ps[AG_CHECK_MAX_PARAMS], *pp[AG_CHECK_MAX_PARAMS];
    for (int i = 0; i < np; i++) {
        oiqa_param_init(&ps[i], what, shapes[i][0], shapes[i] + 1);
        for (size_t k = 0; k < ps[i].numel; k++) ps[i].w[k] = spaced ? 0.05f * (float)k : (float)oiqa_rng_normal(&rng);
        for (size_t k = ps[i].numel; spaced && k > 1; k--) { /* Fisher-Yates */
            size_t j = (size_t)(oiqa_rng_uniform(&rng) * (double)k) % k;
            float t = ps[i].w[k - 1];
            ps[i].w[k - 1] = ps[i].w[j], ps[i].w[j] = t;
        }
        pp[i] = &ps[i];
    }
    float step = ag_check_step;
    if (spaced) ag_check_step = 1e-3f; /* relative to max(1, |w|): below half the spacing */
    double worst = ag_grad_check(what, build, pp, np);
    ag_check_step = step;
    for (int i = 0; i < np; i++) oiqa_param_free(&ps[i]);
    return worst;
}

static double fd_check(const char *what, ag_build_fn build, const int (*shapes)[5], int np)
{
    return fd_check_values(what, build, shapes, np, 0);
}

static oiqa_agv b_conv_s2_g2(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_conv2d(ag, p[0], p[1], p[2], 2, 1, 2));
}
static oiqa_agv b_conv_depthwise(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_conv2d(ag, p[0], p[1], -1, 1, 1, 3));
}
static oiqa_agv b_conv_winograd(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_conv2d(ag, p[0], p[1], p[2], 1, 1, 1));
}
static oiqa_agv b_conv_winograd_nobias(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_conv2d(ag, p[0], p[1], -1, 1, 1, 1));
}
static oiqa_agv b_conv_pointwise(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_conv2d(ag, p[0], p[1], p[2], 1, 0, 1));
}
static oiqa_agv b_conv_7x7_s2(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_conv2d(ag, p[0], p[1], -1, 2, 3, 1));
}
static oiqa_agv b_bn_train(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_batchnorm2d(ag, p[0], p[1], p[2], NULL, NULL, 1, 0.1f, 1e-5f));
}
static float g_rm[4] = {0.1f, -0.2f, 0.3f, 0.0f}, g_rv[4] = {0.9f, 1.1f, 1.3f, 0.7f};
static oiqa_agv b_bn_eval(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_batchnorm2d(ag, p[0], p[1], p[2], g_rm, g_rv, 0, 0.1f, 1e-5f));
}
static oiqa_agv b_maxpool(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_maxpool2d(ag, p[0], 3, 2, 1)); }

static void t_ops_finite_differences(void)
{
    static const int conv_g2[3][5] = {{4, 1, 7, 6, 4}, {4, 6, 2, 3, 3}, {1, 6}};
    CHECK(fd_check("conv s2 g2", b_conv_s2_g2, conv_g2, 3) < AG_GRAD_TOL);
    static const int conv_dw[2][5] = {{4, 2, 5, 5, 3}, {4, 3, 1, 3, 3}};
    CHECK(fd_check("conv depthwise", b_conv_depthwise, conv_dw, 2) < AG_GRAD_TOL);
    /* 3x3 stride 1 pad 1: Winograd forward and dX, partial 4x4 tiles */
    static const int conv_w[3][5] = {{4, 2, 7, 9, 3}, {4, 5, 3, 3, 3}, {1, 5}};
    CHECK(fd_check("conv 3x3 wino", b_conv_winograd, conv_w, 3) < AG_GRAD_TOL);
    static const int conv_w1[2][5] = {{4, 1, 5, 6, 4}, {4, 2, 4, 3, 3}};
    CHECK(fd_check("conv 3x3 wino b1", b_conv_winograd_nobias, conv_w1, 2) < AG_GRAD_TOL);
    static const int conv_pw[3][5] = {{4, 2, 3, 5, 4}, {4, 5, 4, 1, 1}, {1, 5}};
    CHECK(fd_check("conv 1x1", b_conv_pointwise, conv_pw, 3) < AG_GRAD_TOL);
    static const int conv_stem[2][5] = {{4, 1, 9, 11, 3}, {4, 2, 3, 7, 7}};
    CHECK(fd_check("conv 7x7 s2", b_conv_7x7_s2, conv_stem, 2) < AG_GRAD_TOL);
    static const int bn[3][5] = {{4, 2, 3, 3, 4}, {1, 4}, {1, 4}};
    CHECK(fd_check("bn train", b_bn_train, bn, 3) < AG_GRAD_TOL);
    CHECK(fd_check("bn eval", b_bn_eval, bn, 3) < AG_GRAD_TOL);
    static const int mp[1][5] = {{4, 2, 7, 5, 3}};
    CHECK(fd_check_values("maxpool 3/2/1", b_maxpool, mp, 1, 1) < AG_GRAD_TOL);
}

/* The fused ops against the composed ones (relu(bn(x)), relu(a + b)), whose
 * parts the finite differences check: the same values, running statistics
 * and gradients, on an odd shape with both signs (finite differences
 * themselves stumble on the ReLU's kink). */
enum { FB = 3, FH = 5, FW = 7, FC = 4, FN = FB * FH * FW * FC };

/* Values and the gradients of x, gamma, beta (or of a, b) of the fused
 * (fused = 1) or the composed op. */
static void fused_run(int op, int fused, int batch_stats, float *val, float *gx, float *g1, float *g2, float *rm,
                      float *rv)
{
    oiqa_rng r;
    oiqa_rng_seed(&r, 77);
    oiqa_param x, y, gamma, beta;
    int xs[4] = {FB, FH, FW, FC}, cs[1] = {FC};
    oiqa_param_init(&x, "x", 4, xs), oiqa_param_init(&y, "y", 4, xs);
    oiqa_param_init(&gamma, "gamma", 1, cs), oiqa_param_init(&beta, "beta", 1, cs);
    for (int i = 0; i < FN; i++) x.w[i] = (float)oiqa_rng_normal(&r), y.w[i] = (float)oiqa_rng_normal(&r);
    for (int c = 0; c < FC; c++) gamma.w[c] = 0.5f + 0.1f * c, beta.w[c] = 0.2f * (c - 2);
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_agv vx = oiqa_ag_param(ag, &x), out;
    if (op == 0) {
        oiqa_agv vg = oiqa_ag_param(ag, &gamma), vb = oiqa_ag_param(ag, &beta);
        out = fused ? oiqa_ag_batchnorm2d_act(ag, vx, vg, vb, rm, rv, batch_stats, 0.1f, 1e-5f, 1)
                    : oiqa_ag_relu(ag, oiqa_ag_batchnorm2d(ag, vx, vg, vb, rm, rv, batch_stats, 0.1f, 1e-5f));
    } else {
        oiqa_agv vy = oiqa_ag_param(ag, &y);
        out = fused ? oiqa_ag_add_relu(ag, vx, vy) : oiqa_ag_relu(ag, oiqa_ag_add(ag, vx, vy));
    }
    memcpy(val, oiqa_ag_data(ag, out), FN * sizeof *val);
    CHECK(oiqa_ag_backward(ag, ag_scalarize(ag, out)) == 0);
    memcpy(gx, x.g, FN * sizeof *gx);
    if (op == 0) memcpy(g1, gamma.g, FC * sizeof *g1), memcpy(g2, beta.g, FC * sizeof *g2);
    else memcpy(g1, y.g, FN * sizeof *g1);
    oiqa_ag_free(ag);
    oiqa_param_free(&x), oiqa_param_free(&y), oiqa_param_free(&gamma), oiqa_param_free(&beta);
}

static double max_diff(const float *a, const float *b, int n)
{
    double worst = 0;
    for (int i = 0; i < n; i++) worst = fmax(worst, fabs((double)a[i] - b[i]) / (1 + fabs(b[i])));
    return worst;
}

static void t_fused_ops(void)
{
    static float val[2][FN], gx[2][FN], g1[2][FN], g2[2][FC];
    double worst_val = 0, worst_grad = 0;
    for (int mode = 0; mode < 3; mode++) { /* bn train, bn eval, add */
        int op = mode == 2, batch_stats = mode == 0;
        float rm[2][FC], rv[2][FC];
        for (int k = 0; k < 2; k++) {
            memcpy(rm[k], g_rm, sizeof rm[k]), memcpy(rv[k], g_rv, sizeof rv[k]);
            fused_run(op, k == 0, batch_stats, val[k], gx[k], g1[k], g2[k], rm[k], rv[k]);
        }
        int positive = 0;
        for (int i = 0; i < FN; i++) positive += val[0][i] > 0;
        CHECK_MSG(positive > FN / 5 && positive < FN - FN / 5, "mode %d: %d of %d positive", mode, positive, FN);
        worst_val = fmax(worst_val, max_diff(val[0], val[1], FN));
        worst_grad = fmax(worst_grad, max_diff(gx[0], gx[1], FN));
        worst_grad = fmax(worst_grad, max_diff(g1[0], g1[1], op ? FN : FC));
        if (!op) worst_grad = fmax(worst_grad, max_diff(g2[0], g2[1], FC));
        CHECK(!memcmp(rm[0], rm[1], sizeof rm[0]) && !memcmp(rv[0], rv[1], sizeof rv[0]));
    }
    printf("  fused bn+relu, add+relu vs composed: values %.3g, gradients %.3g\n", worst_val, worst_grad);
    CHECK(worst_val == 0 && worst_grad <= 1e-6);
    oiqa_ag *ag = oiqa_ag_new();
    int s1[4] = {FB, FH, FW, FC}, s2[4] = {FB, FH, FW, 1};
    CHECK(oiqa_ag_add_relu(ag, oiqa_ag_input(ag, NULL, 4, s1), oiqa_ag_input(ag, NULL, 4, s2)) < 0 &&
          strstr(oiqa_errmsg(), "one shape"));
    oiqa_ag_free(ag);
}

/* The forward values against direct sums (the gradients above only check
 * consistency with the forward). */
static void t_conv_forward_direct(void)
{
    enum { B = 2, H = 5, W = 6, C = 4, O = 6, K = 3, G = 2, S = 2, P = 1 };
    float x[B * H * W * C], w[O * (C / G) * K * K], bias[O];
    for (size_t i = 0; i < sizeof x / sizeof *x; i++) x[i] = (float)oiqa_rng_normal(&rng);
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) w[i] = (float)oiqa_rng_normal(&rng);
    for (int o = 0; o < O; o++) bias[o] = (float)o;
    oiqa_ag *ag = oiqa_ag_new();
    int xs[4] = {B, H, W, C}, ws[4] = {O, C / G, K, K}, bs[1] = {O};
    oiqa_agv y = oiqa_ag_conv2d(ag, oiqa_ag_input(ag, x, 4, xs), oiqa_ag_input(ag, w, 4, ws),
                                oiqa_ag_input(ag, bias, 1, bs), S, P, G);
    CHECK_MSG(y >= 0, "%s", oiqa_errmsg());
    if (y >= 0) {
        const int *s = oiqa_ag_shape(ag, y);
        int OH = (H + 2 * P - K) / S + 1, OW = (W + 2 * P - K) / S + 1;
        CHECK(s[0] == B && s[1] == OH && s[2] == OW && s[3] == O);
        double worst = 0;
        const float *v = oiqa_ag_data(ag, y);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < OH; i++)
                for (int j = 0; j < OW; j++)
                    for (int o = 0; o < O; o++) {
                        double sum = bias[o];
                        int q = o / (O / G);
                        for (int c = 0; c < C / G; c++)
                            for (int u = 0; u < K; u++)
                                for (int t = 0; t < K; t++) {
                                    int yy = i * S + u - P, xx = j * S + t - P;
                                    if (yy < 0 || yy >= H || xx < 0 || xx >= W) continue;
                                    sum += (double)x[((b * H + yy) * W + xx) * C + q * (C / G) + c] *
                                           w[((o * (C / G) + c) * K + u) * K + t];
                                }
                        double d = fabs(sum - v[((b * OH + i) * OW + j) * O + o]);
                        worst = d > worst ? d : worst;
                    }
        CHECK_MSG(worst < 1e-4, "max |conv - direct| %g", worst);
    }
    /* the refusals */
    int bad[4] = {O, 3, K, K};
    CHECK(oiqa_ag_conv2d(ag, oiqa_ag_input(ag, x, 4, xs), oiqa_ag_input(ag, NULL, 4, bad), -1, 1, 1, 1) < 0);
    CHECK(strstr(oiqa_errmsg(), "groups") != NULL);
    CHECK(oiqa_ag_maxpool2d(ag, oiqa_ag_input(ag, x, 4, xs), 3, 1, 2) < 0);
    oiqa_ag_free(ag);
}

/* ---- ResNet-18 against the fixtures --------------------------------------------- */

static hid_t open_fixture(const char *name)
{
    const char *path = check_shared(name);
    if (access(path, R_OK)) return -1;
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}

static float *read_f32(hid_t f, const char *name, hsize_t dims[4], size_t *n)
{
    return fixture_read_dataset(f, name, H5T_NATIVE_FLOAT, sizeof(float), dims, n);
}

/* NCHW -> NHWC */
static float *to_nhwc(const float *x, const hsize_t d[4])
{
    size_t N = d[0], C = d[1], H = d[2], W = d[3];
    float *y = malloc(N * C * H * W * sizeof(float));
    for (size_t n = 0; n < N; n++)
        for (size_t c = 0; c < C; c++)
            for (size_t h = 0; h < H; h++)
                for (size_t w = 0; w < W; w++) y[((n * H + h) * W + w) * C + c] = x[((n * C + c) * H + h) * W + w];
    return y;
}

/* max |c - ref| / (atol + rtol |ref|) over a value of the tape against an
 * NCHW (4-D) or flat reference. */
static double worst_ratio(const float *c, const float *ref, const hsize_t d[4], int nchw, double atol, double rtol)
{
    size_t n = d[0] * d[1] * d[2] * d[3];
    float *r = nchw ? to_nhwc(ref, d) : NULL;
    double worst = 0;
    for (size_t k = 0; k < n; k++) {
        double want = r ? r[k] : ref[k], q = fabs(c[k] - want) / (atol + rtol * fabs(want));
        worst = q > worst ? q : worst;
    }
    free(r);
    return worst;
}

static int load_net(oiqa_resnet_tape *net)
{
    oiqa_ckpt *ck;
    const char *path = check_shared("fixtures/resnet18/resnet18_w8_seed18.pth");
    int rc = oiqa_ckpt_open(path, &ck);
    if (!rc) rc = oiqa_resnet_tape_load(ck, path, net);
    if (ck) oiqa_ckpt_close(ck);
    return rc;
}

static void t_eval_forward(void)
{
    hid_t f = open_fixture("fixtures/resnet18/resnet18_eval.h5");
    if (f < 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", check_shared("fixtures/resnet18/resnet18_eval.h5"));
        return;
    }
    oiqa_resnet_tape net;
    int rc = load_net(&net);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    CHECK(!rc && !net.bottleneck && net.n_blocks[0] == 2 && net.n_blocks[3] == 2 && net.channels[3] == 64);
    CHECK(!rc && net.n_params == 62); /* 20 convs, 20 BNs x 2, fc x 2 */
    static const char *const cases[2] = {"eval_a", "eval_b"};
    for (int e = 0; e < 2 && !rc; e++) {
        char name[64];
        hsize_t d[4];
        size_t n;
        snprintf(name, sizeof name, "%s/input", cases[e]);
        float *in = read_f32(f, name, d, &n);
        if (!in) {
            CHECK_MSG(0, "no %s", name);
            break;
        }
        float *x = to_nhwc(in, d);
        int xs[4] = {(int)d[0], (int)d[2], (int)d[3], (int)d[1]};
        oiqa_ag *ag = oiqa_ag_new();
        oiqa_resnet_tape_out out;
        CHECK(oiqa_resnet_tape_forward(ag, &net, oiqa_ag_input(ag, x, 4, xs), 0, &out) == 0);
        static const char *const layer[4] = {"layer1", "layer2", "layer3", "layer4"};
        double worst = 0;
        for (int li = 0; li < 4; li++) {
            snprintf(name, sizeof name, "%s/%s", cases[e], layer[li]);
            float *ref = read_f32(f, name, d, &n);
            CHECK_MSG(ref && n == oiqa_ag_numel(ag, out.layer[li]), "%s", name);
            if (ref && n == oiqa_ag_numel(ag, out.layer[li])) {
                double q = worst_ratio(oiqa_ag_data(ag, out.layer[li]), ref, d, 1, 1e-4, 1e-4);
                CHECK_MSG(q <= 1.0, "%s: %.3g of the tolerance", name, q);
                worst = q > worst ? q : worst;
            }
            free(ref);
        }
        static const char *const flat[2] = {"pool", "fc_logits"};
        for (int k = 0; k < 2; k++) {
            snprintf(name, sizeof name, "%s/%s", cases[e], flat[k]);
            float *ref = read_f32(f, name, d, &n);
            oiqa_agv v = k ? out.logits : out.pool;
            CHECK_MSG(ref && n == oiqa_ag_numel(ag, v), "%s", name);
            if (ref && n == oiqa_ag_numel(ag, v)) {
                double q = worst_ratio(oiqa_ag_data(ag, v), ref, d, 0, 1e-6, 1e-4);
                CHECK_MSG(q <= 1.0, "%s: %.3g of the tolerance", name, q);
                worst = q > worst ? q : worst;
            }
            free(ref);
        }
        printf("  %s: layer1..4, pool, logits within %.2f of the tolerance (1e-4 + 1e-4 |ref|)\n", cases[e], worst);
        oiqa_ag_free(ag);
        free(in), free(x);
    }
    if (!rc) oiqa_resnet_tape_free(&net);
    H5Fclose(f);
}

/* max |a - b| / max |b| */
static double rel_to_max(const float *a, const float *b, size_t n)
{
    double num = 0, den = 0;
    for (size_t k = 0; k < n; k++) num = fmax(num, fabs((double)a[k] - b[k])), den = fmax(den, fabs((double)b[k]));
    return den > 0 ? num / den : num;
}

/* The trainable form in eval mode against the inference form (BN folded,
 * Winograd, fused epilogues) built from the same plan, on an NHWC input:
 * layer1..4 and the logits within 1e-5 of the largest inference value. */
static double two_forms(const char *path, const oiqa_resnet_depth *depth, const float *x, int n, int h, int w)
{
    oiqa_resnet inf;
    oiqa_ckpt *ck = NULL;
    oiqa_resnet_tape tape;
    if (oiqa_resnet_load_file(path, depth, &inf) || oiqa_ckpt_open(path, &ck) || oiqa_resnet_tape_load(ck, path, &tape)) {
        CHECK_MSG(0, "%s: %s", path, oiqa_errmsg());
        oiqa_ckpt_close(ck);
        return INFINITY;
    }
    oiqa_ckpt_close(ck);
    oiqa_tensor xt = {0};
    oiqa_resnet_out io = {0};
    CHECK(!oiqa_tensor_create(&xt, n, h, w, 3));
    memcpy(xt.data, x, (size_t)n * h * w * 3 * sizeof(float));
    CHECK_MSG(!oiqa_resnet_forward(&inf, &xt, &io, 1), "%s", oiqa_errmsg());
    oiqa_ag *ag = oiqa_ag_new();
    int xs[4] = {n, h, w, 3};
    oiqa_resnet_tape_out to;
    CHECK(!oiqa_resnet_tape_forward(ag, &tape, oiqa_ag_input(ag, x, 4, xs), 0, &to));
    double worst = 0;
    for (int li = 0; li < 4; li++) {
        size_t numel = oiqa_tensor_numel(&io.layer[li]);
        CHECK(numel == oiqa_ag_numel(ag, to.layer[li]));
        if (numel == oiqa_ag_numel(ag, to.layer[li]))
            worst = fmax(worst, rel_to_max(oiqa_ag_data(ag, to.layer[li]), io.layer[li].data, numel));
    }
    if (inf.classes && tape.has_fc)
        worst = fmax(worst, rel_to_max(oiqa_ag_data(ag, to.logits), io.logits.data, (size_t)n * inf.classes));
    printf("  %s %dx%dx%d: trainable (eval) vs inference form %.2e of max |inference|\n", depth->name, n, h, w, worst);
    oiqa_ag_free(ag);
    oiqa_resnet_out_free(&io);
    oiqa_tensor_free(&xt);
    oiqa_resnet_free(&inf);
    oiqa_resnet_tape_free(&tape);
    return worst;
}

/* One description, two forms: the ResNet-18 fixture (both eval inputs, and
 * the inference form against torchvision's outputs too) and the full-width
 * ResNet-50 fixture on an awkward size. */
static void t_two_forms_agree(void)
{
    hid_t f = open_fixture("fixtures/resnet18/resnet18_eval.h5");
    if (f < 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", check_shared("fixtures/resnet18/resnet18_eval.h5"));
        return;
    }
    const char *pth = check_shared("fixtures/resnet18/resnet18_w8_seed18.pth");
    static const char *const cases[2] = {"eval_a", "eval_b"};
    for (int e = 0; e < 2; e++) {
        char name[64];
        hsize_t d[4];
        size_t n;
        snprintf(name, sizeof name, "%s/input", cases[e]);
        float *in = read_f32(f, name, d, &n);
        CHECK(in != NULL);
        if (!in) break;
        float *x = to_nhwc(in, d);
        CHECK(two_forms(pth, &oiqa_resnet18_depth, x, (int)d[0], (int)d[2], (int)d[3]) <= 1e-5);
        /* the inference ResNet-18 against torchvision */
        oiqa_resnet inf;
        oiqa_tensor xt = {0};
        oiqa_resnet_out io = {0};
        CHECK(!oiqa_resnet_load_file(pth, &oiqa_resnet18_depth, &inf));
        CHECK(inf.classes == 10 && inf.plan.channels[3] == 64 && inf.plan.n_blocks == 8);
        oiqa_tensor_create(&xt, (int)d[0], (int)d[2], (int)d[3], 3);
        memcpy(xt.data, x, n * sizeof(float));
        CHECK(!oiqa_resnet_forward(&inf, &xt, &io, 1));
        double worst = 0;
        static const char *const layer[4] = {"layer1", "layer2", "layer3", "layer4"};
        for (int li = 0; li < 4; li++) {
            snprintf(name, sizeof name, "%s/%s", cases[e], layer[li]);
            float *ref = read_f32(f, name, d, &n);
            CHECK(ref && n == oiqa_tensor_numel(&io.layer[li]));
            if (ref && n == oiqa_tensor_numel(&io.layer[li])) worst = fmax(worst, worst_ratio(io.layer[li].data, ref, d, 1, 1e-4, 1e-4));
            free(ref);
        }
        snprintf(name, sizeof name, "%s/fc_logits", cases[e]);
        float *ref = read_f32(f, name, d, &n);
        CHECK(ref && n == (size_t)io.logits.n * 10);
        if (ref && n == (size_t)io.logits.n * 10) worst = fmax(worst, worst_ratio(io.logits.data, ref, d, 0, 1e-6, 1e-4));
        free(ref);
        printf("  inference resnet18 %s vs torchvision: within %.2f of the tolerance (1e-4 + 1e-4 |ref|)\n", cases[e],
               worst);
        CHECK(worst <= 1.0);
        oiqa_resnet_out_free(&io);
        oiqa_tensor_free(&xt);
        oiqa_resnet_free(&inf);
        free(in), free(x);
    }
    H5Fclose(f);
    const char *r50 = check_shared("fixtures/resnet50/resnet50_seed0.pth");
    if (access(r50, R_OK)) {
        printf("  %s absent: ResNet-50 not compared\n", r50);
        return;
    }
    int h = 67, w = 93;
    float *x = malloc((size_t)h * w * 3 * sizeof(float));
    for (int k = 0; k < h * w * 3; k++) x[k] = (float)oiqa_rng_normal(&rng);
    CHECK(two_forms(r50, &oiqa_resnet50_depth, x, 1, h, w) <= 1e-5);
    free(x);
}

/* The head of the fixture's training step: Linear(64, 1). */
static int load_head(oiqa_param *w, oiqa_param *b)
{
    oiqa_ckpt *ck;
    const char *path = check_shared("fixtures/resnet18/head_seed18.pth");
    int rc = oiqa_ckpt_open(path, &ck);
    int ws[2] = {1, 64}, bs[1] = {1};
    if (!rc) rc = oiqa_param_init(w, "head.weight", 2, ws);
    if (!rc) rc = oiqa_param_init(b, "head.bias", 1, bs);
    const oiqa_ck_tensor *tw = rc ? NULL : oiqa_ckpt_find(ck, "weight"), *tb = rc ? NULL : oiqa_ckpt_find(ck, "bias");
    if (!rc && (!tw || !tb)) rc = oiqa_fail(OIQA_EXIT_DATA, path, "no weight/bias");
    if (!rc) rc = oiqa_ckpt_read_f32(ck, tw, w->w);
    if (!rc) rc = oiqa_ckpt_read_f32(ck, tb, b->w);
    if (ck) oiqa_ckpt_close(ck);
    return rc;
}

/* The training step's forward and backward (batch statistics): the loss. */
static double train_step(oiqa_resnet_tape *net, oiqa_param *hw, oiqa_param *hb, const float *x, const int *xs,
                         const float *target)
{
    oiqa_ag *ag = oiqa_ag_new();
    for (int i = 0; i < net->n_params; i++) oiqa_param_zero_grad(net->params[i]);
    oiqa_param_zero_grad(hw), oiqa_param_zero_grad(hb);
    oiqa_resnet_tape_out out;
    int ts[2] = {xs[0], 1};
    double loss = NAN;
    if (!oiqa_resnet_tape_forward(ag, net, oiqa_ag_input(ag, x, 4, xs), 1, &out)) {
        oiqa_agv pred = oiqa_ag_linear(ag, out.pool, oiqa_ag_param(ag, hw), oiqa_ag_param(ag, hb));
        oiqa_agv l = oiqa_ag_mse(ag, pred, oiqa_ag_input(ag, target, 2, ts));
        if (l >= 0 && !oiqa_ag_backward(ag, l)) loss = oiqa_ag_data(ag, l)[0];
    }
    oiqa_ag_free(ag);
    return loss;
}

/* Every trainable tensor on the loss path (fc is not: PyTorch gives it no
 * gradient and its optimisers skip it). */
static int step_params(oiqa_resnet_tape *net, oiqa_param *hw, oiqa_param *hb, oiqa_param **ps)
{
    int n = 0;
    for (int i = 0; i < net->n_params; i++)
        if (strncmp(net->params[i]->name, "fc.", 3)) ps[n++] = net->params[i];
    ps[n++] = hw, ps[n++] = hb;
    return n;
}

/* The weights of ps against a state-dict file: max |c - ref| per element,
 * allowing `loose` elements up to loose_tol (Adam's first step, where the
 * gradient is near 0 and its sign can flip). */
static void check_weights(hid_t f, oiqa_param **ps, int n, double tol, double loose_tol, int loose, const char *what)
{
    int n_loose = 0, bad = 0;
    double worst = 0;
    for (int i = 0; i < n; i++) {
        hsize_t d[4];
        size_t cnt;
        float *ref = read_f32(f, ps[i]->name, d, &cnt);
        if (!ref || cnt != ps[i]->numel) {
            CHECK_MSG(0, "%s: no %s", what, ps[i]->name);
            free(ref);
            continue;
        }
        for (size_t k = 0; k < cnt; k++) {
            double e = fabs(ps[i]->w[k] - ref[k]);
            if (e > tol) {
                if (e <= loose_tol) n_loose++;
                else bad++;
            }
            worst = e > worst ? e : worst;
        }
        free(ref);
    }
    printf("  %s: max |c - ref| %.2e, %d elements beyond %.0e\n", what, worst, n_loose + bad, tol);
    CHECK_MSG(!bad && n_loose <= loose, "%s: %d beyond %g, %d beyond %g", what, n_loose, tol, bad, loose_tol);
}

static void t_train_step(void)
{
    hid_t f = open_fixture("fixtures/resnet18/resnet18_train_grads.h5");
    if (f < 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", check_shared("fixtures/resnet18/resnet18_train_grads.h5"));
        return;
    }
    oiqa_resnet_tape net;
    oiqa_param hw, hb;
    int rc = load_net(&net);
    if (!rc) rc = load_head(&hw, &hb);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    hsize_t d[4];
    size_t n;
    float *in = rc ? NULL : read_f32(f, "input", d, &n), *target = rc ? NULL : read_f32(f, "target", NULL, NULL);
    float *ref_loss = rc ? NULL : read_f32(f, "loss", NULL, NULL);
    if (rc || !in || !target || !ref_loss) {
        CHECK_MSG(rc, "fixture datasets missing");
        free(in), free(target), free(ref_loss);
        H5Fclose(f);
        return;
    }
    float *x = to_nhwc(in, d);
    int xs[4] = {(int)d[0], (int)d[2], (int)d[3], (int)d[1]};
    /* the starting weights, for the second optimiser */
    oiqa_param *ps[OIQA_RESNET_TAPE_MAX_PARAMS + 2];
    int np = step_params(&net, &hw, &hb, ps);
    float **start = calloc((size_t)np, sizeof *start);
    for (int i = 0; i < np; i++) {
        start[i] = malloc(ps[i]->numel * sizeof(float));
        memcpy(start[i], ps[i]->w, ps[i]->numel * sizeof(float));
    }
    double loss = train_step(&net, &hw, &hb, x, xs, target);
    CHECK_MSG(fabs(loss - ref_loss[0]) <= 1e-5 * fabs(ref_loss[0]), "loss %.9g vs %.9g", loss, ref_loss[0]);
    /* every gradient, per tensor within 1e-4 of its largest reference value */
    double worst = 0;
    int missing = 0;
    for (int i = 0; i < np; i++) {
        char name[200];
        snprintf(name, sizeof name, "grad/%s", ps[i]->name);
        float *g = read_f32(f, name, NULL, &n);
        if (!g || n != ps[i]->numel) {
            missing++;
            free(g);
            continue;
        }
        double mref = 0, md = 0;
        for (size_t k = 0; k < n; k++) {
            mref = fmax(mref, fabs(g[k]));
            md = fmax(md, fabs(ps[i]->g[k] - g[k]));
        }
        double q = md / fmax(mref, 1e-30);
        if (q > worst) worst = q;
        CHECK_MSG(md <= 1e-4 * mref, "%s: max |c - ref| %.3g, max |ref| %.3g", ps[i]->name, md, mref);
        free(g);
    }
    printf("  gradients of %d tensors: worst max|c-ref| / max|ref| %.2e\n", np, worst);
    CHECK_MSG(missing == 0, "%d gradients missing from the fixture", missing);
    CHECK(read_f32(f, "grad/fc.weight", NULL, NULL) == NULL); /* not on the loss path */
    /* the running statistics after the train-mode forward */
    static const char *const bns[] = {"bn1", "layer1.0.bn2", "layer2.0.downsample.1", "layer4.1.bn2"};
    for (size_t k = 0; k < sizeof bns / sizeof *bns; k++) {
        oiqa_tape_bn *bn = oiqa_resnet_tape_bn(&net, bns[k]);
        char name[200];
        snprintf(name, sizeof name, "bn_after_forward/%s.running_mean", bns[k]);
        float *rm = read_f32(f, name, NULL, &n);
        snprintf(name, sizeof name, "bn_after_forward/%s.running_var", bns[k]);
        float *rv = read_f32(f, name, NULL, NULL);
        CHECK_MSG(bn && rm && rv && n == (size_t)bn->C, "%s", bns[k]);
        /* relative to the tensor's largest value (a channel's mean may be ~0) */
        double em = 0, ev = 0, mm = 0;
        for (int c = 0; bn && rm && rv && c < bn->C; c++) {
            em = fmax(em, fabs(bn->running_mean[c] - rm[c])), mm = fmax(mm, fabs(rm[c]));
            ev = fmax(ev, fabs(bn->running_var[c] - rv[c]) / fabs(rv[c]));
        }
        em /= fmax(mm, 1e-30);
        printf("  %s running mean, var: relative error %.2e, %.2e\n", bns[k], em, ev);
        CHECK_MSG(em <= 1e-5 && ev <= 1e-5, "%s running statistics: relative error %.3g, %.3g", bns[k], em, ev);
        CHECK(bn && bn->num_batches_tracked == 1);
        free(rm), free(rv);
    }
    /* one SGD step, then from the same start one Adam step */
    hid_t fs = open_fixture("fixtures/resnet18/resnet18_after_sgd.h5");
    hid_t fa = open_fixture("fixtures/resnet18/resnet18_after_adam.h5");
    CHECK(fs >= 0 && fa >= 0);
    if (fs >= 0) {
        oiqa_optimizer sgd = {.kind = OIQA_OPT_SGD, .lr = 1e-3, .momentum = 0.9, .weight_decay = 1e-4};
        CHECK(oiqa_optimizer_step(&sgd, ps, np, sgd.lr) == 0);
        check_weights(fs, ps, np, 1e-6, 1e-6, 0, "after SGD");
        H5Fclose(fs);
    }
    if (fa >= 0) {
        for (int i = 0; i < np; i++) {
            memcpy(ps[i]->w, start[i], ps[i]->numel * sizeof(float));
            free(ps[i]->m), free(ps[i]->v), ps[i]->m = ps[i]->v = NULL;
        }
        oiqa_optimizer adam = {.kind = OIQA_OPT_ADAM, .lr = 2e-4, .weight_decay = 5e-4, .beta1 = 0.9,
                               .beta2 = 0.999, .eps = 1e-8};
        CHECK(oiqa_optimizer_step(&adam, ps, np, adam.lr) == 0);
        check_weights(fa, ps, np, 2e-6, 4e-4, 64, "after Adam");
        H5Fclose(fa);
    }
    for (int i = 0; i < np; i++) free(start[i]);
    free(start);
    free(in), free(x), free(target), free(ref_loss);
    oiqa_param_free(&hw), oiqa_param_free(&hb);
    oiqa_resnet_tape_free(&net);
    H5Fclose(f);
}

/* Two runs of the same step (same weights, input, threads) give bit-identical
 * gradients and running statistics: every reduction has a fixed order. */
static void t_deterministic(void)
{
    hid_t f = open_fixture("fixtures/resnet18/resnet18_train_grads.h5");
    if (f < 0) {
        SKIP("fixture resnet18_train_grads.h5 not found (set OIQA_SHARED)");
        return;
    }
    hsize_t d[4];
    size_t n;
    float *in = read_f32(f, "input", d, &n), *target = read_f32(f, "target", NULL, NULL);
    H5Fclose(f);
    float *x = in ? to_nhwc(in, d) : NULL;
    int xs[4] = {(int)d[0], (int)d[2], (int)d[3], (int)d[1]};
    oiqa_resnet_tape a, b;
    oiqa_param hw[2], hb[2];
    int rc = load_net(&a) || load_net(&b) || load_head(&hw[0], &hb[0]) || load_head(&hw[1], &hb[1]);
    CHECK(!rc && x && target);
    if (!rc && x && target) {
        double la = train_step(&a, &hw[0], &hb[0], x, xs, target), lb = train_step(&b, &hw[1], &hb[1], x, xs, target);
        int same = la == lb && a.n_params == b.n_params;
        for (int i = 0; same && i < a.n_params; i++)
            same = !memcmp(a.params[i]->g, b.params[i]->g, a.params[i]->numel * sizeof(float));
        oiqa_tape_bn *ba = oiqa_resnet_tape_bn(&a, "layer4.1.bn2"), *bb = oiqa_resnet_tape_bn(&b, "layer4.1.bn2");
        same = same && ba && bb && !memcmp(ba->running_var, bb->running_var, (size_t)ba->C * sizeof(float));
        CHECK_MSG(same, "two runs of the same step differ");
        oiqa_resnet_tape_free(&a), oiqa_resnet_tape_free(&b);
        for (int k = 0; k < 2; k++) oiqa_param_free(&hw[k]), oiqa_param_free(&hb[k]);
    }
    free(in), free(x), free(target);
}

/* From a cached cut: layer4 and the pool computed from layer3's output
 * equal the whole network's, and only layer4's parameters get gradients. */
static void t_forward_from_cut(void)
{
    oiqa_resnet_tape net;
    if (load_net(&net)) {
        SKIP("fixture resnet18_w8_seed18.pth not found (set OIQA_SHARED)");
        return;
    }
    enum { B = 2, S = 64 };
    float *x = malloc(sizeof(float) * B * S * S * 3);
    for (int k = 0; k < B * S * S * 3; k++) x[k] = (float)oiqa_rng_normal(&rng);
    int xs[4] = {B, S, S, 3};
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_resnet_tape_out full, cut;
    CHECK(oiqa_resnet_tape_forward(ag, &net, oiqa_ag_input(ag, x, 4, xs), 0, &full) == 0);
    const int *l3 = oiqa_ag_shape(ag, full.layer[2]);
    int cs[4] = {l3[0], l3[1], l3[2], l3[3]};
    oiqa_agv c = oiqa_ag_input(ag, oiqa_ag_data(ag, full.layer[2]), 4, cs);
    CHECK(oiqa_resnet_tape_forward_from(ag, &net, 3, c, 0, &cut) == 0);
    CHECK(cut.layer[0] == -1 && cut.layer[1] == -1 && cut.layer[2] == c);
    size_t n = oiqa_ag_numel(ag, full.pool);
    CHECK(n == oiqa_ag_numel(ag, cut.pool) &&
          !memcmp(oiqa_ag_data(ag, full.pool), oiqa_ag_data(ag, cut.pool), n * sizeof(float)));
    for (int i = 0; i < net.n_params; i++) oiqa_param_zero_grad(net.params[i]);
    int one[2] = {1, (int)n};
    CHECK(oiqa_ag_backward(ag, oiqa_ag_mean_axis(ag, oiqa_ag_reshape(ag, cut.pool, 2, one), 1)) == 0);
    oiqa_param *l4 = oiqa_resnet_tape_param(&net, "layer4.0.conv1.weight");
    oiqa_param *l3w = oiqa_resnet_tape_param(&net, "layer3.0.conv1.weight");
    double s4 = 0, s3 = 0;
    for (size_t k = 0; l4 && k < l4->numel; k++) s4 += fabs(l4->g[k]);
    for (size_t k = 0; l3w && k < l3w->numel; k++) s3 += fabs(l3w->g[k]);
    CHECK(l4 && l3w && s4 > 0 && s3 == 0);
    /* a cut of the wrong width */
    CHECK(oiqa_resnet_tape_forward_from(ag, &net, 2, c, 0, &cut) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "after layer2: the input has 32 channels, not 16"), "%s", oiqa_errmsg());
    oiqa_ag_free(ag);
    free(x);
    oiqa_resnet_tape_free(&net);
}

/* A state dict that is not a ResNet: one line naming the first missing key. */
static void t_load_refusal(void)
{
    oiqa_ckpt *ck;
    CHECK(oiqa_ckpt_new("empty", &ck) == 0);
    int64_t s[4] = {8, 3, 7, 7};
    CHECK(oiqa_ckpt_add_f32(ck, "conv1.weight", 4, s) != NULL);
    oiqa_resnet_tape net;
    CHECK(oiqa_resnet_tape_load(ck, "x.pth", &net) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "x.pth: not a torchvision ResNet state dict: no layer1.0.conv1.weight"), "%s",
              oiqa_errmsg());
    oiqa_ckpt_close(ck);
}

int main(void)
{
    oiqa_log_set_level(OIQA_LOG_WARN);
    oiqa_rng_seed(&rng, 17);
    RUN(t_ops_finite_differences);
    RUN(t_fused_ops);
    RUN(t_conv_forward_direct);
    RUN(t_eval_forward);
    RUN(t_two_forms_agree);
    RUN(t_train_step);
    RUN(t_deterministic);
    RUN(t_forward_from_cut);
    RUN(t_load_refusal);
    return check_done();
}
