/* Pooling and per-channel statistics on NHWC tensors (nn/tensor.h). */
#ifndef OIQA_NN_POOL_H
#define OIQA_NN_POOL_H

#include "nn/tensor.h"

/* Max pooling, PyTorch's MaxPool2d(k, stride, pad) with ceil_mode = False:
 *   x: n x h x w x c  ->  y: n x oh x ow x c,
 *   oh = floor((h + 2 pad - k) / stride) + 1, ow alike (oiqa_conv2d_out_size)
 *   y[b,i,j,ch] = max over u, v < k of x[b, i*stride+u-pad, j*stride+v-pad, ch]
 * where positions outside the image count as -inf (they never win; with
 * pad <= k/2, as PyTorch requires, every window holds a real pixel). y must
 * have that shape. Returns OIQA_OK, or OIQA_EXIT_DATA with the message set on
 * bad parameters or shapes. */
int oiqa_maxpool2d(const oiqa_tensor *x, int k, int stride, int pad, oiqa_tensor *y);

/* Per-channel spatial mean and standard deviation over the h*w positions of
 * each image, the feature statistics of a stage:
 *   mean[b*c + ch] = (1/N) sum_p x[b,p,ch],  N = h*w
 *   std[b*c + ch]  = sqrt( sum_p (x[b,p,ch] - mean)^2 / (N - unbiased) )
 * unbiased = 1 is torch.std's default (Bessel, N - 1; NaN when N = 1, as
 * torch gives), unbiased = 0 the population std (N). Both passes add in
 * double. mean and std are n*c floats; std may be NULL. */
void oiqa_channel_mean_std(const oiqa_tensor *x, float *mean, float *std, int unbiased);

/* Global average pooling (AdaptiveAvgPool2d(1)): y[b,0,0,ch] = mean over the
 * h*w positions of x[b,.,.,ch]; y is n x 1 x 1 x c. Returns OIQA_OK, or
 * OIQA_EXIT_DATA with the message set when y has another shape. */
int oiqa_global_avgpool(const oiqa_tensor *x, oiqa_tensor *y);

/* Adaptive average pooling, PyTorch's AdaptiveAvgPool2d((oh, ow)) with the
 * output size taken from y (n and c as x's): output cell (i, j) averages
 * rows floor(i*h/oh) .. ceil((i+1)*h/oh) - 1 and the columns alike (windows
 * overlap when the sizes do not divide). Sums in float, in row-major order.
 * Returns OIQA_OK, or OIQA_EXIT_DATA with the message set on a bad y. */
int oiqa_adaptive_avgpool2d(const oiqa_tensor *x, oiqa_tensor *y);

#endif
