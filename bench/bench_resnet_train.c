/* Training steps of ResNet-18 on the tape (models/resnet_tape.h): forward
 * with batch statistics, MSE on a Linear(512, 1) head over the pooled
 * features, backward, Adam (lr 2e-4, weight decay 5e-4 as L2: KD-OIQA's),
 * on random images and deterministic random weights (models/resnet_random.h:
 * torchvision's init, N(0, 2/fan_out) convs, unit BN). bench/resnet_train_torch.py runs
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
#include "models/resnet_random.h"
#include "models/resnet_tape.h"
#include "nn/optim.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static oiqa_rng rng;

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
    oiqa_ckpt *ck = NULL;
    oiqa_resnet_tape net;
    if (oiqa_resnet_random_ckpt(&oiqa_resnet18_depth, 1, &ck) || oiqa_resnet_tape_load(ck, "random", &net)) {
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
