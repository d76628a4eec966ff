/* Threads: like nn/conv2d.c, the rows are cut into blocks run by an OpenMP
 * loop, each block one single-threaded sgemm. OpenBLAS is set to 1 thread
 * around every call here, small serial ones included, so its own pool is
 * never woken: a VMamba block alternates GEMMs with OpenMP kernels
 * (layernorm, scan), and OpenBLAS workers spin for a while after each
 * threaded call, fighting the OpenMP threads for the cores (measured: 2-4x
 * slower on 2 cores). Small problems run as one serial sgemm. */
#include "nn/linear.h"

#include <cblas.h>
#include <omp.h>

enum {
    MIN_BLOCK_ROWS = 32,        /* below this sgemm is mostly overhead */
    PARALLEL_MIN_MACS = 1 << 18 /* smaller products are not worth waking threads */
};

static void linear_rows(const float *x, size_t ldx, size_t rows, int cin, const float *weight, const float *bias,
                        int cout, float *y, size_t ldy, int accumulate)
{
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, cout, cin, 1.0f, x, (int)ldx, weight, cin,
                accumulate ? 1.0f : 0.0f, y, (int)ldy);
    if (!bias) return;
    for (size_t r = 0; r < rows; r++)
        for (int o = 0; o < cout; o++) y[r * ldy + o] += bias[o];
}

void oiqa_linear(const float *x, size_t ldx, size_t rows, int cin, const float *weight, const float *bias, int cout,
                 float *y, size_t ldy, int accumulate)
{
    if (!rows || cout <= 0) return;
    const int threads = omp_get_max_threads(), blas_threads = openblas_get_num_threads();
    const double macs = (double)rows * cin * cout;
    if (blas_threads != 1) openblas_set_num_threads(1);
    if (threads <= 1 || rows < 2 * MIN_BLOCK_ROWS || macs < PARALLEL_MIN_MACS) {
        linear_rows(x, ldx, rows, cin, weight, bias, cout, y, ldy, accumulate);
    } else {
        /* Two blocks per thread balance uneven progress; never below MIN_BLOCK_ROWS. */
        size_t block = (rows + 2 * (size_t)threads - 1) / (2 * (size_t)threads);
        if (block < MIN_BLOCK_ROWS) block = MIN_BLOCK_ROWS;
        const size_t blocks = (rows + block - 1) / block;
#pragma omp parallel for schedule(dynamic)
        for (size_t b = 0; b < blocks; b++) {
            size_t r0 = b * block, n = rows - r0 < block ? rows - r0 : block;
            linear_rows(x + r0 * ldx, ldx, n, cin, weight, bias, cout, y + r0 * ldy, ldy, accumulate);
        }
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
}
