/* nn/ag_layers.h and the shape ops under it (permute, select, im2col):
 * gradients by finite differences, and forward values against direct
 * computations (convolution vs the naive reference kernel, attention and
 * LSTM written out by hand). */
#include <math.h>

#include "base/error.h"
#include "nn/ag_layers.h"
#include "nn/reference.h"
#include "check.h"
#include "ag_check.h"

static oiqa_rng rng;
static oiqa_conv_layer g_conv;
static oiqa_mha g_mha;
static oiqa_lstm g_lstm;

static void fill(oiqa_param *p, double scale)
{
    for (size_t k = 0; k < p->numel; k++) p->w[k] = (float)(scale * oiqa_rng_normal(&rng));
}

static oiqa_agv b_permute(oiqa_ag *ag, oiqa_agv *p)
{
    int perm[4] = {2, 0, 3, 1};
    return ag_scalarize(ag, oiqa_ag_permute(ag, p[0], perm));
}
static oiqa_agv b_select(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_select(ag, p[0], 2)); }
static oiqa_agv b_im2col(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_im2col(ag, p[0], 3, 2, 2, 1, 1)); }
static oiqa_agv b_conv(oiqa_ag *ag, oiqa_agv *p)
{
    /* p[0] is the input; the layer's own parameters come in p[1], p[2] */
    (void)p;
    return ag_scalarize(ag, oiqa_conv_layer_apply(ag, &g_conv, p[0]));
}
static oiqa_agv b_mha(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_mha_apply(ag, &g_mha, p[0], -1)); }
static oiqa_agv b_lstm(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_lstm_apply(ag, &g_lstm, p[0])); }

static void t_shape_op_gradients(void)
{
    oiqa_param x;
    int s4[4] = {2, 3, 4, 2}, s3[3] = {4, 3, 2}, sx[4] = {2, 5, 4, 3};
    oiqa_param_init(&x, "x", 4, s4), fill(&x, 1);
    oiqa_param *ps[1] = {&x};
    CHECK(ag_grad_check("permute", b_permute, ps, 1) < AG_GRAD_TOL);
    oiqa_param_free(&x);
    oiqa_param_init(&x, "x", 3, s3), fill(&x, 1);
    CHECK(ag_grad_check("select", b_select, ps, 1) < AG_GRAD_TOL);
    oiqa_param_free(&x);
    oiqa_param_init(&x, "x", 4, sx), fill(&x, 1);
    CHECK(ag_grad_check("im2col", b_im2col, ps, 1) < AG_GRAD_TOL);
    oiqa_param_free(&x);
}

/* The layer's forward equals the naive convolution, and its gradients
 * (input, weight, bias) match finite differences. */
static void t_conv_layer(void)
{
    CHECK(oiqa_conv_layer_init(&g_conv, "conv", 3, 3, 5, 7, 2, 1, 1, &rng) == OIQA_OK);
    int sx[4] = {2, 6, 5, 5};
    oiqa_param x;
    oiqa_param_init(&x, "x", 4, sx), fill(&x, 1);
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_agv y = oiqa_conv_layer_apply(ag, &g_conv, oiqa_ag_input(ag, x.w, 4, sx));
    CHECK(y >= 0);
    oiqa_tensor tx = {2, 6, 5, 5, x.w}, ty = {0};
    oiqa_tensor_create(&ty, 2, 3, 3, 7);
    /* HWIO [u][v][c][o] -> OIHW [o][c][u][v] for the reference. */
    float oihw[7 * 5 * 3 * 3];
    for (int u = 0; u < 3; u++)
        for (int v = 0; v < 3; v++)
            for (int ci = 0; ci < 5; ci++)
                for (int o = 0; o < 7; o++) oihw[((o * 5 + ci) * 3 + u) * 3 + v] = g_conv.w.w[((u * 3 + v) * 5 + ci) * 7 + o];
    oiqa_ref_conv2d(&tx, oihw, g_conv.b.w, 7, 3, 3, 2, 1, NULL, 0, &ty);
    double worst = 0;
    const float *got = y >= 0 ? oiqa_ag_data(ag, y) : NULL;
    for (size_t k = 0; got && k < oiqa_tensor_numel(&ty); k++) worst = fmax(worst, fabs(got[k] - ty.data[k]));
    CHECK_MSG(got && worst < 1e-5, "conv vs reference: %g", worst);
    oiqa_tensor_free(&ty);
    oiqa_ag_free(ag);
    oiqa_param *ps[3] = {&x, &g_conv.w, &g_conv.b};
    CHECK(ag_grad_check("conv2d", b_conv, ps, 3) < AG_GRAD_TOL);
    oiqa_param_free(&x);
    oiqa_conv_layer_free(&g_conv);
    /* 1-D: kernel 1 x 3 over [B, L, C]. */
    CHECK(oiqa_conv_layer_init(&g_conv, "conv1d", 1, 3, 4, 3, 1, 0, 1, &rng) == OIQA_OK);
    int s1[3] = {2, 7, 4};
    oiqa_param_init(&x, "x", 3, s1), fill(&x, 1);
    CHECK(ag_grad_check("conv1d", b_conv, ps, 3) < AG_GRAD_TOL);
    oiqa_param_free(&x);
    oiqa_conv_layer_free(&g_conv);
}

/* Attention against a direct computation for one head, and gradients. */
static void t_attention(void)
{
    CHECK(oiqa_mha_init(&g_mha, "att", 4, 1, &rng) == OIQA_OK);
    int sx[3] = {1, 3, 4};
    float x[12];
    for (int i = 0; i < 12; i++) x[i] = (float)oiqa_rng_normal(&rng);
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_agv y = oiqa_mha_apply(ag, &g_mha, oiqa_ag_input(ag, x, 3, sx), -1);
    CHECK(y >= 0);
    /* Direct: q, k, v = x W^T + b; a = softmax(q k^T / 2); out = (a v) Wo^T + bo. */
    double q[3][4], k[3][4], v[3][4], ctx[3][4], worst = 0;
    oiqa_linear_layer *ls[3] = {&g_mha.q, &g_mha.k, &g_mha.v};
    double (*qkv[3])[4] = {q, k, v};
    for (int m = 0; m < 3; m++)
        for (int t = 0; t < 3; t++)
            for (int o = 0; o < 4; o++) {
                double acc = ls[m]->b.w[o];
                for (int i = 0; i < 4; i++) acc += x[t * 4 + i] * ls[m]->w.w[o * 4 + i];
                qkv[m][t][o] = acc;
            }
    for (int t = 0; t < 3; t++) {
        double sc[3], mx = -1e300, sum = 0;
        for (int s = 0; s < 3; s++) {
            sc[s] = 0;
            for (int i = 0; i < 4; i++) sc[s] += q[t][i] * k[s][i] / 2.0;
            mx = fmax(mx, sc[s]);
        }
        for (int s = 0; s < 3; s++) sum += (sc[s] = exp(sc[s] - mx));
        for (int i = 0; i < 4; i++) {
            ctx[t][i] = 0;
            for (int s = 0; s < 3; s++) ctx[t][i] += sc[s] / sum * v[s][i];
        }
        for (int o = 0; o < 4 && y >= 0; o++) {
            double out = g_mha.o.b.w[o];
            for (int i = 0; i < 4; i++) out += ctx[t][i] * g_mha.o.w.w[o * 4 + i];
            worst = fmax(worst, fabs(out - oiqa_ag_data(ag, y)[t * 4 + o]));
        }
    }
    CHECK_MSG(worst < 1e-5, "attention vs direct: %g", worst);
    oiqa_ag_free(ag);
    oiqa_mha_free(&g_mha);
    /* Gradients through two heads, wrt the input and all 8 parameters. */
    CHECK(oiqa_mha_init(&g_mha, "att2", 6, 2, &rng) == OIQA_OK);
    int s2[3] = {2, 3, 6};
    oiqa_param xp;
    oiqa_param_init(&xp, "x", 3, s2), fill(&xp, 1);
    oiqa_param *ps[9] = {&xp};
    int n = 1 + oiqa_mha_params(&g_mha, ps + 1);
    CHECK(n == 9 && ag_grad_check("attention", b_mha, ps, n) < AG_GRAD_TOL);
    oiqa_param_free(&xp);
    oiqa_mha_free(&g_mha);
    oiqa_mha bad;
    CHECK(oiqa_mha_init(&bad, "bad", 6, 4, &rng) == OIQA_EXIT_USAGE);
}

/* LSTM: one step by hand, then gradients over 4 steps. */
static void t_lstm(void)
{
    CHECK(oiqa_lstm_init(&g_lstm, "lstm", 2, 3, &rng) == OIQA_OK);
    int sx[3] = {1, 1, 2};
    float x[2] = {0.5f, -1.0f};
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_agv y = oiqa_lstm_apply(ag, &g_lstm, oiqa_ag_input(ag, x, 3, sx));
    CHECK(y >= 0 && oiqa_ag_shape(ag, y)[2] == 3);
    double worst = 0;
    for (int j = 0; j < 3 && y >= 0; j++) {
        double gate[4];
        for (int q = 0; q < 4; q++) {
            int row = q * 3 + j;
            gate[q] = g_lstm.ih.b.w[row] + x[0] * g_lstm.ih.w.w[row * 2] + x[1] * g_lstm.ih.w.w[row * 2 + 1];
        }
        double i = 1 / (1 + exp(-gate[0])), c = i * tanh(gate[2]), o = 1 / (1 + exp(-gate[3]));
        worst = fmax(worst, fabs(o * tanh(c) - oiqa_ag_data(ag, y)[j]));
    }
    CHECK_MSG(worst < 1e-6, "lstm step vs direct: %g", worst);
    oiqa_ag_free(ag);
    int s4[3] = {2, 4, 2};
    oiqa_param xp;
    oiqa_param_init(&xp, "x", 3, s4), fill(&xp, 1);
    oiqa_param *ps[4] = {&xp};
    int n = 1 + oiqa_lstm_params(&g_lstm, ps + 1);
    CHECK(n == 4 && ag_grad_check("lstm", b_lstm, ps, n) < AG_GRAD_TOL);
    oiqa_param_free(&xp);
    oiqa_lstm_free(&g_lstm);
}

int main(void)
{
    oiqa_rng_seed(&rng, 11);
    RUN(t_shape_op_gradients);
    RUN(t_conv_layer);
    RUN(t_attention);
    RUN(t_lstm);
    return check_done();
}
