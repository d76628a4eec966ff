/* Spatial gathers of nn/cuda/kernels.h on NHWC float maps: max pooling
 * (nn/pool.c), the 3x3 depthwise convolution of SS2D (nn/dwconv.c) and
 * VMamba v1's patch-merging gather (models/vmamba.c patch_merge). One thread
 * per output value, channels fastest so neighbouring threads read
 * neighbouring channels; grid-stride loops over size_t indices. */
#include "nn/cuda/kernels.h"

#include <math.h>

#include <cuda_runtime.h>

static const unsigned THREADS = 256;    /* threads per block */
static const size_t MAX_BLOCKS = 65535; /* grid cap; the kernels stride past it */

static unsigned grid_for(size_t work)
{
    size_t blocks = (work + THREADS - 1) / THREADS;
    return (unsigned)(blocks < MAX_BLOCKS ? blocks : MAX_BLOCKS);
}

#define GRID_STRIDE(i, n)                                                                   \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);                  \
         i += (size_t)gridDim.x * blockDim.x)

/* MaxPool2d(k, stride, pad): y[b,i,j,ch] = max over the k x k taps inside
 * the image of x[b, i*stride+u-pad, j*stride+v-pad, ch], starting from -inf
 * and keeping the old value unless a tap is greater (so NaN never wins, as
 * on the CPU). */
static __global__ void maxpool_kernel(const float *x, int h, int w, int c, int k, int stride, int pad, float *y,
                                      int oh, int ow, size_t total)
{
    GRID_STRIDE(idx, total)
    {
        size_t rest = idx / (size_t)c;
        const int ch = (int)(idx % (size_t)c);
        const int j = (int)(rest % (size_t)ow);
        rest /= (size_t)ow;
        const int i = (int)(rest % (size_t)oh);
        const size_t b = rest / (size_t)oh;
        float m = -INFINITY;
        for (int u = 0; u < k; u++) {
            int iy = i * stride - pad + u;
            if (iy < 0 || iy >= h) continue;
            for (int v = 0; v < k; v++) {
                int ix = j * stride - pad + v;
                if (ix < 0 || ix >= w) continue;
                float s = x[((b * h + iy) * w + ix) * c + ch];
                m = s > m ? s : m;
            }
        }
        y[idx] = m;
    }
}

extern "C" cudaError_t oiqa_cu_maxpool2d(const float *x, int n, int h, int w, int c, int k, int stride, int pad,
                                         float *y, int oh, int ow, cudaStream_t stream)
{
    if (n < 0 || h < 0 || w < 0 || c < 0 || oh < 0 || ow < 0 || k < 1 || stride < 1 || pad < 0 || 2 * pad > k)
        return cudaErrorInvalidValue;
    size_t total = (size_t)n * oh * ow * c;
    if (total == 0) return cudaSuccess;
    maxpool_kernel<<<grid_for(total), THREADS, 0, stream>>>(x, h, w, c, k, stride, pad, y, oh, ow, total);
    return cudaGetLastError();
}

/* 3x3 depthwise, stride 1, zero pad 1 (nn/dwconv.h):
 *   y[b,i,j,ch] = bias[ch] + sum_{u,v<3} x[b, i+u-1, j+v-1, ch] w[u][v][ch]
 * adding the taps in the CPU's order (u, then v) with separately rounded
 * multiply and add (nn/dwconv.c has no FMA), so the result matches it. */
static __global__ void dwconv3x3_kernel(const float *x, int h, int w, int c, const float *w33c, const float *bias,
                                        float *y, size_t total)
{
    GRID_STRIDE(idx, total)
    {
        size_t rest = idx / (size_t)c;
        const int ch = (int)(idx % (size_t)c);
        const int j = (int)(rest % (size_t)w);
        rest /= (size_t)w;
        const int i = (int)(rest % (size_t)h);
        const size_t b = rest / (size_t)h;
        float acc = bias ? bias[ch] : 0.0f;
        for (int u = 0; u < 3; u++) {
            int yi = i + u - 1;
            if (yi < 0 || yi >= h) continue;
            for (int v = 0; v < 3; v++) {
                int xj = j + v - 1;
                if (xj < 0 || xj >= w) continue;
                float xv = x[((b * h + yi) * w + xj) * c + ch];
                acc = __fadd_rn(acc, __fmul_rn(xv, w33c[(size_t)(u * 3 + v) * c + ch]));
            }
        }
        y[idx] = acc;
    }
}

extern "C" cudaError_t oiqa_cu_dwconv3x3(const float *x, int n, int h, int w, int c, const float *w33c,
                                         const float *bias, float *y, cudaStream_t stream)
{
    if (n < 0 || h < 0 || w < 0 || c < 0) return cudaErrorInvalidValue;
    size_t total = (size_t)n * h * w * c;
    if (total == 0) return cudaSuccess;
    dwconv3x3_kernel<<<grid_for(total), THREADS, 0, stream>>>(x, h, w, c, w33c, bias, y, total);
    return cudaGetLastError();
}

/* Patch merging's gather (VMamba v1, Liu et al. 2024; Swin's PatchMerging):
 * output channel q*c + ch of cell (i, j) is x[b, 2i + dy, 2j + dx, ch] for
 * q = 0..3 -> (dy, dx) = (0,0), (1,0), (0,1), (1,1), i.e. dy = q & 1,
 * dx = q >> 1; 0 past an odd bottom or right edge. */
static __global__ void patch_merge_kernel(const float *x, int h, int w, int c, float *y, int oh, int ow,
                                          size_t total)
{
    const size_t c4 = 4 * (size_t)c;
    GRID_STRIDE(idx, total)
    {
        const size_t cc = idx % c4;
        const int q = (int)(cc / (size_t)c), ch = (int)(cc % (size_t)c);
        size_t rest = idx / c4;
        const int j = (int)(rest % (size_t)ow);
        rest /= (size_t)ow;
        const int i = (int)(rest % (size_t)oh);
        const size_t b = rest / (size_t)oh;
        const int yi = 2 * i + (q & 1), xj = 2 * j + (q >> 1);
        y[idx] = yi < h && xj < w ? x[((b * h + yi) * w + xj) * c + ch] : 0.0f;
    }
}

extern "C" cudaError_t oiqa_cu_patch_merge(const float *x, int n, int h, int w, int c, float *y,
                                           cudaStream_t stream)
{
    if (n < 0 || h < 0 || w < 0 || c < 0) return cudaErrorInvalidValue;
    const int oh = (h + 1) / 2, ow = (w + 1) / 2;
    size_t total = (size_t)n * oh * ow * 4 * c;
    if (total == 0) return cudaSuccess;
    patch_merge_kernel<<<grid_for(total), THREADS, 0, stream>>>(x, h, w, c, y, oh, ow, total);
    return cudaGetLastError();
}
