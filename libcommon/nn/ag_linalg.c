/* Matrix products, softmax, layer norm and axis reductions of the autograd
 * tape (nn/ag.h). GEMMs go through OpenBLAS; call from serial code. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ag_internal.h"

/* Leading ("batch") count of a value seen as [batch, rows, cols]. */
static size_t batch_of(const ag_node *n) { return n->numel / ((size_t)n->shape[n->ndim - 2] * n->shape[n->ndim - 1]); }

/* C (+)= op(A) op(B) for row-major M x N results. */
static void gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta,
                 float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, 1.0f, A, lda,
                B, ldb, beta, C, ldc);
}

static void matmul_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *na = ag_node_of(ag, n->in[0]), *nb = ag_node_of(ag, n->in[1]);
    float *ga = ag_grad_of(ag, n->in[0]), *gb = ag_grad_of(ag, n->in[1]);
    int M = na->shape[na->ndim - 2], K = na->shape[na->ndim - 1], N = nb->shape[nb->ndim - 1];
    int shared_b = nb->ndim == 2 && na->ndim > 2;
    size_t batch = batch_of(na);
    if (shared_b && gb) { /* all batches at once: dB = A^T dC over (batch*M) rows */
        gemm(1, 0, K, N, (int)(batch * M), na->val, K, n->grad, N, 1.0f, gb, N);
        gb = NULL;
    }
    for (size_t b = 0; b < batch; b++) {
        const float *A = na->val + b * M * K, *B = nb->val + (shared_b ? 0 : b * K * N), *G = n->grad + b * M * N;
        if (ga) gemm(0, 1, M, K, N, G, N, B, N, 1.0f, ga + b * M * K, K);   /* dA = dC B^T */
        if (gb) gemm(1, 0, K, N, M, A, K, G, N, 1.0f, gb + b * K * N, N);   /* dB = A^T dC */
    }
}

oiqa_agv oiqa_ag_matmul(oiqa_ag *ag, oiqa_agv a, oiqa_agv b)
{
    ag_node *na = ag_node_of(ag, a), *nb = ag_node_of(ag, b);
    if (!na || !nb) return -1;
    if (na->ndim < 2 || nb->ndim < 2) return ag_fail("matmul", "operands need 2 or more dimensions");
    int M = na->shape[na->ndim - 2], K = na->shape[na->ndim - 1], N = nb->shape[nb->ndim - 1];
    if (nb->shape[nb->ndim - 2] != K) return ag_fail("matmul", "inner dimensions differ");
    int shared_b = nb->ndim == 2;
    if (!shared_b && (nb->ndim != na->ndim || batch_of(nb) != batch_of(na)))
        return ag_fail("matmul", "batched operands need the same leading dimensions");
    int shape[OIQA_AG_MAX_DIMS];
    memcpy(shape, na->shape, sizeof shape);
    shape[na->ndim - 1] = N;
    oiqa_agv v = ag_push(ag, na->ndim, shape, a, b, -1, matmul_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a), nb = ag_node_of(ag, b);
    size_t batch = batch_of(na);
    if (shared_b) gemm(0, 0, (int)(batch * M), N, K, na->val, K, nb->val, N, 0.0f, n->val, N);
    else
        for (size_t i = 0; i < batch; i++)
            gemm(0, 0, M, N, K, na->val + i * M * K, K, nb->val + i * K * N, N, 0.0f, n->val + i * M * N, N);
    return v;
}

static void linear_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *nx = ag_node_of(ag, n->in[0]), *nw = ag_node_of(ag, n->in[1]);
    float *gx = ag_grad_of(ag, n->in[0]), *gw = ag_grad_of(ag, n->in[1]);
    float *gbias = n->in[2] >= 0 ? ag_grad_of(ag, n->in[2]) : NULL;
    int out = nw->shape[0], in = nw->shape[1], rows = (int)(nx->numel / (size_t)in);
    if (gx) gemm(0, 0, rows, in, out, n->grad, out, nw->val, in, 1.0f, gx, in);  /* dX = dY W */
    if (gw) gemm(1, 0, out, in, rows, n->grad, out, nx->val, in, 1.0f, gw, in);  /* dW = dY^T X */
    for (int r = 0; gbias && r < rows; r++)
        for (int o = 0; o < out; o++) gbias[o] += n->grad[(size_t)r * out + o];
}

oiqa_agv oiqa_ag_linear(oiqa_ag *ag, oiqa_agv x, oiqa_agv w, oiqa_agv b)
{
    ag_node *nx = ag_node_of(ag, x), *nw = ag_node_of(ag, w), *nb = b >= 0 ? ag_node_of(ag, b) : NULL;
    if (!nx || !nw || (b != -1 && !nb)) return -1;
    if (nw->ndim != 2 || nx->shape[nx->ndim - 1] != nw->shape[1])
        return ag_fail("linear", "weight is not [out, in] for the input's last dimension");
    if (nb && (nb->numel != (size_t)nw->shape[0])) return ag_fail("linear", "bias is not [out]");
    int shape[OIQA_AG_MAX_DIMS];
    memcpy(shape, nx->shape, sizeof shape);
    shape[nx->ndim - 1] = nw->shape[0];
    oiqa_agv v = ag_push(ag, nx->ndim, shape, x, w, b, linear_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nx = ag_node_of(ag, x), nw = ag_node_of(ag, w), nb = b >= 0 ? ag_node_of(ag, b) : NULL;
    int out = nw->shape[0], in = nw->shape[1], rows = (int)(nx->numel / (size_t)in);
    for (int r = 0; nb && r < rows; r++) memcpy(n->val + (size_t)r * out, nb->val, (size_t)out * sizeof(float));
    gemm(0, 1, rows, out, in, nx->val, in, nw->val, in, nb ? 1.0f : 0.0f, n->val, out);
    return v;
}

static void softmax_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    size_t C = (size_t)n->shape[n->ndim - 1], rows = n->numel / C;
    for (size_t r = 0; ga && r < rows; r++) {
        const float *y = n->val + r * C, *g = n->grad + r * C;
        double dot = 0;
        for (size_t c = 0; c < C; c++) dot += (double)g[c] * y[c];
        for (size_t c = 0; c < C; c++) ga[r * C + c] += y[c] * (g[c] - (float)dot);
    }
}

oiqa_agv oiqa_ag_softmax(oiqa_ag *ag, oiqa_agv a)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    oiqa_agv v = ag_push(ag, na->ndim, na->shape, a, -1, -1, softmax_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    size_t C = (size_t)n->shape[n->ndim - 1], rows = n->numel / C;
    for (size_t r = 0; r < rows; r++) {
        const float *x = na->val + r * C;
        float *y = n->val + r * C, mx = x[0];
        for (size_t c = 1; c < C; c++) mx = x[c] > mx ? x[c] : mx;
        double sum = 0;
        for (size_t c = 0; c < C; c++) sum += (y[c] = expf(x[c] - mx));
        for (size_t c = 0; c < C; c++) y[c] = (float)(y[c] / sum);
    }
    return v;
}

/* saved: per row mean and 1/sqrt(var + eps); x-hat is recomputed. */
static void layernorm_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *nx = ag_node_of(ag, n->in[0]);
    ag_node *ng = n->in[1] >= 0 ? ag_node_of(ag, n->in[1]) : NULL;
    float *gx = ag_grad_of(ag, n->in[0]);
    float *gg = n->in[1] >= 0 ? ag_grad_of(ag, n->in[1]) : NULL, *gbeta = n->in[2] >= 0 ? ag_grad_of(ag, n->in[2]) : NULL;
    size_t C = (size_t)n->shape[n->ndim - 1], rows = n->numel / C;
    for (size_t r = 0; r < rows; r++) {
        const float *x = nx->val + r * C, *g = n->grad + r * C;
        float mean = n->saved[2 * r], rstd = n->saved[2 * r + 1];
        double sum_dy = 0, sum_dy_xhat = 0;
        for (size_t c = 0; c < C; c++) {
            float xhat = (x[c] - mean) * rstd, dy = g[c] * (ng ? ng->val[c] : 1.0f);
            sum_dy += dy, sum_dy_xhat += dy * xhat;
            if (gg) gg[c] += g[c] * xhat;
            if (gbeta) gbeta[c] += g[c];
        }
        for (size_t c = 0; gx && c < C; c++) {
            float xhat = (x[c] - mean) * rstd, dy = g[c] * (ng ? ng->val[c] : 1.0f);
            gx[r * C + c] += rstd * (dy - (float)(sum_dy / C) - xhat * (float)(sum_dy_xhat / C));
        }
    }
}

oiqa_agv oiqa_ag_layernorm(oiqa_ag *ag, oiqa_agv x, oiqa_agv gamma, oiqa_agv beta, float eps)
{
    ag_node *nx = ag_node_of(ag, x);
    ag_node *ng = gamma >= 0 ? ag_node_of(ag, gamma) : NULL, *nb = beta >= 0 ? ag_node_of(ag, beta) : NULL;
    if (!nx || (gamma != -1 && !ng) || (beta != -1 && !nb)) return -1;
    size_t C = (size_t)nx->shape[nx->ndim - 1], rows = nx->numel / C;
    if ((ng && ng->numel != C) || (nb && nb->numel != C)) return ag_fail("layernorm", "gamma/beta are not [C]");
    oiqa_agv v = ag_push(ag, nx->ndim, nx->shape, x, gamma, beta, layernorm_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nx = ag_node_of(ag, x), ng = gamma >= 0 ? ag_node_of(ag, gamma) : NULL, nb = beta >= 0 ? ag_node_of(ag, beta) : NULL;
    if (!(n->saved = malloc(2 * rows * sizeof(float)))) return ag_fail("layernorm", "out of memory");
    for (size_t r = 0; r < rows; r++) {
        const float *xr = nx->val + r * C;
        double s = 0, s2 = 0;
        for (size_t c = 0; c < C; c++) s += xr[c];
        double mean = s / C;
        for (size_t c = 0; c < C; c++) s2 += (xr[c] - mean) * (xr[c] - mean);
        float rstd = (float)(1.0 / sqrt(s2 / C + eps));
        n->saved[2 * r] = (float)mean, n->saved[2 * r + 1] = rstd;
        for (size_t c = 0; c < C; c++) {
            float y = (xr[c] - (float)mean) * rstd;
            n->val[r * C + c] = y * (ng ? ng->val[c] : 1.0f) + (nb ? nb->val[c] : 0.0f);
        }
    }
    return v;
}

/* A value seen as [outer, len, inner] around `axis`. */
static void axis_split(const ag_node *a, int axis, size_t *outer, size_t *len, size_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= (size_t)a->shape[d];
    for (int d = axis + 1; d < a->ndim; d++) *inner *= (size_t)a->shape[d];
    *len = (size_t)a->shape[axis];
}

/* i[0] = axis, i[1] = 0 mean / 1 std, f[0] = divisor correction. */
static void reduce_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *na = ag_node_of(ag, n->in[0]);
    float *ga = ag_grad_of(ag, n->in[0]);
    if (!ga) return;
    size_t outer, len, inner;
    axis_split(na, n->i[0], &outer, &len, &inner);
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            size_t out_k = o * inner + i;
            float g = n->grad[out_k];
            if (n->i[1] == 0) {
                for (size_t l = 0; l < len; l++) ga[(o * len + l) * inner + i] += g / (float)len;
            } else {
                /* d std / d x_l = (x_l - mean) / (std * (len - correction)) */
                float mean = n->saved[out_k], sd = n->val[out_k];
                if (sd <= 0) continue;
                for (size_t l = 0; l < len; l++) {
                    size_t k = (o * len + l) * inner + i;
                    ga[k] += g * (na->val[k] - mean) / (sd * ((float)len - n->f[0]));
                }
            }
        }
}

static oiqa_agv reduce_axis(oiqa_ag *ag, oiqa_agv a, int axis, int is_std, int unbiased)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    if (axis < 0 || axis >= na->ndim || na->ndim < 2) return ag_fail("reduce", "axis outside the shape");
    size_t outer, len, inner;
    axis_split(na, axis, &outer, &len, &inner);
    if (is_std && unbiased && len < 2) return ag_fail("std", "needs at least 2 elements along the axis");
    int shape[OIQA_AG_MAX_DIMS], nd = 0;
    for (int d = 0; d < na->ndim; d++)
        if (d != axis) shape[nd++] = na->shape[d];
    oiqa_agv v = ag_push(ag, nd, shape, a, -1, -1, reduce_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    n->i[0] = axis, n->i[1] = is_std, n->f[0] = unbiased ? 1.0f : 0.0f;
    if (is_std && !(n->saved = malloc(n->numel * sizeof(float)))) return ag_fail("std", "out of memory");
    for (size_t o = 0; o < outer; o++)
        for (size_t i = 0; i < inner; i++) {
            double s = 0, s2 = 0;
            for (size_t l = 0; l < len; l++) s += na->val[(o * len + l) * inner + i];
            double mean = s / len;
            if (!is_std) {
                n->val[o * inner + i] = (float)mean;
                continue;
            }
            for (size_t l = 0; l < len; l++) {
                double d = na->val[(o * len + l) * inner + i] - mean;
                s2 += d * d;
            }
            n->saved[o * inner + i] = (float)mean;
            n->val[o * inner + i] = (float)sqrt(s2 / ((double)len - n->f[0]));
        }
    return v;
}

oiqa_agv oiqa_ag_mean_axis(oiqa_ag *ag, oiqa_agv a, int axis) { return reduce_axis(ag, a, axis, 0, 0); }
oiqa_agv oiqa_ag_std_axis(oiqa_ag *ag, oiqa_agv a, int axis, int unbiased)
{
    return reduce_axis(ag, a, axis, 1, unbiased);
}

static void transpose_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    size_t R = (size_t)n->shape[n->ndim - 2], C = (size_t)n->shape[n->ndim - 1], batch = n->numel / (R * C);
    for (size_t b = 0; ga && b < batch; b++)
        for (size_t r = 0; r < R; r++)
            for (size_t c = 0; c < C; c++) ga[b * R * C + c * R + r] += n->grad[b * R * C + r * C + c];
}

oiqa_agv oiqa_ag_transpose(oiqa_ag *ag, oiqa_agv a)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    if (na->ndim < 2) return ag_fail("transpose", "needs 2 or more dimensions");
    int shape[OIQA_AG_MAX_DIMS];
    memcpy(shape, na->shape, sizeof shape);
    shape[na->ndim - 2] = na->shape[na->ndim - 1], shape[na->ndim - 1] = na->shape[na->ndim - 2];
    oiqa_agv v = ag_push(ag, na->ndim, shape, a, -1, -1, transpose_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    size_t R = (size_t)na->shape[na->ndim - 2], C = (size_t)na->shape[na->ndim - 1], batch = na->numel / (R * C);
    for (size_t b = 0; b < batch; b++)
        for (size_t r = 0; r < R; r++)
            for (size_t c = 0; c < C; c++) n->val[b * R * C + c * R + r] = na->val[b * R * C + r * C + c];
    return v;
}
