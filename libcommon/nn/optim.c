/* Optimisers, schedules and clipping; see nn/optim.h. */
#include "nn/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

static int ensure_state(oiqa_param *p, int need_v)
{
    if (!p->m && !(p->m = calloc(p->numel, sizeof(float)))) return -1;
    if (need_v && !p->v && !(p->v = calloc(p->numel, sizeof(float)))) return -1;
    return 0;
}

/* One parameter's update at the step's bias corrections, with torch's
 * float32 operations in torch's order (the scalar factors are formed in
 * double and rounded once, as torch passes Python floats to its kernels). */
static int update_param(const oiqa_optimizer *opt, oiqa_param *p, double lr, double bc1, double bc2)
{
    if (ensure_state(p, opt->kind != OIQA_OPT_SGD))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "optimiser state for %s: out of memory", p->name);
    float wd = (float)opt->weight_decay;
    if (opt->kind == OIQA_OPT_SGD) {
        float mom = (float)opt->momentum, step = (float)lr;
#pragma omp parallel for schedule(static) if (p->numel > 65536) /* elementwise: the same bits at any split */
        for (size_t k = 0; k < p->numel; k++) {
            float g = p->g[k] + wd * p->w[k];
            p->m[k] = opt->step == 1 ? g : mom * p->m[k] + g;
            p->w[k] -= step * (opt->momentum > 0 ? p->m[k] : g);
        }
        return OIQA_OK;
    }
    float b1 = (float)opt->beta1, b2 = (float)opt->beta2;
    float c1 = (float)(1.0 - opt->beta1), c2 = (float)(1.0 - opt->beta2);
    float step = (float)(lr / bc1), bc2_sqrt = (float)sqrt(bc2), eps = (float)opt->eps;
    float keep = (float)(1.0 - lr * opt->weight_decay); /* AdamW's decoupled decay */
    int l2 = opt->kind == OIQA_OPT_ADAM;
#pragma omp parallel for schedule(static) if (p->numel > 65536)
    for (size_t k = 0; k < p->numel; k++) {
        float g = l2 ? p->g[k] + wd * p->w[k] : p->g[k];
        if (!l2) p->w[k] *= keep;
        p->m[k] = b1 * p->m[k] + c1 * g;
        p->v[k] = b2 * p->v[k] + c2 * g * g;
        float denom = sqrtf(p->v[k]) / bc2_sqrt + eps;
        p->w[k] -= step * (p->m[k] / denom);
    }
    return OIQA_OK;
}

int oiqa_optimizer_step(oiqa_optimizer *opt, oiqa_param *const *params, int n, double lr)
{
    oiqa_param_group all = {params, n, 1.0};
    return oiqa_optimizer_step_groups(opt, &all, 1, lr);
}

int oiqa_optimizer_step_groups(oiqa_optimizer *opt, const oiqa_param_group *groups, int n_groups, double lr)
{
    opt->step++;
    double bc1 = 1 - pow(opt->beta1, (double)opt->step), bc2 = 1 - pow(opt->beta2, (double)opt->step);
    for (int gi = 0; gi < n_groups; gi++)
        for (int i = 0; i < groups[gi].n; i++) {
            if (groups[gi].params[i]->frozen) continue; /* a constant (BatchNorm's running statistics) */
            int rc = update_param(opt, groups[gi].params[i], lr * groups[gi].lr_scale, bc1, bc2);
            if (rc) return rc;
        }
    return OIQA_OK;
}

int oiqa_params_unfrozen(oiqa_param *const *params, int n, const char *const *frozen, int n_frozen, oiqa_param **out)
{
    int m = 0;
    for (int i = 0; i < n; i++) {
        int hit = 0;
        for (int f = 0; f < n_frozen && !hit; f++) {
            size_t len = strlen(frozen[f]);
            const char *name = params[i]->name;
            /* a prefix at a name boundary: "layer1" freezes layer1.*, not layer10.* */
            hit = !strncmp(name, frozen[f], len) && (name[len] == '\0' || name[len] == '.');
        }
        if (!hit) out[m++] = params[i];
    }
    return m;
}

int oiqa_ema_init(oiqa_ema *e, oiqa_param *const *params, int n, double decay)
{
    memset(e, 0, sizeof *e);
    e->decay = decay, e->n = n;
    e->params = malloc((size_t)n * sizeof *e->params);
    e->shadow = calloc((size_t)n, sizeof *e->shadow);
    if (!e->params || !e->shadow) {
        oiqa_ema_free(e);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "EMA: out of memory");
    }
    for (int i = 0; i < n; i++) {
        e->params[i] = params[i];
        if (!(e->shadow[i] = malloc(params[i]->numel * sizeof(float)))) {
            oiqa_ema_free(e);
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "EMA: out of memory");
        }
        memcpy(e->shadow[i], params[i]->w, params[i]->numel * sizeof(float));
    }
    return OIQA_OK;
}

void oiqa_ema_update(oiqa_ema *e)
{
    double d = e->decay;
    e->updates++;
    if (e->warmup) { /* torch_ema's use_num_updates */
        double ramp = (1.0 + (double)e->updates) / (10.0 + (double)e->updates);
        if (ramp < d) d = ramp;
    }
    float rate = (float)(1.0 - d);
    for (int i = 0; i < e->n; i++)
        for (size_t k = 0; k < e->params[i]->numel; k++)
            e->shadow[i][k] -= rate * (e->shadow[i][k] - e->params[i]->w[k]);
}

void oiqa_ema_swap(oiqa_ema *e)
{
    for (int i = 0; i < e->n; i++)
        for (size_t k = 0; k < e->params[i]->numel; k++) {
            float t = e->params[i]->w[k];
            e->params[i]->w[k] = e->shadow[i][k], e->shadow[i][k] = t;
        }
}

void oiqa_ema_free(oiqa_ema *e)
{
    for (int i = 0; e->shadow && i < e->n; i++) free(e->shadow[i]);
    free(e->shadow), free(e->params);
    memset(e, 0, sizeof *e);
}

double oiqa_schedule_lr(const oiqa_schedule *s, long t)
{
    long w = s->warmup > 0 ? s->warmup : 0;
    if (t < w) {
        if (s->warmup_kind == OIQA_WARMUP_FROM_INIT)
            return s->warmup_init + (s->lr - s->warmup_init) * (double)t / (double)w;
        return s->lr * (double)(t + 1) / (double)w;
    }
    long after = t - w;
    switch (s->kind) {
    case OIQA_SCHED_STEP:
        return s->step_size > 0 ? s->lr * pow(s->gamma, (double)(after / s->step_size)) : s->lr;
    case OIQA_SCHED_COSINE: {
        double frac;
        if (s->period > 0) {
            frac = (double)after / (double)s->period; /* unclamped: climbs back past the period, as torch's */
        } else {
            long span = s->total - w;
            if (span <= 0) return s->min_lr;
            frac = after >= span ? 1.0 : (double)after / (double)span;
        }
        return s->min_lr + 0.5 * (s->lr - s->min_lr) * (1 + cos(M_PI * frac));
    }
    default: return s->lr;
    }
}

double oiqa_clip_grad_norm(oiqa_param *const *params, int n, double max_norm)
{
    double sq = 0;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < params[i]->numel; k++) sq += (double)params[i]->g[k] * params[i]->g[k];
    double norm = sqrt(sq);
    double coef = max_norm / (norm + 1e-6); /* torch clamps it at 1: no change below max_norm */
    if (max_norm > 0 && coef < 1.0) {
        float scale = (float)coef;
        for (int i = 0; i < n; i++)
            for (size_t k = 0; k < params[i]->numel; k++) params[i]->g[k] *= scale;
    }
    return norm;
}
