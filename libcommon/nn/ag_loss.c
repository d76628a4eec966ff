/* Losses of the autograd tape (nn/ag.h): one-element values, means over the
 * elements (or rows) as PyTorch's reduction='mean'. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ag_internal.h"

typedef enum { LOSS_MSE, LOSS_L1, LOSS_SMOOTH_L1 } pointwise_kind;

static float pointwise_grad(pointwise_kind kind, float d, float beta)
{
    switch (kind) {
    case LOSS_MSE: return 2.0f * d;
    case LOSS_L1: return d > 0 ? 1.0f : d < 0 ? -1.0f : 0.0f;
    default: return fabsf(d) < beta ? d / beta : (d > 0 ? 1.0f : -1.0f);
    }
}

static void pointwise_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *np = ag_node_of(ag, n->in[0]), *nt = ag_node_of(ag, n->in[1]);
    float *gp = ag_grad_of(ag, n->in[0]), *gt = ag_grad_of(ag, n->in[1]);
    float scale = n->grad[0] / (float)np->numel;
    for (size_t k = 0; k < np->numel; k++) {
        float g = scale * pointwise_grad(n->i[0], np->val[k] - nt->val[k], n->f[0]);
        if (gp) gp[k] += g;
        if (gt) gt[k] -= g;
    }
}

static oiqa_agv pointwise(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target, pointwise_kind kind, float beta)
{
    ag_node *np = ag_node_of(ag, pred), *nt = ag_node_of(ag, target);
    if (!np || !nt) return -1;
    if (np->numel != nt->numel) return ag_fail("loss", "prediction and target differ in size");
    if (kind == LOSS_SMOOTH_L1 && !(beta > 0)) return ag_fail("smooth_l1", "beta must be > 0");
    int one[1] = {1};
    oiqa_agv v = ag_push(ag, 1, one, pred, target, -1, pointwise_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    np = ag_node_of(ag, pred), nt = ag_node_of(ag, target);
    n->i[0] = kind, n->f[0] = beta;
    double sum = 0;
    for (size_t k = 0; k < np->numel; k++) {
        double d = (double)np->val[k] - nt->val[k], ad = fabs(d);
        sum += kind == LOSS_MSE ? d * d : kind == LOSS_L1 ? ad : ad < beta ? 0.5 * d * d / beta : ad - 0.5 * beta;
    }
    n->val[0] = (float)(sum / np->numel);
    return v;
}

oiqa_agv oiqa_ag_mse(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target) { return pointwise(ag, pred, target, LOSS_MSE, 0); }
oiqa_agv oiqa_ag_l1(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target) { return pointwise(ag, pred, target, LOSS_L1, 0); }
oiqa_agv oiqa_ag_smooth_l1(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target, float beta)
{
    return pointwise(ag, pred, target, LOSS_SMOOTH_L1, beta);
}

/* saved: the softmax of each row; saved_int: the labels. */
static void ce_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *nl = ag_node_of(ag, n->in[0]);
    float *gl = ag_grad_of(ag, n->in[0]);
    size_t K = (size_t)nl->shape[nl->ndim - 1], B = nl->numel / K;
    float scale = n->grad[0] / (float)B;
    for (size_t b = 0; gl && b < B; b++)
        for (size_t k = 0; k < K; k++)
            gl[b * K + k] += scale * (n->saved[b * K + k] - ((int)k == n->saved_int[b] ? 1.0f : 0.0f));
}

oiqa_agv oiqa_ag_cross_entropy(oiqa_ag *ag, oiqa_agv logits, const int *labels)
{
    ag_node *nl = ag_node_of(ag, logits);
    if (!nl) return -1;
    size_t K = (size_t)nl->shape[nl->ndim - 1], B = nl->numel / K;
    for (size_t b = 0; b < B; b++)
        if (labels[b] < 0 || (size_t)labels[b] >= K) return ag_fail("cross_entropy", "a label is outside the classes");
    int one[1] = {1};
    oiqa_agv v = ag_push(ag, 1, one, logits, -1, -1, ce_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nl = ag_node_of(ag, logits);
    n->saved = malloc(nl->numel * sizeof(float));
    n->saved_int = malloc(B * sizeof(int));
    if (!n->saved || !n->saved_int) return ag_fail("cross_entropy", "out of memory");
    memcpy(n->saved_int, labels, B * sizeof(int));
    double total = 0;
    for (size_t b = 0; b < B; b++) {
        const float *x = nl->val + b * K;
        float mx = x[0];
        for (size_t k = 1; k < K; k++) mx = x[k] > mx ? x[k] : mx;
        double sum = 0;
        for (size_t k = 0; k < K; k++) sum += exp((double)x[k] - mx);
        for (size_t k = 0; k < K; k++) n->saved[b * K + k] = (float)(exp((double)x[k] - mx) / sum);
        total += log(sum) + mx - x[labels[b]];
    }
    n->val[0] = (float)(total / B);
    return v;
}

/* f[0] = plcc; saved: centred pred and target, then their norms. */
static void plcc_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *np = ag_node_of(ag, n->in[0]);
    float *gp = ag_grad_of(ag, n->in[0]);
    size_t N = np->numel;
    const float *a = n->saved, *b = n->saved + N;
    float na = n->saved[2 * N], nb = n->saved[2 * N + 1], r = n->f[0];
    if (!gp || na <= 0 || nb <= 0) return;
    /* d r / d p_k = (b_k / (na nb) - r a_k / na^2); centring's gradient sums to zero with it. */
    for (size_t k = 0; k < N; k++) gp[k] += -0.5f * n->grad[0] * (b[k] / (na * nb) - r * a[k] / (na * na));
}

oiqa_agv oiqa_ag_plcc_loss(oiqa_ag *ag, oiqa_agv pred, oiqa_agv target)
{
    ag_node *np = ag_node_of(ag, pred), *nt = ag_node_of(ag, target);
    if (!np || !nt) return -1;
    if (np->numel != nt->numel || np->numel < 2) return ag_fail("plcc_loss", "needs two equal-size sets of >= 2");
    int one[1] = {1};
    /* The target gets no gradient (it is data). */
    oiqa_agv v = ag_push(ag, 1, one, pred, -1, -1, plcc_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    np = ag_node_of(ag, pred), nt = ag_node_of(ag, target);
    size_t N = np->numel;
    if (!(n->saved = malloc((2 * N + 2) * sizeof(float)))) return ag_fail("plcc_loss", "out of memory");
    double mp = 0, mt = 0;
    for (size_t k = 0; k < N; k++) mp += np->val[k], mt += nt->val[k];
    mp /= N, mt /= N;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t k = 0; k < N; k++) {
        double a = np->val[k] - mp, b = nt->val[k] - mt;
        n->saved[k] = (float)a, n->saved[N + k] = (float)b;
        sab += a * b, saa += a * a, sbb += b * b;
    }
    double na = sqrt(saa), nb = sqrt(sbb), r = na > 0 && nb > 0 ? sab / (na * nb) : 0;
    n->saved[2 * N] = (float)na, n->saved[2 * N + 1] = (float)nb;
    n->f[0] = (float)r;
    n->val[0] = (float)(0.5 * (1.0 - r));
    return v;
}
