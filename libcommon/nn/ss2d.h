/* The core of VMamba's SS2D (Liu et al. 2024, "VMamba: Visual State Space
 * Model", the 2-D selective scan): given the conv-activated map x (h x w x Di,
 * channels last) of one image, for each route k < 4 (nn/selective_scan.h)
 *   x_dbl_k = x_proj_weight[k] @ x            (R + 2N values per position)
 *   dt_k    = dt_projs_weight[k] @ x_dbl_k[:R]   (Di values per position)
 *   B_k     = x_dbl_k[R : R+N],  C_k = x_dbl_k[R+N :]
 *   y      += scan_k(u = x, delta = dt_k, bias = dt_projs_bias[k], A[k], B_k, C_k, D = Ds[k])
 * y is the cross-merged output (the sum over the four routes), h x w x Di.
 * The projections do not depend on the route order, so they are computed
 * once per position in map order: one GEMM for all four x_proj_k; dt_k (R
 * multiply-adds per value) is computed inside the scan as it visits the
 * positions in route order, and the four routes run in one OpenMP region. */
#ifndef OIQA_NN_SS2D_H
#define OIQA_NN_SS2D_H

typedef struct {
    int d_inner, d_state, dt_rank; /* Di, N, R */
    const float *x_proj_weight;    /* [4][R + 2N][Di] */
    const float *dt_projs_weight;  /* [4][Di][R] */
    const float *dt_projs_bias;    /* [4][Di] */
    const float *A;                /* [4 Di][N] = -exp(A_logs) */
    const float *Ds;               /* [4 Di] */
} oiqa_ss2d_weights;

/* x, y: h*w x Di (one image, position-major); y must not overlap x.
 * Scratch: h*w*4(R+2N) floats, allocated here. Calls BLAS, then
 * OpenMP: run from serial code. Returns OIQA_OK, or OIQA_EXIT_DATA with the
 * message set on bad sizes or a failed allocation. */
int oiqa_ss2d_core(const oiqa_ss2d_weights *wt, const float *x, int h, int w, float *y);

#endif
