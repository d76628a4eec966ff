/* Elementwise and shape ops of the autograd tape (nn/ag.h). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ag_internal.h"
#include "nn/ag_kernels.h"

/* ---- broadcast binary ops ---------------------------------------------- */

/* b broadcasts onto a when it has a's shape, a's trailing dimensions, or one
 * element; its element for a's element k is then k % b->numel. */
static int broadcastable(const ag_node *a, const ag_node *b)
{
    if (b->numel == 1) return 1;
    if (b->ndim > a->ndim) return 0;
    for (int d = 0; d < b->ndim; d++)
        if (b->shape[b->ndim - 1 - d] != a->shape[a->ndim - 1 - d]) return 0;
    return 1;
}

static void add_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]), *gb = ag_grad_of(ag, n->in[1]);
    size_t nb = ag_node_of(ag, n->in[1])->numel;
    float sign = n->f[0];
    if (nb == n->numel) { /* same shapes: no two elements share a gradient */
#pragma omp parallel for schedule(static) if (n->numel > 65536)
        for (size_t k = 0; k < n->numel; k++) {
            if (ga) ga[k] += n->grad[k];
            if (gb) gb[k] += sign * n->grad[k];
        }
        return;
    }
    for (size_t k = 0; k < n->numel; k++) {
        if (ga) ga[k] += n->grad[k];
        if (gb) gb[k % nb] += sign * n->grad[k];
    }
}

static oiqa_agv add_signed(oiqa_ag *ag, oiqa_agv a, oiqa_agv b, float sign, const char *op)
{
    ag_node *na = ag_node_of(ag, a), *nb = ag_node_of(ag, b);
    if (!na || !nb) return -1;
    if (!broadcastable(na, nb)) return ag_fail(op, "shapes do not broadcast");
    oiqa_agv v = ag_push_raw(ag, na->ndim, na->shape, a, b, -1, add_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a), nb = ag_node_of(ag, b); /* the push may move nodes */
    size_t m = nb->numel;
#pragma omp parallel for schedule(static) if (n->numel > 65536)
    for (size_t k = 0; k < n->numel; k++) n->val[k] = na->val[k] + sign * nb->val[m == n->numel ? k : k % m];
    n->f[0] = sign;
    return v;
}

/* relu(a + b): the gradient passes where the output is positive. */
static void add_relu_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]), *gb = ag_grad_of(ag, n->in[1]);
    size_t parts = n->numel > 65536 ? 16 : 1;
#pragma omp parallel for schedule(static) if (parts > 1)
    for (size_t q = 0; q < parts; q++) {
        size_t k0 = n->numel * q / parts, k1 = n->numel * (q + 1) / parts;
        ag_k_add_relu_grad(n->val + k0, n->grad + k0, ga ? ga + k0 : NULL, gb ? gb + k0 : NULL, k1 - k0);
    }
}

oiqa_agv oiqa_ag_add_relu(oiqa_ag *ag, oiqa_agv a, oiqa_agv b)
{
    ag_node *na = ag_node_of(ag, a), *nb = ag_node_of(ag, b);
    if (!na || !nb) return -1;
    if (!ag_same_shape(na, nb)) return ag_fail("add_relu", "needs two values of one shape");
    oiqa_agv v = ag_push_raw(ag, na->ndim, na->shape, a, b, -1, add_relu_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a), nb = ag_node_of(ag, b);
    size_t parts = n->numel > 65536 ? 16 : 1;
#pragma omp parallel for schedule(static) if (parts > 1)
    for (size_t q = 0; q < parts; q++) {
        size_t k0 = n->numel * q / parts, k1 = n->numel * (q + 1) / parts;
        ag_k_add_relu(na->val + k0, nb->val + k0, n->val + k0, k1 - k0);
    }
    return v;
}

oiqa_agv oiqa_ag_add(oiqa_ag *ag, oiqa_agv a, oiqa_agv b) { return add_signed(ag, a, b, 1.0f, "add"); }
oiqa_agv oiqa_ag_sub(oiqa_ag *ag, oiqa_agv a, oiqa_agv b) { return add_signed(ag, a, b, -1.0f, "sub"); }

static void mul_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *na = ag_node_of(ag, n->in[0]), *nb = ag_node_of(ag, n->in[1]);
    float *ga = ag_grad_of(ag, n->in[0]), *gb = ag_grad_of(ag, n->in[1]);
    for (size_t k = 0; k < n->numel; k++) {
        float bk = nb->val[k % nb->numel];
        if (ga) ga[k] += n->grad[k] * bk;
        if (gb) gb[k % nb->numel] += n->grad[k] * na->val[k];
    }
}

oiqa_agv oiqa_ag_mul(oiqa_ag *ag, oiqa_agv a, oiqa_agv b)
{
    ag_node *na = ag_node_of(ag, a), *nb = ag_node_of(ag, b);
    if (!na || !nb) return -1;
    if (!broadcastable(na, nb)) return ag_fail("mul", "shapes do not broadcast");
    oiqa_agv v = ag_push(ag, na->ndim, na->shape, a, b, -1, mul_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a), nb = ag_node_of(ag, b);
    for (size_t k = 0; k < n->numel; k++) n->val[k] = na->val[k] * nb->val[k % nb->numel];
    return v;
}

/* ---- unary ops ------------------------------------------------------------ */

typedef enum { U_SCALE, U_RELU, U_GELU, U_SIGMOID, U_TANH, U_SILU, U_QUICK_GELU } unary_kind;

static float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

static float unary_grad(unary_kind kind, float x, float y, float s)
{
    switch (kind) {
    case U_SCALE: return s;
    case U_RELU: return x > 0 ? 1.0f : 0.0f;
    case U_GELU: {
        /* d/dx x*Phi(x) = Phi(x) + x*phi(x) */
        float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        return cdf + x * 0.39894228040143268f * expf(-0.5f * x * x);
    }
    case U_SIGMOID: return y * (1.0f - y);
    case U_SILU: { /* d/dx x sigma(x) = sigma (1 + x (1 - sigma)) */
        float sg = sigmoidf(x);
        return sg * (1.0f + x * (1.0f - sg));
    }
    case U_QUICK_GELU: { /* x sigma(1.702 x) */
        float sg = sigmoidf(1.702f * x);
        return sg * (1.0f + 1.702f * x * (1.0f - sg));
    }
    default: return 1.0f - y * y;
    }
}

static void unary_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *na = ag_node_of(ag, n->in[0]);
    float *ga = ag_grad_of(ag, n->in[0]);
    if (!ga) return;
#pragma omp parallel for schedule(static) if (n->numel > 65536)
    for (size_t k = 0; k < n->numel; k++) ga[k] += n->grad[k] * unary_grad(n->i[0], na->val[k], n->val[k], n->f[0]);
}

static oiqa_agv unary(oiqa_ag *ag, oiqa_agv a, unary_kind kind, float s)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    oiqa_agv v = ag_push_raw(ag, na->ndim, na->shape, a, -1, -1, unary_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    n->i[0] = kind, n->f[0] = s;
#pragma omp parallel for schedule(static) if (n->numel > 65536)
    for (size_t k = 0; k < n->numel; k++) {
        float x = na->val[k];
        switch (kind) {
        case U_SCALE: n->val[k] = s * x; break;
        case U_RELU: n->val[k] = x > 0 ? x : 0; break;
        case U_GELU: n->val[k] = 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); break;
        case U_SIGMOID: n->val[k] = 1.0f / (1.0f + expf(-x)); break;
        case U_TANH: n->val[k] = tanhf(x); break;
        case U_SILU: n->val[k] = x * sigmoidf(x); break;
        case U_QUICK_GELU: n->val[k] = x * sigmoidf(1.702f * x); break;
        }
    }
    return v;
}

oiqa_agv oiqa_ag_scale(oiqa_ag *ag, oiqa_agv a, float s) { return unary(ag, a, U_SCALE, s); }
oiqa_agv oiqa_ag_relu(oiqa_ag *ag, oiqa_agv a) { return unary(ag, a, U_RELU, 0); }
oiqa_agv oiqa_ag_gelu(oiqa_ag *ag, oiqa_agv a) { return unary(ag, a, U_GELU, 0); }
oiqa_agv oiqa_ag_sigmoid(oiqa_ag *ag, oiqa_agv a) { return unary(ag, a, U_SIGMOID, 0); }
oiqa_agv oiqa_ag_tanh(oiqa_ag *ag, oiqa_agv a) { return unary(ag, a, U_TANH, 0); }
oiqa_agv oiqa_ag_silu(oiqa_ag *ag, oiqa_agv a) { return unary(ag, a, U_SILU, 0); }
oiqa_agv oiqa_ag_quick_gelu(oiqa_ag *ag, oiqa_agv a) { return unary(ag, a, U_QUICK_GELU, 0); }

/* KD-OIQA's Bisign (policy.py): 1 where a > threshold, else 0; backward
 * passes the gradient straight through, clamped to [-1, 1]. */
static void bisign_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    for (size_t k = 0; ga && k < n->numel; k++) ga[k] += fminf(1.0f, fmaxf(-1.0f, n->grad[k]));
}

oiqa_agv oiqa_ag_bisign(oiqa_ag *ag, oiqa_agv a, float threshold)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    oiqa_agv v = ag_push(ag, na->ndim, na->shape, a, -1, -1, bisign_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    for (size_t k = 0; k < n->numel; k++) n->val[k] = na->val[k] > threshold ? 1.0f : 0.0f;
    return v;
}

/* ---- shape ops ------------------------------------------------------------ */

static void copy_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    for (size_t k = 0; ga && k < n->numel; k++) ga[k] += n->grad[k];
}

oiqa_agv oiqa_ag_reshape(oiqa_ag *ag, oiqa_agv a, int ndim, const int *shape)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) numel *= (size_t)(shape[d] > 0 ? shape[d] : 0);
    if (numel != na->numel) return ag_fail("reshape", "element counts differ");
    oiqa_agv v = ag_push(ag, ndim, shape, a, -1, -1, copy_backward);
    if (v < 0) return v;
    memcpy(ag->nodes[v].val, ag_node_of(ag, a)->val, numel * sizeof(float));
    return v;
}

static void dropout_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    for (size_t k = 0; ga && k < n->numel; k++) ga[k] += n->grad[k] * n->saved[k];
}

oiqa_agv oiqa_ag_dropout(oiqa_ag *ag, oiqa_agv a, float p, oiqa_rng *rng)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    if (!(p >= 0 && p < 1)) return ag_fail("dropout", "p must be in [0, 1)");
    if (!ag->training || p == 0) return a;
    oiqa_agv v = ag_push(ag, na->ndim, na->shape, a, -1, -1, dropout_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    if (!(n->saved = malloc(n->numel * sizeof(float)))) return ag_fail("dropout", "out of memory");
    float keep = 1.0f / (1.0f - p);
    for (size_t k = 0; k < n->numel; k++) {
        n->saved[k] = oiqa_rng_uniform(rng) < p ? 0.0f : keep;
        n->val[k] = na->val[k] * n->saved[k];
    }
    return v;
}

/* saved_int: for each output element, the input element it copies. */
static void gather_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    for (size_t k = 0; ga && k < n->numel; k++) ga[n->saved_int[k]] += n->grad[k];
}

/* A node whose element k is a[src[k]] (src owned by the node after this). */
static oiqa_agv gather(oiqa_ag *ag, oiqa_agv a, int ndim, const int *shape, int *src, const char *op)
{
    oiqa_agv v = ag_push(ag, ndim, shape, a, -1, -1, gather_backward);
    if (v < 0) {
        free(src);
        return v;
    }
    ag_node *n = &ag->nodes[v], *na = ag_node_of(ag, a);
    n->saved_int = src;
    for (size_t k = 0; k < n->numel; k++) n->val[k] = na->val[src[k]];
    (void)op;
    return v;
}

oiqa_agv oiqa_ag_permute(oiqa_ag *ag, oiqa_agv a, const int *perm)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    int nd = na->ndim, shape[OIQA_AG_MAX_DIMS], seen = 0;
    size_t in_stride[OIQA_AG_MAX_DIMS];
    for (int d = 0; d < nd; d++) {
        if (perm[d] < 0 || perm[d] >= nd || (seen & (1 << perm[d]))) return ag_fail("permute", "not a permutation");
        seen |= 1 << perm[d];
        shape[d] = na->shape[perm[d]];
    }
    in_stride[nd - 1] = 1;
    for (int d = nd - 2; d >= 0; d--) in_stride[d] = in_stride[d + 1] * (size_t)na->shape[d + 1];
    if (na->numel > (size_t)0x7fffffff) return ag_fail("permute", "too large");
    int *src = malloc(na->numel * sizeof(int));
    if (!src) return ag_fail("permute", "out of memory");
    int idx[OIQA_AG_MAX_DIMS] = {0};
    for (size_t k = 0; k < na->numel; k++) {
        size_t off = 0;
        for (int d = 0; d < nd; d++) off += (size_t)idx[d] * in_stride[perm[d]];
        src[k] = (int)off;
        for (int d = nd - 1; d >= 0; d--) {
            if (++idx[d] < shape[d]) break;
            idx[d] = 0;
        }
    }
    return gather(ag, a, nd, shape, src, "permute");
}

oiqa_agv oiqa_ag_select(oiqa_ag *ag, oiqa_agv a, int index)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    if (na->ndim < 2 || index < 0 || index >= na->shape[0]) return ag_fail("select", "index outside the first dimension");
    size_t inner = na->numel / (size_t)na->shape[0];
    int *src = malloc(inner * sizeof(int));
    if (!src) return ag_fail("select", "out of memory");
    for (size_t k = 0; k < inner; k++) src[k] = (int)(index * inner + k);
    return gather(ag, a, na->ndim - 1, na->shape + 1, src, "select");
}

/* Padding positions (saved index -1) read zero and pass no gradient. */
static void im2col_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    for (size_t k = 0; ga && k < n->numel; k++)
        if (n->saved_int[k] >= 0) ga[n->saved_int[k]] += n->grad[k];
}

oiqa_agv oiqa_ag_im2col(oiqa_ag *ag, oiqa_agv x, int kh, int kw, int stride, int pad_h, int pad_w)
{
    ag_node *nx = ag_node_of(ag, x);
    if (!nx) return -1;
    if (nx->ndim != 4 || kh < 1 || kw < 1 || stride < 1 || pad_h < 0 || pad_w < 0)
        return ag_fail("im2col", "needs [B,H,W,C], kernel and stride >= 1, padding >= 0");
    int B = nx->shape[0], H = nx->shape[1], W = nx->shape[2], C = nx->shape[3];
    int OH = (H + 2 * pad_h - kh) / stride + 1, OW = (W + 2 * pad_w - kw) / stride + 1;
    if (H + 2 * pad_h < kh || W + 2 * pad_w < kw) return ag_fail("im2col", "kernel larger than the padded input");
    int shape[4] = {B, OH, OW, kh * kw * C};
    oiqa_agv v = ag_push(ag, 4, shape, x, -1, -1, im2col_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nx = ag_node_of(ag, x);
    if (!(n->saved_int = malloc(n->numel * sizeof(int)))) return ag_fail("im2col", "out of memory");
    size_t o = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++)
                for (int u = 0; u < kh; u++)
                    for (int w = 0; w < kw; w++)
                        for (int c = 0; c < C; c++, o++) {
                            int y = i * stride + u - pad_h, xx = j * stride + w - pad_w;
                            int inside = y >= 0 && y < H && xx >= 0 && xx < W;
                            int src = inside ? ((b * H + y) * W + xx) * C + c : -1;
                            n->saved_int[o] = src;
                            n->val[o] = inside ? nx->val[src] : 0.0f;
                        }
    return v;
}
