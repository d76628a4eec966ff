/* oiqa's optimisers, schedules, weight EMA and gradient clipping
 * (nn/optim.h) against PyTorch 1.13 on the same initial weights and
 * hand-set gradients (tests/fixtures/optim_torch.h5, written by
 * tests/gen_optim_torch.py, which lists the runs and their settings; the
 * settings are repeated below):
 *  - SGD with momentum 0.9 and 0, Adam (L2 weight decay, KD-OIQA's and a
 *    strong one), AdamW: the weights after each of 8 steps, to 1e-6 of
 *    max|ref| per tensor and step (the initial weights are scaled to what 8
 *    steps move them, so a wrong rule shows; the gradients are at least 0.2
 *    in magnitude, so Adam's m / sqrt(v) has no near-zero sign to flip);
 *  - Adam with two parameter groups (the second at lr / 2) under SIND's
 *    warm-up + cosine, the rates of both groups to 1e-12 relative;
 *  - torch_ema's EMA (SIND's: the decay warm-up, the cap, and without
 *    warm-up) over the reference weights, to 1e-6;
 *  - the schedules: StepLR, CosineAnnealingLR past T_max (DPAM), SIND's
 *    WarmupCosineLR and oiqa's own warm-up rules as torch SequentialLRs, to
 *    1e-12 of the base rate;
 *  - clip_grad_norm_: the norm and the clipped gradients. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/ag.h"
#include "nn/optim.h"
#include "check.h"
#include "fixture_h5.h"

#define T_STEPS 8
#define N_SCHED 120
#define NP 3

static const char *const names[NP] = {"p0", "p1", "p2"};
static const int ndims[NP] = {2, 1, 4};
static const int shapes[NP][4] = {{3, 5}, {7}, {2, 3, 3, 3}};

static hid_t fx = -1;            /* the fixture, or -1 */
static float *grads[NP];         /* [T_STEPS, numel] */
static char fx_path[4096];

static int fixture_missing(void)
{
    if (fx >= 0 && grads[0] && grads[1] && grads[2]) return 0;
    SKIP("%s absent or incomplete (tests/gen_optim_torch.py writes it)", fx_path);
    return 1;
}

static float *rd(const char *fmt, const char *a, const char *b, size_t want)
{
    char name[256];
    snprintf(name, sizeof name, fmt, a, b);
    return fixture_read_f32(fx, name, want);
}

static double *rd_f64(const char *name, size_t want)
{
    size_t n;
    double *v = fixture_read_dataset(fx, name, H5T_NATIVE_DOUBLE, sizeof(double), NULL, &n);
    if (v && n != want) free(v), v = NULL;
    return v;
}

/* The three parameters with a run's initial weights (0: missing). */
static int params_load(oiqa_param p[NP], const char *run)
{
    int ok = 1;
    for (int i = 0; i < NP; i++) {
        oiqa_param_init(&p[i], names[i], ndims[i], shapes[i]);
        float *w = rd("%s/init/%s", run, names[i], p[i].numel);
        if (w) memcpy(p[i].w, w, p[i].numel * sizeof(float));
        else ok = 0;
        free(w);
    }
    return ok;
}

static void params_free(oiqa_param p[NP])
{
    for (int i = 0; i < NP; i++) oiqa_param_free(&p[i]);
}

static void set_grads(oiqa_param p[NP], int t)
{
    for (int i = 0; i < NP; i++) memcpy(p[i].g, grads[i] + (size_t)t * p[i].numel, p[i].numel * sizeof(float));
}

/* max |a - ref| / max |ref| over one tensor. */
static double rel_err(const float *a, const float *ref, size_t n)
{
    double e = 0, m = 0;
    for (size_t k = 0; k < n; k++) e = fmax(e, fabs((double)a[k] - ref[k])), m = fmax(m, fabs((double)ref[k]));
    return m > 0 ? e / m : e;
}

/* The worst rel_err of the weights against <run>/w over the steps, running
 * opt with one group (lr_scale 1) or, groups set, p0 p1 | p2 at scale[1];
 * lrs[t] gives step t's rate (NULL: base_lr throughout). -1: fixture data
 * missing. */
static double run_steps(const char *run, oiqa_optimizer opt, double base_lr, const double *lrs, const double scale[2])
{
    oiqa_param p[NP];
    float *ref[NP] = {0};
    double worst = 0;
    int ok = params_load(p, run);
    for (int i = 0; i < NP; i++) ok &= (ref[i] = rd("%s/w/%s", run, names[i], (size_t)T_STEPS * p[i].numel)) != NULL;
    oiqa_param *all[NP] = {&p[0], &p[1], &p[2]};
    oiqa_param_group groups[2] = {{all, 2, scale ? scale[0] : 1.0}, {all + 2, 1, scale ? scale[1] : 1.0}};
    for (int t = 0; ok && t < T_STEPS; t++) {
        set_grads(p, t);
        double lr = lrs ? lrs[t] : base_lr;
        if (oiqa_optimizer_step_groups(&opt, groups, 2, lr)) ok = 0;
        for (int i = 0; ok && i < NP; i++)
            worst = fmax(worst, rel_err(p[i].w, ref[i] + (size_t)t * p[i].numel, p[i].numel));
    }
    for (int i = 0; i < NP; i++) free(ref[i]);
    params_free(p);
    return ok ? worst : -1;
}

#define WEIGHT_TOL 1e-6

static void check_run(const char *run, oiqa_optimizer opt, double lr)
{
    double e = run_steps(run, opt, lr, NULL, NULL);
    printf("  %-15s weights: worst %.3g of max|ref|\n", run, e);
    CHECK_MSG(e >= 0 && e <= WEIGHT_TOL, "%s: worst weight error %g (tolerance %g; -1: data missing)", run, e,
              WEIGHT_TOL);
}

static void t_sgd(void)
{
    if (fixture_missing()) return;
    check_run("sgd_momentum", (oiqa_optimizer){.kind = OIQA_OPT_SGD, .momentum = 0.9, .weight_decay = 1e-4}, 0.05);
    check_run("sgd_plain", (oiqa_optimizer){.kind = OIQA_OPT_SGD, .momentum = 0.0, .weight_decay = 1e-4}, 0.05);
}

static oiqa_optimizer adam(oiqa_optimizer_kind kind, double wd)
{
    return (oiqa_optimizer){.kind = kind, .weight_decay = wd, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8};
}

static void t_adam(void)
{
    if (fixture_missing()) return;
    check_run("adam_l2", adam(OIQA_OPT_ADAM, 5e-4), 2e-4);
    check_run("adam_l2_strong", adam(OIQA_OPT_ADAM, 0.5), 1e-2);
    check_run("adamw", adam(OIQA_OPT_ADAMW, 0.05), 1e-3);
}

/* SIND's WarmupCosineLR(warmup_step 3, T_max 6) as an oiqa_schedule. */
static oiqa_schedule sind_schedule(double lr, long warmup, long t_max)
{
    return (oiqa_schedule){.kind = OIQA_SCHED_COSINE, .lr = lr, .warmup = warmup, .period = t_max,
                           .warmup_kind = OIQA_WARMUP_FROM_INIT, .warmup_init = 0.0};
}

static void t_adam_groups_schedule(void)
{
    if (fixture_missing()) return;
    double *ref_lr = rd_f64("adam_groups/lr", T_STEPS * 2);
    CHECK_MSG(ref_lr, "adam_groups/lr missing");
    if (!ref_lr) return;
    oiqa_schedule s = sind_schedule(1e-3, 3, 6);
    const double scale[2] = {1.0, 0.5};
    double lrs[T_STEPS], lr_err = 0;
    for (int t = 0; t < T_STEPS; t++) {
        lrs[t] = oiqa_schedule_lr(&s, t);
        for (int g = 0; g < 2; g++) lr_err = fmax(lr_err, fabs(lrs[t] * scale[g] - ref_lr[t * 2 + g]) / (1e-3 * scale[g]));
    }
    CHECK(ref_lr[0] == 0.0 && lrs[0] == 0.0); /* SIND's first step runs at lr 0 */
    free(ref_lr);
    printf("  adam_groups     rates: worst %.3g of the base rate\n", lr_err);
    CHECK_MSG(lr_err <= 1e-12, "group rates: worst %g", lr_err);
    double e = run_steps("adam_groups", adam(OIQA_OPT_ADAM, 1e-4), 0, lrs, scale);
    printf("  adam_groups     weights: worst %.3g of max|ref|\n", e);
    CHECK_MSG(e >= 0 && e <= WEIGHT_TOL, "adam_groups: worst weight error %g (-1: data missing)", e);
}

/* torch_ema over adam_groups' reference weights (the shadow starts at its
 * initial weights). */
static void t_ema(void)
{
    if (fixture_missing()) return;
    static const struct {
        const char *name;
        double decay;
        int warmup;
    } emas[3] = {{"decay_099", 0.99, 1}, {"decay_040", 0.4, 1}, {"plain_099", 0.99, 0}};
    oiqa_param p[NP];
    float *w[NP] = {0};
    int ok = params_load(p, "adam_groups");
    for (int i = 0; i < NP; i++) ok &= (w[i] = rd("%s/w/%s", "adam_groups", names[i], (size_t)T_STEPS * p[i].numel)) != NULL;
    oiqa_param *all[NP] = {&p[0], &p[1], &p[2]};
    float *init[NP]; /* the initial weights, restored before each EMA */
    for (int i = 0; i < NP; i++) {
        init[i] = malloc(p[i].numel * sizeof(float));
        if (init[i]) memcpy(init[i], p[i].w, p[i].numel * sizeof(float));
        else ok = 0;
    }
    double lag = 0; /* how far the shadows end from the weights */
    for (int j = 0; ok && j < 3; j++) {
        for (int i = 0; i < NP; i++) memcpy(p[i].w, init[i], p[i].numel * sizeof(float));
        oiqa_ema e;
        CHECK(oiqa_ema_init(&e, all, NP, emas[j].decay) == 0);
        e.warmup = emas[j].warmup;
        double worst = 0;
        float *ref[NP] = {0};
        for (int i = 0; i < NP; i++)
            ok &= (ref[i] = rd("ema/%s/%s", emas[j].name, names[i], (size_t)T_STEPS * p[i].numel)) != NULL;
        for (int t = 0; ok && t < T_STEPS; t++) {
            for (int i = 0; i < NP; i++) memcpy(p[i].w, w[i] + (size_t)t * p[i].numel, p[i].numel * sizeof(float));
            oiqa_ema_update(&e);
            for (int i = 0; i < NP; i++) {
                const float *r = ref[i] + (size_t)t * p[i].numel;
                worst = fmax(worst, rel_err(e.shadow[i], r, p[i].numel));
                if (t == T_STEPS - 1) lag = fmax(lag, rel_err(p[i].w, r, p[i].numel));
            }
        }
        CHECK(!ok || e.updates == T_STEPS);
        printf("  ema %-11s shadow: worst %.3g of max|ref|\n", emas[j].name, worst);
        CHECK_MSG(worst <= WEIGHT_TOL, "ema %s: worst %g", emas[j].name, worst);
        for (int i = 0; i < NP; i++) free(ref[i]);
        oiqa_ema_free(&e);
    }
    CHECK_MSG(ok, "EMA data missing");
    /* the shadows lag the weights far beyond the tolerance: the check can tell an average from the weights */
    CHECK(lag > 100 * WEIGHT_TOL);
    for (int i = 0; i < NP; i++) free(w[i]), free(init[i]);
    params_free(p);
}

static double sched_err(const char *name, const oiqa_schedule *s)
{
    char path[64];
    snprintf(path, sizeof path, "sched/%s", name);
    double *ref = rd_f64(path, N_SCHED);
    if (!ref) return -1;
    double worst = 0;
    for (long t = 0; t < N_SCHED; t++) worst = fmax(worst, fabs(oiqa_schedule_lr(s, t) - ref[t]) / s->lr);
    free(ref);
    printf("  sched %-14s worst %.3g of the base rate\n", name, worst);
    return worst;
}

static void t_schedules(void)
{
    if (fixture_missing()) return;
    static const struct {
        const char *name;
        oiqa_schedule s;
    } cases[] = {
        {"step", {.kind = OIQA_SCHED_STEP, .lr = 1e-3, .step_size = 10, .gamma = 0.5}},
        /* DPAM: T_max 50 per batch, the rate climbs back after step 50 */
        {"cosine_t50", {.kind = OIQA_SCHED_COSINE, .lr = 1e-5, .min_lr = 0.0, .period = 50}},
        {"cosine_t50_eta", {.kind = OIQA_SCHED_COSINE, .lr = 1e-3, .min_lr = 1e-5, .period = 50}},
        /* SIND: 5 warm-up epochs of 35, 3 batches each */
        {"sind", {.kind = OIQA_SCHED_COSINE, .lr = 1e-5, .warmup = 15, .period = 105,
                  .warmup_kind = OIQA_WARMUP_FROM_INIT}},
        /* oiqa's existing rules (period 0), as train_loop builds them */
        {"oiqa_cosine", {.kind = OIQA_SCHED_COSINE, .lr = 1e-3, .min_lr = 1e-5, .warmup = 10, .total = 120}},
        {"oiqa_step", {.kind = OIQA_SCHED_STEP, .lr = 1e-3, .warmup = 10, .step_size = 10, .gamma = 0.5}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        double e = sched_err(cases[c].name, &cases[c].s);
        CHECK_MSG(e >= 0 && e <= 1e-12, "sched %s: worst %g (-1: missing)", cases[c].name, e);
    }
    /* past T_max the cosine climbs back: step 100 is the base rate again */
    CHECK(fabs(oiqa_schedule_lr(&cases[1].s, 100) - 1e-5) < 1e-17 && oiqa_schedule_lr(&cases[1].s, 50) < 1e-20);
}

static void t_clip(void)
{
    if (fixture_missing()) return;
    oiqa_param p[NP];
    float *before[NP] = {0}, *after[NP] = {0};
    int ok = 1;
    for (int i = 0; i < NP; i++) {
        oiqa_param_init(&p[i], names[i], ndims[i], shapes[i]);
        ok &= (before[i] = rd("clip/before/%s%s", names[i], "", p[i].numel)) != NULL;
        ok &= (after[i] = rd("clip/after/%s%s", names[i], "", p[i].numel)) != NULL;
    }
    double *norm = rd_f64("clip/norm", 1);
    CHECK_MSG(ok && norm, "clip data missing");
    if (ok && norm) {
        for (int i = 0; i < NP; i++) memcpy(p[i].g, before[i], p[i].numel * sizeof(float));
        oiqa_param *all[NP] = {&p[0], &p[1], &p[2]};
        double got = oiqa_clip_grad_norm(all, NP, 2.0), worst = 0;
        for (int i = 0; i < NP; i++) worst = fmax(worst, rel_err(p[i].g, after[i], p[i].numel));
        double norm_err = fabs(got - norm[0]) / norm[0];
        printf("  clip            norm: %.3g relative; gradients: worst %.3g of max|ref|\n", norm_err, worst);
        CHECK_MSG(norm_err <= 1e-6, "norm %.9g vs torch %.9g", got, norm[0]); /* torch sums in float32 */
        CHECK_MSG(worst <= 1e-6, "clipped gradients: worst %g", worst);
        /* below max_norm torch's coefficient clamps at 1: the gradients stay as they are */
        for (int i = 0; i < NP; i++) memcpy(before[i], p[i].g, p[i].numel * sizeof(float));
        CHECK_NEAR(oiqa_clip_grad_norm(all, NP, 100.0), 2.0, 1e-5);
        for (int i = 0; i < NP; i++) CHECK(memcmp(p[i].g, before[i], p[i].numel * sizeof(float)) == 0);
    }
    free(norm);
    for (int i = 0; i < NP; i++) free(before[i]), free(after[i]);
    params_free(p);
}

int main(void)
{
    const char *root = getenv("OIQA_ROOT");
    snprintf(fx_path, sizeof fx_path, "%s/tests/fixtures/optim_torch.h5", root && *root ? root : ".");
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    if (access(fx_path, R_OK) == 0) fx = H5Fopen(fx_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fx >= 0) {
        size_t numel[NP] = {15, 7, 54};
        for (int i = 0; i < NP; i++) grads[i] = rd("grads/%s%s", names[i], "", (size_t)T_STEPS * numel[i]);
    }
    RUN(t_sgd);
    RUN(t_adam);
    RUN(t_adam_groups_schedule);
    RUN(t_ema);
    RUN(t_schedules);
    RUN(t_clip);
    for (int i = 0; i < NP; i++) free(grads[i]);
    if (fx >= 0) H5Fclose(fx);
    return check_done();
}
