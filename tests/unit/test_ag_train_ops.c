/* The tape's ops for training backbones and the methods' heads (issue 17):
 * SiLU, QuickGELU, average and adaptive average pooling against finite
 * differences on awkward shapes and against direct sums; KD-OIQA's Bisign
 * mask (straight-through, clamped) in its policy network against the
 * original code's forward and gradients (../shared/fixtures/kdoiqa). The
 * convolution, batch norm and max pooling are in test_resnet_tape.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "io/ckpt.h"
#include "nn/ag.h"
#include "check.h"
#include "ag_check.h"
#include "fixture_h5.h"

static oiqa_rng rng;

static double fd(const char *what, ag_build_fn build, const int (*shapes)[5], int np)
{
    return ag_fd_normal(what, build, shapes, np, &rng);
}

static oiqa_agv b_silu(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_silu(ag, p[0])); }
static oiqa_agv b_quick_gelu(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_quick_gelu(ag, p[0])); }
static oiqa_agv b_avg(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_avgpool2d(ag, p[0], 3, 2, 1)); }
static oiqa_agv b_adaptive(oiqa_ag *ag, oiqa_agv *p)
{
    return ag_scalarize(ag, oiqa_ag_adaptive_avgpool2d(ag, p[0], 3, 2));
}
static oiqa_agv b_adaptive_up(oiqa_ag *ag, oiqa_agv *p) /* more bins than rows: overlapping windows */
{
    return ag_scalarize(ag, oiqa_ag_adaptive_avgpool2d(ag, p[0], 4, 3));
}

static void t_finite_differences(void)
{
    static const int v[1][5] = {{3, 2, 3, 5}};
    CHECK(fd("silu", b_silu, v, 1) < AG_GRAD_TOL);
    CHECK(fd("quick_gelu", b_quick_gelu, v, 1) < AG_GRAD_TOL);
    static const int img[1][5] = {{4, 2, 7, 5, 3}};
    CHECK(fd("avgpool 3/2/1", b_avg, img, 1) < AG_GRAD_TOL);
    CHECK(fd("adaptive 3x2", b_adaptive, img, 1) < AG_GRAD_TOL);
    static const int small[1][5] = {{4, 1, 3, 2, 2}};
    CHECK(fd("adaptive up", b_adaptive_up, small, 1) < AG_GRAD_TOL);
}

/* Forward values: PyTorch's bins and count_include_pad on a 5 x 5 ramp. */
static void t_pool_values(void)
{
    float x[25];
    for (int k = 0; k < 25; k++) x[k] = (float)k; /* x[y][x] = 5 y + x, one channel */
    int xs[4] = {1, 5, 5, 1};
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_agv a = oiqa_ag_adaptive_avgpool2d(ag, oiqa_ag_input(ag, x, 4, xs), 3, 3);
    CHECK_MSG(a >= 0, "%s", oiqa_errmsg());
    /* rows bins [0,2), [1,4), [3,5): the (0,0) bin averages rows 0-1, cols 0-1 */
    if (a >= 0) {
        const float *v = oiqa_ag_data(ag, a);
        CHECK(fabsf(v[0] - 3.0f) < 1e-6f);               /* (0 + 1 + 5 + 6) / 4 */
        CHECK(fabsf(v[4] - 12.0f) < 1e-6f);              /* rows 1-3, cols 1-3: the centre */
        CHECK(fabsf(v[8] - 21.0f) < 1e-6f);              /* rows 3-4, cols 3-4 */
    }
    oiqa_agv p = oiqa_ag_avgpool2d(ag, oiqa_ag_input(ag, x, 4, xs), 3, 2, 1);
    if (p >= 0) { /* the corner window covers 4 pixels of 9 (padding counts as zeros) */
        const float *v = oiqa_ag_data(ag, p);
        CHECK(fabsf(v[0] - (0 + 1 + 5 + 6) / 9.0f) < 1e-6f);
        CHECK(oiqa_ag_shape(ag, p)[1] == 3 && oiqa_ag_shape(ag, p)[2] == 3);
    }
    CHECK(oiqa_ag_avgpool2d(ag, oiqa_ag_input(ag, x, 4, xs), 3, 1, 2) < 0);
    oiqa_ag_free(ag);
}

/* ---- KD-OIQA's policy network and its Bisign mask -------------------------- */

static float *rd(hid_t f, const char *name, size_t want) { return fixture_read_f32(f, name, want); }

/* sum of all elements of v */
static oiqa_agv sum_all(oiqa_ag *ag, oiqa_agv v)
{
    size_t n = oiqa_ag_numel(ag, v);
    int flat[2] = {1, (int)n};
    return oiqa_ag_scale(ag, oiqa_ag_mean_axis(ag, oiqa_ag_reshape(ag, v, 2, flat), 1), (float)n);
}

static void t_bisign_policy(void)
{
    const char *io = check_shared("fixtures/kdoiqa/policy_small_io.h5");
    const char *wts = check_shared("fixtures/kdoiqa/policy_small_d64.pth");
    if (access(io, R_OK) || access(wts, R_OK)) {
        SKIP("fixture %s not found (set OIQA_SHARED)", io);
        return;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(io, H5F_ACC_RDONLY, H5P_DEFAULT);
    oiqa_ckpt *ck = NULL;
    CHECK(f >= 0 && oiqa_ckpt_open(wts, &ck) == 0);
    if (f < 0 || !ck) return;
    enum { N = 6, D = 64 };
    static const char *const pname[4] = {"net.0.weight", "net.0.bias", "net.1.weight", "net.1.bias"};
    oiqa_param p[6];
    const int shapes[6][2] = {{4 * D, 2 * D}, {4 * D, 0}, {D, 4 * D}, {D, 0}, {N, D}, {N, D}};
    int rc = OIQA_OK;
    for (int i = 0; i < 4 && !rc; i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, pname[i]);
        rc = oiqa_param_init(&p[i], pname[i], shapes[i][1] ? 2 : 1, shapes[i]);
        if (!rc) rc = t && t->numel == (int64_t)p[i].numel ? oiqa_ckpt_read_f32(ck, t, p[i].w) : OIQA_EXIT_DATA;
    }
    float *feat = rd(f, "feat", N * D), *feat_con = rd(f, "feat_con", N * D), *R = rd(f, "R", N * D);
    float *R2 = rd(f, "R2", N * D), *mask_ref = rd(f, "mask", N * D), *fused_ref = rd(f, "fused", N * D);
    float *loss_ref = rd(f, "loss", 1);
    CHECK(!rc && feat && feat_con && R && R2 && mask_ref && fused_ref && loss_ref);
    if (!rc && feat && feat_con && R && R2 && mask_ref && fused_ref && loss_ref) {
        oiqa_param_init(&p[4], "feat", 2, shapes[4]), oiqa_param_init(&p[5], "feat_con", 2, shapes[5]);
        memcpy(p[4].w, feat, sizeof(float) * N * D), memcpy(p[5].w, feat_con, sizeof(float) * N * D);
        oiqa_ag *ag = oiqa_ag_new();
        oiqa_agv fs = oiqa_ag_param(ag, &p[4]), fc = oiqa_ag_param(ag, &p[5]);
        oiqa_agv parts[2] = {fs, fc};
        oiqa_agv x = oiqa_ag_concat(ag, parts, 2);
        oiqa_agv h = oiqa_ag_linear(ag, x, oiqa_ag_param(ag, &p[0]), oiqa_ag_param(ag, &p[1]));
        oiqa_agv s = oiqa_ag_sigmoid(ag, oiqa_ag_linear(ag, h, oiqa_ag_param(ag, &p[2]), oiqa_ag_param(ag, &p[3])));
        oiqa_agv mask = oiqa_ag_bisign(ag, s, 0.5f);
        int sh[2] = {N, D};
        float *ones = malloc(sizeof(float) * N * D);
        for (int k = 0; k < N * D; k++) ones[k] = 1.0f;
        oiqa_agv inv = oiqa_ag_sub(ag, oiqa_ag_input(ag, ones, 2, sh), mask);
        oiqa_agv fused = oiqa_ag_add(ag, oiqa_ag_mul(ag, inv, fs), oiqa_ag_mul(ag, mask, fc));
        oiqa_agv loss = oiqa_ag_add(ag, sum_all(ag, oiqa_ag_mul(ag, fused, oiqa_ag_input(ag, R, 2, sh))),
                                    oiqa_ag_scale(ag, sum_all(ag, oiqa_ag_mul(ag, mask, oiqa_ag_input(ag, R2, 2, sh))),
                                                  0.5f));
        for (int i = 0; i < 6; i++) oiqa_param_zero_grad(&p[i]);
        CHECK_MSG(loss >= 0 && oiqa_ag_backward(ag, loss) == 0, "%s", oiqa_errmsg());
        if (loss >= 0) {
            int mask_diff = 0;
            double fused_err = 0;
            for (int k = 0; k < N * D; k++) {
                mask_diff += oiqa_ag_data(ag, mask)[k] != mask_ref[k];
                fused_err = fmax(fused_err, fabs(oiqa_ag_data(ag, fused)[k] - fused_ref[k]));
            }
            double l = oiqa_ag_data(ag, loss)[0];
            CHECK_MSG(mask_diff == 0, "%d mask elements differ", mask_diff);
            CHECK_MSG(fused_err <= 1e-6, "fused: max error %g", fused_err);
            CHECK_MSG(fabs(l - loss_ref[0]) <= 1e-5 * fabs(loss_ref[0]), "loss %.8g vs %.8g", l, loss_ref[0]);
            static const char *const gname[6] = {"grad/net.0.weight", "grad/net.0.bias", "grad/net.1.weight",
                                                 "grad/net.1.bias", "grad/feat", "grad/feat_con"};
            double worst = 0;
            for (int i = 0; i < 6; i++) {
                float *g = rd(f, gname[i], p[i].numel);
                CHECK_MSG(g != NULL, "no %s", gname[i]);
                double mref = 0, md = 0;
                for (size_t k = 0; g && k < p[i].numel; k++)
                    mref = fmax(mref, fabs(g[k])), md = fmax(md, fabs(p[i].g[k] - g[k]));
                CHECK_MSG(md <= 1e-5 * mref + 1e-6, "%s: max |c - ref| %g (max |ref| %g)", gname[i], md, mref);
                worst = fmax(worst, md / fmax(mref, 1e-30));
                free(g);
            }
            printf("  policy network: mask exact, fused %.1e, gradients within %.1e of max|ref|\n", fused_err, worst);
        }
        free(ones);
        oiqa_ag_free(ag);
        oiqa_param_free(&p[4]), oiqa_param_free(&p[5]);
    }
    for (int i = 0; i < 4; i++) oiqa_param_free(&p[i]);
    free(feat), free(feat_con), free(R), free(R2), free(mask_ref), free(fused_ref), free(loss_ref);
    oiqa_ckpt_close(ck);
    H5Fclose(f);
}

int main(void)
{
    oiqa_log_set_level(OIQA_LOG_WARN);
    oiqa_rng_seed(&rng, 23);
    RUN(t_finite_differences);
    RUN(t_pool_values);
    RUN(t_bisign_policy);
    return check_done();
}
