/* The tape: nodes, leaves, parameters and the backward sweep (nn/ag.h). */
#include "nn/ag_internal.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"

int oiqa_param_init(oiqa_param *p, const char *name, int ndim, const int *shape)
{
    memset(p, 0, sizeof *p);
    if (ndim < 1 || ndim > OIQA_AG_MAX_DIMS) return oiqa_fail(OIQA_EXIT_DATA, NULL, "param %s: bad rank %d", name, ndim);
    p->ndim = ndim;
    p->numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1) return oiqa_fail(OIQA_EXIT_DATA, NULL, "param %s: bad shape", name);
        p->shape[d] = shape[d];
        p->numel *= (size_t)shape[d];
    }
    p->name = oiqa_strdup(name);
    p->w = calloc(p->numel, sizeof(float));
    p->g = calloc(p->numel, sizeof(float));
    if (!p->w || !p->g) {
        oiqa_param_free(p);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "param %s: out of memory", name);
    }
    return OIQA_OK;
}

void oiqa_param_free(oiqa_param *p)
{
    free(p->name), free(p->w), free(p->g), free(p->m), free(p->v);
    memset(p, 0, sizeof *p);
}

void oiqa_param_zero_grad(oiqa_param *p) { memset(p->g, 0, p->numel * sizeof(float)); }

oiqa_ag *oiqa_ag_new(void)
{
    oiqa_ag *ag = calloc(1, sizeof *ag);
    if (ag) ag->training = 1;
    return ag;
}

/* memset, in parallel parts when large (a step zeroes its gradients). */
static void zero_floats(float *p, size_t n)
{
    enum { PARTS = 16 };
    if (n < ((size_t)1 << 18)) {
        memset(p, 0, n * sizeof *p);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int q = 0; q < PARTS; q++) {
        size_t k0 = n * q / PARTS, k1 = n * (q + 1) / PARTS;
        memset(p + k0, 0, (k1 - k0) * sizeof *p);
    }
}

float *ag_buf_get(oiqa_ag *ag, size_t numel, int zero)
{
    for (int i = ag->n_pool - 1; i >= 0; i--)
        if (ag->pool[i].numel == numel) {
            float *p = ag->pool[i].p;
            ag->pool[i] = ag->pool[--ag->n_pool];
            if (zero) zero_floats(p, numel);
            return p;
        }
    return zero ? calloc(numel, sizeof(float)) : malloc(numel * sizeof(float));
}

void ag_buf_put(oiqa_ag *ag, float *p, size_t numel)
{
    if (!p) return;
    if (ag->n_pool == ag->cap_pool) {
        int cap = ag->cap_pool ? 2 * ag->cap_pool : 256;
        ag_buf *pool = realloc(ag->pool, (size_t)cap * sizeof *pool);
        if (!pool) {
            free(p);
            return;
        }
        ag->pool = pool, ag->cap_pool = cap;
    }
    ag->pool[ag->n_pool++] = (ag_buf){p, numel, 0};
}

float *ag_saved(oiqa_ag *ag, ag_node *n, size_t numel)
{
    n->saved = ag_buf_get(ag, numel, 0);
    n->saved_numel = n->saved ? numel : 0;
    return n->saved;
}

static void node_release(oiqa_ag *ag, ag_node *n)
{
    if (!n->param) ag_buf_put(ag, n->val, n->numel), ag_buf_put(ag, n->grad, n->numel);
    if (n->saved_numel) ag_buf_put(ag, n->saved, n->saved_numel);
    else free(n->saved);
    free(n->saved_int);
}

void oiqa_ag_reset(oiqa_ag *ag)
{
    /* Buffers idle through a whole step (its shapes changed) go. */
    int keep = 0;
    for (int i = 0; i < ag->n_pool; i++) {
        if (++ag->pool[i].idle >= 2) free(ag->pool[i].p);
        else ag->pool[keep++] = ag->pool[i];
    }
    ag->n_pool = keep;
    for (int i = 0; i < ag->n; i++) node_release(ag, &ag->nodes[i]);
    ag->n = 0;
}

void oiqa_ag_free(oiqa_ag *ag)
{
    if (!ag) return;
    oiqa_ag_reset(ag);
    for (int i = 0; i < ag->n_pool; i++) free(ag->pool[i].p);
    free(ag->pool);
    free(ag->nodes);
    free(ag);
}

void oiqa_ag_set_training(oiqa_ag *ag, int training) { ag->training = training; }

ag_node *ag_node_of(oiqa_ag *ag, oiqa_agv v) { return v >= 0 && v < ag->n ? &ag->nodes[v] : NULL; }

oiqa_agv ag_fail(const char *op, const char *why)
{
    oiqa_fail(OIQA_EXIT_DATA, NULL, "autograd %s: %s", op, why);
    return -1;
}

static oiqa_agv push_node(oiqa_ag *ag, int ndim, const int *shape_in)
{
    if (ndim < 0 || ndim > OIQA_AG_MAX_DIMS) return ag_fail("node", "bad rank");
    /* Ops pass an input node's own shape: copy it before the nodes may move. */
    int shape[OIQA_AG_MAX_DIMS];
    memcpy(shape, shape_in, (size_t)ndim * sizeof *shape);
    if (ag->n == ag->cap) {
        int cap = ag->cap ? 2 * ag->cap : 256;
        ag_node *nodes = realloc(ag->nodes, (size_t)cap * sizeof *nodes);
        if (!nodes) return ag_fail("node", "out of memory");
        ag->nodes = nodes, ag->cap = cap;
    }
    ag_node *n = &ag->nodes[ag->n];
    memset(n, 0, sizeof *n);
    n->in[0] = n->in[1] = n->in[2] = -1;
    n->ndim = ndim;
    n->numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 1) return ag_fail("node", "empty dimension");
        n->shape[d] = shape[d];
        n->numel *= (size_t)shape[d];
    }
    return ag->n++;
}

static oiqa_agv push_op(oiqa_ag *ag, int ndim, const int *shape, oiqa_agv a, oiqa_agv b, oiqa_agv c,
                        ag_backward_fn backward, int zero)
{
    oiqa_agv ins[3] = {a, b, c};
    int needs = 0;
    for (int k = 0; k < 3; k++) {
        if (ins[k] == -1) continue;
        ag_node *in = ag_node_of(ag, ins[k]);
        if (!in) return -1;
        needs |= in->needs_grad;
    }
    /* a, b, c == -1 is "no input" except for the first; ops check their own. */
    oiqa_agv v = push_node(ag, ndim, shape);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    if (!(n->val = ag_buf_get(ag, n->numel, zero))) {
        ag->n--;
        return ag_fail("node", "out of memory");
    }
    memcpy(n->in, ins, sizeof ins);
    n->needs_grad = needs;
    n->backward = backward;
    return v;
}

oiqa_agv ag_push(oiqa_ag *ag, int ndim, const int *shape, oiqa_agv a, oiqa_agv b, oiqa_agv c,
                 ag_backward_fn backward)
{
    return push_op(ag, ndim, shape, a, b, c, backward, 1);
}

oiqa_agv ag_push_raw(oiqa_ag *ag, int ndim, const int *shape, oiqa_agv a, oiqa_agv b, oiqa_agv c,
                     ag_backward_fn backward)
{
    return push_op(ag, ndim, shape, a, b, c, backward, 0);
}

oiqa_agv oiqa_ag_input(oiqa_ag *ag, const float *data, int ndim, const int *shape)
{
    oiqa_agv v = ag_push(ag, ndim, shape, -1, -1, -1, NULL);
    if (v >= 0 && data) memcpy(ag->nodes[v].val, data, ag->nodes[v].numel * sizeof(float));
    return v;
}

oiqa_agv oiqa_ag_param(oiqa_ag *ag, oiqa_param *p)
{
    oiqa_agv v = push_node(ag, p->ndim, p->shape);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    n->param = p;
    n->val = p->w;
    n->grad = p->frozen ? NULL : p->g;
    n->needs_grad = !p->frozen;
    return v;
}

float *oiqa_ag_data(oiqa_ag *ag, oiqa_agv v)
{
    ag_node *n = ag_node_of(ag, v);
    return n ? n->val : NULL;
}

const float *oiqa_ag_grad(oiqa_ag *ag, oiqa_agv v)
{
    ag_node *n = ag_node_of(ag, v);
    return n ? n->grad : NULL;
}

int oiqa_ag_ndim(oiqa_ag *ag, oiqa_agv v)
{
    ag_node *n = ag_node_of(ag, v);
    return n ? n->ndim : 0;
}

const int *oiqa_ag_shape(oiqa_ag *ag, oiqa_agv v)
{
    ag_node *n = ag_node_of(ag, v);
    return n ? n->shape : NULL;
}

size_t oiqa_ag_numel(oiqa_ag *ag, oiqa_agv v)
{
    ag_node *n = ag_node_of(ag, v);
    return n ? n->numel : 0;
}

float *ag_grad_of(oiqa_ag *ag, oiqa_agv v)
{
    ag_node *n = ag_node_of(ag, v);
    if (!n || !n->needs_grad) return NULL;
    if (!n->grad) n->grad = ag_buf_get(ag, n->numel, 1);
    return n->grad;
}

int ag_same_shape(const ag_node *a, const ag_node *b)
{
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

int oiqa_ag_backward(oiqa_ag *ag, oiqa_agv loss)
{
    ag_node *l = ag_node_of(ag, loss);
    if (!l) return oiqa_fail(OIQA_EXIT_DATA, NULL, "autograd backward: no loss value (a forward op failed)");
    if (l->numel != 1) return oiqa_fail(OIQA_EXIT_DATA, NULL, "autograd backward: the loss has %zu elements, not 1",
                                        l->numel);
    if (!l->needs_grad) return OIQA_OK;
    float *g = ag_grad_of(ag, loss);
    if (!g) return oiqa_fail(OIQA_EXIT_DATA, NULL, "autograd backward: out of memory");
    g[0] += 1.0f;
    for (int i = loss; i >= 0; i--) {
        ag_node *n = &ag->nodes[i];
        if (n->backward && n->needs_grad && n->grad) {
            n->backward(ag, n);
            /* Every consumer of node i came later and is done: its gradient
             * is dead, and its buffer serves the gradients still to come
             * (so a step holds the values plus a frontier of gradients). */
            if (!n->param && i != loss) ag_buf_put(ag, n->grad, n->numel), n->grad = NULL;
        }
    }
    return OIQA_OK;
}
