/* Training steps of a ViT on the tape (models/transformer_tape.h): timm's
 * vit_base_patch16_224 by default (width 768, 12 blocks, 12 heads, MLP
 * 3072), forward, MSE on its head (Linear(768, 1) on the class token),
 * backward, Adam (lr 1e-5, weight decay 1e-5 as L2: DPAM's and SIND's), on
 * random images and random weights (N(0, 0.02), timm's init scale; unit
 * LayerNorms). bench/vit_train_torch.py runs the same step in PyTorch;
 * bench/run.sh prints the ratio. Reports steps/s and the peak resident
 * memory.
 *   bench_vit_train [--batch B] [--image S] [--patch P] [--width D] [--depth N] [--steps N] [--threads N] */
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
#include "models/transformer_tape.h"
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

static void linear(oiqa_ckpt *ck, const char *prefix, int out, int in)
{
    char name[160];
    int64_t w[2] = {out, in}, b[1] = {out};
    snprintf(name, sizeof name, "%s.weight", prefix), add(ck, name, 2, w, 0.02, 0);
    snprintf(name, sizeof name, "%s.bias", prefix), add(ck, name, 1, b, 0, 0);
}

static void norm(oiqa_ckpt *ck, const char *prefix, int D)
{
    char name[160];
    int64_t c[1] = {D};
    snprintf(name, sizeof name, "%s.weight", prefix), add(ck, name, 1, c, 0, 1);
    snprintf(name, sizeof name, "%s.bias", prefix), add(ck, name, 1, c, 0, 0);
}

/* timm VisionTransformer's state dict with a 1-output head, random. */
static oiqa_ckpt *vit_random(int image, int patch, int D, int depth)
{
    oiqa_ckpt *ck;
    if (oiqa_ckpt_new("vit random", &ck)) return NULL;
    int64_t pw[4] = {D, 3, patch, patch}, c[1] = {D}, cls[3] = {1, 1, D};
    int64_t pos[3] = {1, (image / patch) * (image / patch) + 1, D};
    add(ck, "patch_embed.proj.weight", 4, pw, 0.02, 0), add(ck, "patch_embed.proj.bias", 1, c, 0, 0);
    add(ck, "cls_token", 3, cls, 0.02, 0), add(ck, "pos_embed", 3, pos, 0.02, 0);
    for (int i = 0; i < depth; i++) {
        char p[64], name[96];
        snprintf(p, sizeof p, "blocks.%d", i);
        snprintf(name, sizeof name, "%s.norm1", p), norm(ck, name, D);
        snprintf(name, sizeof name, "%s.attn.qkv", p), linear(ck, name, 3 * D, D);
        snprintf(name, sizeof name, "%s.attn.proj", p), linear(ck, name, D, D);
        snprintf(name, sizeof name, "%s.norm2", p), norm(ck, name, D);
        snprintf(name, sizeof name, "%s.mlp.fc1", p), linear(ck, name, 4 * D, D);
        snprintf(name, sizeof name, "%s.mlp.fc2", p), linear(ck, name, D, 4 * D);
    }
    norm(ck, "norm", D);
    linear(ck, "head", 1, D);
    return ck;
}

int main(int argc, char **argv)
{
    int B = 8, S = 224, P = 16, D = 768, depth = 12, steps = 3, threads = 2;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--image")) S = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--patch")) P = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--width")) D = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--depth")) depth = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
    }
    oiqa_threads_set(threads);
    mallopt(M_MMAP_THRESHOLD, 1 << 30); /* the tape's values: reuse the heap between steps */
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    oiqa_rng_seed(&rng, 1);
    oiqa_ckpt *ck = vit_random(S, P, D, depth);
    oiqa_transformer_tape net;
    if (!ck || oiqa_transformer_tape_load(ck, "random", OIQA_TOWER_IMAGE, NULL, &net)) {
        fprintf(stderr, "bench_vit_train: %s\n", oiqa_errmsg());
        return 1;
    }
    oiqa_ckpt_close(ck);
    size_t px = (size_t)B * S * S * 3;
    float *x = malloc(px * sizeof(float)), *target = malloc((size_t)B * sizeof(float));
    for (size_t k = 0; k < px; k++) x[k] = (float)oiqa_rng_normal(&rng);
    for (int b = 0; b < B; b++) target[b] = (float)oiqa_rng_normal(&rng);
    oiqa_optimizer adam = {.kind = OIQA_OPT_ADAM, .lr = 1e-5, .weight_decay = 1e-5, .beta1 = 0.9, .beta2 = 0.999,
                           .eps = 1e-8};
    oiqa_ag *ag = oiqa_ag_new();
    double t_best = INFINITY, loss = 0;
    for (int s = 0; s < steps + 1; s++) { /* the first step warms up */
        double t0 = now_s();
        oiqa_ag_reset(ag);
        for (int i = 0; i < net.n_params; i++) oiqa_param_zero_grad(net.params[i]);
        int xs[4] = {B, S, S, 3}, ts[2] = {B, 1};
        oiqa_transformer_tape_out out;
        int rc = oiqa_transformer_tape_forward_image(ag, &net, oiqa_ag_input(ag, x, 4, xs), &out);
        oiqa_agv l = rc ? -1 : oiqa_ag_mse(ag, out.embed, oiqa_ag_input(ag, target, 2, ts));
        if (l < 0 || oiqa_ag_backward(ag, l) || oiqa_optimizer_step(&adam, net.params, net.n_params, adam.lr)) {
            fprintf(stderr, "bench_vit_train: %s\n", oiqa_errmsg());
            return 1;
        }
        loss = oiqa_ag_data(ag, l)[0];
        double t = now_s() - t0;
        if (s > 0 && t < t_best) t_best = t;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("oiqa vit (width %d, depth %d, patch %d) train step: batch %d x %dx%d, %d threads: best %.3f s (loss %.4f), "
           "peak RSS %.0f MiB\n",
           D, depth, P, B, S, S, threads, t_best, loss, ru.ru_maxrss / 1024.0);
    printf("OIQA_STEPS_PER_S %.6f\nOIQA_PEAK_MIB %.1f\n", 1.0 / t_best, ru.ru_maxrss / 1024.0);
    oiqa_ag_free(ag);
    free(x), free(target);
    oiqa_transformer_tape_free(&net);
    return 0;
}
