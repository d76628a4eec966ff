/* Elementwise kernels on float arrays (a tensor's data, oiqa_tensor_numel
 * elements). The convolution fuses these into its epilogue (conv2d.h); these
 * are for the places where nothing precedes them. */
#ifndef OIQA_NN_ELTWISE_H
#define OIQA_NN_ELTWISE_H

#include <stddef.h>

/* x[i] = max(x[i], 0), i < n. */
void oiqa_relu_inplace(float *x, size_t n);

/* y[i] = a[i] + b[i], i < n; y may alias a or b. */
void oiqa_add(const float *a, const float *b, float *y, size_t n);

#endif
