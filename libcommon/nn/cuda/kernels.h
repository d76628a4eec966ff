/* oiqa's own CUDA kernels (kernels_*.cu), the operations cuDNN and cuBLAS do
 * not provide, each the GPU twin of a CPU kernel in nn/ whose header states
 * the math. All pointers are device pointers, data NHWC float32 as on the
 * CPU. Each function queues its launch(es) on `stream` and returns the
 * launch status (cudaGetLastError); nothing synchronises. Sizes of 0 are a
 * no-op. Used by nn/cuda/backend_cuda.c. */
#ifndef OIQA_NN_CUDA_KERNELS_H
#define OIQA_NN_CUDA_KERNELS_H

#include <stddef.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* nn/layernorm.h: y[r, :] = (x[r, :] - mean) / sqrt(var + eps) * gamma + beta
 * over rows x channels (row-major); y may alias x; beta may be NULL. */
cudaError_t oiqa_cu_layernorm(const float *x, float *y, size_t rows, int channels, const float *gamma,
                              const float *beta, float eps, cudaStream_t stream);

/* In place, n values: max(x, 0); x sigmoid(x); exact-erf GELU. */
cudaError_t oiqa_cu_relu(float *x, size_t n, cudaStream_t stream);
cudaError_t oiqa_cu_silu(float *x, size_t n, cudaStream_t stream);
cudaError_t oiqa_cu_gelu(float *x, size_t n, cudaStream_t stream);

/* y = a * b, n values; y may alias a or b. */
cudaError_t oiqa_cu_mul(const float *a, const float *b, float *y, size_t n, cudaStream_t stream);

/* The conv epilogue when cuDNN's fused one is not used:
 * y[r, c] = act(y[r, c] + bias[c] + residual[r, c]) over rows x channels,
 * bias and residual optional (NULL), residual may alias y, act = ReLU when
 * relu is set. */
cudaError_t oiqa_cu_bias_act(float *y, size_t rows, int channels, const float *bias, const float *residual,
                             int relu, cudaStream_t stream);

/* y[r, c] += bias[c] over rows x channels with row stride ldy (a linear
 * layer's bias after cuBLAS). */
cudaError_t oiqa_cu_add_bias(float *y, size_t ldy, size_t rows, int channels, const float *bias,
                             cudaStream_t stream);

/* nn/pool.h oiqa_maxpool2d: x n x h x w x c -> y n x oh x ow x c. */
cudaError_t oiqa_cu_maxpool2d(const float *x, int n, int h, int w, int c, int k, int stride, int pad, float *y,
                              int oh, int ow, cudaStream_t stream);

/* nn/dwconv.h: 3x3 depthwise, stride 1, pad 1; w [3][3][c]; bias or NULL. */
cudaError_t oiqa_cu_dwconv3x3(const float *x, int n, int h, int w, int c, const float *w33c, const float *bias,
                              float *y, cudaStream_t stream);

/* VMamba v1 patch merging's gather: y n x ceil(h/2) x ceil(w/2) x 4c, the
 * 2x2 neighbours in the order (0,0), (1,0), (0,1), (1,1) as (row, col)
 * offsets, zeros past an odd edge (models/vmamba.c patch_merge). */
cudaError_t oiqa_cu_patch_merge(const float *x, int n, int h, int w, int c, float *y, cudaStream_t stream);

/* models/imagenet.h: x[p, ch] = (rgb[p, ch] / 255 - mean[ch]) / std[ch],
 * rounded to float after each operation in that order; pixels RGB triples. */
cudaError_t oiqa_cu_normalize(const float *rgb, size_t pixels, float m0, float m1, float m2, float s0, float s1,
                              float s2, float *x, cudaStream_t stream);

/* dt[r, c] = softplus(dt[r, c] + bias[c]) (PyTorch's softplus, threshold
 * 20) over rows x channels: SS2D's delta before the scan. */
cudaError_t oiqa_cu_softplus_bias(float *dt, size_t rows, int channels, const float *bias, cudaStream_t stream);

/* nn/pool.h oiqa_channel_mean_std: x n x hw x c -> mean, std (n x c each;
 * std may be NULL), accumulated in double; unbiased: N - 1 (NaN for N = 1). */
cudaError_t oiqa_cu_channel_mean_std(const float *x, int n, int hw, int c, int unbiased, float *mean, float *std,
                                     cudaStream_t stream);

/* The four-route selective scan of SS2D (nn/selective_scan.h, nn/ss2d.h)
 * over n images of h x w positions (L = h w), Di channels, N states:
 *   u      [n][L][Di]           the conv-activated map
 *   delta  [n][L][4 Di]         softplus(dt_k + bias_k), route k at column k Di
 *   A      [4 Di][N]            -exp(A_logs), route k rows k Di ..
 *   bc     [n][L][ld_bc]        route k's B at column k (R + 2N) + R, its C at
 *                               + N after that (x_dbl of nn/ss2d.h), i.e.
 *                               B_k = bc + k*per_route + b_off, C_k = B_k + N
 *   D      [4 Di]
 *   y      [n][L][Di]           = sum over the four routes (written, not added to)
 * Route k visits position oiqa_scan_position(k, t, h, w) at step t. Parallel
 * over images x channels x states, the sequence cut into chunks scanned in
 * two passes (chunk states from zero, then the carried states). */
typedef struct {
    int n, h, w, d_inner, d_state;
    const float *u, *delta, *A, *bc, *D;
    size_t ld_bc;   /* 4 (R + 2N) */
    int per_route;  /* R + 2N: route k's block of bc starts at column k * per_route */
    int b_off;      /* R: where B starts inside a route's block */
    float *y;
} oiqa_cu_scan_args;
cudaError_t oiqa_cu_ss2d_scan(const oiqa_cu_scan_args *a, cudaStream_t stream);

#ifdef __cplusplus
}
#endif

#endif
