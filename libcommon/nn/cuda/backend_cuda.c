/* The CUDA backend (nn/backend.h): device memory and weights from
 * cuda_memory.c, cuBLAS for the linear layers and SS2D's projections, cuDNN
 * for the convolutions (backend_cuda_conv.c), oiqa's kernels
 * (nn/cuda/kernels.h) for the rest.
 * One stream; every op is queued on it, so ops run in program order and
 * only download and sync wait. IEEE fp32 arithmetic unless OIQA_TF32=1. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/cuda/backend_cuda_internal.h"
#include "nn/cuda/cuda_libs.h"
#include "nn/cuda/kernels.h"

static cuda_impl *impl(oiqa_backend *be) { return be->impl; }

#define WEIGHT(ptr, count) oiqa_cuda_weight(c, (ptr), (count), WEIGHT_PLAIN, NULL)

/* ---- the vtable ---- */

static void *cu_alloc(oiqa_backend *be, size_t bytes) { return oiqa_cuda_alloc(impl(be), bytes); }

static void cu_free(oiqa_backend *be, void *p) { oiqa_cuda_release(impl(be), p); }

/* A pinned buffer of at least bytes: staging[k], grown when needed. */
static void *staging(cuda_impl *c, int k, size_t bytes)
{
    if (c->staging_bytes[k] >= bytes) return c->staging[k];
    cudaEventSynchronize(c->staged[k]);
    cudaFreeHost(c->staging[k]);
    c->staging[k] = NULL, c->staging_bytes[k] = 0;
    if (cudaHostAlloc(&c->staging[k], bytes, cudaHostAllocDefault) != cudaSuccess) {
        cudaGetLastError();
        c->staging[k] = NULL;
        return NULL;
    }
    c->staging_bytes[k] = bytes;
    return c->staging[k];
}

/* Uploads go through two pinned buffers in turn: the copy is asynchronous,
 * and a buffer is refilled only after its previous copy has finished, so
 * the host prepares the next batch while the device computes. */
static int cu_upload(oiqa_backend *be, const float *host, oiqa_tensor *t)
{
    cuda_impl *c = impl(be);
    size_t bytes = oiqa_tensor_numel(t) * sizeof(float);
    int k = c->next_staging;
    c->next_staging ^= 1;
    int rc = oiqa_cuda_check(cudaEventSynchronize(c->staged[k]), "upload");
    void *pinned = rc ? NULL : staging(c, k, bytes);
    if (!rc && !pinned) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "CUDA: no pinned host memory for %zu bytes", bytes);
    if (!rc) {
        memcpy(pinned, host, bytes);
        rc = oiqa_cuda_check(cudaMemcpyAsync(t->data, pinned, bytes, cudaMemcpyHostToDevice, c->stream), "upload");
    }
    if (!rc) rc = oiqa_cuda_check(cudaEventRecord(c->staged[k], c->stream), "upload");
    return rc;
}

static int cu_download(oiqa_backend *be, const oiqa_tensor *t, float *host)
{
    cuda_impl *c = impl(be);
    size_t bytes = oiqa_tensor_numel(t) * sizeof(float);
    int k = c->next_staging;
    c->next_staging ^= 1;
    int rc = oiqa_cuda_check(cudaEventSynchronize(c->staged[k]), "download");
    void *pinned = rc ? NULL : staging(c, k, bytes);
    if (!rc && !pinned) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "CUDA: no pinned host memory for %zu bytes", bytes);
    if (!rc)
        rc = oiqa_cuda_check(cudaMemcpyAsync(pinned, t->data, bytes, cudaMemcpyDeviceToHost, c->stream), "download");
    if (!rc) rc = oiqa_cuda_check(cudaStreamSynchronize(c->stream), "download");
    if (!rc) memcpy(host, pinned, bytes);
    return rc;
}

static int cu_sync(oiqa_backend *be)
{
    return oiqa_cuda_check(cudaStreamSynchronize(impl(be)->stream), "sync");
}

static size_t cu_free_memory(oiqa_backend *be)
{
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) {
        cudaGetLastError();
        return 0;
    }
    return free_b + impl(be)->cached_bytes;
}

static int cu_conv2d(oiqa_backend *be, const oiqa_conv2d *conv, const oiqa_tensor *x, const oiqa_tensor *residual,
                     int relu, oiqa_tensor *y)
{
    return oiqa_cuda_conv2d(impl(be), conv, x, residual, relu, y);
}

/* y (rows x cout, row-major, ld ldy) = x (rows x cin, ld ldx) W^T (+ y) + bias.
 * Column-major, cuBLAS's view: y^T = W^T' x^T, i.e. C (cout x rows) =
 * op_T(A = W as cin x cout, lda cin) * B (x^T, cin x rows, ldb ldx). */
static int cu_linear(oiqa_backend *be, const float *x, size_t ldx, size_t rows, int cin, const float *weight,
                     const float *bias, int cout, float *y, size_t ldy, int accumulate)
{
    cuda_impl *c = impl(be);
    if (rows == 0) return OIQA_OK;
    const float *w = WEIGHT(weight, (size_t)cout * cin);
    const float *b = bias ? WEIGHT(bias, (size_t)cout) : NULL;
    if (!w || (bias && !b)) return OIQA_EXIT_DATA;
    const float one = 1.0f, beta = accumulate ? 1.0f : 0.0f;
    if (rows > INT32_MAX || ldx > INT32_MAX || ldy > INT32_MAX)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "cuBLAS: %zu rows are too many for one GEMM", rows);
    int rc = oiqa_cublas_check(OIQA_CULIB.cublasSgemm(c->blas, CUBLAS_OP_T, CUBLAS_OP_N, cout, (int)rows, cin, &one, w, cin, x,
                                           (int)ldx, &beta, y, (int)ldy),
                               "linear");
    if (!rc && b) rc = oiqa_cuda_check(oiqa_cu_add_bias(y, ldy, rows, cout, b, c->stream), "linear bias");
    return rc;
}

static int cu_layernorm(oiqa_backend *be, const float *x, float *y, size_t rows, int channels, const float *gamma,
                        const float *beta, float eps)
{
    cuda_impl *c = impl(be);
    const float *g = WEIGHT(gamma, (size_t)channels), *b = beta ? WEIGHT(beta, (size_t)channels) : NULL;
    if (!g || (beta && !b)) return OIQA_EXIT_DATA;
    return oiqa_cuda_check(oiqa_cu_layernorm(x, y, rows, channels, g, b, eps, c->stream), "layernorm");
}

static int cu_activation(oiqa_backend *be, oiqa_activation act, float *x, size_t n)
{
    cudaStream_t s = impl(be)->stream;
    switch (act) {
    case OIQA_ACT_RELU: return oiqa_cuda_check(oiqa_cu_relu(x, n, s), "relu");
    case OIQA_ACT_SILU: return oiqa_cuda_check(oiqa_cu_silu(x, n, s), "silu");
    case OIQA_ACT_GELU: return oiqa_cuda_check(oiqa_cu_gelu(x, n, s), "gelu");
    }
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "unknown activation %d", (int)act);
}

static int cu_mul(oiqa_backend *be, const float *a, const float *b, float *y, size_t n)
{
    return oiqa_cuda_check(oiqa_cu_mul(a, b, y, n, impl(be)->stream), "mul");
}

static int cu_maxpool2d(oiqa_backend *be, const oiqa_tensor *x, int k, int stride, int pad, oiqa_tensor *y)
{
    return oiqa_cuda_check(oiqa_cu_maxpool2d(x->data, x->n, x->h, x->w, x->c, k, stride, pad, y->data, y->h, y->w,
                                             impl(be)->stream),
                           "maxpool");
}

static int cu_dwconv3x3(oiqa_backend *be, const oiqa_tensor *x, const float *w_33c, const float *bias,
                        oiqa_tensor *y)
{
    cuda_impl *c = impl(be);
    const float *w = WEIGHT(w_33c, (size_t)9 * x->c), *b = bias ? WEIGHT(bias, (size_t)x->c) : NULL;
    if (!w || (bias && !b)) return OIQA_EXIT_DATA;
    return oiqa_cuda_check(oiqa_cu_dwconv3x3(x->data, x->n, x->h, x->w, x->c, w, b, y->data, c->stream), "dwconv");
}

static int cu_patch_merge(oiqa_backend *be, const oiqa_tensor *x, oiqa_tensor *y)
{
    if (y->n != x->n || y->h != (x->h + 1) / 2 || y->w != (x->w + 1) / 2 || y->c != 4 * x->c)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "patch merge: bad output shape");
    return oiqa_cuda_check(oiqa_cu_patch_merge(x->data, x->n, x->h, x->w, x->c, y->data, impl(be)->stream),
                           "patch merge");
}

/* SS2D on the whole batch (nn/ss2d.h): x_dbl = x x_proj^T for the four
 * routes in one GEMM over every position of every image, each route's
 * delta = x_dbl[:, dt part] dt_w_k^T (four GEMMs into one [M][4 Di] map),
 * softplus(delta + bias), then the chunked scan kernel. */
static int cu_ss2d(oiqa_backend *be, const oiqa_ss2d_weights *wt, const oiqa_tensor *x, oiqa_tensor *y)
{
    cuda_impl *c = impl(be);
    const int Di = wt->d_inner, N = wt->d_state, R = wt->dt_rank, per_route = R + 2 * N;
    const size_t M = (size_t)x->n * x->h * x->w, ld_dbl = (size_t)4 * per_route;
    const float *A = WEIGHT(wt->A, (size_t)4 * Di * N), *D = WEIGHT(wt->Ds, (size_t)4 * Di);
    const float *bias = WEIGHT(wt->dt_projs_bias, (size_t)4 * Di);
    if (!A || !D || !bias) return OIQA_EXIT_DATA;
    float *x_dbl = oiqa_cuda_alloc(c, sizeof(float) * M * ld_dbl);
    float *delta = oiqa_cuda_alloc(c, sizeof(float) * M * 4 * Di);
    int rc = x_dbl && delta ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, NULL, "CUDA: out of memory in SS2D (%zu positions)", M);
    if (!rc) rc = cu_linear(be, x->data, Di, M, Di, wt->x_proj_weight, NULL, 4 * per_route, x_dbl, ld_dbl, 0);
    for (int k = 0; k < 4 && !rc; k++)
        rc = cu_linear(be, x_dbl + (size_t)k * per_route, ld_dbl, M, R, wt->dt_projs_weight + (size_t)k * Di * R, NULL,
                       Di, delta + (size_t)k * Di, (size_t)4 * Di, 0);
    if (!rc) rc = oiqa_cuda_check(oiqa_cu_softplus_bias(delta, M, 4 * Di, bias, c->stream), "ss2d softplus");
    if (!rc) {
        oiqa_cu_scan_args a = {.n = x->n, .h = x->h, .w = x->w, .d_inner = Di, .d_state = N, .u = x->data,
                               .delta = delta, .A = A, .bc = x_dbl, .D = D, .ld_bc = ld_dbl,
                               .per_route = per_route, .b_off = R, .y = y->data};
        rc = oiqa_cuda_check(oiqa_cu_ss2d_scan(&a, c->stream), "ss2d scan");
    }
    oiqa_cuda_release(c, x_dbl);
    oiqa_cuda_release(c, delta);
    return rc;
}

static int cu_normalize(oiqa_backend *be, const float *rgb, const float mean[3], const float std[3], oiqa_tensor *x)
{
    cuda_impl *c = impl(be);
    int rc = cu_upload(be, rgb, x); /* the raw values into x, normalised in place */
    if (!rc)
        rc = oiqa_cuda_check(oiqa_cu_normalize(x->data, (size_t)x->n * x->h * x->w, mean[0], mean[1], mean[2], std[0],
                                               std[1], std[2], x->data, c->stream),
                             "normalize");
    return rc;
}

/* Mean and std on the device into one scratch block, then one download. */
static int cu_channel_mean_std(oiqa_backend *be, const oiqa_tensor *x, float *mean, float *std)
{
    cuda_impl *c = impl(be);
    const size_t nc = (size_t)x->n * x->c;
    float *dev = oiqa_cuda_alloc(c, sizeof(float) * 2 * nc);
    if (!dev) return oiqa_fail(OIQA_EXIT_DATA, NULL, "CUDA: out of memory for statistics");
    int rc = oiqa_cuda_check(oiqa_cu_channel_mean_std(x->data, x->n, x->h * x->w, x->c, 1, dev, dev + nc, c->stream),
                             "channel statistics");
    oiqa_tensor both = {1, 1, 2, (int)nc, dev};
    float *host = rc ? NULL : malloc(sizeof(float) * 2 * nc);
    if (!rc && !host) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    if (!rc) rc = cu_download(be, &both, host);
    if (!rc) {
        memcpy(mean, host, sizeof(float) * nc);
        if (std) memcpy(std, host + nc, sizeof(float) * nc);
    }
    free(host);
    oiqa_cuda_release(c, dev);
    return rc;
}

static void cu_destroy(oiqa_backend *be)
{
    cuda_impl *c = impl(be);
    if (c) {
        cudaStreamSynchronize(c->stream);
        oiqa_cuda_memory_free(c);
        oiqa_cuda_conv_plans_free(c);
        cudaFree(c->workspace);
        for (int k = 0; k < 2; k++) {
            if (c->staged[k]) cudaEventDestroy(c->staged[k]);
            cudaFreeHost(c->staging[k]);
        }
        if (c->relu) OIQA_CULIB.cudnnDestroyActivationDescriptor(c->relu);
        if (c->dnn) OIQA_CULIB.cudnnDestroy(c->dnn);
        if (c->blas) OIQA_CULIB.cublasDestroy(c->blas);
        if (c->stream) cudaStreamDestroy(c->stream);
        free(c);
    }
    free(be);
}

static const oiqa_backend_ops CUDA_OPS = {
    .name = "cuda",
    .alloc = cu_alloc,
    .free = cu_free,
    .upload = cu_upload,
    .download = cu_download,
    .sync = cu_sync,
    .free_memory = cu_free_memory,
    .conv2d = cu_conv2d,
    .linear = cu_linear,
    .layernorm = cu_layernorm,
    .activation = cu_activation,
    .mul = cu_mul,
    .maxpool2d = cu_maxpool2d,
    .dwconv3x3 = cu_dwconv3x3,
    .patch_merge = cu_patch_merge,
    .ss2d = cu_ss2d,
    .normalize = cu_normalize,
    .channel_mean_std = cu_channel_mean_std,
    .destroy = cu_destroy,
};

oiqa_backend *oiqa_backend_cuda_create(void)
{
    char why[256];
    if (!oiqa_cuda_usable(why, sizeof why)) return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s", why), NULL;
    if (!oiqa_cuda_libs_load()) return NULL;
    oiqa_backend *be = calloc(1, sizeof *be);
    cuda_impl *c = calloc(1, sizeof *c);
    if (!be || !c) {
        free(be);
        free(c);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory"), NULL;
    }
    *be = (oiqa_backend){&CUDA_OPS, OIQA_DEVICE_CUDA, c};
    c->tf32 = oiqa_device_tf32();
    int rc = oiqa_cuda_check(cudaStreamCreateWithFlags(&c->stream, cudaStreamNonBlocking), "stream");
    for (int k = 0; k < 2 && !rc; k++)
        rc = oiqa_cuda_check(cudaEventCreateWithFlags(&c->staged[k], cudaEventDisableTiming), "event");
    if (!rc) rc = oiqa_cublas_check(OIQA_CULIB.cublasCreate(&c->blas), "create");
    if (!rc) rc = oiqa_cublas_check(OIQA_CULIB.cublasSetStream(c->blas, c->stream), "stream");
    /* TF32 only when asked: CUBLAS_DEFAULT_MATH keeps SGEMM in fp32. */
    if (!rc)
        rc = oiqa_cublas_check(OIQA_CULIB.cublasSetMathMode(c->blas, c->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH),
                               "math mode");
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnCreate(&c->dnn), "create");
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetStream(c->dnn, c->stream), "stream");
    if (!rc) rc = oiqa_cudnn_check(OIQA_CULIB.cudnnCreateActivationDescriptor(&c->relu), "activation");
    if (!rc)
        rc = oiqa_cudnn_check(OIQA_CULIB.cudnnSetActivationDescriptor(c->relu, CUDNN_ACTIVATION_RELU, CUDNN_NOT_PROPAGATE_NAN, 0.0),
                              "activation");
    if (rc) {
        cu_destroy(be);
        return NULL;
    }
    return be;
}
