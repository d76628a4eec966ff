/* 2-D convolution on NHWC tensors (nn/tensor.h), PyTorch's Conv2d forward
 * with groups = 1 and the same stride and zero padding on both axes:
 *
 *   x: n x h x w x cin        weight: [kh][kw][cin][cout] ("HWIO")
 *   y: n x oh x ow x cout     oh = floor((h + 2 pad - kh) / stride) + 1, ow alike
 *   y[b,i,j,o] = act( bias[o] + residual[b,i,j,o]
 *                     + sum_{u<kh, v<kw, c<cin} x[b, i*stride+u-pad, j*stride+v-pad, c]
 *                                                * weight[u][v][c][o] )
 * with x = 0 outside the image (cross-correlation, as PyTorch; no flip),
 * bias and residual optional and act = max(0, .) when relu is set. The fused
 * epilogue lets a conv with BatchNorm folded into it (nn/batchnorm.h), the
 * bottleneck's identity add and its ReLU cost one pass over y.
 *
 * Why HWIO: with NHWC input, the k x k window of one output pixel unrolled in
 * (u, v, c) order is one row of the im2col matrix, and the weight read as a
 * (kh*kw*cin) x cout row-major matrix is exactly its right-hand side, so the
 * convolution is y(M x cout) = cols(M x K) * W(K x cout), M = n*oh*ow,
 * K = kh*kw*cin, with no transposes; for 1x1 stride 1 cols is x itself.
 * oiqa_conv2d_weight_from_oihw converts PyTorch's [cout][cin][kh][kw]. */
#ifndef OIQA_NN_CONV2D_H
#define OIQA_NN_CONV2D_H

#include "nn/tensor.h"

typedef struct {
    int kh, kw;          /* kernel size */
    int cin, cout;       /* channels in and out */
    int stride, pad;     /* same on both axes; pad is zeros */
    const float *weight; /* [kh][kw][cin][cout], not owned */
    const float *bias;   /* [cout] or NULL, not owned */
    const float *winograd; /* NULL, or the transformed weight set by
                            * oiqa_conv2d_prepare (nn/winograd.h), not owned */
} oiqa_conv2d;

/* floor((in + 2 pad - k) / stride) + 1, PyTorch's output size; <= 0 when the
 * kernel does not fit. */
int oiqa_conv2d_out_size(int in, int k, int stride, int pad);

/* PyTorch's weight [cout][cin][kh][kw] -> [kh][kw][cin][cout] (dst must not
 * alias src). */
void oiqa_conv2d_weight_from_oihw(const float *oihw, int cout, int cin, int kh, int kw,
                                  float *hwio);

/* Precomputes what a faster algorithm needs from the weight, once, at model
 * load: for a 3x3, stride 1, pad 1 conv the Winograd F(4x4, 3x3) transform
 * of the weight (nn/winograd.h, 4x fewer multiplies; 4x the weight's
 * memory). Sets conv->winograd and *prepared to a new buffer the caller owns
 * and releases with oiqa_nn_free after the last forward; for other convs
 * sets *prepared = NULL and changes nothing. Call again after changing
 * conv->weight. Returns OIQA_OK, or OIQA_EXIT_DATA when out of memory. */
int oiqa_conv2d_prepare(oiqa_conv2d *conv, float **prepared);

/* y = act(conv(x) + bias + residual) as above. y must already have the shape
 * n x oh x ow x cout, and residual (NULL for none) the same shape as y; y must
 * not alias x (it may alias residual). Returns OIQA_OK, or OIQA_EXIT_DATA
 * with the message set on mismatched shapes or when scratch memory cannot be
 * allocated.
 *
 * Threads: the rows of y (the M dimension) are cut into blocks run by an
 * OpenMP loop (omp_get_max_threads() threads), each block one single-threaded
 * cblas_sgemm. OpenBLAS's own thread count is set to 1 from serial code
 * before the loop and restored after it, so the two pools never run at once
 * (no oversubscription; oiqa_threads_set sets both to the same n). When M is
 * too small to give every thread a block, the blocks run serially and each
 * sgemm uses OpenBLAS's threads instead. Blocks also bound the im2col scratch
 * to about 2 MB per thread (CONV_SCRATCH_BYTES in conv2d.c).
 *
 * A prepared 3x3 stride-1 pad-1 conv (conv->winograd set) runs as Winograd
 * F(4x4, 3x3) instead: same threading rule, blocks of 4x4 output tiles, a few
 * MB of scratch per thread (nn/winograd.c); it rounds more than the im2col
 * path (up to about 1e-5 of max|y| on random data). Debugging switch: the
 * environment variable OIQA_NO_WINOGRAD=1 (read at each call) forces the
 * im2col path, e.g. to compare speed or rounding.
 *
 * Because it sets OpenBLAS's (process-wide) thread count, call it from serial
 * code, not from inside an OpenMP parallel region or from several threads at
 * once; run images one after another and let the conv use the threads. */
int oiqa_conv2d_forward(const oiqa_conv2d *conv, const oiqa_tensor *x,
                        const oiqa_tensor *residual, int relu, oiqa_tensor *y);

#endif
