/* Finite-difference gradient checks for the autograd tape (nn/ag.h),
 * shared by the op and layer tests. A case builds a one-element loss on the
 * tape from parameter leaves; every element of every parameter is nudged
 * by +-h and the central difference compared with the analytic gradient. */
#ifndef OIQA_TEST_AG_CHECK_H
#define OIQA_TEST_AG_CHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/error.h"
#include "base/rng.h"
#include "nn/ag.h"

#define AG_CHECK_MAX_PARAMS 16
#define AG_GRAD_TOL 2e-2 /* float32 central differences */

/* The finite-difference step (relative to max(1, |w|)). */
static float ag_check_step = 1e-2f;

typedef oiqa_agv (*ag_build_fn)(oiqa_ag *ag, oiqa_agv *p);

/* loss = mean(v * R) with a fixed random R, so every element of v matters. */
static inline oiqa_agv ag_scalarize(oiqa_ag *ag, oiqa_agv v)
{
    size_t n = oiqa_ag_numel(ag, v);
    if (!n) return -1;
    float *r = malloc(n * sizeof(float));
    oiqa_rng g;
    oiqa_rng_seed(&g, 99);
    for (size_t k = 0; k < n; k++) r[k] = (float)oiqa_rng_normal(&g);
    int shape[1] = {(int)n}, flat[2] = {1, (int)n};
    oiqa_agv rv = oiqa_ag_input(ag, r, 1, shape);
    free(r);
    oiqa_agv prod = oiqa_ag_mul(ag, oiqa_ag_reshape(ag, v, 1, shape), rv);
    return oiqa_ag_mean_axis(ag, oiqa_ag_reshape(ag, prod, 2, flat), 1);
}

static inline double ag_loss_value(oiqa_ag *ag, ag_build_fn build, oiqa_param *const *ps, int np)
{
    oiqa_ag_reset(ag);
    oiqa_agv p[AG_CHECK_MAX_PARAMS];
    for (int i = 0; i < np; i++) p[i] = oiqa_ag_param(ag, ps[i]);
    oiqa_agv l = build(ag, p);
    return l >= 0 ? oiqa_ag_data(ag, l)[0] : NAN;
}

/* The largest relative error |num - ana| / max(1e-2, |num| + |ana|). */
static inline double ag_grad_check(const char *what, ag_build_fn build, oiqa_param *const *ps, int np)
{
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_agv p[AG_CHECK_MAX_PARAMS];
    for (int i = 0; i < np; i++) {
        oiqa_param_zero_grad(ps[i]);
        p[i] = oiqa_ag_param(ag, ps[i]);
    }
    oiqa_agv l = build(ag, p);
    double worst = 0;
    if (l < 0 || oiqa_ag_backward(ag, l)) {
        printf("  %s: forward/backward failed: %s\n", what, oiqa_errmsg());
        worst = INFINITY;
    }
    for (int i = 0; i < np && isfinite(worst); i++)
        for (size_t k = 0; k < ps[i]->numel; k++) {
            float save = ps[i]->w[k], h = ag_check_step * fmaxf(1.0f, fabsf(save));
            ps[i]->w[k] = save + h;
            double up = ag_loss_value(ag, build, ps, np);
            ps[i]->w[k] = save - h;
            double down = ag_loss_value(ag, build, ps, np);
            ps[i]->w[k] = save;
            double num = (up - down) / (2.0 * h), ana = ps[i]->g[k];
            double err = fabs(num - ana) / fmax(1e-2, fabs(num) + fabs(ana));
            if (err > worst) worst = err;
        }
    printf("  %-14s max relative gradient error %.2e\n", what, worst);
    oiqa_ag_free(ag);
    return worst;
}

/* ag_grad_check on fresh parameters of the given shapes ({ndim, sizes...})
 * holding N(0, 1) values from rng. */
static inline double ag_fd_normal(const char *what, ag_build_fn build, const int (*shapes)[5], int np, oiqa_rng *rng)
{
    oiqa_param ps[AG_CHECK_MAX_PARAMS], *pp[AG_CHECK_MAX_PARAMS];
    for (int i = 0; i < np; i++) {
        oiqa_param_init(&ps[i], what, shapes[i][0], shapes[i] + 1);
        for (size_t k = 0; k < ps[i].numel; k++) ps[i].w[k] = (float)oiqa_rng_normal(rng);
        pp[i] = &ps[i];
    }
    double worst = ag_grad_check(what, build, pp, np);
    for (int i = 0; i < np; i++) oiqa_param_free(&ps[i]);
    return worst;
}

#endif
