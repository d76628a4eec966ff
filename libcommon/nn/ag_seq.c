/* Ops along any axis, and the token ops of transformers, for the autograd
 * tape (nn/ag.h): concatenation and narrowing along an axis, repetition
 * along a new first axis, row gathers (embedding lookup, picking a token),
 * and stochastic depth. */
#include <stdlib.h>
#include <string.h>

#include "nn/ag_internal.h"

/* A shape seen as [outer, len, inner] around `axis`. */
static void split_at(const ag_node *a, int axis, size_t *outer, size_t *len, size_t *inner)
{
    *outer = *inner = 1;
    for (int d = 0; d < axis; d++) *outer *= (size_t)a->shape[d];
    for (int d = axis + 1; d < a->ndim; d++) *inner *= (size_t)a->shape[d];
    *len = (size_t)a->shape[axis];
}

/* i[0] = parts, i[1] = axis; saved_int = the parts. */
static void concat_backward(oiqa_ag *ag, ag_node *n)
{
    size_t outer, total, inner;
    split_at(n, n->i[1], &outer, &total, &inner);
    size_t off = 0;
    for (int p = 0; p < n->i[0]; p++) {
        ag_node *np = ag_node_of(ag, n->saved_int[p]);
        size_t w = (size_t)np->shape[n->i[1]] * inner;
        float *g = ag_grad_of(ag, n->saved_int[p]);
        for (size_t o = 0; g && o < outer; o++) {
            const float *src = n->grad + o * total * inner + off;
            for (size_t c = 0; c < w; c++) g[o * w + c] += src[c];
        }
        off += w;
    }
}

oiqa_agv oiqa_ag_concat_axis(oiqa_ag *ag, const oiqa_agv *parts, int n_parts, int axis)
{
    if (n_parts < 1) return ag_fail("concat", "no parts");
    ag_node *first = ag_node_of(ag, parts[0]);
    if (!first) return -1;
    int shape[OIQA_AG_MAX_DIMS], ndim = first->ndim, needs = 0;
    if (axis < 0) axis += ndim;
    if (axis < 0 || axis >= ndim) return ag_fail("concat", "axis outside the shape");
    memcpy(shape, first->shape, sizeof shape);
    shape[axis] = 0;
    for (int p = 0; p < n_parts; p++) {
        ag_node *np = ag_node_of(ag, parts[p]);
        if (!np) return -1;
        if (np->ndim != ndim) return ag_fail("concat", "parts differ in rank");
        for (int d = 0; d < ndim; d++)
            if (d != axis && np->shape[d] != first->shape[d])
                return ag_fail("concat", "parts differ in a dimension other than the axis");
        shape[axis] += np->shape[axis];
        needs |= np->needs_grad;
    }
    oiqa_agv v = ag_push(ag, ndim, shape, -1, -1, -1, concat_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    n->needs_grad = needs;
    n->i[0] = n_parts, n->i[1] = axis;
    if (!(n->saved_int = malloc((size_t)n_parts * sizeof(int)))) return ag_fail("concat", "out of memory");
    size_t outer, total, inner, off = 0;
    split_at(n, axis, &outer, &total, &inner);
    for (int p = 0; p < n_parts; p++) {
        ag_node *np = ag_node_of(ag, parts[p]);
        size_t w = (size_t)np->shape[axis] * inner;
        n->saved_int[p] = parts[p];
        for (size_t o = 0; o < outer; o++)
            memcpy(n->val + o * total * inner + off, np->val + o * w, w * sizeof(float));
        off += w;
    }
    return v;
}

oiqa_agv oiqa_ag_concat(oiqa_ag *ag, const oiqa_agv *parts, int n_parts)
{
    return oiqa_ag_concat_axis(ag, parts, n_parts, -1);
}

/* i[0] = axis, i[1] = start. */
static void narrow_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *na = ag_node_of(ag, n->in[0]);
    float *ga = ag_grad_of(ag, n->in[0]);
    size_t outer, len, inner;
    split_at(n, n->i[0], &outer, &len, &inner);
    size_t width = (size_t)na->shape[n->i[0]];
    for (size_t o = 0; ga && o < outer; o++) {
        float *dst = ga + (o * width + (size_t)n->i[1]) * inner;
        const float *src = n->grad + o * len * inner;
        for (size_t c = 0; c < len * inner; c++) dst[c] += src[c];
    }
}

oiqa_agv oiqa_ag_narrow(oiqa_ag *ag, oiqa_agv a, int axis, int start, int len)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    if (axis < 0) axis += na->ndim;
    if (axis < 0 || axis >= na->ndim) return ag_fail("narrow", "axis outside the shape");
    if (start < 0 || len < 1 || start + len > na->shape[axis]) return ag_fail("narrow", "range outside the axis");
    int shape[OIQA_AG_MAX_DIMS];
    memcpy(shape, na->shape, sizeof shape);
    shape[axis] = len;
    oiqa_agv v = ag_push(ag, na->ndim, shape, a, -1, -1, narrow_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    n->i[0] = axis, n->i[1] = start;
    size_t outer, width, inner;
    split_at(na, axis, &outer, &width, &inner);
    for (size_t o = 0; o < outer; o++)
        memcpy(n->val + o * (size_t)len * inner, na->val + (o * width + (size_t)start) * inner,
               (size_t)len * inner * sizeof(float));
    return v;
}

oiqa_agv oiqa_ag_slice(oiqa_ag *ag, oiqa_agv a, int start, int len) { return oiqa_ag_narrow(ag, a, -1, start, len); }

static void repeat_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    size_t inner = n->numel / (size_t)n->shape[0];
    for (int r = 0; ga && r < n->shape[0]; r++)
        for (size_t k = 0; k < inner; k++) ga[k] += n->grad[(size_t)r * inner + k];
}

oiqa_agv oiqa_ag_repeat(oiqa_ag *ag, oiqa_agv a, int count)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    if (count < 1 || na->ndim >= OIQA_AG_MAX_DIMS) return ag_fail("repeat", "needs count >= 1 and a free dimension");
    int shape[OIQA_AG_MAX_DIMS];
    shape[0] = count;
    memcpy(shape + 1, na->shape, (size_t)na->ndim * sizeof(int));
    oiqa_agv v = ag_push(ag, na->ndim + 1, shape, a, -1, -1, repeat_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    for (int r = 0; r < count; r++) memcpy(n->val + (size_t)r * na->numel, na->val, na->numel * sizeof(float));
    return v;
}

/* saved_int = the row indices, i[0] = their count. */
static void take_rows_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    size_t D = (size_t)n->shape[n->ndim - 1];
    for (int r = 0; ga && r < n->i[0]; r++) {
        float *dst = ga + (size_t)n->saved_int[r] * D;
        const float *src = n->grad + (size_t)r * D;
        for (size_t c = 0; c < D; c++) dst[c] += src[c];
    }
}

oiqa_agv oiqa_ag_take_rows(oiqa_ag *ag, oiqa_agv a, const int *rows, int n_rows)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    int D = na->shape[na->ndim - 1];
    size_t R = na->numel / (size_t)D;
    if (n_rows < 1) return ag_fail("take_rows", "no rows");
    for (int r = 0; r < n_rows; r++)
        if (rows[r] < 0 || (size_t)rows[r] >= R) return ag_fail("take_rows", "row index outside the table");
    int shape[2] = {n_rows, D};
    oiqa_agv v = ag_push(ag, 2, shape, a, -1, -1, take_rows_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    if (!(n->saved_int = malloc((size_t)n_rows * sizeof(int)))) return ag_fail("take_rows", "out of memory");
    memcpy(n->saved_int, rows, (size_t)n_rows * sizeof(int));
    n->i[0] = n_rows;
    for (int r = 0; r < n_rows; r++)
        memcpy(n->val + (size_t)r * D, na->val + (size_t)rows[r] * D, (size_t)D * sizeof(float));
    return v;
}

/* saved: the per-sample factor, 0 or 1/(1-p). */
static void drop_path_backward(oiqa_ag *ag, ag_node *n)
{
    float *ga = ag_grad_of(ag, n->in[0]);
    size_t inner = n->numel / (size_t)n->shape[0];
    for (size_t k = 0; ga && k < n->numel; k++) ga[k] += n->grad[k] * n->saved[k / inner];
}

oiqa_agv oiqa_ag_drop_path(oiqa_ag *ag, oiqa_agv a, float p, oiqa_rng *rng)
{
    ag_node *na = ag_node_of(ag, a);
    if (!na) return -1;
    if (!(p >= 0 && p < 1)) return ag_fail("drop_path", "p must be in [0, 1)");
    if (!ag->training || p == 0) return a;
    oiqa_agv v = ag_push(ag, na->ndim, na->shape, a, -1, -1, drop_path_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    na = ag_node_of(ag, a);
    int B = n->shape[0];
    size_t inner = n->numel / (size_t)B;
    if (!(n->saved = malloc((size_t)B * sizeof(float)))) return ag_fail("drop_path", "out of memory");
    /* timm's drop_path: keep = floor(1 - p + U), then x / (1 - p) * keep. */
    for (int b = 0; b < B; b++) n->saved[b] = oiqa_rng_uniform(rng) < p ? 0.0f : 1.0f / (1.0f - p);
    for (size_t k = 0; k < n->numel; k++) n->val[k] = na->val[k] * n->saved[k / inner];
    return v;
}
