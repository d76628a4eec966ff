/* ResNet-50 forward on a batch of 224x224 viewports: images/s, achieved
 * GFLOP/s against OpenBLAS's own large-sgemm rate measured in the same run,
 * and peak memory. bench/resnet_torch.py measures PyTorch on the same batch;
 * bench/run.sh prints the ratio.
 *   bench_resnet WEIGHTS.pth [--batch N] [--threads N] [--reps N] */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/error.h"
#include "base/strutil.h"
#include "base/threads.h"
#include "models/resnet.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Multiply-adds of one conv producing oh x ow. */
static double conv_macs(const oiqa_conv2d *c, int oh, int ow) { return (double)oh * ow * c->cout * c->kh * c->kw * c->cin; }

static int out_size(const oiqa_conv2d *c, int in) { return oiqa_conv2d_out_size(in, c->kh, c->stride, c->pad); }

/* Multiply-adds of a forward on an h x w image, walked from the loaded net. */
static double resnet_macs(const oiqa_resnet *net, int h, int w)
{
    const oiqa_conv2d *stem = &net->stem.conv;
    h = out_size(stem, h), w = out_size(stem, w);
    double macs = conv_macs(stem, h, w);
    h = (h + 2 - 3) / 2 + 1, w = (w + 2 - 3) / 2 + 1; /* maxpool 3x3/2 pad 1 */
    for (int b = 0; b < net->plan.n_blocks; b++) {
        const oiqa_resnet_block *bl = &net->blocks[b];
        for (int j = 0; j < net->plan.convs_per_block; j++) {
            const oiqa_conv2d *c = &bl->conv[j].conv;
            h = out_size(c, h), w = out_size(c, w);
            macs += conv_macs(c, h, w);
        }
        if (bl->has_downsample) macs += conv_macs(&bl->downsample.conv, h, w);
    }
    return macs + (double)net->plan.channels[3] * net->classes;
}

/* OpenBLAS's sgemm rate on 2048^3 (the ceiling a conv-as-GEMM can reach). */
static double sgemm_gflops(int threads)
{
    const int n = 2048;
    float *a = malloc((size_t)n * n * 4), *b = malloc((size_t)n * n * 4), *c = malloc((size_t)n * n * 4);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = (float)(i % 7) * 0.1f, b[i] = (float)(i % 5) * 0.1f;
    oiqa_threads_set(threads);
    double best = 0;
    for (int r = 0; r < 3; r++) {
        double t0 = oiqa_now_seconds();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double g = 2.0 * n * n * n / (oiqa_now_seconds() - t0) / 1e9;
        if (g > best) best = g;
    }
    free(a), free(b), free(c);
    return best;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench_resnet WEIGHTS.pth [--batch N] [--threads N] [--reps N]\n");
        return 2;
    }
    int batch = 20, threads = 2, reps = 5;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    }
    oiqa_threads_set(threads);
    oiqa_resnet net;
    if (oiqa_resnet_load_file(argv[1], &oiqa_resnet50_depth, &net)) {
        fprintf(stderr, "bench_resnet: %s\n", oiqa_errmsg());
        return 1;
    }
    oiqa_tensor x;
    if (oiqa_tensor_create(&x, batch, 224, 224, 3)) return 1;
    uint32_t s = 1;
    for (size_t i = 0; i < oiqa_tensor_numel(&x); i++) {
        s = s * 1664525u + 1013904223u;
        x.data[i] = (float)(s >> 8) / 16777216.0f * 4.0f - 2.0f; /* like normalised pixels */
    }
    oiqa_resnet_out out = {0};
    if (oiqa_resnet_forward(&net, &x, &out, 0)) return 1; /* warm-up */
    double *t = malloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        double t0 = oiqa_now_seconds();
        oiqa_resnet_forward(&net, &x, &out, 0);
        t[r] = oiqa_now_seconds() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = t[reps / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double gflop_img = 2.0 * resnet_macs(&net, 224, 224) / 1e9;
    double sg = sgemm_gflops(threads);
    printf("oiqa resnet50: batch %d x 224x224, %d threads: %.2f images/s (median of %d, %.3f s per batch)\n", batch,
           threads, batch / med, reps, med);
    printf("oiqa resnet50: %.2f GFLOP per image, %.1f GFLOP/s achieved; OpenBLAS sgemm 2048^3: %.1f GFLOP/s (%.0f%%)\n",
           gflop_img, gflop_img * batch / med, sg, 100.0 * gflop_img * batch / med / sg);
    printf("oiqa resnet50: peak RSS %.0f MiB (weights, batch input, layer1-4 outputs and scratch)\n",
           ru.ru_maxrss / 1024.0);
    printf("OIQA_IMAGES_PER_S %.4f\n", batch / med);
    free(t);
    oiqa_resnet_out_free(&out);
    oiqa_tensor_free(&x);
    oiqa_resnet_free(&net);
    return 0;
}
