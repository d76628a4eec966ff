/* ResNet-50 and VMamba forwards on the CUDA backend (nn/backend.h): images/s
 * of the network on a batch already in device memory (as PyTorch is timed
 * in bench/gpu_torch.py: input on the GPU, synchronised after each batch).
 * Set OIQA_TF32=1 for the reduced-precision mode. Without a usable GPU it
 * prints the reason and exits 3 (bench/run.sh then skips the peer).
 *   bench_gpu NET [--weights FILE | --seed N] [--h H] [--w W] [--batch N] [--reps N]
 *             [--save-weights OUT.h5]
 * NET: resnet50 or a VMamba preset (vmamba_t_v0, vmamba_t_s1l8, ...);
 * --save-weights writes VMamba's random weights for bench/vmamba_torch.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/ckpt_h5.h"
#include "models/resnet.h"
#include "models/resnet_random.h"
#include "models/vmamba.h"
#include "models/vmamba_random.h"
#include "nn/backend.h"
#include "nn/device.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    int is_resnet;
    oiqa_resnet resnet;
    oiqa_resnet_out rout;
    oiqa_vmamba vmamba;
    oiqa_vmamba_out vout;
} nets;

static int run_once(oiqa_backend *be, nets *n, const oiqa_tensor *x)
{
    int rc = n->is_resnet ? oiqa_resnet_forward_on(be, &n->resnet, x, &n->rout)
                          : oiqa_vmamba_forward_on(be, &n->vmamba, x, &n->vout);
    return rc ? rc : be->ops->sync(be);
}

static int load(const char *name, const char *weights, unsigned long long seed, const char *save, nets *n)
{
    oiqa_ckpt *ck = NULL;
    int rc;
    if ((n->is_resnet = !strcmp(name, "resnet50"))) {
        if (weights) return oiqa_resnet_load_file(weights, &oiqa_resnet50_depth, &n->resnet);
        rc = oiqa_resnet_random_ckpt(&oiqa_resnet50_depth, seed, &ck);
        if (!rc) rc = oiqa_resnet_load(ck, "random", &oiqa_resnet50_depth, &n->resnet);
        oiqa_ckpt_close(ck);
        return rc;
    }
    oiqa_vmamba_config cfg;
    if ((rc = oiqa_vmamba_preset(name, &cfg))) return rc;
    if (weights) return oiqa_vmamba_load_file(weights, &cfg, &n->vmamba);
    rc = oiqa_vmamba_random_ckpt(&cfg, seed, &ck);
    if (!rc) rc = oiqa_vmamba_load(ck, "random", &cfg, &n->vmamba);
    if (!rc && save) { /* for the peer, as bench_vmamba --save-weights */
        char source[4096];
        snprintf(source, sizeof source, "%s.source.txt", save);
        FILE *f = fopen(source, "w");
        if (f) fprintf(f, "bench_gpu: random weights, preset %s, seed %llu\n", name, seed);
        if (!f || fclose(f) != 0) rc = oiqa_fail(OIQA_EXIT_DATA, source, "cannot write");
        oiqa_weights_write_opts o = {.source_path = source, .arch = name, .tool = "bench_gpu",
                                     .command = "bench_gpu", .force = 1};
        if (!rc) rc = oiqa_ckpt_write_h5(ck, save, &o);
    }
    oiqa_ckpt_close(ck);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_gpu NET [--weights FILE | --seed N] [--h H] [--w W] [--batch N] [--reps N] "
                        "[--save-weights OUT.h5]\n");
        return 2;
    }
    int h = 224, w = 224, batch = 20, reps = 10;
    unsigned long long seed = 1;
    const char *weights = NULL, *save = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--weights")) weights = argv[i + 1];
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--h")) h = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--w")) w = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--save-weights")) save = argv[i + 1];
    }
    nets n;
    memset(&n, 0, sizeof n);
    if (load(argv[1], weights, seed, save, &n)) {
        fprintf(stderr, "bench_gpu: %s\n", oiqa_errmsg());
        return 1;
    }
    char why[256];
    if (!oiqa_cuda_usable(why, sizeof why)) {
        printf("bench_gpu: no usable GPU (%s)\n", why);
        return 3;
    }
    oiqa_backend *be = oiqa_backend_cuda_create();
    oiqa_tensor host, x;
    if (!be || oiqa_tensor_create(&host, batch, h, w, 3) || oiqa_be_tensor_create(be, &x, batch, h, w, 3)) {
        fprintf(stderr, "bench_gpu: %s\n", oiqa_errmsg());
        return 1;
    }
    uint32_t s = 1;
    for (size_t i = 0; i < oiqa_tensor_numel(&host); i++) {
        s = s * 1664525u + 1013904223u;
        host.data[i] = (float)(s >> 8) / 16777216.0f * 4.0f - 2.0f; /* like normalised pixels */
    }
    int rc = be->ops->upload(be, host.data, &x);
    /* Two warm-up passes: the first picks cuDNN's algorithms and copies the weights. */
    for (int r = 0; r < 2 && !rc; r++) rc = run_once(be, &n, &x);
    double *t = malloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps && !rc; r++) {
        double t0 = oiqa_now_seconds();
        rc = run_once(be, &n, &x);
        t[r] = oiqa_now_seconds() - t0;
    }
    if (rc) {
        fprintf(stderr, "bench_gpu: %s\n", oiqa_errmsg());
        return 1;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = t[reps / 2];
    printf("oiqa %s (cuda%s): batch %d x %dx%d: %.2f images/s (median of %d, %.4f s per batch)\n", argv[1],
           oiqa_device_tf32() ? ", TF32" : ", fp32", batch, h, w, batch / med, reps, med);
    printf("OIQA_IMAGES_PER_S %.4f\n", batch / med);
    for (int k = 0; k < 4; k++) {
        oiqa_be_tensor_free(be, &n.rout.layer[k]);
        oiqa_be_tensor_free(be, &n.vout.stage[k]);
    }
    oiqa_be_tensor_free(be, &x);
    oiqa_backend_close(be);
    oiqa_tensor_free(&host);
    free(t);
    if (n.is_resnet) oiqa_resnet_free(&n.resnet);
    else oiqa_vmamba_free(&n.vmamba);
    return 0;
}
