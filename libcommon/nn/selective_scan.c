/* Selective scan (selective_scan.h). The cost is L * channels * N
 * exponentials; libm's expf does not vectorise without -ffast-math, so the
 * exponentials are nn/vmath.h's oiqa_vexp_neg, which the compiler turns into
 * vector code. Its arguments are <= 0 here (delta > 0, A < 0). */
#include "nn/selective_scan.h"

#include <math.h>
#include <omp.h>
#include <string.h>

#include "base/error.h"
#include "nn/tensor.h"
#include "nn/vmath.h"

enum { BLOCK = 16 }; /* channels per task: 4 SSE / 2 AVX vectors per state row */

/* softplus(x) = max(x, 0) + log1p(exp(-|x|)), and log1p(e) for e in (0, 1]
 * as 2 atanh(s), s = e / (2 + e) <= 1/3: the odd series to s^17 leaves a
 * relative error below 1e-9 and keeps full precision for tiny e. PyTorch
 * returns x itself above 20; here the log1p term is then below 2.1e-9, under
 * half an ulp of x, so the sum rounds to x exactly without a branch. */
static inline float scan_softplus(float x)
{
    float e = oiqa_vexp_neg(x);
    float s = e / (2.0f + e), s2 = s * s;
    float q = 1.0f / 17.0f;
    q = q * s2 + 1.0f / 15.0f;
    q = q * s2 + 1.0f / 13.0f;
    q = q * s2 + 1.0f / 11.0f;
    q = q * s2 + 1.0f / 9.0f;
    q = q * s2 + 1.0f / 7.0f;
    q = q * s2 + 1.0f / 5.0f;
    q = q * s2 + 1.0f / 3.0f;
    q = q * s2 + 1.0f;
    float pos = 0.5f * (x + fabsf(x)); /* max(x, 0), exact */
    return pos + 2.0f * s * q;
}

/* The build targets baseline x86-64 (SSE2); on x86-64 GCC also compiles an
 * AVX2+FMA copy of the hot loop and picks one at load time (ifunc), which
 * doubles the vector width of the exponentials. */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define SCAN_CLONES __attribute__((target_clones("avx2,fma", "default")))
#else
#define SCAN_CLONES
#endif

/* Channels [d0, d0 + nb) of one route. Scratch: state[N][BLOCK],
 * a_t[N][BLOCK] (A transposed so lanes are channels) and, when delta is
 * projected, w_t[R][BLOCK] (dt_weight transposed). */
SCAN_CLONES static void scan_block(const oiqa_scan_args *a, int d0, int nb, float *scratch)
{
    const int N = a->d_state, R = a->dt_weight ? a->dt_rank : 0;
    const size_t L = (size_t)a->h * a->w;
    float *state = scratch, *a_t = scratch + (size_t)N * BLOCK, *w_t = a_t + (size_t)N * BLOCK;
    float bias[BLOCK] = {0}, dskip[BLOCK] = {0};
    memset(scratch, 0, sizeof(float) * (2 * (size_t)N + R) * BLOCK); /* padding lanes stay 0 */
    for (int j = 0; j < nb; j++) {
        if (a->delta_bias) bias[j] = a->delta_bias[d0 + j];
        if (a->D) dskip[j] = a->D[d0 + j];
        for (int n = 0; n < N; n++) a_t[n * BLOCK + j] = a->A[(size_t)(d0 + j) * N + n];
        for (int r = 0; r < R; r++) w_t[r * BLOCK + j] = a->dt_weight[(size_t)(d0 + j) * R + r];
    }
    for (size_t t = 0; t < L; t++) {
        size_t p = oiqa_scan_position(a->route, t, a->h, a->w);
        const float *bp = a->B + p * a->ld_bc, *cp = a->C + p * a->ld_bc;
        float u[BLOCK] = {0}, dt[BLOCK] = {0}, du[BLOCK], y[BLOCK];
        /* A constant size lets the compiler inline the copies (most blocks are full). */
        if (nb == BLOCK) memcpy(u, a->u + p * a->ld_u + d0, sizeof u);
        else memcpy(u, a->u + p * a->ld_u + d0, sizeof(float) * nb);
        if (R) { /* delta = dt_weight @ dt_in[p], the dt projection fused into the scan */
            const float *dr = a->dt_in + p * a->ld_dt_in;
            for (int r = 0; r < R; r++) {
                const float v = dr[r], *wr = w_t + r * BLOCK;
#pragma omp simd
                for (int j = 0; j < BLOCK; j++) dt[j] += v * wr[j];
            }
        } else if (nb == BLOCK) {
            memcpy(dt, a->delta + p * a->ld_delta + d0, sizeof dt);
        } else {
            memcpy(dt, a->delta + p * a->ld_delta + d0, sizeof(float) * nb);
        }
#pragma omp simd
        for (int j = 0; j < BLOCK; j++) {
            dt[j] = scan_softplus(dt[j] + bias[j]);
            du[j] = dt[j] * u[j];
            y[j] = dskip[j] * u[j];
        }
        for (int n = 0; n < N; n++) {
            float *h = state + n * BLOCK;
            const float *an = a_t + n * BLOCK;
            float bn = bp[n], cn = cp[n];
#pragma omp simd
            for (int j = 0; j < BLOCK; j++) {
                h[j] = oiqa_vexp_neg(dt[j] * an[j]) * h[j] + du[j] * bn; /* dt > 0, A < 0 */
                y[j] += h[j] * cn;
            }
        }
        float *yp = a->y + p * a->ld_y + d0;
        if (a->accumulate && nb == BLOCK)
            for (int j = 0; j < BLOCK; j++) yp[j] += y[j];
        else if (a->accumulate)
            for (int j = 0; j < nb; j++) yp[j] += y[j];
        else if (nb == BLOCK)
            memcpy(yp, y, sizeof y);
        else
            memcpy(yp, y, sizeof(float) * nb);
    }
}

static int check_args(const oiqa_scan_args *a, int channels)
{
    if (a->h < 1 || a->w < 1 || a->channels < 1 || a->d_state < 1 || a->route < 0 || a->route > 3 ||
        a->channels != channels || (a->dt_weight && (a->dt_rank < 1 || !a->dt_in)) || (!a->dt_weight && !a->delta))
        return oiqa_fail(OIQA_EXIT_DATA, NULL,
                         "selective scan: bad arguments (%dx%d, %d channels, d_state %d, route %d, dt_rank %d)", a->h,
                         a->w, a->channels, a->d_state, a->route, a->dt_rank);
    return OIQA_OK;
}

int oiqa_selective_scan_routes(const oiqa_scan_args *routes, int n_routes)
{
    if (n_routes < 1) return oiqa_fail(OIQA_EXIT_DATA, NULL, "selective scan: no routes");
    int rc = OIQA_OK, R = 0, N = routes[0].d_state;
    for (int k = 0; k < n_routes && !rc; k++) {
        rc = check_args(&routes[k], routes[0].channels);
        if (routes[k].dt_weight && routes[k].dt_rank > R) R = routes[k].dt_rank;
        if (routes[k].d_state > N) N = routes[k].d_state;
    }
    if (rc) return rc;
    const int blocks = (routes[0].channels + BLOCK - 1) / BLOCK;
    const size_t per_task = (2 * (size_t)N + R) * BLOCK;
    const size_t work = (size_t)routes[0].h * routes[0].w * routes[0].channels * N * n_routes;
    const int threads = blocks > 1 && work >= (1u << 16) ? omp_get_max_threads() : 1;
    float *scratch = oiqa_nn_alloc(sizeof(float) * per_task * threads);
    if (!scratch) return oiqa_fail(OIQA_EXIT_DATA, NULL, "selective scan: out of memory");
    /* One task per channel block runs the routes in order, so routes that
     * accumulate into the same y never touch a channel at the same time. */
#pragma omp parallel for schedule(dynamic) num_threads(threads)
    for (int b = 0; b < blocks; b++) {
        int d0 = b * BLOCK, nb = routes[0].channels - d0 < BLOCK ? routes[0].channels - d0 : BLOCK;
        float *mine = scratch + per_task * omp_get_thread_num();
        for (int k = 0; k < n_routes; k++) scan_block(&routes[k], d0, nb, mine);
    }
    oiqa_nn_free(scratch);
    return OIQA_OK;
}

int oiqa_selective_scan(const oiqa_scan_args *a) { return oiqa_selective_scan_routes(a, 1); }
