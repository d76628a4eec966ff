/* The compute backends (nn/backend.h, nn/device.h): the device choice and
 * its fallback on machines without a GPU (always run), then every op of the
 * CUDA backend against the CPU backend on awkward shapes, and whole networks
 * (ResNet-50 with the fixture's weights, the three VMamba fixtures and the
 * VMamba-T presets) CUDA vs CPU, to DESIGN §6's 1e-3 of max|ref| with TF32
 * off. The GPU cases skip with the reason when no GPU is usable. */
#include <stdint.h>
#include <unistd.h>

#include "base/error.h"
#include "base/rng.h"
#include "check.h"
#include "models/extractor.h"
#include "models/vmamba.h"
#include "nn/backend.h"
#include "nn/device.h"
#include "nn/pool.h"
#ifdef OIQA_HAVE_CUDA
#include "nn/cuda/cuda_libs.h"
#endif

static const double TOL = 1e-3; /* DESIGN §6: CUDA vs CPU, TF32 off */

static int gpu_or_skip(void)
{
    char why[256];
    if (oiqa_cuda_usable(why, sizeof why)) return 1;
    SKIP("no usable GPU: %s", why);
    return 0;
}

static uint64_t rng_state = 12345;
static float uniform(float lo, float hi)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return lo + (hi - lo) * (float)((rng_state >> 40) / 16777216.0);
}

static float *random_array(size_t n, float lo, float hi)
{
    float *a = malloc(sizeof(float) * (n ? n : 1));
    for (size_t i = 0; i < n; i++) a[i] = uniform(lo, hi);
    return a;
}

/* max|a - ref| / max|ref|, printed. */
static double rel_error(const char *label, const float *a, const float *ref, size_t n)
{
    double diff = 0, peak = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        diff = d > diff || d != d ? d : diff;
        peak = fmax(peak, fabs((double)ref[i]));
    }
    double rel = peak > 0 ? diff / peak : diff;
    printf("  %-34s max|d| %.3e  max|ref| %.3e  ratio %.3e\n", label, diff, peak, rel);
    return rel;
}

/* A host tensor with random values and its device copy. */
typedef struct {
    oiqa_tensor host, dev;
} pair;

static void pair_make(oiqa_backend *gpu, pair *p, int n, int h, int w, int c, float lo, float hi)
{
    CHECK(oiqa_tensor_create(&p->host, n, h, w, c) == OIQA_OK);
    for (size_t i = 0; i < oiqa_tensor_numel(&p->host); i++) p->host.data[i] = uniform(lo, hi);
    CHECK(oiqa_be_tensor_create(gpu, &p->dev, n, h, w, c) == OIQA_OK);
    CHECK(gpu->ops->upload(gpu, p->host.data, &p->dev) == OIQA_OK);
}

static void pair_free(oiqa_backend *gpu, pair *p)
{
    oiqa_tensor_free(&p->host);
    oiqa_be_tensor_free(gpu, &p->dev);
}

/* Downloads dev and compares with the host result. */
static void compare(oiqa_backend *gpu, const char *label, const pair *p)
{
    float *got = malloc(sizeof(float) * oiqa_tensor_numel(&p->host));
    CHECK_MSG(gpu->ops->download(gpu, &p->dev, got) == OIQA_OK, "%s: %s", label, oiqa_errmsg());
    CHECK_MSG(rel_error(label, got, p->host.data, oiqa_tensor_numel(&p->host)) <= TOL, "%s differs", label);
    free(got);
}

static void t_device_choice(void)
{
    char why[256];
    int usable = oiqa_cuda_usable(why, sizeof why);
#ifdef OIQA_HAVE_CUDA
    CHECK(oiqa_cuda_built());
#else
    CHECK(!oiqa_cuda_built() && !usable && strstr(why, "CUDA=0"));
#endif
    CHECK(oiqa_device_resolve(OIQA_DEVICE_CPU) == OIQA_DEVICE_CPU);
    CHECK(oiqa_device_resolve(OIQA_DEVICE_AUTO) == (usable ? OIQA_DEVICE_CUDA : OIQA_DEVICE_CPU));
    CHECK(oiqa_device_resolve(OIQA_DEVICE_CUDA) == (usable ? OIQA_DEVICE_CUDA : OIQA_DEVICE_CPU));
    CHECK(oiqa_backend_open(OIQA_DEVICE_CPU) == oiqa_backend_cpu());
    if (!usable) { /* the fallback: no GPU means the CPU backend, and a reason */
        CHECK(oiqa_backend_open(OIQA_DEVICE_CUDA) == oiqa_backend_cpu());
        CHECK(oiqa_backend_cuda_create() == NULL && oiqa_errmsg()[0]);
        CHECK(why[0] != 0);
    }
    CHECK(!strcmp(oiqa_device_names[OIQA_DEVICE_CUDA], "cuda") && oiqa_device_names[3] == NULL);
}

/* cuBLAS and cuDNN are opened at run time: with a CUDA build, every symbol of
 * the table resolves in the installed libraries (no GPU needed for that). */
static void t_cuda_libraries_load(void)
{
#ifdef OIQA_HAVE_CUDA
    const oiqa_cuda_libs *l = oiqa_cuda_libs_load();
    CHECK_MSG(l != NULL, "%s", oiqa_errmsg());
    if (l) {
        CHECK(l == oiqa_cuda_libs_loaded && oiqa_cuda_libs_load() == l); /* loaded once */
        const char *s = l->cudnnGetErrorString(CUDNN_STATUS_NOT_SUPPORTED);
        CHECK(s && strstr(s, "NOT_SUPPORTED"));
    }
#else
    SKIP("this build has no CUDA backend (built with CUDA=0 or without nvcc)");
#endif
}

/* An extractor opened on CUDA without a GPU runs on the CPU, with the same maps. */
static void t_extractor_fallback(void)
{
    if (oiqa_cuda_usable(NULL, 0)) {
        SKIP("a GPU is usable: the fallback is not exercised here (t_cuda_presets compares the two)");
        return;
    }
    oiqa_extractor cpu, dev;
    CHECK(oiqa_extractor_open("resnet50", "random:3", &cpu) == OIQA_OK);
    CHECK(oiqa_extractor_open_on("resnet50", "random:3", OIQA_DEVICE_CUDA, &dev) == OIQA_OK);
    CHECK(dev.be == oiqa_backend_cpu());
    float *rgb = random_array((size_t)2 * 40 * 36 * 3, 0, 255);
    const oiqa_tensor *a[4], *b[4];
    CHECK(oiqa_extractor_forward(&cpu, rgb, 2, 40, 36, a) == OIQA_OK);
    CHECK(oiqa_extractor_forward(&dev, rgb, 2, 40, 36, b) == OIQA_OK);
    for (int k = 0; k < 4; k++)
        CHECK(!memcmp(a[k]->data, b[k]->data, oiqa_tensor_numel(a[k]) * sizeof(float)));
    free(rgb);
    oiqa_extractor_close(&cpu);
    oiqa_extractor_close(&dev);
}

/* forward_stats = forward + the statistics pooling (nn/pool.h), on the
 * device the extractor runs on. */
static void t_forward_stats(void)
{
    oiqa_extractor ex;
    CHECK(oiqa_extractor_open_on("resnet50", "random:4", OIQA_DEVICE_AUTO, &ex) == OIQA_OK);
    const int n = 3, h = 48, w = 40, blocks[2] = {1, 3};
    float *rgb = random_array((size_t)n * h * w * 3, 0, 255);
    float *mean[2], *sd[2], *ref_m[2], *ref_s[2];
    for (int i = 0; i < 2; i++) {
        size_t c = (size_t)n * ex.kind->blocks[blocks[i]].channels;
        mean[i] = malloc(c * 4), sd[i] = malloc(c * 4), ref_m[i] = malloc(c * 4), ref_s[i] = malloc(c * 4);
    }
    CHECK_MSG(oiqa_extractor_forward_stats(&ex, rgb, n, h, w, blocks, 2, mean, sd) == OIQA_OK, "%s", oiqa_errmsg());
    const oiqa_tensor *maps[4];
    CHECK(oiqa_extractor_forward(&ex, rgb, n, h, w, maps) == OIQA_OK);
    for (int i = 0; i < 2; i++) {
        size_t c = (size_t)n * ex.kind->blocks[blocks[i]].channels;
        oiqa_channel_mean_std(maps[blocks[i]], ref_m[i], ref_s[i], 1);
        CHECK(rel_error("stats mean", mean[i], ref_m[i], c) <= TOL);
        CHECK(rel_error("stats std", sd[i], ref_s[i], c) <= TOL);
        free(mean[i]), free(sd[i]), free(ref_m[i]), free(ref_s[i]);
    }
    free(rgb);
    oiqa_extractor_close(&ex);
}

static void t_cuda_conv2d(void)
{
    if (!gpu_or_skip()) return;
    oiqa_backend *gpu = oiqa_backend_cuda_create(), *cpu = oiqa_backend_cpu();
    static const int shapes[][8] = {
        /* n, h, w, cin, cout, k, stride, pad */
        {2, 9, 7, 5, 11, 3, 1, 1}, {1, 13, 10, 3, 64, 7, 2, 3}, {2, 8, 8, 16, 32, 1, 2, 0},
        {1, 5, 5, 8, 8, 3, 2, 1},  {3, 6, 11, 24, 12, 1, 1, 0}, {1, 9, 9, 3, 96, 4, 4, 0},
    };
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        const int *d = shapes[s];
        float *w = random_array((size_t)d[5] * d[5] * d[3] * d[4], -0.3f, 0.3f), *b = random_array(d[4], -1, 1);
        oiqa_conv2d conv = {d[5], d[5], d[3], d[4], d[6], d[7], w, b, NULL};
        int oh = oiqa_conv2d_out_size(d[1], d[5], d[6], d[7]), ow = oiqa_conv2d_out_size(d[2], d[5], d[6], d[7]);
        for (int mode = 0; mode < 4; mode++) { /* plain, relu, relu + residual, residual aliased into y, no bias */
            pair x, y, r;
            pair_make(gpu, &x, d[0], d[1], d[2], d[3], -1, 1);
            pair_make(gpu, &y, d[0], oh, ow, d[4], -1, 1);
            pair_make(gpu, &r, d[0], oh, ow, d[4], -1, 1);
            conv.bias = mode == 3 ? NULL : b;
            int relu = mode >= 1, use_res = mode >= 2;
            const oiqa_tensor *res_h = use_res ? (mode == 3 ? &y.host : &r.host) : NULL;
            const oiqa_tensor *res_d = use_res ? (mode == 3 ? &y.dev : &r.dev) : NULL;
            CHECK(cpu->ops->conv2d(cpu, &conv, &x.host, res_h, relu, &y.host) == OIQA_OK);
            CHECK_MSG(gpu->ops->conv2d(gpu, &conv, &x.dev, res_d, relu, &y.dev) == OIQA_OK, "%s", oiqa_errmsg());
            char label[96];
            snprintf(label, sizeof label, "conv %dx%d/%d %d->%d mode %d", d[5], d[5], d[6], d[3], d[4], mode);
            compare(gpu, label, &y);
            pair_free(gpu, &x), pair_free(gpu, &y), pair_free(gpu, &r);
        }
        free(w), free(b);
    }
    oiqa_backend_close(gpu);
}

static void t_cuda_linear(void)
{
    if (!gpu_or_skip()) return;
    oiqa_backend *gpu = oiqa_backend_cuda_create(), *cpu = oiqa_backend_cpu();
    const int rows = 37, cin = 19, cout = 23, ldx = 25, ldy = 30;
    float *w = random_array((size_t)cout * cin, -0.5f, 0.5f), *b = random_array(cout, -1, 1);
    for (int mode = 0; mode < 3; mode++) { /* bias, accumulate + bias, accumulate without bias */
        pair x, y;
        pair_make(gpu, &x, 1, 1, rows, ldx, -1, 1);
        pair_make(gpu, &y, 1, 1, rows, ldy, -1, 1);
        const float *bias = mode == 2 ? NULL : b;
        int acc = mode >= 1;
        CHECK(cpu->ops->linear(cpu, x.host.data, ldx, rows, cin, w, bias, cout, y.host.data, ldy, acc) == OIQA_OK);
        CHECK(gpu->ops->linear(gpu, x.dev.data, ldx, rows, cin, w, bias, cout, y.dev.data, ldy, acc) == OIQA_OK);
        compare(gpu, mode == 0 ? "linear strided, bias" : mode == 1 ? "linear accumulate" : "linear no bias", &y);
        pair_free(gpu, &x), pair_free(gpu, &y);
    }
    free(w), free(b);
    oiqa_backend_close(gpu);
}

static void t_cuda_pointwise(void)
{
    if (!gpu_or_skip()) return;
    oiqa_backend *gpu = oiqa_backend_cuda_create(), *cpu = oiqa_backend_cpu();
    const int rows = 33;
    static const int widths[] = {96, 7};
    for (int k = 0; k < 2; k++) {
        int C = widths[k];
        float *g = random_array(C, 0.5f, 1.5f), *b = random_array(C, -1, 1);
        pair x, y;
        pair_make(gpu, &x, 1, 1, rows, C, -3, 5);
        pair_make(gpu, &y, 1, 1, rows, C, 0, 1);
        CHECK(cpu->ops->layernorm(cpu, x.host.data, y.host.data, rows, C, g, k ? NULL : b, 1e-5f) == OIQA_OK);
        CHECK(gpu->ops->layernorm(gpu, x.dev.data, y.dev.data, rows, C, g, k ? NULL : b, 1e-5f) == OIQA_OK);
        compare(gpu, k ? "layernorm C=7, no beta" : "layernorm C=96", &y);
        /* in place */
        CHECK(cpu->ops->layernorm(cpu, x.host.data, x.host.data, rows, C, g, b, 1e-5f) == OIQA_OK);
        CHECK(gpu->ops->layernorm(gpu, x.dev.data, x.dev.data, rows, C, g, b, 1e-5f) == OIQA_OK);
        compare(gpu, "layernorm in place", &x);
        pair_free(gpu, &x), pair_free(gpu, &y);
        free(g), free(b);
    }
    static const char *names[] = {"relu", "silu", "gelu"};
    for (int a = 0; a < 3; a++) {
        pair x;
        pair_make(gpu, &x, 1, 3, 1001, 1, -9, 9);
        size_t n = oiqa_tensor_numel(&x.host);
        CHECK(cpu->ops->activation(cpu, (oiqa_activation)a, x.host.data, n) == OIQA_OK);
        CHECK(gpu->ops->activation(gpu, (oiqa_activation)a, x.dev.data, n) == OIQA_OK);
        compare(gpu, names[a], &x);
        pair_free(gpu, &x);
    }
    pair a, b;
    pair_make(gpu, &a, 1, 1, 777, 1, -2, 2);
    pair_make(gpu, &b, 1, 1, 777, 1, -2, 2);
    CHECK(cpu->ops->mul(cpu, a.host.data, b.host.data, a.host.data, 777) == OIQA_OK);
    CHECK(gpu->ops->mul(gpu, a.dev.data, b.dev.data, a.dev.data, 777) == OIQA_OK);
    compare(gpu, "mul (aliased)", &a);
    pair_free(gpu, &a), pair_free(gpu, &b);
    oiqa_backend_close(gpu);
}

static void t_cuda_spatial(void)
{
    if (!gpu_or_skip()) return;
    oiqa_backend *gpu = oiqa_backend_cuda_create(), *cpu = oiqa_backend_cpu();
    pair x, y;
    pair_make(gpu, &x, 2, 11, 9, 5, -4, 4);
    pair_make(gpu, &y, 2, 6, 5, 5, 0, 1);
    CHECK(cpu->ops->maxpool2d(cpu, &x.host, 3, 2, 1, &y.host) == OIQA_OK);
    CHECK(gpu->ops->maxpool2d(gpu, &x.dev, 3, 2, 1, &y.dev) == OIQA_OK);
    compare(gpu, "maxpool 3/2 pad 1, 11x9", &y);
    pair_free(gpu, &x), pair_free(gpu, &y);

    for (int with_bias = 0; with_bias < 2; with_bias++) {
        float *w = random_array(9 * 13, -1, 1), *b = random_array(13, -1, 1);
        pair_make(gpu, &x, 2, 7, 5, 13, -1, 1);
        pair_make(gpu, &y, 2, 7, 5, 13, 0, 1);
        CHECK(cpu->ops->dwconv3x3(cpu, &x.host, w, with_bias ? b : NULL, &y.host) == OIQA_OK);
        CHECK(gpu->ops->dwconv3x3(gpu, &x.dev, w, with_bias ? b : NULL, &y.dev) == OIQA_OK);
        compare(gpu, with_bias ? "dwconv3x3 + bias" : "dwconv3x3", &y);
        pair_free(gpu, &x), pair_free(gpu, &y);
        free(w), free(b);
    }

    pair_make(gpu, &x, 2, 7, 5, 6, -1, 1);
    pair_make(gpu, &y, 2, 4, 3, 24, 0, 1);
    CHECK(cpu->ops->patch_merge(cpu, &x.host, &y.host) == OIQA_OK);
    CHECK(gpu->ops->patch_merge(gpu, &x.dev, &y.dev) == OIQA_OK);
    compare(gpu, "patch merge 7x5 (odd sides)", &y);
    pair_free(gpu, &x), pair_free(gpu, &y);

    float *rgb = random_array((size_t)3 * 5 * 7 * 3, 0, 255);
    for (size_t i = 0; i < (size_t)3 * 5 * 7 * 3; i++) rgb[i] = floorf(rgb[i]);
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, sd[3] = {0.229f, 0.224f, 0.225f};
    /* statistics pooling, 1 x 1 maps (std NaN on both) and 5 x 7 ones */
    for (int k = 0; k < 2; k++) {
        pair_make(gpu, &x, 3, k ? 5 : 1, k ? 7 : 1, 45, -3, 3);
        float *m[2], *sdv[2];
        for (int j = 0; j < 2; j++) m[j] = malloc(sizeof(float) * 3 * 45), sdv[j] = malloc(sizeof(float) * 3 * 45);
        CHECK(cpu->ops->channel_mean_std(cpu, &x.host, m[0], sdv[0]) == OIQA_OK);
        CHECK(gpu->ops->channel_mean_std(gpu, &x.dev, m[1], sdv[1]) == OIQA_OK);
        CHECK(rel_error("channel mean", m[1], m[0], 3 * 45) <= TOL);
        if (k) CHECK(rel_error("channel std", sdv[1], sdv[0], 3 * 45) <= TOL);
        else CHECK(isnan(sdv[0][0]) && isnan(sdv[1][0]) && isnan(sdv[1][3 * 45 - 1]));
        for (int j = 0; j < 2; j++) free(m[j]), free(sdv[j]);
        pair_free(gpu, &x);
    }

    pair_make(gpu, &x, 3, 5, 7, 3, 0, 1);
    CHECK(cpu->ops->normalize(cpu, rgb, mean, sd, &x.host) == OIQA_OK);
    CHECK(gpu->ops->normalize(gpu, rgb, mean, sd, &x.dev) == OIQA_OK);
    compare(gpu, "imagenet normalize", &x);
    pair_free(gpu, &x);
    free(rgb);
    oiqa_backend_close(gpu);
}

static void t_cuda_ss2d(void)
{
    if (!gpu_or_skip()) return;
    oiqa_backend *gpu = oiqa_backend_cuda_create(), *cpu = oiqa_backend_cpu();
    static const int cases[][5] = {/* n, h, w, Di, N (R = 3) */ {2, 5, 7, 24, 16}, {1, 1, 9, 40, 1}, {3, 6, 4, 33, 1},
                                   {1, 3, 1, 8, 16}};
    for (size_t s = 0; s < sizeof cases / sizeof cases[0]; s++) {
        const int n = cases[s][0], h = cases[s][1], w = cases[s][2], Di = cases[s][3], N = cases[s][4], R = 3;
        float *xp = random_array((size_t)4 * (R + 2 * N) * Di, -0.4f, 0.4f);
        float *dtw = random_array((size_t)4 * Di * R, -0.5f, 0.5f), *dtb = random_array((size_t)4 * Di, -4, -1);
        float *A = random_array((size_t)4 * Di * N, -8, -0.5f), *Ds = random_array((size_t)4 * Di, 0.5f, 1.5f);
        oiqa_ss2d_weights wt = {Di, N, R, xp, dtw, dtb, A, Ds};
        pair x, y;
        pair_make(gpu, &x, n, h, w, Di, -2, 2);
        pair_make(gpu, &y, n, h, w, Di, 0, 1);
        CHECK(cpu->ops->ss2d(cpu, &wt, &x.host, &y.host) == OIQA_OK);
        CHECK_MSG(gpu->ops->ss2d(gpu, &wt, &x.dev, &y.dev) == OIQA_OK, "%s", oiqa_errmsg());
        char label[96];
        snprintf(label, sizeof label, "ss2d %dx%dx%d Di %d N %d", n, h, w, Di, N);
        compare(gpu, label, &y);
        pair_free(gpu, &x), pair_free(gpu, &y);
        free(xp), free(dtw), free(dtb), free(A), free(Ds);
    }
    oiqa_backend_close(gpu);
}

/* The maps of one extractor spec, CPU vs CUDA, on n random images of h x w. */
static void compare_extractor(const char *name, const char *weights, int n, int h, int w)
{
    oiqa_extractor cpu, dev;
    CHECK_MSG(oiqa_extractor_open(name, weights, &cpu) == OIQA_OK, "%s", oiqa_errmsg());
    CHECK_MSG(oiqa_extractor_open_on(name, weights, OIQA_DEVICE_CUDA, &dev) == OIQA_OK, "%s", oiqa_errmsg());
    CHECK(dev.be && dev.be->device == OIQA_DEVICE_CUDA);
    float *rgb = random_array((size_t)n * h * w * 3, 0, 255);
    const oiqa_tensor *a[OIQA_EXTRACTOR_MAX_BLOCKS], *b[OIQA_EXTRACTOR_MAX_BLOCKS];
    CHECK(oiqa_extractor_forward(&cpu, rgb, n, h, w, a) == OIQA_OK);
    CHECK_MSG(oiqa_extractor_forward(&dev, rgb, n, h, w, b) == OIQA_OK, "%s", oiqa_errmsg());
    for (int k = 0; k < cpu.kind->n_blocks && !check_case_failed; k++) {
        char label[96];
        snprintf(label, sizeof label, "%s %s", name, cpu.kind->blocks[k].name);
        CHECK(oiqa_tensor_same_shape(a[k], b[k]));
        CHECK_MSG(rel_error(label, b[k]->data, a[k]->data, oiqa_tensor_numel(a[k])) <= TOL, "%s differs", label);
    }
    free(rgb);
    oiqa_extractor_close(&cpu);
    oiqa_extractor_close(&dev);
}

static void t_cuda_resnet50_fixture(void)
{
    if (!gpu_or_skip()) return;
    const char *pth = check_shared("fixtures/resnet50/resnet50_seed0.pth");
    if (access(pth, R_OK)) {
        SKIP("%s not found (set OIQA_SHARED)", pth);
        return;
    }
    compare_extractor("resnet50", pth, 3, 224, 224);
    compare_extractor("resnet50", pth, 2, 67, 45); /* odd sizes: ceil halvings */
}

static void t_cuda_vmamba_presets(void)
{
    if (!gpu_or_skip()) return;
    compare_extractor("vmamba_t_v0", "random:1", 2, 64, 128);
    compare_extractor("vmamba_t_s1l8", "random:2", 2, 64, 128);
    compare_extractor("vmamba_t_s2l5", "random:3", 1, 72, 136);
}

/* The small VMamba fixtures (official code's weights), stages CPU vs CUDA. */
static void t_cuda_vmamba_fixtures(void)
{
    if (!gpu_or_skip()) return;
    static const char *files[] = {"fixtures/vmamba/vmamba_v0_small.pth", "fixtures/vmamba/vmamba_v2_small.pth",
                                  "fixtures/vmamba/vmamba_v2s1_small.pth"};
    for (int f = 0; f < 3 && !check_case_failed; f++) {
        const char *path = check_shared(files[f]);
        if (access(path, R_OK)) {
            SKIP("%s not found (set OIQA_SHARED)", path);
            return;
        }
        oiqa_vmamba net;
        CHECK_MSG(oiqa_vmamba_load_file(path, NULL, &net) == OIQA_OK, "%s", oiqa_errmsg());
        oiqa_backend *gpu = oiqa_backend_cuda_create(), *cpu = oiqa_backend_cpu();
        pair x;
        pair_make(gpu, &x, 2, 64, 96, 3, -2, 2);
        oiqa_vmamba_out oc = {0}, og = {0};
        CHECK(oiqa_vmamba_forward_on(cpu, &net, &x.host, &oc) == OIQA_OK);
        CHECK_MSG(oiqa_vmamba_forward_on(gpu, &net, &x.dev, &og) == OIQA_OK, "%s", oiqa_errmsg());
        for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) {
            pair p = {oc.stage[s], og.stage[s]};
            char label[128];
            snprintf(label, sizeof label, "%s stage%d", files[f] + 16, s);
            compare(gpu, label, &p);
            oiqa_be_tensor_free(gpu, &og.stage[s]);
        }
        oiqa_vmamba_out_free(&oc);
        pair_free(gpu, &x);
        oiqa_backend_close(gpu); /* before the weights it copied */
        oiqa_vmamba_free(&net);
    }
}

int main(void)
{
    RUN(t_device_choice);
    RUN(t_cuda_libraries_load);
    RUN(t_extractor_fallback);
    RUN(t_forward_stats);
    RUN(t_cuda_conv2d);
    RUN(t_cuda_linear);
    RUN(t_cuda_pointwise);
    RUN(t_cuda_spatial);
    RUN(t_cuda_ss2d);
    RUN(t_cuda_resnet50_fixture);
    RUN(t_cuda_vmamba_presets);
    RUN(t_cuda_vmamba_fixtures);
    return check_done();
}
