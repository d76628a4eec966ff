/* Scaled dot-product attention on the autograd tape (nn/ag.h; Vaswani et
 * al. 2017, "Attention Is All You Need", eq. 1), one fused op: per batch
 * element b and head h,
 *   P = softmax(Q K^T / sqrt(d) + mask),  O = P V,
 * and backward
 *   dV = P^T dO,  dP = dO V^T,  dS = P * (dP - rowsum(dP * P)),
 *   dQ = dS K / sqrt(d),  dK = dS^T Q / sqrt(d).
 * Only P [B, H, L, S] is kept for backward: no score, transpose or head
 * split values on the tape. Heads are column blocks of the channels, read in
 * place through the row stride, so a fused q|k|v projection (CLIP's
 * in_proj, timm's qkv) needs no slicing either.
 *
 * The (b, h) pairs run in parallel with single-threaded BLAS, each with its
 * own scratch; every pair writes its own rows and columns, so the sums do
 * not depend on the thread count. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ag_internal.h"

/* Where q, k and v of one batch element and head start, and their strides. */
typedef struct {
    int B, L, S, H, d;
    size_t ldq, ldk, ldv;     /* row strides of q, k, v (channels) */
    size_t oq, ok, ov;        /* channel offsets of q, k, v in their values */
    size_t bq, bk, bv;        /* batch strides */
    float scale;
} attn_geom;

static void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, size_t lda, const float *B,
                 size_t ldb, float beta, float *C, size_t ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
                (int)lda, B, (int)ldb, beta, C, (int)ldc);
}

static int pair_workers(int pairs)
{
    int t = omp_get_max_threads();
    return omp_in_parallel() ? 1 : t < pairs ? t : pairs;
}

/* Runs fn(pair, scratch) for every (b, h) pair; with several workers, BLAS
 * runs single-threaded inside them. */
typedef void (*pair_fn)(const attn_geom *g, void *ctx, int pair, float *scratch);

static int for_pairs(const attn_geom *g, void *ctx, pair_fn fn, size_t scratch_per)
{
    int pairs = g->B * g->H, workers = pair_workers(pairs);
    float *scratch = scratch_per ? malloc((size_t)workers * scratch_per * sizeof(float)) : NULL;
    if (scratch_per && !scratch) return -1;
    if (workers > 1) {
        int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
#pragma omp parallel num_threads(workers)
        {
            float *mine = scratch ? scratch + (size_t)omp_get_thread_num() * scratch_per : NULL;
#pragma omp for schedule(static)
            for (int p = 0; p < pairs; p++) fn(g, ctx, p, mine);
        }
        openblas_set_num_threads(blas_threads);
    } else {
        for (int p = 0; p < pairs; p++) fn(g, ctx, p, scratch);
    }
    free(scratch);
    return 0;
}

typedef struct {
    const float *q, *k, *v, *mask;
    float *P, *out;
} fwd_ctx;

static void forward_pair(const attn_geom *g, void *vctx, int pair, float *scratch)
{
    (void)scratch;
    fwd_ctx *c = vctx;
    int b = pair / g->H, h = pair % g->H;
    const float *Q = c->q + b * g->bq + g->oq + (size_t)h * g->d;
    const float *K = c->k + b * g->bk + g->ok + (size_t)h * g->d;
    const float *V = c->v + b * g->bv + g->ov + (size_t)h * g->d;
    float *P = c->P + (size_t)pair * g->L * g->S;
    float *O = c->out + (size_t)b * g->L * g->H * g->d + (size_t)h * g->d;
    gemm(0, 1, g->L, g->S, g->d, g->scale, Q, g->ldq, K, g->ldk, 0.0f, P, (size_t)g->S);
    for (int i = 0; i < g->L; i++) {
        float *row = P + (size_t)i * g->S, mx = -INFINITY, sum = 0;
        if (c->mask)
            for (int j = 0; j < g->S; j++) row[j] += c->mask[(size_t)i * g->S + j];
        for (int j = 0; j < g->S; j++) mx = row[j] > mx ? row[j] : mx;
        for (int j = 0; j < g->S; j++) sum += (row[j] = expf(row[j] - mx));
        float inv = 1.0f / sum;
        for (int j = 0; j < g->S; j++) row[j] *= inv;
    }
    gemm(0, 0, g->L, g->d, g->S, 1.0f, P, (size_t)g->S, V, g->ldv, 0.0f, O, (size_t)g->H * g->d);
}

typedef struct {
    const float *q, *k, *v, *P, *dout;
    float *dq, *dk, *dv; /* NULL where no gradient is needed */
} bwd_ctx;

static void backward_pair(const attn_geom *g, void *vctx, int pair, float *dS)
{
    bwd_ctx *c = vctx;
    int b = pair / g->H, h = pair % g->H;
    size_t qo = b * g->bq + g->oq + (size_t)h * g->d, ko = b * g->bk + g->ok + (size_t)h * g->d,
           vo = b * g->bv + g->ov + (size_t)h * g->d, ldo = (size_t)g->H * g->d;
    const float *P = c->P + (size_t)pair * g->L * g->S;
    const float *dO = c->dout + (size_t)b * g->L * ldo + (size_t)h * g->d;
    if (c->dv) gemm(1, 0, g->S, g->d, g->L, 1.0f, P, (size_t)g->S, dO, ldo, 1.0f, c->dv + vo, g->ldv);
    if (!c->dq && !c->dk) return;
    gemm(0, 1, g->L, g->S, g->d, 1.0f, dO, ldo, c->v + vo, g->ldv, 0.0f, dS, (size_t)g->S);
    for (int i = 0; i < g->L; i++) {
        float *row = dS + (size_t)i * g->S, dot = 0;
        const float *p = P + (size_t)i * g->S;
        for (int j = 0; j < g->S; j++) dot += row[j] * p[j];
        for (int j = 0; j < g->S; j++) row[j] = p[j] * (row[j] - dot);
    }
    if (c->dq) gemm(0, 0, g->L, g->d, g->S, g->scale, dS, (size_t)g->S, c->k + ko, g->ldk, 1.0f, c->dq + qo, g->ldq);
    if (c->dk) gemm(1, 0, g->S, g->d, g->L, g->scale, dS, (size_t)g->S, c->q + qo, g->ldq, 1.0f, c->dk + ko, g->ldk);
}

/* i[0] = heads, i[1] = 1 for a fused qkv input; saved = P. */
static void geom_of(oiqa_ag *ag, const ag_node *n, attn_geom *g)
{
    int fused = n->i[1];
    ag_node *nq = ag_node_of(ag, n->in[0]);
    ag_node *nk = fused ? nq : ag_node_of(ag, n->in[1]);
    memset(g, 0, sizeof *g);
    g->B = nq->shape[0], g->L = nq->shape[1], g->S = nk->shape[1], g->H = n->i[0];
    g->d = n->shape[2] / g->H;
    g->ldq = (size_t)nq->shape[2], g->ldk = (size_t)nk->shape[2];
    g->ldv = fused ? g->ldq : (size_t)ag_node_of(ag, n->in[2])->shape[2];
    if (fused) g->ok = (size_t)n->shape[2], g->ov = 2 * (size_t)n->shape[2];
    g->bq = (size_t)g->L * g->ldq, g->bk = (size_t)g->S * g->ldk, g->bv = (size_t)g->S * g->ldv;
    g->scale = 1.0f / sqrtf((float)g->d);
}

static void attention_backward(oiqa_ag *ag, ag_node *n)
{
    attn_geom g;
    geom_of(ag, n, &g);
    int fused = n->i[1];
    bwd_ctx c = {0};
    c.q = ag_node_of(ag, n->in[0])->val;
    c.k = fused ? c.q : ag_node_of(ag, n->in[1])->val;
    c.v = fused ? c.q : ag_node_of(ag, n->in[2])->val;
    c.P = n->saved, c.dout = n->grad;
    c.dq = ag_grad_of(ag, n->in[0]);
    c.dk = fused ? c.dq : ag_grad_of(ag, n->in[1]);
    c.dv = fused ? c.dq : ag_grad_of(ag, n->in[2]);
    if (!c.dq && !c.dk && !c.dv) return;
    (void)for_pairs(&g, &c, backward_pair, (size_t)g.L * g.S); /* out of memory: the gradient stays incomplete (rare) */
}

static oiqa_agv attention(oiqa_ag *ag, oiqa_agv q, oiqa_agv k, oiqa_agv v, int heads, const float *mask, int fused)
{
    ag_node *nq = ag_node_of(ag, q);
    ag_node *nk = fused ? nq : ag_node_of(ag, k), *nv = fused ? nq : ag_node_of(ag, v);
    if (!nq || !nk || !nv) return -1;
    if (nq->ndim != 3 || nk->ndim != 3 || nv->ndim != 3) return ag_fail("attention", "q, k, v must be [B, L, C]");
    int C = fused ? nq->shape[2] / 3 : nq->shape[2];
    if (fused && nq->shape[2] != 3 * C) return ag_fail("attention", "a fused qkv needs 3 x C channels");
    if (heads < 1 || C % heads) return ag_fail("attention", "the channels do not split into the heads");
    if (nk->shape[0] != nq->shape[0] || nv->shape[0] != nq->shape[0] || nv->shape[1] != nk->shape[1] ||
        (!fused && (nk->shape[2] != C || nv->shape[2] != C)))
        return ag_fail("attention", "q, k and v do not agree in shape");
    int shape[3] = {nq->shape[0], nq->shape[1], C};
    oiqa_agv out = fused ? ag_push(ag, 3, shape, q, -1, -1, attention_backward)
                         : ag_push(ag, 3, shape, q, k, v, attention_backward);
    if (out < 0) return out;
    ag_node *n = &ag->nodes[out];
    n->i[0] = heads, n->i[1] = fused;
    attn_geom g;
    geom_of(ag, n, &g);
    if (!(n->saved = malloc((size_t)g.B * g.H * g.L * g.S * sizeof(float)))) return ag_fail("attention", "out of memory");
    fwd_ctx c = {ag_node_of(ag, q)->val, fused ? ag_node_of(ag, q)->val : ag_node_of(ag, k)->val,
                 fused ? ag_node_of(ag, q)->val : ag_node_of(ag, v)->val, mask, n->saved, n->val};
    if (for_pairs(&g, &c, forward_pair, 0)) return ag_fail("attention", "out of memory");
    return out;
}

oiqa_agv oiqa_ag_attention(oiqa_ag *ag, oiqa_agv q, oiqa_agv k, oiqa_agv v, int heads, const float *mask)
{
    return attention(ag, q, k, v, heads, mask, 0);
}

oiqa_agv oiqa_ag_attention_qkv(oiqa_ag *ag, oiqa_agv qkv, int heads, const float *mask)
{
    return attention(ag, qkv, -1, -1, heads, mask, 1);
}
