/* The four-route selective scan of SS2D on the GPU (nn/cuda/kernels.h
 * oiqa_cu_ss2d_scan), the twin of nn/selective_scan.c. Per image b, route k,
 * channel d and state n (Mamba, Gu & Dao 2023; VMamba's cross scan, Liu et
 * al. 2024), with p the position of step t of route k:
 *   h_t[n] = exp(delta[p, kDi+d] A[kDi+d][n]) h_{t-1}[n] + (delta u[p, d]) B_k[p, n]
 *   y[p, d] = sum over k of ( sum_n h_t[n] C_k[p, n] + D[kDi+d] u[p, d] )
 *
 * The recurrence h_t = a_t h_{t-1} + b_t is linear, so the sequence is cut
 * into chunks: a chunk scanned from h = 0 ends in h_loc and has the decay
 * product P = prod a_t; the state entering chunk c+1 is P_c h_in(c) + h_loc(c).
 *
 * Launch: one block of SCAN_THREADS per (image, group of cb channels), in a
 * grid-stride loop. Thread tid = (chunk * cb + slot) * nl + sl: sl the state
 * lane (nl = the power of two >= N, at most 32; N > 32 runs in groups of 32
 * states), slot the channel within the group, chunk the stretch of the
 * sequence. A channel's nl state lanes are adjacent lanes of one warp, so
 * sum_n h C is a shuffle reduction of width nl. The block takes the routes
 * k = 0..3 in order with __syncthreads between them: route 0 writes y,
 * later ones add, no atomics, a fixed summation order (deterministic).
 * Per route and state group:
 *   pass 1: each thread scans its chunk from 0 -> (h_loc, P) in shared memory
 *   pass 2: chunk-0 threads carry the states across the chunks in order
 *   pass 3: each thread rescans its chunk from its carried-in state, the
 *           state lanes reduce h C and state lane 0 writes/adds y.
 * y must not overlap the inputs (route 0 writes y before later routes read
 * u at the same position). */
#include "nn/cuda/kernels.h"

#include <math.h>

#include <cuda_runtime.h>

enum { SCAN_THREADS = 256 };
static const size_t MAX_BLOCKS = 65535; /* grid cap; the kernel strides past it */

/* nn/selective_scan.h oiqa_scan_position: routes 0/1 row-/column-major,
 * 2/3 the same reversed. */
__device__ static size_t scan_position(int route, size_t t, int h, int w)
{
    size_t L = (size_t)h * w;
    if (route >= 2) t = L - 1 - t;
    if (route & 1) return (t % (size_t)h) * (size_t)w + t / (size_t)h;
    return t;
}

/* exp(delta A) as the CPU computes it: exp(-|x|) with |x| clamped at 87
 * (nn/vmath.h oiqa_vexp_neg; A <= 0, so this is exp(x) for sane inputs). */
__device__ static float decay(float x) { return expf(-fminf(fabsf(x), 87.0f)); }

static __global__ void __launch_bounds__(SCAN_THREADS) ss2d_scan_kernel(oiqa_cu_scan_args a, int nl, int cb,
                                                                        size_t groups)
{
    __shared__ float sh_h[SCAN_THREADS], sh_p[SCAN_THREADS];
    const int tid = threadIdx.x, g = nl * cb, nc = SCAN_THREADS / g;
    const int sl = tid % nl, slot = (tid / nl) % cb, chunk = tid / g;
    const int Di = a.d_inner, N = a.d_state;
    const size_t L = (size_t)a.h * a.w, cl = (L + nc - 1) / nc, t0 = (size_t)chunk * cl;
    const size_t ldd = 4 * (size_t)Di, tasks = (size_t)a.n * groups;
    /* Every loop bound below is uniform over the block: the shuffles and
     * __syncthreads are reached by all threads; idle ones are predicated. */
    for (size_t task = blockIdx.x; task < tasks; task += gridDim.x) {
        const size_t b = task / groups;
        const int d = (int)(task % groups) * cb + slot;
        const bool chan = d < Di;
        const float *u = a.u + b * L * Di, *delta = a.delta + b * L * ldd, *bc = a.bc + b * L * a.ld_bc;
        float *y = a.y + b * L * Di;
        for (int k = 0; k < 4; k++) {
            const size_t kd = (size_t)k * Di + d; /* row of A, column of delta / D */
            const float dk = chan && a.D ? a.D[kd] : 0.0f;
            const float *bk = bc + (size_t)k * a.per_route + a.b_off; /* B_k at p: bk[p ld_bc + n], C_k: + N */
            for (int s0 = 0; s0 < N; s0 += nl) {
                const int s = s0 + sl;
                const bool on = chan && s < N;
                const float an = on ? a.A[kd * N + s] : 0.0f;
                /* Pass 1: the chunk from h = 0, and its decay product. */
                float hh = 0.0f, prod = 1.0f;
                for (size_t j = 0; j < cl && on; j++) {
                    const size_t t = t0 + j;
                    if (t >= L) break;
                    const size_t p = scan_position(k, t, a.h, a.w);
                    const float dt = delta[p * ldd + kd], e = decay(dt * an);
                    hh = e * hh + dt * u[p * Di + d] * bk[p * a.ld_bc + s];
                    prod *= e;
                }
                sh_h[tid] = hh;
                sh_p[tid] = prod;
                __syncthreads();
                /* Pass 2: sh_h[c] becomes the state entering chunk c. */
                if (chunk == 0) {
                    float carry = 0.0f;
                    for (int c = 0; c < nc; c++) {
                        const int i = c * g + tid;
                        const float hl = sh_h[i], pc = sh_p[i];
                        sh_h[i] = carry;
                        carry = pc * carry + hl;
                    }
                }
                __syncthreads();
                /* Pass 3: rescan from the carried state, emit y. */
                hh = sh_h[tid];
                for (size_t j = 0; j < cl; j++) {
                    const size_t t = t0 + j;
                    const bool step = t < L;
                    const size_t p = step ? scan_position(k, t, a.h, a.w) : 0;
                    float v = 0.0f;
                    if (step && on) {
                        const size_t bp = p * a.ld_bc + s;
                        const float dt = delta[p * ldd + kd];
                        hh = decay(dt * an) * hh + dt * u[p * Di + d] * bk[bp];
                        v = hh * bk[bp + N];
                    }
                    for (int off = nl / 2; off > 0; off >>= 1) v += __shfl_down_sync(0xffffffffu, v, off, nl);
                    if (sl == 0 && step && chan) {
                        if (s0 == 0) v += dk * u[p * Di + d];
                        if (k == 0 && s0 == 0) y[p * Di + d] = v;
                        else y[p * Di + d] += v;
                    }
                }
                __syncthreads(); /* y and the shared arrays are reused next */
            }
        }
    }
}

extern "C" cudaError_t oiqa_cu_ss2d_scan(const oiqa_cu_scan_args *a, cudaStream_t stream)
{
    if (!a || a->n < 0 || a->h < 0 || a->w < 0 || a->d_inner < 0 || a->d_state < 0) return cudaErrorInvalidValue;
    if (a->n == 0 || a->h == 0 || a->w == 0 || a->d_inner == 0 || a->d_state == 0) return cudaSuccess;
    const int N = a->d_state;
    if (a->b_off < 0 || a->per_route < a->b_off + 2 * N || a->ld_bc < 4 * (size_t)a->per_route)
        return cudaErrorInvalidValue;
    int nl = 1;
    while (nl < N && nl < 32) nl *= 2;
    /* Small N: 8 channels side by side (u, delta reads of 32 bytes), the
     * rest of the block as chunks; otherwise one channel's states per warp
     * segment. Either way 8..32 chunks. */
    const int cb = nl >= 8 ? 1 : 8 / nl;
    const size_t groups = ((size_t)a->d_inner + cb - 1) / cb, tasks = (size_t)a->n * groups;
    const unsigned grid = (unsigned)(tasks < MAX_BLOCKS ? tasks : MAX_BLOCKS);
    ss2d_scan_kernel<<<grid, SCAN_THREADS, 0, stream>>>(*a, nl, cb, groups);
    return cudaGetLastError();
}
