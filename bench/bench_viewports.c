/* Viewport sampling speed: 20 icosa20 viewports of 224 x 224 (fov 90) from
 * one ERP, the 20 viewports spread over OpenMP threads.
 *
 *   bench_viewports ERP.png [--threads N] [--seconds S] [--maps-out maps.npy] [--serve]
 *
 * Prints decode time, map build time and images/s (one image = 20
 * viewports) for bilinear, and for information bilinear f32, bicubic and
 * antialias (median of TRIALS trials each).
 * --maps-out writes the 20 (u, v) maps as a float32 .npy [20, 224, 224, 2]
 * so that the OpenCV side (bench/viewports_opencv.py) samples the same
 * positions.
 * --serve: after the set-up, prints "ready" and then answers lines
 * "FILTER SECONDS" on stdin (FILTER: bilinear, bilinear_f32, bicubic,
 * antialias) with "FILTER IMAGES_PER_S" after sampling for that long, until
 * "quit" or end of input. The OpenCV side drives it so that our trials and
 * OpenCV's alternate in time and share whatever else the machine is doing. */
#include <omp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <stb_image.h>

#include "geo/layout.h"
#include "geo/sample.h"
#include "geo/viewport.h"

#define N_VIEWS 20
#define VP_SIZE 224
#define VP_FOV 90.0
#define TRIALS 5

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef enum { RUN_BILINEAR, RUN_BILINEAR_F32, RUN_BICUBIC, RUN_ANTIALIAS, N_RUN_KINDS } run_kind;
static const char *const run_names[N_RUN_KINDS] = {"bilinear", "bilinear_f32", "bicubic", "antialias"};

typedef struct {
    const oiqa_image *erp;
    const oiqa_pyramid *pyr;
    const float *uv, *lod; /* N_VIEWS maps */
    uint8_t *out;          /* N_VIEWS viewports */
    float *out_f32;
} bench_ctx;

/* One image: all viewports, in parallel over viewports. */
static void sample_image(const bench_ctx *c, run_kind kind)
{
    const int64_t n_px = (int64_t)VP_SIZE * VP_SIZE;
#pragma omp parallel for schedule(dynamic, 1)
    for (int v = 0; v < N_VIEWS; v++) {
        const float *uv = c->uv + (size_t)v * n_px * 2;
        uint8_t *out = c->out + (size_t)v * n_px * 3;
        switch (kind) {
        case RUN_BILINEAR: oiqa_sample_bilinear_u8(c->erp, uv, n_px, out); break;
        case RUN_BILINEAR_F32:
            oiqa_sample_bilinear_f32(c->erp, uv, n_px, c->out_f32 + (size_t)v * n_px * 3);
            break;
        case RUN_BICUBIC: oiqa_sample_bicubic_u8(c->erp, uv, n_px, out); break;
        case RUN_ANTIALIAS:
            oiqa_sample_trilinear_u8(c->pyr, uv, c->lod + (size_t)v * n_px, n_px, out);
            break;
        case N_RUN_KINDS: break;
        }
    }
}

/* Images/s of one trial: whole images for at least `seconds`. */
static double trial_rate(const bench_ctx *c, run_kind kind, double seconds)
{
    int n = 0;
    double t0 = now_s(), t;
    do {
        sample_image(c, kind);
        n++;
    } while ((t = now_s() - t0) < seconds);
    return n / t;
}

/* --serve: answers "FILTER SECONDS" lines until "quit" or EOF. */
static void serve(const bench_ctx *c)
{
    char line[256], name[64];
    double seconds;
    printf("ready\n");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        if (sscanf(line, "%63s %lf", name, &seconds) != 2) break;
        int kind = 0;
        while (kind < N_RUN_KINDS && strcmp(name, run_names[kind])) kind++;
        if (kind == N_RUN_KINDS) {
            printf("error unknown filter %s\n", name);
        } else {
            sample_image(c, (run_kind)kind); /* warm-up */
            printf("%s %.4f\n", name, trial_rate(c, (run_kind)kind, seconds));
        }
        fflush(stdout);
    }
}

/* Median images/s over TRIALS trials of about `seconds`/TRIALS each. */
static double images_per_s(const bench_ctx *c, run_kind kind, double seconds)
{
    sample_image(c, kind); /* warm-up */
    double t0 = now_s();
    int calib = 0;
    while (now_s() - t0 < 0.2) sample_image(c, kind), calib++;
    double per_image = (now_s() - t0) / calib;
    int reps = (int)(seconds / TRIALS / per_image) + 1;
    double rate[TRIALS];
    for (int t = 0; t < TRIALS; t++) {
        double s = now_s();
        for (int r = 0; r < reps; r++) sample_image(c, kind);
        rate[t] = reps / (now_s() - s);
    }
    qsort(rate, TRIALS, sizeof *rate, cmp_double);
    return rate[TRIALS / 2];
}

/* "machine: N CPUs, <model name>" from /proc/cpuinfo. */
static void print_machine(void)
{
    char line[512], model[256] = "unknown CPU";
    int cpus = 0;
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f)) {
        if (!strncmp(line, "processor", 9)) cpus++;
        char *colon = strchr(line, ':');
        if (cpus == 1 && colon && !strncmp(line, "model name", 10)) {
            snprintf(model, sizeof model, "%s", colon + 2);
            model[strcspn(model, "\n")] = 0;
        }
    }
    if (f) fclose(f);
    printf("oiqa: machine: %d CPUs, %s\n", cpus, model);
}

/* float32 array [N_VIEWS, VP_SIZE, VP_SIZE, 2] as NumPy .npy version 1.0. */
static int write_npy(const char *path, const float *data)
{
    char header[128];
    int len = snprintf(header, sizeof header, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d, %d, 2), }",
                       N_VIEWS, VP_SIZE, VP_SIZE);
    int total = 10 + len + 1;
    int pad = (64 - total % 64) % 64;
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    uint16_t hlen = (uint16_t)(len + pad + 1);
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hlen & 0xff, f);
    fputc(hlen >> 8, f);
    fwrite(header, 1, (size_t)len, f);
    for (int i = 0; i < pad; i++) fputc(' ', f);
    fputc('\n', f);
    size_t n = (size_t)N_VIEWS * VP_SIZE * VP_SIZE * 2;
    int ok = fwrite(data, sizeof *data, n, f) == n;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

int main(int argc, char **argv)
{
    const char *erp_path = NULL, *maps_out = NULL;
    int threads = 2, serve_mode = 0;
    double seconds = 3.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--maps-out") && i + 1 < argc) maps_out = argv[++i];
        else if (!strcmp(argv[i], "--serve")) serve_mode = 1;
        else if (argv[i][0] != '-' && !erp_path) erp_path = argv[i];
        else {
            fprintf(stderr, "usage: %s ERP.png [--threads N] [--seconds S] [--maps-out F.npy] [--serve]\n",
                    argv[0]);
            return 2;
        }
    }
    if (!erp_path) {
        fprintf(stderr, "%s: error: no ERP image given\n", argv[0]);
        return 2;
    }
    omp_set_num_threads(threads);

    double t0 = now_s();
    int w, h, ch;
    uint8_t *rgb = stbi_load(erp_path, &w, &h, &ch, 3);
    double t_decode = now_s() - t0;
    if (!rgb) {
        fprintf(stderr, "%s: error: %s: cannot decode (%s)\n", argv[0], erp_path, stbi_failure_reason());
        return 1;
    }
    oiqa_image erp = {.w = w, .h = h, .rgb = rgb};

    oiqa_view views[N_VIEWS];
    oiqa_layout_icosa20(VP_FOV, views);
    const size_t n_px = (size_t)VP_SIZE * VP_SIZE;
    float *uv = malloc(sizeof *uv * N_VIEWS * n_px * 2);
    float *lod = malloc(sizeof *lod * N_VIEWS * n_px);
    uint8_t *out = malloc(N_VIEWS * n_px * 3);
    float *out_f32 = malloc(sizeof *out_f32 * N_VIEWS * n_px * 3);
    if (!uv || !lod || !out || !out_f32) {
        fprintf(stderr, "%s: error: out of memory\n", argv[0]);
        return 1;
    }
    /* map build: single thread, per map */
    int map_reps = 5;
    t0 = now_s();
    for (int r = 0; r < map_reps; r++)
        for (int v = 0; v < N_VIEWS; v++) oiqa_view_map(&views[v], VP_SIZE, w, h, uv + v * n_px * 2);
    double t_map = (now_s() - t0) / (map_reps * N_VIEWS);
    t0 = now_s();
    for (int v = 0; v < N_VIEWS; v++) oiqa_map_lod(uv + v * n_px * 2, VP_SIZE, w, h, lod + v * n_px);
    double t_lod = (now_s() - t0) / N_VIEWS;
    oiqa_pyramid pyr;
    t0 = now_s();
    if (oiqa_pyramid_build(&erp, 16, &pyr)) {
        fprintf(stderr, "%s: error: pyramid build failed\n", argv[0]);
        return 1;
    }
    double t_pyr = now_s() - t0;
    if (maps_out && write_npy(maps_out, uv)) {
        fprintf(stderr, "%s: error: %s: cannot write\n", argv[0], maps_out);
        return 1;
    }

    bench_ctx c = {.erp = &erp, .pyr = &pyr, .uv = uv, .lod = lod, .out = out, .out_f32 = out_f32};
    print_machine();
    printf("oiqa: ERP %dx%d, %d viewports %dx%d fov %.0f (icosa20), %d threads\n", w, h, N_VIEWS, VP_SIZE, VP_SIZE,
           VP_FOV, threads);
    printf("oiqa: decode (stb_image PNG)        %8.1f ms\n", 1e3 * t_decode);
    printf("oiqa: map build (1 thread)          %8.3f ms per map\n", 1e3 * t_map);
    printf("oiqa: LOD map (1 thread)            %8.3f ms per map\n", 1e3 * t_lod);
    printf("oiqa: pyramid build (1 thread)      %8.1f ms (%d levels)\n", 1e3 * t_pyr, pyr.levels);
    if (serve_mode) {
        serve(&c);
    } else {
        printf("oiqa: bilinear u8                   %8.1f images/s\n", images_per_s(&c, RUN_BILINEAR, seconds));
        printf("oiqa: bilinear f32 (information)    %8.1f images/s\n", images_per_s(&c, RUN_BILINEAR_F32, seconds / 3));
        printf("oiqa: bicubic u8 (information)      %8.1f images/s\n", images_per_s(&c, RUN_BICUBIC, seconds / 3));
        printf("oiqa: antialias u8 (information)    %8.1f images/s (sampling only)\n",
               images_per_s(&c, RUN_ANTIALIAS, seconds / 3));
    }
    oiqa_pyramid_free(&pyr);
    free(uv);
    free(lod);
    free(out);
    free(out_f32);
    stbi_image_free(rgb);
    return 0;
}
