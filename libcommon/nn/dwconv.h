/* Depthwise 3x3 convolution, stride 1, zero padding 1, on NHWC tensors: the
 * nn.Conv2d(Di, Di, 3, padding=1, groups=Di) of VMamba's SS2D (Liu et al.
 * 2024), which mixes each channel with its own 3x3 neighbourhood:
 *   y[b,i,j,c] = bias[c] + sum_{u,v<3} x[b, i+u-1, j+v-1, c] * w[u][v][c]
 * with x = 0 outside the map. Weight layout [3][3][c] so that the innermost
 * loop runs over contiguous channels; oiqa_dwconv3x3_weight_from_torch
 * converts PyTorch's (c, 1, 3, 3). */
#ifndef OIQA_NN_DWCONV_H
#define OIQA_NN_DWCONV_H

#include "nn/tensor.h"

/* (c, 1, 3, 3) -> [3][3][c]; dst must not alias src. */
void oiqa_dwconv3x3_weight_from_torch(const float *w_c133, int c, float *w_33c);

/* y = dwconv(x) (+ bias, NULL for none). y must have x's shape and must not
 * alias it. Rows of the output are split over the OpenMP threads. Returns
 * OIQA_OK, or OIQA_EXIT_DATA with the message set when the shapes differ. */
int oiqa_dwconv3x3(const oiqa_tensor *x, const float *w_33c, const float *bias, oiqa_tensor *y);

#endif
