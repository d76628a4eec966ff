/* One training epoch of the MTFI head (models/mtfi.h, the step of
 * train/train_loop.c: batch on the tape, forward, loss, backward, SGD) on
 * random cached features: 500 images x 20 viewports, ResNet-50 layer2..4
 * (mean || std: 1024, 2048, 4096 per viewport) for the three streams and a
 * VMamba-T global vector (2880), hidden 256, batch 16, aux heads (12
 * levels, 4 types). bench/train_torch.py runs the same architecture in
 * PyTorch; bench/run.sh prints the ratio.
 *   bench_train [--images N] [--views V] [--threads N] [--epochs E] */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "base/rng.h"
#include "base/strutil.h"
#include "base/threads.h"
#include "nn/optim.h"
#include "train/train_batch.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    int n = 500, V = 20, threads = 2, epochs = 1, B = 16;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--images")) n = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--views")) V = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--epochs")) epochs = atoi(argv[i + 1]);
    }
    oiqa_threads_set(threads);
    /* Every step allocates and frees the same large tape values: keep them
     * in the heap instead of mmap/munmap (and page faults) each time
     * (about 30% of an epoch of the default model). */
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    oiqa_rng r;
    oiqa_rng_seed(&r, 1);
    oiqa_train_data d = {.n = n, .V = V, .n_scales = 3, .G = 2880, .has_global = 1};
    const int dims[3] = {1024, 2048, 4096};
    for (int k = 0; k < 3; k++) {
        d.dim[k] = dims[k];
        size_t cnt = (size_t)n * V * dims[k];
        float **dst[3] = {&d.orig[k], &d.rest[k], &d.degr[k]};
        for (int s = 0; s < 3; s++) {
            *dst[s] = oiqa_xmalloc(cnt * sizeof(float));
            for (size_t j = 0; j < cnt; j++) (*dst[s])[j] = (float)(2 * oiqa_rng_uniform(&r) - 1);
        }
    }
    d.global = oiqa_xmalloc((size_t)n * d.G * sizeof(float));
    for (size_t j = 0; j < (size_t)n * d.G; j++) d.global[j] = (float)(2 * oiqa_rng_uniform(&r) - 1);
    float *mos = oiqa_xmalloc((size_t)n * sizeof *mos);
    int *lv = oiqa_xmalloc((size_t)n * sizeof *lv), *ty = oiqa_xmalloc((size_t)n * sizeof *ty);
    for (int i = 0; i < n; i++) mos[i] = (float)oiqa_rng_normal(&r), lv[i] = i % 12, ty[i] = i % 4;

    oiqa_mtfi_config mc = {.n_scales = 3, .local_dim = {1024, 2048, 4096}, .global_dim = d.G, .hidden = 256,
                           .use_restored = 1, .use_degraded = 1, .use_global = 1, .aux_heads = 1, .n_levels = 12,
                           .n_types = 4, .dropout = 0.1f, .w_quality = 1, .w_level = 0.1f, .w_type = 0.1f};
    oiqa_mtfi m;
    oiqa_param *ps[64];
    int rc = oiqa_mtfi_init(&m, &mc, &r), np = rc ? 0 : oiqa_mtfi_params(&m, ps, 64);
    oiqa_optimizer opt = {.kind = OIQA_OPT_SGD, .lr = 1e-3, .momentum = 0.9, .weight_decay = 1e-4};
    oiqa_ag *ag = oiqa_ag_new();
    int *perm = oiqa_xmalloc((size_t)n * sizeof *perm), blv[16], bty[16];
    float target[16];
    double best = 1e30;
    for (int e = 0; e < epochs && !rc; e++) {
        for (int i = 0; i < n; i++) perm[i] = i;
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(oiqa_rng_uniform(&r) * (i + 1)), t = perm[i];
            perm[i] = perm[j], perm[j] = t;
        }
        double t0 = now_s();
        for (int b0 = 0; b0 < n && !rc; b0 += B) {
            int nb = n - b0 < B ? n - b0 : B;
            for (int b = 0; b < nb; b++) target[b] = mos[perm[b0 + b]], blv[b] = lv[perm[b0 + b]], bty[b] = ty[perm[b0 + b]];
            oiqa_ag_reset(ag);
            oiqa_mtfi_inputs in;
            oiqa_mtfi_outputs out;
            rc = oiqa_train_batch_inputs(ag, &m, &d, perm + b0, nb, &in);
            if (!rc) rc = oiqa_mtfi_forward(ag, &m, &in, &r, &out);
            if (rc) break;
            int ts[2] = {nb, 1};
            oiqa_agv loss = oiqa_mtfi_loss(ag, &m, &out, oiqa_ag_input(ag, target, 2, ts), blv, bty);
            for (int i = 0; i < np; i++) oiqa_param_zero_grad(ps[i]);
            if (loss < 0 || oiqa_ag_backward(ag, loss)) rc = 1;
            if (!rc) rc = oiqa_optimizer_step(&opt, ps, np, opt.lr);
        }
        double s = now_s() - t0;
        if (s < best) best = s;
    }
    if (rc) {
        fprintf(stderr, "bench_train: %s\n", oiqa_errmsg());
        return 1;
    }
    printf("oiqa: MTFI head, %d images x %d viewports, batch %d, %d threads: one epoch %.3f s\n", n, V, B, threads, best);
    printf("OIQA_IMAGES_PER_S %.2f\n", n / best);
    oiqa_ag_free(ag);
    oiqa_mtfi_free(&m);
    oiqa_train_data_free(&d);
    free(mos), free(lv), free(ty), free(perm);
    return 0;
}
