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
    float *saved;           /* op data kept for backward (owned) */
    int *saved_int;         /* (owned) */
};

struct oiqa_ag {
    ag_node *nodes;
    int n, cap;
    int training;
};

ag_node *ag_node_of(oiqa_ag *ag, oiqa_agv v);
/* A new node of the given shape with zeroed values, inputs a, b, c (-1 for
 * none) and needs_grad from them; -1 when out of memory or an input is -1. */
oiqa_agv ag_push(oiqa_ag *ag, int ndim, const int *shape, oiqa_agv a, oiqa_agv b, oiqa_agv c,
                 ag_backward_fn backward);
/* The gradient buffer of an input that needs one (allocated zeroed on first
 * use), or NULL when the input needs no gradient. */
float *ag_grad_of(oiqa_ag *ag, oiqa_agv v);
int ag_same_shape(const ag_node *a, const ag_node *b);
/* Fails with a message naming the op. */
oiqa_agv ag_fail(const char *op, const char *why);

#endif
