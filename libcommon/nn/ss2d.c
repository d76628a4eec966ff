#include "nn/ss2d.h"

#include "base/error.h"
#include "nn/linear.h"
#include "nn/selective_scan.h"
#include "nn/tensor.h"

int oiqa_ss2d_core(const oiqa_ss2d_weights *wt, const float *x, int h, int w, float *y)
{
    const int Di = wt->d_inner, N = wt->d_state, R = wt->dt_rank, per_route = R + 2 * N;
    if (h < 1 || w < 1 || Di < 1 || N < 1 || R < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "ss2d: bad sizes %dx%d, Di %d, N %d, R %d", h, w, Di, N, R);
    const size_t L = (size_t)h * w, ld_dbl = (size_t)4 * per_route;
    float *x_dbl = oiqa_nn_alloc(sizeof(float) * L * ld_dbl);
    if (!x_dbl) return oiqa_fail(OIQA_EXIT_DATA, NULL, "ss2d: out of memory for %zu positions", L);
    /* x_proj of all four routes at once: [4 (R+2N)][Di] is one (out, in) matrix. */
    oiqa_linear(x, Di, L, Di, wt->x_proj_weight, NULL, 4 * per_route, x_dbl, ld_dbl, 0);
    oiqa_scan_args routes[4];
    for (int k = 0; k < 4; k++) {
        const float *dbl = x_dbl + (size_t)k * per_route;
        routes[k] = (oiqa_scan_args){
            .h = h, .w = w, .route = k, .channels = Di, .d_state = N,
            .u = x, .ld_u = Di,
            .dt_in = dbl, .ld_dt_in = ld_dbl, .dt_weight = wt->dt_projs_weight + (size_t)k * Di * R, .dt_rank = R,
            .delta_bias = wt->dt_projs_bias + (size_t)k * Di,
            .A = wt->A + (size_t)k * Di * N,
            .B = dbl + R, .C = dbl + R + N, .ld_bc = ld_dbl,
            .D = wt->Ds + (size_t)k * Di,
            .y = y, .ld_y = Di, .accumulate = k > 0,
        };
    }
    int rc = oiqa_selective_scan_routes(routes, 4);
    oiqa_nn_free(x_dbl);
    return rc;
}
