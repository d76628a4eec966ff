/* Speed of the iqa/ operators on 224 x 224 viewports (the pseudo-reference
 * stage's unit of work): viewports/s for each distortion at level 3, each
 * restorer (on the distortion it targets, level 3), restore=auto, SSIM and
 * MS-SSIM, with 1 and 2 threads. Threads go over viewports (one viewport per
 * task), as a stage would run them; the operators themselves only go
 * parallel on images far larger than a viewport.
 *
 *   bench_iqa [PANORAMA.png] [--seconds S]
 *
 * The viewports are 16 224 x 224 crops of the panorama (default
 * data/panoramas/city_tonemapped.png). The last column divides by the
 * process CPU time of the 1-thread run instead of wall time: on a shared
 * machine it is the steadier figure. No peer is run: there is no single
 * Python peer for these operators (skimage's denoise_nl_means / richardson_lucy
 * differ in their parameters), so the figures are absolute. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "io/image.h"
#include "iqa/distort.h"
#include "iqa/restore.h"
#include "iqa/ssim.h"

#define VP 224
#define N_VP 16

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
static double now_s(void) { return clock_s(CLOCK_MONOTONIC); }

typedef enum { K_DISTORT, K_RESTORE, K_SSIM, K_MSSSIM } kind;

typedef struct {
    const char *name;
    kind k;
    oiqa_dist_family fam; /* distortion applied (K_DISTORT), or the input's (K_RESTORE) */
    oiqa_restore_op op;
} op_desc;

static const op_desc ops[] = {
    {"distort jpeg L3", K_DISTORT, OIQA_DIST_JPEG, 0},
    {"distort blur L3", K_DISTORT, OIQA_DIST_BLUR, 0},
    {"distort noise L3", K_DISTORT, OIQA_DIST_NOISE, 0},
    {"distort resample L3", K_DISTORT, OIQA_DIST_RESAMPLE, 0},
    {"restore denoise (noise L3)", K_RESTORE, OIQA_DIST_NOISE, OIQA_RESTORE_DENOISE},
    {"restore deblock (jpeg L3)", K_RESTORE, OIQA_DIST_JPEG, OIQA_RESTORE_DEBLOCK},
    {"restore deblur (blur L3)", K_RESTORE, OIQA_DIST_BLUR, OIQA_RESTORE_DEBLUR},
    {"restore auto (jpeg L3)", K_RESTORE, OIQA_DIST_JPEG, OIQA_RESTORE_AUTO},
    {"restore auto (noise L3)", K_RESTORE, OIQA_DIST_NOISE, OIQA_RESTORE_AUTO},
    {"restore auto (blur L3)", K_RESTORE, OIQA_DIST_BLUR, OIQA_RESTORE_AUTO},
    {"ssim (vs noise L3)", K_SSIM, OIQA_DIST_NOISE, 0},
    {"ms-ssim (vs noise L3)", K_MSSSIM, OIQA_DIST_NOISE, 0},
};

int main(int argc, char **argv)
{
    const char *path = "data/panoramas/city_tonemapped.png";
    double seconds = 1.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else path = argv[i];
    }
    oiqa_image im = {0};
    oiqa_image_load_opts lo = {0};
    if (oiqa_image_load(path, &lo, &im) || im.w < 4 * VP || im.h < 2 * VP) {
        fprintf(stderr, "bench_iqa: error: %s\n", *oiqa_errmsg() ? oiqa_errmsg() : "panorama too small");
        return 1;
    }
    size_t vb = (size_t)VP * VP * 3;
    uint8_t *clean = malloc(N_VP * vb), *dist = malloc(OIQA_DIST_COUNT * N_VP * vb), *out = malloc(N_VP * vb);
    for (int v = 0; v < N_VP; v++) {
        int x0 = (v % 8) * (im.w - VP) / 7, y0 = (v / 8) * (im.h - VP);
        for (int y = 0; y < VP; y++)
            memcpy(clean + v * vb + (size_t)y * VP * 3, im.rgb + ((size_t)(y0 + y) * im.w + x0) * 3, VP * 3);
        for (int f = 0; f < OIQA_DIST_COUNT; f++)
            oiqa_distort_level(clean + v * vb, VP, VP, f, 3, v, dist + ((size_t)f * N_VP + v) * vb);
    }
    oiqa_image_free(&im);
    printf("%-28s %12s %12s %12s\n", "operator (224x224)", "1 thread", "2 threads", "1 thr (cpu)");
    for (size_t o = 0; o < sizeof ops / sizeof ops[0]; o++) {
        const op_desc *d = &ops[o];
        double rate[2], cpu_rate = 0;
        for (int t = 1; t <= 2; t++) {
            long done = 0;
            double t0 = now_s(), c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), el = 0;
            do {
#pragma omp parallel for schedule(dynamic, 1) num_threads(t)
                for (int v = 0; v < N_VP; v++) {
                    const uint8_t *in = dist + ((size_t)d->fam * N_VP + v) * vb;
                    double s;
                    switch (d->k) {
                    case K_DISTORT: oiqa_distort_level(clean + v * vb, VP, VP, d->fam, 3, v, out + v * vb); break;
                    case K_RESTORE: oiqa_restore(in, VP, VP, d->op, out + v * vb, NULL); break;
                    case K_SSIM: oiqa_ssim(clean + v * vb, in, VP, VP, &s); break;
                    case K_MSSSIM: oiqa_ms_ssim(clean + v * vb, in, VP, VP, &s); break;
                    }
                }
                done += N_VP;
                el = now_s() - t0;
            } while (el < seconds);
            rate[t - 1] = done / el;
            if (t == 1) cpu_rate = done / (clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0);
        }
        printf("%-28s %12.1f %12.1f %12.1f  viewports/s\n", d->name, rate[0], rate[1], cpu_rate);
        fflush(stdout);
    }
    free(clean), free(dist), free(out);
    return 0;
}
