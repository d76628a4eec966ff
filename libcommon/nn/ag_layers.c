/* Layers on the autograd tape; see nn/ag_layers.h. */
#include "nn/ag_layers.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"

static void uniform_fill(oiqa_param *p, double bound, oiqa_rng *rng)
{
    for (size_t k = 0; k < p->numel; k++) p->w[k] = (float)(bound * (2 * oiqa_rng_uniform(rng) - 1));
}

static int param_named(oiqa_param *p, const char *layer, const char *what, int ndim, const int *shape)
{
    char name[160];
    snprintf(name, sizeof name, "%s.%s", layer, what);
    return oiqa_param_init(p, name, ndim, shape);
}

int oiqa_linear_layer_init(oiqa_linear_layer *l, const char *name, int in, int out, int bias, oiqa_rng *rng)
{
    l->in = in, l->out = out, l->has_bias = bias;
    int ws[2] = {out, in}, bs[1] = {out};
    int rc = param_named(&l->w, name, "weight", 2, ws);
    if (!rc && bias) rc = param_named(&l->b, name, "bias", 1, bs);
    if (rc) return rc;
    double bound = 1.0 / sqrt((double)in);
    uniform_fill(&l->w, bound, rng);
    if (bias) uniform_fill(&l->b, bound, rng);
    return OIQA_OK;
}

oiqa_agv oiqa_linear_layer_apply(oiqa_ag *ag, oiqa_linear_layer *l, oiqa_agv x)
{
    return oiqa_ag_linear(ag, x, oiqa_ag_param(ag, &l->w), l->has_bias ? oiqa_ag_param(ag, &l->b) : -1);
}

void oiqa_linear_layer_free(oiqa_linear_layer *l)
{
    oiqa_param_free(&l->w);
    oiqa_param_free(&l->b);
}

int oiqa_linear_layer_params(oiqa_linear_layer *l, oiqa_param **out)
{
    out[0] = &l->w;
    if (l->has_bias) out[1] = &l->b;
    return l->has_bias ? 2 : 1;
}

int oiqa_conv_layer_init(oiqa_conv_layer *l, const char *name, int kh, int kw, int cin, int cout, int stride,
                         int pad_h, int pad_w, oiqa_rng *rng)
{
    *l = (oiqa_conv_layer){.kh = kh, .kw = kw, .stride = stride, .pad_h = pad_h, .pad_w = pad_w, .cin = cin,
                           .cout = cout};
    int ws[2] = {kh * kw * cin, cout}, bs[1] = {cout};
    int rc = param_named(&l->w, name, "weight", 2, ws);
    if (!rc) rc = param_named(&l->b, name, "bias", 1, bs);
    if (rc) return rc;
    double bound = 1.0 / sqrt((double)kh * kw * cin); /* nn.Conv2d's default */
    uniform_fill(&l->w, bound, rng);
    uniform_fill(&l->b, bound, rng);
    return OIQA_OK;
}

oiqa_agv oiqa_conv_layer_apply(oiqa_ag *ag, oiqa_conv_layer *l, oiqa_agv x)
{
    int nd = oiqa_ag_ndim(ag, x);
    const int *s = oiqa_ag_shape(ag, x);
    if (!s) return -1;
    oiqa_agv x4 = x;
    if (nd == 3) { /* 1-D: [B, L, C] as [B, 1, L, C] */
        int shape4[4] = {s[0], 1, s[1], s[2]};
        x4 = oiqa_ag_reshape(ag, x, 4, shape4);
    }
    oiqa_agv cols = oiqa_ag_im2col(ag, x4, l->kh, l->kw, l->stride, l->pad_h, l->pad_w);
    oiqa_agv y = oiqa_ag_add(ag, oiqa_ag_matmul(ag, cols, oiqa_ag_param(ag, &l->w)), oiqa_ag_param(ag, &l->b));
    if (nd != 3 || y < 0) return y;
    const int *ys = oiqa_ag_shape(ag, y);
    int shape3[3] = {ys[0], ys[2], ys[3]};
    return oiqa_ag_reshape(ag, y, 3, shape3);
}

void oiqa_conv_layer_free(oiqa_conv_layer *l)
{
    oiqa_param_free(&l->w);
    oiqa_param_free(&l->b);
}

int oiqa_conv_layer_params(oiqa_conv_layer *l, oiqa_param **out)
{
    out[0] = &l->w, out[1] = &l->b;
    return 2;
}

int oiqa_mha_init(oiqa_mha *m, const char *name, int dim, int heads, oiqa_rng *rng)
{
    if (heads < 1 || dim % heads) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s: dim %d is not a multiple of heads %d",
                                                   name, dim, heads);
    m->dim = dim, m->heads = heads;
    char sub[160];
    const char *parts[4] = {"q", "k", "v", "out"};
    oiqa_linear_layer *layers[4] = {&m->q, &m->k, &m->v, &m->o};
    for (int i = 0; i < 4; i++) {
        snprintf(sub, sizeof sub, "%s.%s", name, parts[i]);
        int rc = oiqa_linear_layer_init(layers[i], sub, dim, dim, 1, rng);
        if (rc) return rc;
    }
    return OIQA_OK;
}

oiqa_agv oiqa_mha_apply(oiqa_ag *ag, oiqa_mha *m, oiqa_agv x, oiqa_agv kv)
{
    if (kv == -1) kv = x;
    const int *s = oiqa_ag_shape(ag, x);
    if (!s || oiqa_ag_ndim(ag, x) != 3 || s[2] != m->dim) return -1;
    oiqa_agv q = oiqa_linear_layer_apply(ag, &m->q, x);
    oiqa_agv k = oiqa_linear_layer_apply(ag, &m->k, kv);
    oiqa_agv v = oiqa_linear_layer_apply(ag, &m->v, kv);
    return oiqa_linear_layer_apply(ag, &m->o, oiqa_ag_attention(ag, q, k, v, m->heads, NULL));
}

void oiqa_mha_free(oiqa_mha *m)
{
    oiqa_linear_layer_free(&m->q), oiqa_linear_layer_free(&m->k);
    oiqa_linear_layer_free(&m->v), oiqa_linear_layer_free(&m->o);
}

int oiqa_mha_params(oiqa_mha *m, oiqa_param **out)
{
    int n = 0;
    n += oiqa_linear_layer_params(&m->q, out + n);
    n += oiqa_linear_layer_params(&m->k, out + n);
    n += oiqa_linear_layer_params(&m->v, out + n);
    n += oiqa_linear_layer_params(&m->o, out + n);
    return n;
}

int oiqa_lstm_init(oiqa_lstm *l, const char *name, int in, int hidden, oiqa_rng *rng)
{
    l->in = in, l->hidden = hidden;
    char sub[160];
    snprintf(sub, sizeof sub, "%s.ih", name);
    int rc = oiqa_linear_layer_init(&l->ih, sub, in, 4 * hidden, 1, rng);
    snprintf(sub, sizeof sub, "%s.hh", name);
    if (!rc) rc = oiqa_linear_layer_init(&l->hh, sub, hidden, 4 * hidden, 0, rng);
    if (rc) return rc;
    /* nn.LSTM draws every weight from U(+-1/sqrt(hidden)). */
    double bound = 1.0 / sqrt((double)hidden);
    uniform_fill(&l->ih.w, bound, rng), uniform_fill(&l->ih.b, bound, rng), uniform_fill(&l->hh.w, bound, rng);
    return OIQA_OK;
}

oiqa_agv oiqa_lstm_apply(oiqa_ag *ag, oiqa_lstm *l, oiqa_agv x)
{
    const int *s = oiqa_ag_shape(ag, x);
    if (!s || oiqa_ag_ndim(ag, x) != 3 || s[2] != l->in) return -1;
    int B = s[0], T = s[1], H = l->hidden;
    /* The input projections of all steps in one product, then [T, B, 4H]. */
    int perm[3] = {1, 0, 2}, zs[2] = {B, H}, ys[3] = {B, T, H};
    oiqa_agv gx = oiqa_ag_permute(ag, oiqa_linear_layer_apply(ag, &l->ih, x), perm);
    oiqa_agv h = oiqa_ag_input(ag, NULL, 2, zs), c = oiqa_ag_input(ag, NULL, 2, zs);
    oiqa_agv *outs = malloc((size_t)T * sizeof *outs);
    if (!outs) return (oiqa_fail(OIQA_EXIT_DATA, NULL, "lstm: out of memory"), -1);
    for (int t = 0; t < T; t++) {
        oiqa_agv g = oiqa_ag_add(ag, oiqa_ag_select(ag, gx, t), oiqa_linear_layer_apply(ag, &l->hh, h));
        oiqa_agv i = oiqa_ag_sigmoid(ag, oiqa_ag_slice(ag, g, 0, H));
        oiqa_agv f = oiqa_ag_sigmoid(ag, oiqa_ag_slice(ag, g, H, H));
        oiqa_agv cand = oiqa_ag_tanh(ag, oiqa_ag_slice(ag, g, 2 * H, H));
        oiqa_agv o = oiqa_ag_sigmoid(ag, oiqa_ag_slice(ag, g, 3 * H, H));
        c = oiqa_ag_add(ag, oiqa_ag_mul(ag, f, c), oiqa_ag_mul(ag, i, cand));
        h = oiqa_ag_mul(ag, o, oiqa_ag_tanh(ag, c));
        outs[t] = h;
    }
    oiqa_agv y = oiqa_ag_reshape(ag, oiqa_ag_concat(ag, outs, T), 3, ys);
    free(outs);
    return y;
}

void oiqa_lstm_free(oiqa_lstm *l)
{
    oiqa_linear_layer_free(&l->ih);
    oiqa_linear_layer_free(&l->hh);
}

int oiqa_lstm_params(oiqa_lstm *l, oiqa_param **out)
{
    int n = oiqa_linear_layer_params(&l->ih, out);
    return n + oiqa_linear_layer_params(&l->hh, out + n);
}
