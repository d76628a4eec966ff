/* The tape's node layout, shared by the op files (nn/ag_*.c). Not API. */
#ifndef OIQA_NN_AG_INTERNAL_H
#define OIQA_NN_AG_INTERNAL_H

#include "nn/ag.h"

typedef struct ag_node ag_node;
typedef void (*ag_backward_fn)(oiqa_ag *ag, ag_node *n);

struct ag_node {
    int ndim;
    int shape[OIQA_AG_MAX_DIMS];
    size_t numel;
    float *val;             /* owned unless param */
    float *grad;            /* NULL until needed; owned unless param */
    oiqa_param *param;      /* leaf parameter, or NULL */
    int needs_grad;         /* a parameter is upstream */
    oiqa_agv in[3];         /* inputs (-1: none) */
    ag_backward_fn backward;
    float f[2];             /* op scalars */
    int i[2];               /* op integers */
    float *saved;           /* op data kept for backward (owned; from the pool when saved_numel > 0) */
    size_t saved_numel;
    int *saved_int;         /* (owned) */
};

/* A buffer of the tape's pool: values, gradients and scratch of one step
 * are handed back at the reset and taken again, size for size, by the next
 * step, so a training loop allocates (and page-faults) once; buffers no step
 * took for two resets are freed. */
typedef struct {
    float *p;
    size_t numel;
    int idle; /* resets since it was last handed back */
} ag_buf;

struct oiqa_ag {
    ag_node *nodes;
    int n, cap;
    int training;
    ag_buf *pool;
    int n_pool, cap_pool;
};

ag_node *ag_node_of(oiqa_ag *ag, oiqa_agv v);
/* A new node of the given shape with zeroed values, inputs a, b, c (-1 for
 * none) and needs_grad from them; -1 when out of memory or an input is -1. */
oiqa_agv ag_push(oiqa_ag *ag, int ndim, const int *shape, oiqa_agv a, oiqa_agv b, oiqa_agv c,
                 ag_backward_fn backward);
/* ag_push with the values left unset: for ops that write every one. */
oiqa_agv ag_push_raw(oiqa_ag *ag, int ndim, const int *shape, oiqa_agv a, oiqa_agv b, oiqa_agv c,
                     ag_backward_fn backward);
/* The gradient buffer of an input that needs one (allocated zeroed on first
 * use), or NULL when the input needs no gradient. */
float *ag_grad_of(oiqa_ag *ag, oiqa_agv v);
int ag_same_shape(const ag_node *a, const ag_node *b);
/* numel floats from the pool (zeroed when zero), NULL when out of memory;
 * ag_buf_put hands one back (NULL is ignored). */
float *ag_buf_get(oiqa_ag *ag, size_t numel, int zero);
void ag_buf_put(oiqa_ag *ag, float *p, size_t numel);
/* n->saved as numel floats from the pool (not zeroed). */
float *ag_saved(oiqa_ag *ag, ag_node *n, size_t numel);
/* Fails with a message naming the op. */
oiqa_agv ag_fail(const char *op, const char *why);

#endif
