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

/* An exponential moving average of the weights for evaluation (SIND's EMA,
 * decay 0.99; timm's ModelEmaV2 rule): shadow = decay shadow + (1 - decay) w
 * after each step; swap exchanges weights and shadow (evaluate, swap back). */
typedef struct {
    double decay;
    int n;
    oiqa_param **params;
    float **shadow;
} oiqa_ema;
int oiqa_ema_init(oiqa_ema *e, oiqa_param *const *params, int n, double decay);
void oiqa_ema_update(oiqa_ema *e);
void oiqa_ema_swap(oiqa_ema *e);
void oiqa_ema_free(oiqa_ema *e);

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
