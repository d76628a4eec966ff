/* Training steps of ResNet-18 on the tape (models/resnet_tape.h): forward
 * with batch statistics, MSE on a Linear(512, 1) head over the pooled
 * features, backward, Adam (lr 2e-4, weight decay 5e-4 as L2: KD-OIQA's),
 * on random images and deterministic random weights (torchvision's init
 * shape: N(0, 2/fan_out) convs, unit BN). bench/resnet_train_torch.py runs
 * the same step in PyTorch; bench/run.sh prints the ratio. Reports steps/s
 * and the peak resident memory.
 *   bench_resnet_train [--batch B] [--height H] [--width W] [--steps N] [--threads N] */
#include <malloc.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/error.h"
#include "base/rng.h"
#include "base/threads.h"
#include "io/ckpt.h"
#include "models/resnet_tape.h"
#include "nn/optim.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static oiqa_rng rng;

static void add(oiqa_ckpt *ck, const char *name, int ndim, const int64_t *shape, double std, double fill)
{
    float *v = oiqa_ckpt_add_f32(ck, name, ndim, shape);
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    for (int64_t k = 0; v && k < n; k++) v[k] = std > 0 ? (float)(std * oiqa_rng_normal(&rng)) : (float)fill;
}

static void conv_bn(oiqa_ckpt *ck, const char *conv, const char *bn, int o, int i, int k)
{
    char name[128];
    int64_t w[4] = {o, i, k, k}, c[1] = {o};
    snprintf(name, sizeof name, "%s.weight", conv);
    add(ck, name, 4, w, sqrt(2.0 / (o * k * k)), 0);
    static const char *const part[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int p = 0; p < 4; p++) {
        snprintf(name, sizeof name, "%s.%s", bn, part[p]);
        add(ck, name, 1, c, 0, p == 0 || p == 3 ? 1.0 : 0.0);
    }
}

/* torchvision resnet18's state dict (no fc), random. */
static oiqa_ckpt *resnet18_random(void)
{
    oiqa_ckpt *ck;
    if (oiqa_ckpt_new("resnet18 random", &ck)) return NULL;
    conv_bn(ck, "conv1", "bn1", 64, 3, 7);
    int cin = 64;
    for (int l = 0; l < 4; l++) {
        int c = 64 << l;
        for (int b = 0; b < 2; b++) {
            char conv[64], bn[64];
            for (int k = 0; k < 2; k++) {
                snprintf(conv, sizeof conv, "layer%d.%d.conv%d", l + 1, b, k + 1);
                snprintf(bn, sizeof bn, "layer%d.%d.bn%d", l + 1, b, k + 1);
                conv_bn(ck, conv, bn, c, k ? c : (b ? c : cin), 3);
            }
            if (b == 0 && l > 0) {
                snprintf(conv, sizeof conv, "layer%d.0.downsample.0", l + 1);
                snprintf(bn, sizeof bn, "layer%d.0.downsample.1", l + 1);
                conv_bn(ck, conv, bn, c, cin, 1);
            }
        }
        cin = c;
    }
    return ck;
}

int main(int argc, char **argv)
{
    int B = 16, H = 224, W = 224, steps = 3, threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--height")) H = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--width")) W = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    }
    oiqa_threads_set(threads);
    mallopt(M_MMAP_THRESHOLD, 1 << 30); /* the tape's values: reuse the heap between steps */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    oiqa_rng_seed(&rng, 1);
    oiqa_ckpt *ck = resnet18_random();
    oiqa_resnet_tape net;
    if (!ck || oiqa_resnet_tape_load(ck, "random", &net)) {
        fprintf(stderr, "bench_resnet_train: %s\n", oiqa_errmsg());
        return 1;
    }
    oiqa_ckpt_close(ck);
    oiqa_param hw, hb;
    int ws[2] = {1, 512}, bs[1] = {1};
    oiqa_param_init(&hw, "head.weight", 2, ws), oiqa_param_init(&hb, "head.bias", 1, bs);
    for (int k = 0; k < 512; k++) hw.w[k] = (float)(0.04 * oiqa_rng_normal(&rng));
    oiqa_param *ps[OIQA_RESNET_TAPE_MAX_PARAMS + 2];
    int np = 0;
    for (int i = 0; i < net.n_params; i++) ps[np++] = net.params[i];
    ps[np++] = &hw, ps[np++] = &hb;
    size_t px = (size_t)B * H * W * 3;
    float *x = malloc(px * sizeof(float)), target[64];
    for (size_t k = 0; k < px; k++) x[k] = (float)oiqa_rng_normal(&rng);
    for (int b = 0; b < B && b < 64; b++) target[b] = (float)oiqa_rng_normal(&rng);
    oiqa_optimizer adam = {.kind = OIQA_OPT_ADAM, .lr = 2e-4, .weight_decay = 5e-4, .beta1 = 0.9, .beta2 = 0.999,
                           .eps = 1e-8};
    oiqa_ag *ag = oiqa_ag_new();
    double t_best = INFINITY, loss = 0;
    for (int s = 0; s < steps + 1; s++) { /* the first step warms up */
        double t0 = now_s();
        oiqa_ag_reset(ag);
        for (int i = 0; i < np; i++) oiqa_param_zero_grad(ps[i]);
        int xs[4] = {B, H, W, 3}, ts[2] = {B, 1};
        oiqa_resnet_tape_out out;
        int rc = oiqa_resnet_tape_forward(ag, &net, oiqa_ag_input(ag, x, 4, xs), 1, &out);
        oiqa_agv pred = rc ? -1 : oiqa_ag_linear(ag, out.pool, oiqa_ag_param(ag, &hw), oiqa_ag_param(ag, &hb));
        oiqa_agv l = oiqa_ag_mse(ag, pred, oiqa_ag_input(ag, target, 2, ts));
        if (l < 0 || oiqa_ag_backward(ag, l) || oiqa_optimizer_step(&adam, ps, np, adam.lr)) {
            fprintf(stderr, "bench_resnet_train: %s\n", oiqa_errmsg());
            return 1;
        }
        loss = oiqa_ag_data(ag, l)[0];
        double t = now_s() - t0;
        if (s > 0 && t < t_best) t_best = t;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("oiqa resnet18 train step: batch %d x %dx%d, %d threads: best %.3f s (loss %.4f), peak RSS %.0f MiB\n", B, H,
           W, threads, t_best, loss, ru.ru_maxrss / 1024.0);
    printf("OIQA_STEPS_PER_S %.6f\nOIQA_PEAK_MIB %.1f\n", 1.0 / t_best, ru.ru_maxrss / 1024.0);
    oiqa_ag_free(ag);
    free(x);
    oiqa_param_free(&hw), oiqa_param_free(&hb);
    oiqa_resnet_tape_free(&net);
    return 0;
}
