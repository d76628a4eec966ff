// Per-image, per-channel mean and standard deviation of a feature map on the
// GPU (nn/pool.h oiqa_channel_mean_std): the statistics pooling of the
// backbone stages, so only n*c values per block leave the device.
#include "nn/cuda/kernels.h"

namespace {

constexpr int kLanes = 32; // channels per block: one warp reads 32 contiguous floats of a position
constexpr int kRows = 8;   // positions read at once

// Two passes in double as on the CPU: the mean, then the sum of squared
// deviations; std = sqrt(dev2 / (N - unbiased)), NaN when that is 0.
__global__ void channel_mean_std_kernel(const float *x, int hw, int c, int unbiased, float *mean, float *std)
{
    __shared__ double part[kRows][kLanes];
    __shared__ double mu[kLanes];
    const int lane = threadIdx.x, row = threadIdx.y;
    const int ch = blockIdx.x * kLanes + lane;
    const size_t img = blockIdx.y;
    const float *base = x + img * (size_t)hw * c;
    double s = 0.0;
    if (ch < c)
        for (int p = row; p < hw; p += kRows) s += base[(size_t)p * c + ch];
    part[row][lane] = s;
    __syncthreads();
    if (row == 0) {
        double t = 0.0;
        for (int r = 0; r < kRows; r++) t += part[r][lane];
        mu[lane] = t / (double)hw;
    }
    __syncthreads();
    const double m = mu[lane];
    double d2 = 0.0;
    if (ch < c && std)
        for (int p = row; p < hw; p += kRows) {
            double d = base[(size_t)p * c + ch] - m;
            d2 += d * d;
        }
    __syncthreads(); // part[] is read by row 0 above before being reused
    part[row][lane] = d2;
    __syncthreads();
    if (row == 0 && ch < c) {
        mean[img * c + ch] = (float)m;
        if (std) {
            double t = 0.0;
            for (int r = 0; r < kRows; r++) t += part[r][lane];
            double denom = (double)hw - (unbiased ? 1.0 : 0.0);
            std[img * c + ch] = denom > 0 ? (float)sqrt(t / denom) : __int_as_float(0x7fc00000);
        }
    }
}

} // namespace

extern "C" cudaError_t oiqa_cu_channel_mean_std(const float *x, int n, int hw, int c, int unbiased, float *mean,
                                                float *std, cudaStream_t stream)
{
    if (n <= 0 || hw <= 0 || c <= 0) return cudaSuccess;
    if (n > 65535) return cudaErrorInvalidValue; // gridDim.y
    dim3 block(kLanes, kRows), grid((unsigned)((c + kLanes - 1) / kLanes), (unsigned)n);
    channel_mean_std_kernel<<<grid, block, 0, stream>>>(x, hw, c, unbiased, mean, std);
    return cudaGetLastError();
}
