/* Viewport sampling on the GPU (geo/viewports_gpu.h): 20 icosa20 viewports
 * of 224 x 224 (fov 90) per 4096 x 2048 ERP, what `oiqa-viewports --device
 * cuda` does per image.
 *
 *   bench_viewports_gpu ERP.png [--seconds S] [--dump DIR]
 *
 * The ERP is resized to 4096 x 2048 when it has another size (linear,
 * geo/resize.h). One image = one oiqa_vp_gpu_sample call: the copy into
 * pinned memory, the upload, the maps and sampling on the device (and the
 * pyramid, for antialias), the download. Prints, per filter, the median
 * images/s of 5 trials as "OIQA_GPU_IMAGES_PER_S FILTER X", and the largest
 * difference from the CPU path as a check. --dump DIR writes DIR/erp.u8
 * (H x W x 3 bytes) and DIR/maps.f32 (the 20 (u, v) maps, 20 x 224 x 224 x 2
 * float32, from oiqa_view_map) for bench/viewports_torch_gpu.py. Without a
 * usable GPU it prints one "skipped: ..." line and exits 0. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/error.h"
#include "geo/layout.h"
#include "geo/resize.h"
#include "geo/sample.h"
#include "geo/viewport.h"
#include "geo/viewports_gpu.h"
#include "io/image.h"
#include "nn/device.h"

#define N_VIEWS 20
#define VP_SIZE 224
#define VP_FOV 90.0
#define ERP_W 4096
#define ERP_H 2048
#define TRIALS 5

static const char *const filter_names[] = {"bilinear", "bicubic", "antialias"};

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

static int write_file(const char *dir, const char *name, const void *data, size_t bytes)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int ok = fwrite(data, 1, bytes, f) == bytes;
    return (fclose(f) == 0 && ok) ? 0 : -1;
}

/* The CPU path for one image (the check). */
static void cpu_viewports(const oiqa_image *erp, const oiqa_view *views, oiqa_filter f, float *uv, float *lod,
                          const oiqa_pyramid *pyr, uint8_t *out)
{
    const size_t n = (size_t)VP_SIZE * VP_SIZE;
    for (int v = 0; v < N_VIEWS; v++) {
        float *m = uv + v * n * 2;
        oiqa_view_map(&views[v], VP_SIZE, erp->w, erp->h, m);
        if (f == OIQA_FILTER_BILINEAR) oiqa_sample_bilinear_u8(erp, m, (int64_t)n, out + v * n * 3);
        else if (f == OIQA_FILTER_BICUBIC) oiqa_sample_bicubic_u8(erp, m, (int64_t)n, out + v * n * 3);
        else {
            oiqa_map_lod(m, VP_SIZE, erp->w, erp->h, lod + v * n);
            oiqa_sample_trilinear_u8(pyr, m, lod + v * n, (int64_t)n, out + v * n * 3);
        }
    }
}

int main(int argc, char **argv)
{
    const char *erp_path = NULL, *dump = NULL;
    double seconds = 2.0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--seconds") && i + 1 < argc) seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc) dump = argv[++i];
        else if (argv[i][0] != '-' && !erp_path) erp_path = argv[i];
        else {
            fprintf(stderr, "usage: %s ERP.png [--seconds S] [--dump DIR]\n", argv[0]);
            return 2;
        }
    }
    if (!erp_path) {
        fprintf(stderr, "%s: error: no ERP image given\n", argv[0]);
        return 2;
    }
    char why[256];
    if (!oiqa_cuda_usable(why, sizeof why)) {
        printf("skipped: no usable GPU (%s)\n", why);
        return 0;
    }

    oiqa_image_load_opts lo = {0};
    oiqa_image src = {0}, erp = {0};
    if (oiqa_image_load(erp_path, &lo, &src)) {
        fprintf(stderr, "%s: error: %s\n", argv[0], oiqa_errmsg());
        return 1;
    }
    if (src.w == ERP_W && src.h == ERP_H) {
        erp = src;
    } else {
        erp = (oiqa_image){ERP_W, ERP_H, malloc((size_t)ERP_W * ERP_H * 3)};
        if (!erp.rgb || oiqa_resize_rgb_u8(&src, ERP_W, ERP_H, erp.rgb)) {
            fprintf(stderr, "%s: error: cannot resize to %dx%d\n", argv[0], ERP_W, ERP_H);
            return 1;
        }
        oiqa_image_free(&src);
    }

    oiqa_view views[N_VIEWS];
    oiqa_layout_icosa20(VP_FOV, views);
    const size_t n_px = (size_t)VP_SIZE * VP_SIZE, out_bytes = N_VIEWS * n_px * 3;
    float *uv = malloc(sizeof *uv * N_VIEWS * n_px * 2), *lod = malloc(sizeof *lod * N_VIEWS * n_px);
    uint8_t *out = malloc(out_bytes), *ref = malloc(out_bytes);
    oiqa_pyramid pyr = {0};
    if (!uv || !lod || !out || !ref || oiqa_pyramid_build(&erp, OIQA_VP_PYRAMID_LEVELS, &pyr)) {
        fprintf(stderr, "%s: error: out of memory\n", argv[0]);
        return 1;
    }
    if (dump) {
        for (int v = 0; v < N_VIEWS; v++) oiqa_view_map(&views[v], VP_SIZE, ERP_W, ERP_H, uv + v * n_px * 2);
        if (write_file(dump, "erp.u8", erp.rgb, (size_t)ERP_W * ERP_H * 3) ||
            write_file(dump, "maps.f32", uv, sizeof *uv * N_VIEWS * n_px * 2)) {
            fprintf(stderr, "%s: error: %s: cannot write the dump\n", argv[0], dump);
            return 1;
        }
    }

    char name[128] = "?";
    size_t free_b = 0, total_b = 0;
    oiqa_cuda_device_info(name, sizeof name, &free_b, &total_b);
    oiqa_vp_gpu *g = NULL;
    double t0 = now_s();
    if (oiqa_vp_gpu_create(&g)) {
        printf("skipped: %s\n", oiqa_errmsg());
        return 0;
    }
    printf("oiqa: GPU %s; ERP %dx%d, %d viewports %dx%d fov %.0f (icosa20); context %.1f ms\n", name, ERP_W, ERP_H,
           N_VIEWS, VP_SIZE, VP_SIZE, VP_FOV, 1e3 * (now_s() - t0));
    int rc = 0;
    for (int f = 0; f < 3 && !rc; f++) {
        /* warm-up (buffers, module load) and the check against the CPU */
        if ((rc = oiqa_vp_gpu_sample(g, &erp, views, N_VIEWS, VP_SIZE, (oiqa_filter)f, out))) break;
        cpu_viewports(&erp, views, (oiqa_filter)f, uv, lod, &pyr, ref);
        size_t n_diff = 0;
        int max_d = 0;
        for (size_t k = 0; k < out_bytes; k++) {
            int d = abs((int)out[k] - (int)ref[k]);
            n_diff += d != 0;
            if (d > max_d) max_d = d;
        }
        double rate[TRIALS];
        for (int t = 0; t < TRIALS && !rc; t++) {
            int n = 0;
            const double s = now_s();
            do {
                if ((rc = oiqa_vp_gpu_sample(g, &erp, views, N_VIEWS, VP_SIZE, (oiqa_filter)f, out))) break;
                n++;
            } while (now_s() - s < seconds / TRIALS);
            rate[t] = n / (now_s() - s);
        }
        if (rc) break;
        qsort(rate, TRIALS, sizeof *rate, cmp_double);
        printf("oiqa: %-9s vs CPU: max |diff| %d, %zu of %zu bytes differ\n", filter_names[f], max_d, n_diff, out_bytes);
        printf("OIQA_GPU_IMAGES_PER_S %s %.1f\n", filter_names[f], rate[TRIALS / 2]);
    }
    if (rc) fprintf(stderr, "%s: error: %s\n", argv[0], oiqa_errmsg());
    oiqa_vp_gpu_destroy(g);
    oiqa_pyramid_free(&pyr);
    free(uv), free(lod), free(out), free(ref);
    oiqa_image_free(&erp);
    return rc ? 1 : 0;
}
