/* Optimisers, learning-rate schedules and gradient clipping for oiqa_param
 * sets (nn/ag.h), with PyTorch's update rules so configs carry over
 * (tests/unit/test_optim_torch.c checks each against torch 1.13):
 *
 *   SGD (torch.optim.SGD, dampening 0, not Nesterov):
 *     g += wd * w;  buf = momentum * buf + g  (buf = g at the first step);
 *     w -= lr * buf
 *   AdamW (Loshchilov & Hutter 2019, torch.optim.AdamW):
 *     w *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *     w -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 *   Adam (Kingma & Ba 2015, torch.optim.Adam): weight decay as L2, added to
 *     the gradient (g += wd * w), then AdamW's moments and step without its
 *     decoupled decay (KD-OIQA's, DPAM's and SIND's optimiser)
 * The arithmetic is torch's: float32 state, the bias corrections in double,
 * the scalar factors (1 - b1, 1 - lr wd, ...) formed in double, then rounded.
 *
 * Schedules give the learning rate of step t (0-based) of T: constant, step
 * (multiplied by gamma every step_size steps) and cosine (annealed from lr to
 * min_lr, Loshchilov & Hutter 2017), each after `warmup` steps of linear
 * warm-up (oiqa_schedule below has the rules and the torch classes each
 * reproduces). */
#ifndef OIQA_NN_OPTIM_H
#define OIQA_NN_OPTIM_H

#include "nn/ag.h"

typedef enum { OIQA_OPT_SGD = 0, OIQA_OPT_ADAMW = 1, OIQA_OPT_ADAM = 2 } oiqa_optimizer_kind;

typedef struct {
    oiqa_optimizer_kind kind;
    double lr;
    double momentum;     /* SGD */
    double weight_decay;
    double beta1, beta2, eps; /* Adam, AdamW: 0.9, 0.999, 1e-8 */
    long step;           /* updates done */
} oiqa_optimizer;

/* One update of every parameter from its gradient (which is left as is). */
int oiqa_optimizer_step(oiqa_optimizer *opt, oiqa_param *const *params, int n, double lr);

/* Parameter groups with their own learning rate (lr x lr_scale: KD-OIQA's
 * mask network at lr / 2), one step for all (one bias correction). */
typedef struct {
    oiqa_param *const *params;
    int n;
    double lr_scale;
} oiqa_param_group;
int oiqa_optimizer_step_groups(oiqa_optimizer *opt, const oiqa_param_group *groups, int n_groups, double lr);

/* Freezing by name: the parameters none of the prefixes names (a prefix
 * matches at a '.' boundary: "layer1" is layer1.* but not layer10.*) into
 * out; returns their count. Frozen ones are simply not stepped. */
int oiqa_params_unfrozen(oiqa_param *const *params, int n, const char *const *frozen, int n_frozen,
                         oiqa_param **out);

/* An exponential moving average of the weights for evaluation, after each
 * step: shadow -= (1 - d) (shadow - w) (torch_ema's arithmetic; the same as
 * shadow = d shadow + (1 - d) w). d = decay, or with `warmup` set (after
 * init) min(decay, (1 + n) / (10 + n)) at the n-th update (n from 1):
 * torch_ema.ExponentialMovingAverage with use_num_updates=True, SIND's EMA
 * (decay 0.99, reached at the 890th update). Over the parameters given only
 * (torch_ema averages parameters, not buffers). swap exchanges weights and
 * shadow (evaluate, swap back). */
typedef struct {
    double decay;
    int warmup;   /* 1: the decay warm-up above; 0 (init's default): decay throughout */
    long updates; /* updates done */
    int n;
    oiqa_param **params;
    float **shadow;
} oiqa_ema;
int oiqa_ema_init(oiqa_ema *e, oiqa_param *const *params, int n, double decay);
void oiqa_ema_update(oiqa_ema *e);
void oiqa_ema_swap(oiqa_ema *e);
void oiqa_ema_free(oiqa_ema *e);

typedef enum { OIQA_SCHED_CONSTANT = 0, OIQA_SCHED_STEP = 1, OIQA_SCHED_COSINE = 2 } oiqa_schedule_kind;

/* Warm-up, t < warmup:
 *   OIQA_WARMUP_TO_LR (the default): lr (t + 1) / warmup, lr reached at step
 *     warmup - 1 (torch LinearLR(start_factor 1/warmup, total_iters warmup - 1)
 *     ahead of the main schedule in a SequentialLR, milestone warmup);
 *   OIQA_WARMUP_FROM_INIT: warmup_init + (lr - warmup_init) t / warmup, so
 *     step 0 runs at warmup_init and lr is reached at step warmup (SIND's
 *     WarmupCosineLR, ZachL1/SIND g_iqa/train_utils.py, warmup_init 0).
 * Then, with a = t - warmup (a = t without warm-up):
 *   step:   lr gamma^floor(a / step_size)  (torch StepLR)
 *   cosine: min_lr + (lr - min_lr) (1 + cos(pi a / P)) / 2, with
 *     period > 0: P = period and no clamp, so past P the rate climbs back
 *       (periodic in 2P) as torch CosineAnnealingLR(T_max = period, eta_min =
 *       min_lr) does (DPAM: T_max 50 per batch over 200 epochs); SIND's
 *       WarmupCosineLR, stepped per batch, is this with FROM_INIT, min_lr 0
 *       and period = its T_max = epochs x batches, warm-up included);
 *     period 0: P = total - warmup, a clamped at P (min_lr from then on). */
typedef enum { OIQA_WARMUP_TO_LR = 0, OIQA_WARMUP_FROM_INIT = 1 } oiqa_warmup_kind;

typedef struct {
    oiqa_schedule_kind kind;
    double lr, min_lr;  /* cosine floor */
    long warmup;        /* steps */
    long step_size;     /* step schedule */
    double gamma;       /* step schedule */
    long total;         /* cosine with period 0: steps in all */
    long period;        /* cosine: steps from lr to min_lr (torch's T_max); 0: total - warmup */
    oiqa_warmup_kind warmup_kind;
    double warmup_init; /* OIQA_WARMUP_FROM_INIT: the rate of step 0 */
} oiqa_schedule;

double oiqa_schedule_lr(const oiqa_schedule *s, long t);

/* Scales all gradients so their global L2 norm is at most max_norm: by
 * max_norm / (norm + 1e-6) where that is below 1
 * (torch.nn.utils.clip_grad_norm_); returns the norm before clipping. */
double oiqa_clip_grad_norm(oiqa_param *const *params, int n, double max_norm);

#endif
