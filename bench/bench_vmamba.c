/* VMamba forward (models/vmamba.h) on one 512x1024 ERP and on a batch of
 * 224x224 viewports: images/s and peak memory. bench/vmamba_torch.py runs a
 * PyTorch implementation of the same network on the same weights;
 * bench/run.sh prints the ratio.
 *   bench_vmamba PRESET [--weights FILE | --seed N] [--h H] [--w W] [--batch N]
 *                [--threads N] [--reps N] [--save-weights OUT.h5]
 * Without --weights the weights are random (models/vmamba_random.h);
 * --save-weights writes them as an oiqa HDF5 weight file for the peer. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "base/error.h"
#include "base/strutil.h"
#include "base/threads.h"
#include "io/ckpt_h5.h"
#include "models/vmamba.h"
#include "models/vmamba_random.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: bench_vmamba PRESET [--weights FILE | --seed N] [--h H] [--w W] [--batch N] "
                        "[--threads N] [--reps N] [--save-weights OUT.h5]\n  presets: %s\n",
                oiqa_vmamba_preset_names());
        return 2;
    }
    int h = 512, w = 1024, batch = 1, threads = 2, reps = 3;
    unsigned long long seed = 1;
    const char *weights = NULL, *save = NULL;
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--weights")) weights = argv[i + 1];
        else if (!strcmp(argv[i], "--seed")) seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--h")) h = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--w")) w = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--save-weights")) save = argv[i + 1];
    }
    oiqa_threads_set(threads);
    oiqa_vmamba_config cfg;
    oiqa_vmamba net;
    int rc = oiqa_vmamba_preset(argv[1], &cfg);
    if (!rc && weights) {
        rc = oiqa_vmamba_load_file(weights, &cfg, &net);
    } else if (!rc) {
        oiqa_ckpt *ck = NULL;
        rc = oiqa_vmamba_random_ckpt(&cfg, seed, &ck);
        if (!rc) rc = oiqa_vmamba_load(ck, "random", &cfg, &net);
        if (!rc && save) {
            /* The weight file records its source's sha256: describe the draw
             * in a small text file next to it and name that. */
            char source[4096];
            snprintf(source, sizeof source, "%s.source.txt", save);
            FILE *f = fopen(source, "w");
            if (f) fprintf(f, "bench_vmamba: random weights, preset %s, seed %llu\n", argv[1], seed);
            if (!f || fclose(f) != 0) rc = oiqa_fail(OIQA_EXIT_DATA, source, "cannot write");
            oiqa_weights_write_opts o = {.source_path = source, .arch = argv[1], .tool = "bench_vmamba",
                                         .command = "bench_vmamba", .force = 1};
            if (!rc) rc = oiqa_ckpt_write_h5(ck, save, &o);
        }
        oiqa_ckpt_close(ck);
    }
    if (rc) {
        fprintf(stderr, "bench_vmamba: %s\n", oiqa_errmsg());
        return 1;
    }
    oiqa_tensor x;
    if (oiqa_tensor_create(&x, batch, h, w, 3)) return 1;
    uint32_t s = 1;
    for (size_t i = 0; i < oiqa_tensor_numel(&x); i++) {
        s = s * 1664525u + 1013904223u;
        x.data[i] = (float)(s >> 8) / 16777216.0f * 4.0f - 2.0f; /* like normalised pixels */
    }
    oiqa_vmamba_out out = {0};
    if (oiqa_vmamba_forward(&net, &x, &out, 1)) { /* warm-up */
        fprintf(stderr, "bench_vmamba: %s\n", oiqa_errmsg());
        return 1;
    }
    double *t = malloc(sizeof(double) * (size_t)reps);
    for (int r = 0; r < reps; r++) {
        double t0 = oiqa_now_seconds();
        oiqa_vmamba_forward(&net, &x, &out, 1);
        t[r] = oiqa_now_seconds() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = t[reps / 2];
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("oiqa %s: batch %d x %dx%d, %d threads: %.3f images/s (median of %d, %.3f s per batch), "
           "peak RSS %.0f MiB\n", argv[1], batch, h, w, threads, batch / med, reps, med, ru.ru_maxrss / 1024.0);
    printf("OIQA_IMAGES_PER_S %.5f\n", batch / med);
    free(t);
    oiqa_vmamba_out_free(&out);
    oiqa_tensor_free(&x);
    oiqa_vmamba_free(&net);
    return 0;
}
