/* The selective scan of Mamba (Gu & Dao 2023, "Mamba: Linear-Time Sequence
 * Modeling with Selective State Spaces") along the four cross-scan routes of
 * VMamba's SS2D (Liu et al. 2024, "VMamba: Visual State Space Model").
 *
 * Routes over an h x w map (L = h*w positions p = i*w + j), step t -> p:
 *   0 row-major        p = t
 *   1 column-major     p = (t % h) * w + t / h      (t = j*h + i)
 *   2 row-major, reversed    route 0 of step L-1-t
 *   3 column-major, reversed route 1 of step L-1-t
 * Instead of copying the map into four sequences (the "cross scan") and
 * adding the four outputs back into the map (the "cross merge"), the scan
 * walks the map in route order and reads/writes each position in place, so
 * every array stays position-major with its channels contiguous.
 *
 * Recurrence, per channel d of the route (state h of d_state values, h_0 = 0):
 *   delta_t = softplus(delta[p, d] + delta_bias[d])
 *   h_t[n]  = exp(delta_t * A[d][n]) * h_{t-1}[n] + delta_t * B[p, n] * u[p, d]
 *   y[p, d] = sum_n h_t[n] * C[p, n] + D[d] * u[p, d]
 * (softplus always on, as SS2D calls it). The channels are independent: they
 * are cut into blocks of 16 run by OpenMP threads, and inside a block the
 * update of the 16 channels for one n is one vector loop. No BLAS here. */
#ifndef OIQA_NN_SELECTIVE_SCAN_H
#define OIQA_NN_SELECTIVE_SCAN_H

#include <stddef.h>

enum { OIQA_SCAN_ROW = 0, OIQA_SCAN_COL = 1, OIQA_SCAN_ROW_REV = 2, OIQA_SCAN_COL_REV = 3 };

/* Position of step t of route `route` on an h x w map (see above). */
static inline size_t oiqa_scan_position(int route, size_t t, int h, int w)
{
    size_t L = (size_t)h * w;
    if (route >= 2) t = L - 1 - t;
    if (route & 1) return (t % (size_t)h) * (size_t)w + t / (size_t)h;
    return t;
}

typedef struct {
    int h, w;          /* the map; L = h*w steps */
    int route;         /* OIQA_SCAN_* */
    int channels;      /* channels d of this route */
    int d_state;       /* N */
    const float *u;          size_t ld_u;     /* u[p*ld_u + d] */
    const float *delta;      size_t ld_delta; /* delta[p*ld_delta + d], before bias and softplus */
    /* Or, when dt_weight is set, delta is projected at each step from the
     * dt_rank values dt_in[p*ld_dt_in + r]: delta[p, d] = sum_r
     * dt_weight[d][r] * dt_in[p, r] (SS2D's dt_projs, fused into the scan so
     * no Di-wide delta map is stored); delta is then unused. */
    const float *dt_in;      size_t ld_dt_in;
    const float *dt_weight;  /* [channels][dt_rank] or NULL */
    int dt_rank;
    const float *delta_bias; /* [channels] or NULL */
    const float *A;          /* [channels][N], -exp(A_log): must be <= 0 (exp(delta*A) is
                              * computed as exp(-|delta*A|), clamped at e^-87) */
    const float *B, *C;      size_t ld_bc;    /* B[p*ld_bc + n], C[p*ld_bc + n] */
    const float *D;          /* [channels] or NULL */
    float *y;                size_t ld_y;     /* y[p*ld_y + d] */
    int accumulate;          /* 1: y += result (the cross merge), 0: y = result */
} oiqa_scan_args;

/* Runs the recurrence above for every channel. y must not overlap the
 * inputs. Returns OIQA_OK, or OIQA_EXIT_DATA with the message set on bad
 * sizes. Call from serial code (it opens an OpenMP region). */
int oiqa_selective_scan(const oiqa_scan_args *a);

/* Several routes over the same channels in one OpenMP region (SS2D's four):
 * each task takes a block of channels through routes[0], routes[1], ... in
 * order, so later routes may accumulate into the y of earlier ones. All must
 * have the same channel count. */
int oiqa_selective_scan_routes(const oiqa_scan_args *routes, int n_routes);

#endif
