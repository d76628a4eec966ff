/* 3x3, stride 1, pad 1 convolution by Winograd minimal filtering F(4x4, 3x3)
 * (Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural Networks",
 * arXiv:1509.09308): each 4x4 output tile is
 *   Y = A^T [ U (.) V ] A,   U = G g G^T (6x6, per (cin, cout)),
 *                            V = B^T d B (6x6, per (tile, cin), d the 6x6
 *                                         input patch around the tile),
 * and summing over cin turns the elementwise product into 36 independent
 * matrix products, one per position p of the 6x6 grid:
 *   M_p (tiles x cout) = V_p (tiles x cin) * U_p (cin x cout).
 * 36 multiplies per 16 outputs instead of 9 * 16: 4x fewer flops in the
 * GEMMs, paid for by the transforms and a larger rounding error (the
 * transforms scale values by up to 8 and 1/24): up to about 1e-5 of max|y|
 * per conv on random data, against 1e-6 for im2col; ResNet-50's outputs
 * stay within 1e-6 of PyTorch's, far inside DESIGN §6's 1e-4.
 *
 * Shapes and epilogue are conv2d.h's; the weight transform U is computed once
 * (oiqa_conv2d_prepare in conv2d.h calls oiqa_winograd_weight) and
 * oiqa_conv2d_forward dispatches here. Layout of U: [36][cin][cout]. */
#ifndef OIQA_NN_WINOGRAD_H
#define OIQA_NN_WINOGRAD_H

#include <stddef.h>

#include "nn/conv2d.h"
#include "nn/tensor.h"

#define OIQA_WINOGRAD_POSITIONS 36 /* (4 + 3 - 1)^2 */

/* 1 when conv is one Winograd F(4x4, 3x3) computes: 3x3, stride 1, pad 1. */
int oiqa_winograd_fits(const oiqa_conv2d *conv);

/* Floats of U for cin -> cout: 36 * cin * cout. */
size_t oiqa_winograd_weight_floats(int cin, int cout);

/* U[p][c][o] = (G g_co G^T)[p] for the HWIO weight hwio [3][3][cin][cout]
 * (computed in double, rounded once). */
void oiqa_winograd_weight(const float *hwio, int cin, int cout, float *u);

/* y = act(conv(x) + bias + residual) with U = conv->winograd. Shapes must
 * already be checked (oiqa_conv2d_forward does); residual may alias y.
 * Threads as conv2d.h says. Returns OIQA_OK, or OIQA_EXIT_DATA when scratch
 * memory cannot be allocated. */
int oiqa_winograd_forward(const oiqa_conv2d *conv, const oiqa_tensor *x,
                          const oiqa_tensor *residual, int relu, oiqa_tensor *y);

#endif
