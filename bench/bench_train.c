/* One training epoch of the MTFI head through the method interface (the
 * step of train/train_loop.c: methods/features.h batch on the tape, the
 * method's forward and loss hooks, backward, SGD) on
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
#include "methods/features.h"
#include "methods/registry.h"
#include "train/train_config.h"

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
    /* Inputs as the engine holds them: local [n, V, dim] per stream and
     * scale, global [n, 1, G]. */
    const int dims[3] = {1024, 2048, 4096}, G = 2880;
    oiqa_feature_set d = {.n = n, .n_inputs = 2};
    d.in[0] = (oiqa_feature_input){.used = 1, .layout = OIQA_LAYOUT_VIEW_BLOCKS, .n_blocks = 3, .V = V};
    d.in[1] = (oiqa_feature_input){.used = 1, .layout = OIQA_LAYOUT_IMAGE_CONCAT, .n_blocks = 1, .V = 1, .dim = {G}};
    for (int k = 0; k < 3; k++) {
        d.in[0].dim[k] = dims[k];
        size_t cnt = (size_t)n * V * dims[k];
        for (int s = 0; s < 3; s++) {
            float *x = d.in[0].x[s][k] = oiqa_xmalloc(cnt * sizeof(float));
            for (size_t j = 0; j < cnt; j++) x[j] = (float)(2 * oiqa_rng_uniform(&r) - 1);
        }
    }
    d.in[1].x[0][0] = oiqa_xmalloc((size_t)n * G * sizeof(float));
    for (size_t j = 0; j < (size_t)n * G; j++) d.in[1].x[0][0][j] = (float)(2 * oiqa_rng_uniform(&r) - 1);
    float *mos = oiqa_xmalloc((size_t)n * sizeof *mos);
    int *lv = oiqa_xmalloc((size_t)n * sizeof *lv), *ty = oiqa_xmalloc((size_t)n * sizeof *ty);
    for (int i = 0; i < n; i++) mos[i] = (float)oiqa_rng_normal(&r), lv[i] = i % 12, ty[i] = i % 4;

    /* MTFI's defaults (hidden 256, dropout 0.1, every stream, aux heads). */
    const oiqa_method *m = oiqa_method_find("mtfi");
    oiqa_train_config cfg;
    oiqa_cli cli;
    int rc = oiqa_train_config_parse(m, "", "bench", &cfg, &cli);
    int levels[12];
    char *types[4] = {"a", "b", "c", "d"};
    for (int i = 0; i < 12; i++) levels[i] = i;
    oiqa_train_classes cl = {.n_levels = 12, .n_types = 4, .levels = levels, .types = types};
    oiqa_method_shape shape;
    oiqa_feature_set_shape(&d, &cl, &shape);
    void *model = NULL;
    oiqa_param *ps[OIQA_METHOD_MAX_PARAMS];
    if (!rc) rc = m->build(&cfg.model, &shape, &r, &model);
    int np = rc ? 0 : m->params(model, ps, OIQA_METHOD_MAX_PARAMS);
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
            oiqa_method_batch in;
            oiqa_agv out[OIQA_METHOD_MAX_OUTPUTS];
            rc = oiqa_feature_set_batch(ag, &d, perm + b0, nb, &in);
            if (!rc) rc = m->forward(model, ag, &in, &r, out);
            if (rc) break;
            int ts[2] = {nb, 1};
            oiqa_agv loss = m->loss(model, ag, out, oiqa_ag_input(ag, target, 2, ts), blv, bty);
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
    m->free(model);
    oiqa_cli_free(&cli);
    oiqa_feature_set_free(&d);
    free(mos), free(lv), free(ty), free(perm);
    return 0;
}
