/* Elementwise and per-row kernels of nn/cuda/kernels.h: LayerNorm, the
 * activations, the conv epilogue, bias adds, ImageNet normalisation and
 * SS2D's softplus. Each is the GPU twin of a CPU kernel (nn/layernorm.c,
 * nn/activation.h, nn/eltwise.c, nn/conv2d.c's epilogue, models/imagenet.c)
 * with the same formula in the same float operation order; libm-accurate
 * expf/erff/log1pf, no fast-math intrinsics. Elementwise launches are
 * grid-stride loops over size_t indices, so any n fits a bounded grid. */
#include "nn/cuda/kernels.h"

#include <cuda_runtime.h>

static const unsigned THREADS = 256;      /* threads per block */
static const size_t MAX_BLOCKS = 65535;   /* grid cap; the kernels stride past it */

/* Blocks for `work` items of `per_block` each, capped (the kernels stride). */
static unsigned grid_for(size_t work, size_t per_block)
{
    size_t blocks = (work + per_block - 1) / per_block;
    return (unsigned)(blocks < MAX_BLOCKS ? blocks : MAX_BLOCKS);
}

#define GRID_STRIDE(i, n)                                                                   \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                  \
         i += (size_t)gridDim.x * blockDim.x)

/* ---- LayerNorm (nn/layernorm.h) ---------------------------------------- */

/* Sum over the 32 lanes; the xor butterfly leaves the same value in every
 * lane (each pairwise add is commutative, so both partners round alike). */
__device__ static double warp_sum(double v)
{
    for (int off = 16; off > 0; off >>= 1) v += __shfl_xor_sync(0xffffffffu, v, off);
    return v;
}

/* One warp per row. Mean and the two-pass variance accumulate in double as
 * on the CPU; the output is (x - m) * inv * gamma + beta in float with no
 * FMA contraction, as nn/layernorm.c rounds it. The row loop is uniform per
 * warp, so all 32 lanes reach the shuffles. y may alias x: a lane rewrites
 * only the values it reads last, after the reductions have consumed all. */
static __global__ void layernorm_kernel(const float *x, float *y, size_t rows, int channels, const float *gamma,
                                 const float *beta, float eps)
{
    const int lane = threadIdx.x & 31;
    const size_t warps = blockDim.x / 32;
    for (size_t r = (size_t)blockIdx.x * warps + threadIdx.x / 32; r < rows; r += (size_t)gridDim.x * warps) {
        const float *xr = x + r * (size_t)channels;
        float *yr = y + r * (size_t)channels;
        double sum = 0.0;
        for (int c = lane; c < channels; c += 32) sum += xr[c];
        const double mean = warp_sum(sum) / channels;
        double sq = 0.0;
        for (int c = lane; c < channels; c += 32) {
            double d = xr[c] - mean;
            sq += d * d;
        }
        sq = warp_sum(sq);
        const float m = (float)mean, inv = (float)(1.0 / sqrt(sq / channels + eps));
        for (int c = lane; c < channels; c += 32) {
            float v = __fmul_rn(__fmul_rn(__fsub_rn(xr[c], m), inv), gamma[c]);
            yr[c] = beta ? __fadd_rn(v, beta[c]) : v;
        }
    }
}

extern "C" cudaError_t oiqa_cu_layernorm(const float *x, float *y, size_t rows, int channels, const float *gamma,
                                         const float *beta, float eps, cudaStream_t stream)
{
    if (channels < 0) return cudaErrorInvalidValue;
    if (rows == 0 || channels == 0) return cudaSuccess;
    layernorm_kernel<<<grid_for(rows, THREADS / 32), THREADS, 0, stream>>>(x, y, rows, channels, gamma, beta, eps);
    return cudaGetLastError();
}

/* ---- Activations (nn/activation.h, nn/eltwise.h) ------------------------ */

/* max(x, 0) written as the CPU does (a NaN becomes 0 there too). */
static __global__ void relu_kernel(float *x, size_t n)
{
    GRID_STRIDE(i, n) x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* silu(x) = x / (1 + e^-x). */
static __global__ void silu_kernel(float *x, size_t n)
{
    GRID_STRIDE(i, n) x[i] = x[i] / (1.0f + expf(-x[i]));
}

/* Exact GELU, x/2 (1 + erf(x / sqrt 2)) (PyTorch's default, not tanh). */
static __global__ void gelu_kernel(float *x, size_t n)
{
    GRID_STRIDE(i, n) x[i] = 0.5f * x[i] * (1.0f + erff(x[i] * 0.70710678118654752f));
}

static __global__ void mul_kernel(const float *a, const float *b, float *y, size_t n)
{
    GRID_STRIDE(i, n) y[i] = a[i] * b[i];
}

extern "C" cudaError_t oiqa_cu_relu(float *x, size_t n, cudaStream_t stream)
{
    if (n == 0) return cudaSuccess;
    relu_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(x, n);
    return cudaGetLastError();
}

extern "C" cudaError_t oiqa_cu_silu(float *x, size_t n, cudaStream_t stream)
{
    if (n == 0) return cudaSuccess;
    silu_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(x, n);
    return cudaGetLastError();
}

extern "C" cudaError_t oiqa_cu_gelu(float *x, size_t n, cudaStream_t stream)
{
    if (n == 0) return cudaSuccess;
    gelu_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(x, n);
    return cudaGetLastError();
}

extern "C" cudaError_t oiqa_cu_mul(const float *a, const float *b, float *y, size_t n, cudaStream_t stream)
{
    if (n == 0) return cudaSuccess;
    mul_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(a, b, y, n);
    return cudaGetLastError();
}

/* ---- Bias and epilogue -------------------------------------------------- */

/* nn/conv2d.c's epilogue: v = y + bias, then + residual, then ReLU, each a
 * float add in that order. Each element is read and written by one thread,
 * so residual may alias y. */
static __global__ void bias_act_kernel(float *y, size_t n, int channels, const float *bias, const float *residual,
                                int relu)
{
    GRID_STRIDE(i, n)
    {
        float v = y[i];
        if (bias) v += bias[i % (size_t)channels];
        if (residual) v += residual[i];
        if (relu) v = v > 0.0f ? v : 0.0f;
        y[i] = v;
    }
}

/* y[r * ldy + c] += bias[c]: a strided output (cuBLAS's ldc). */
static __global__ void add_bias_kernel(float *y, size_t ldy, size_t n, int channels, const float *bias)
{
    GRID_STRIDE(i, n)
    {
        size_t r = i / (size_t)channels, c = i % (size_t)channels;
        y[r * ldy + c] += bias[c];
    }
}

extern "C" cudaError_t oiqa_cu_bias_act(float *y, size_t rows, int channels, const float *bias,
                                        const float *residual, int relu, cudaStream_t stream)
{
    if (channels < 0) return cudaErrorInvalidValue;
    size_t n = rows * (size_t)channels;
    if (n == 0 || (!bias && !residual && !relu)) return cudaSuccess;
    bias_act_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(y, n, channels, bias, residual, relu);
    return cudaGetLastError();
}

extern "C" cudaError_t oiqa_cu_add_bias(float *y, size_t ldy, size_t rows, int channels, const float *bias,
                                        cudaStream_t stream)
{
    if (channels < 0 || (rows > 1 && ldy < (size_t)channels)) return cudaErrorInvalidValue;
    size_t n = rows * (size_t)channels;
    if (n == 0 || !bias) return cudaSuccess;
    add_bias_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(y, ldy, n, channels, bias);
    return cudaGetLastError();
}

/* ---- ImageNet normalisation (models/imagenet.h) ------------------------- */

/* (v / 255 - mean) / std with every step rounded to float (explicit _rn
 * operations: no contraction, IEEE division even under fast-math flags),
 * which reproduces the CPU and PyTorch bit for bit. */
static __global__ void normalize_kernel(const float *rgb, size_t n, float m0, float m1, float m2, float s0, float s1,
                                 float s2, float *x)
{
    GRID_STRIDE(i, n)
    {
        int ch = (int)(i % 3);
        float m = ch == 0 ? m0 : ch == 1 ? m1 : m2, s = ch == 0 ? s0 : ch == 1 ? s1 : s2;
        x[i] = __fdiv_rn(__fsub_rn(__fdiv_rn(rgb[i], 255.0f), m), s);
    }
}

extern "C" cudaError_t oiqa_cu_normalize(const float *rgb, size_t pixels, float m0, float m1, float m2, float s0,
                                         float s1, float s2, float *x, cudaStream_t stream)
{
    size_t n = pixels * 3;
    if (n == 0) return cudaSuccess;
    normalize_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(rgb, n, m0, m1, m2, s0, s1, s2, x);
    return cudaGetLastError();
}

/* ---- SS2D's delta (nn/activation.h oiqa_softplus) ----------------------- */

/* softplus(x) = log(1 + e^x), or x itself above 20 (F.softplus threshold). */
static __global__ void softplus_bias_kernel(float *dt, size_t n, int channels, const float *bias)
{
    GRID_STRIDE(i, n)
    {
        float v = dt[i];
        if (bias) v += bias[i % (size_t)channels];
        dt[i] = v > 20.0f ? v : log1pf(expf(v));
    }
}

extern "C" cudaError_t oiqa_cu_softplus_bias(float *dt, size_t rows, int channels, const float *bias,
                                             cudaStream_t stream)
{
    if (channels < 0) return cudaErrorInvalidValue;
    size_t n = rows * (size_t)channels;
    if (n == 0) return cudaSuccess;
    softplus_bias_kernel<<<grid_for(n, THREADS), THREADS, 0, stream>>>(dt, n, channels, bias);
    return cudaGetLastError();
}
