/* Optimisers, learning-rate schedules and gradient clipping for oiqa_param
 * sets (nn/ag.h), with PyTorch's update rules so configs carry over:
 *
 *   SGD (torch.optim.SGD, dampening 0, not Nesterov):
 *     g += wd * w;  buf = momentum * buf + g  (buf = g at the first step);
 *     w -= lr * buf
 *   AdamW (Loshchilov & Hutter 2019, torch.optim.AdamW):
 *     w -= lr * wd * w;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *     w -= lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 *   Adam (Kingma & Ba 2015, torch.optim.Adam): weight decay as L2, added to
 *     the gradient (g += wd * w), then AdamW's moments and step without its
 *     decoupled decay (KD-OIQA's optimiser)
 *
 * Schedules give the learning rate of step t (0-based) of T: constant, step
 * (multiplied by gamma every step_size steps) and cosine (annealed from lr to
 * min_lr, Loshchilov & Hutter 2017), each after `warmup` steps of linear
 * warm-up from lr / warmup. */
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

typedef enum { OIQA_SCHED_CONSTANT = 0, OIQA_SCHED_STEP = 1, OIQA_SCHED_COSINE = 2 } oiqa_schedule_kind;

typedef struct {
    oiqa_schedule_kind kind;
    double lr, min_lr;  /* cosine floor */
    long warmup;        /* steps */
    long step_size;     /* step schedule */
    double gamma;       /* step schedule */
    long total;         /* cosine: steps in all */
} oiqa_schedule;

double oiqa_schedule_lr(const oiqa_schedule *s, long t);

/* Scales all gradients so their global L2 norm is at most max_norm
 * (torch.nn.utils.clip_grad_norm_); returns the norm before clipping. */
double oiqa_clip_grad_norm(oiqa_param *const *params, int n, double max_norm);

#endif
