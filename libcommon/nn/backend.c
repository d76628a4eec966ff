/* The CPU backend (each op is the nn/ kernel of the same name) and the
 * backend-neutral helpers of nn/backend.h. */
#include "nn/backend.h"

#include <stdint.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "nn/activation.h"
#include "nn/dwconv.h"
#include "nn/eltwise.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/pool.h"

static void *cpu_alloc(oiqa_backend *be, size_t bytes)
{
    (void)be;
    return oiqa_nn_alloc(bytes);
}

static void cpu_free(oiqa_backend *be, void *p)
{
    (void)be;
    oiqa_nn_free(p);
}

static int cpu_upload(oiqa_backend *be, const float *host, oiqa_tensor *t)
{
    (void)be;
    if (host != t->data) memcpy(t->data, host, oiqa_tensor_numel(t) * sizeof(float));
    return OIQA_OK;
}

static int cpu_download(oiqa_backend *be, const oiqa_tensor *t, float *host)
{
    (void)be;
    if (host != t->data) memcpy(host, t->data, oiqa_tensor_numel(t) * sizeof(float));
    return OIQA_OK;
}

static int cpu_sync(oiqa_backend *be)
{
    (void)be;
    return OIQA_OK;
}

static size_t cpu_free_memory(oiqa_backend *be)
{
    (void)be;
    return SIZE_MAX;
}

static int cpu_conv2d(oiqa_backend *be, const oiqa_conv2d *conv, const oiqa_tensor *x, const oiqa_tensor *residual,
                      int relu, oiqa_tensor *y)
{
    (void)be;
    return oiqa_conv2d_forward(conv, x, residual, relu, y);
}

static int cpu_linear(oiqa_backend *be, const float *x, size_t ldx, size_t rows, int cin, const float *weight,
                      const float *bias, int cout, float *y, size_t ldy, int accumulate)
{
    (void)be;
    oiqa_linear(x, ldx, rows, cin, weight, bias, cout, y, ldy, accumulate);
    return OIQA_OK;
}

static int cpu_layernorm(oiqa_backend *be, const float *x, float *y, size_t rows, int channels, const float *gamma,
                         const float *beta, float eps)
{
    (void)be;
    oiqa_layernorm(x, y, rows, channels, gamma, beta, eps);
    return OIQA_OK;
}

static int cpu_activation(oiqa_backend *be, oiqa_activation act, float *x, size_t n)
{
    (void)be;
    switch (act) {
    case OIQA_ACT_RELU: oiqa_relu_inplace(x, n); break;
    case OIQA_ACT_SILU: oiqa_silu_inplace(x, n); break;
    case OIQA_ACT_GELU: oiqa_gelu_inplace(x, n); break;
    }
    return OIQA_OK;
}

static int cpu_mul(oiqa_backend *be, const float *a, const float *b, float *y, size_t n)
{
    (void)be;
    oiqa_mul(a, b, y, n);
    return OIQA_OK;
}

static int cpu_maxpool2d(oiqa_backend *be, const oiqa_tensor *x, int k, int stride, int pad, oiqa_tensor *y)
{
    (void)be;
    return oiqa_maxpool2d(x, k, stride, pad, y);
}

static int cpu_dwconv3x3(oiqa_backend *be, const oiqa_tensor *x, const float *w_33c, const float *bias,
                         oiqa_tensor *y)
{
    (void)be;
    return oiqa_dwconv3x3(x, w_33c, bias, y);
}

static int cpu_patch_merge(oiqa_backend *be, const oiqa_tensor *x, oiqa_tensor *y)
{
    (void)be;
    const int C = x->c, oh = (x->h + 1) / 2, ow = (x->w + 1) / 2;
    if (y->n != x->n || y->h != oh || y->w != ow || y->c != 4 * C)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "patch merge: output must be %d x %d x %d x %d", x->n, oh, ow, 4 * C);
    static const int offs[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}}; /* (row, col) */
    for (int b = 0; b < x->n; b++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int q = 0; q < 4; q++) {
                    int yi = 2 * i + offs[q][0], xj = 2 * j + offs[q][1];
                    float *dst = y->data + oiqa_tensor_index(y, b, i, j, q * C);
                    if (yi < x->h && xj < x->w)
                        memcpy(dst, x->data + oiqa_tensor_index(x, b, yi, xj, 0), sizeof(float) * C);
                    else
                        memset(dst, 0, sizeof(float) * C);
                }
    return OIQA_OK;
}

static int cpu_ss2d(oiqa_backend *be, const oiqa_ss2d_weights *wt, const oiqa_tensor *x, oiqa_tensor *y)
{
    (void)be;
    const size_t per_image = (size_t)x->h * x->w * x->c;
    int rc = OIQA_OK;
    for (int b = 0; b < x->n && !rc; b++)
        rc = oiqa_ss2d_core(wt, x->data + b * per_image, x->h, x->w, y->data + b * per_image);
    return rc;
}

static int cpu_normalize(oiqa_backend *be, const float *rgb, const float mean[3], const float std[3], oiqa_tensor *x)
{
    (void)be;
    const size_t pixels = (size_t)x->n * x->h * x->w;
    for (size_t p = 0; p < pixels; p++)
        for (int c = 0; c < 3; c++) x->data[3 * p + c] = (rgb[3 * p + c] / 255.0f - mean[c]) / std[c];
    return OIQA_OK;
}

static int cpu_channel_mean_std(oiqa_backend *be, const oiqa_tensor *x, float *mean, float *std)
{
    (void)be;
    oiqa_channel_mean_std(x, mean, std, 1);
    return OIQA_OK;
}

static void cpu_destroy(oiqa_backend *be) { (void)be; }

static const oiqa_backend_ops CPU_OPS = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .free = cpu_free,
    .upload = cpu_upload,
    .download = cpu_download,
    .sync = cpu_sync,
    .free_memory = cpu_free_memory,
    .conv2d = cpu_conv2d,
    .linear = cpu_linear,
    .layernorm = cpu_layernorm,
    .activation = cpu_activation,
    .mul = cpu_mul,
    .maxpool2d = cpu_maxpool2d,
    .dwconv3x3 = cpu_dwconv3x3,
    .patch_merge = cpu_patch_merge,
    .ss2d = cpu_ss2d,
    .normalize = cpu_normalize,
    .channel_mean_std = cpu_channel_mean_std,
    .destroy = cpu_destroy,
};

oiqa_backend *oiqa_backend_cpu(void)
{
    static oiqa_backend cpu = {&CPU_OPS, OIQA_DEVICE_CPU, NULL};
    return &cpu;
}

#ifndef OIQA_HAVE_CUDA
oiqa_backend *oiqa_backend_cuda_create(void)
{
    oiqa_fail(OIQA_EXIT_DATA, NULL, "this build has no CUDA backend (built with CUDA=0 or without nvcc)");
    return NULL;
}
#endif

oiqa_backend *oiqa_backend_open(oiqa_device device)
{
    if (device != OIQA_DEVICE_CUDA) return oiqa_backend_cpu();
    oiqa_backend *be = oiqa_backend_cuda_create();
    if (be) return be;
    oiqa_warn("the CUDA backend did not start (%s); running on the CPU", oiqa_errmsg());
    return oiqa_backend_cpu();
}

void oiqa_backend_close(oiqa_backend *be)
{
    if (be && be != oiqa_backend_cpu()) be->ops->destroy(be);
}

int oiqa_be_tensor_create(oiqa_backend *be, oiqa_tensor *t, int n, int h, int w, int c)
{
    memset(t, 0, sizeof *t);
    if (n < 1 || h < 1 || w < 1 || c < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "tensor: bad shape %d x %d x %d x %d", n, h, w, c);
    if ((double)n * h * w * c * sizeof(float) > (double)(SIZE_MAX / 2))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "tensor: %d x %d x %d x %d is too large", n, h, w, c);
    t->data = be->ops->alloc(be, (size_t)n * h * w * c * sizeof(float));
    if (!t->data)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "tensor: out of %s memory for %d x %d x %d x %d floats", be->ops->name,
                         n, h, w, c);
    t->n = n, t->h = h, t->w = w, t->c = c;
    return OIQA_OK;
}

void oiqa_be_tensor_free(oiqa_backend *be, oiqa_tensor *t)
{
    if (t->data) be->ops->free(be, t->data);
    memset(t, 0, sizeof *t);
}

int oiqa_be_tensor_ensure(oiqa_backend *be, oiqa_tensor *t, int n, int h, int w, int c)
{
    if (t->data && t->n == n && t->h == h && t->w == w && t->c == c) return OIQA_OK;
    oiqa_be_tensor_free(be, t);
    return oiqa_be_tensor_create(be, t, n, h, w, c);
}
