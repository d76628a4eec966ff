/* The VMamba kernels of libcommon/nn (layernorm, linear, dwconv,
 * activation, selective_scan, ss2d) against naive double-precision
 * references written out here from their formulas, on awkward shapes: 1x1
 * maps, 1 x n and n x 1 maps, non-square maps, channel counts that are not a
 * multiple of any vector width (1, 3, 13, 17, 37), d_state 1 and 16, strided
 * inputs, accumulation, and 1 vs 2 threads. The SS2D reference copies the
 * map into the four cross-scanned sequences, scans each, and merges, as the
 * paper describes it (Liu et al. 2024), so it also checks the in-place route
 * walk. Error measure: max|d| / max|ref| per tensor (DESIGN §6). */
#include <omp.h>
#include <stdint.h>

#include "base/error.h"
#include "check.h"
#include "nn/activation.h"
#include "nn/dwconv.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/selective_scan.h"
#include "nn/ss2d.h"
#include "nn/vmath.h"
#include "nn/tensor.h"

#define REL_TOL 1e-5

static uint64_t rng_state = 0x2545f4914f6cdd1dull;
static double rnd(void) /* [0, 1) */
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static float *random_array(size_t n, float lo, float hi)
{
    float *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)rnd();
    return p;
}

/* max|a - ref| / max|ref|; NaN -> inf. */
static double rel_err(const float *a, const double *ref, size_t n)
{
    double diff = 0, peak = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (d != d) return INFINITY;
        diff = fmax(diff, d);
        peak = fmax(peak, fabs(ref[i]));
    }
    return diff / peak;
}

static double worst; /* the largest error of the running case, printed in its PASS line */
static void expect_close(const char *what, const float *a, const double *ref, size_t n)
{
    double e = rel_err(a, ref, n);
    worst = fmax(worst, e);
    CHECK_MSG(e <= REL_TOL, "%s: relative error %.3e > %g", what, e, REL_TOL);
}
static void report(void) { printf("  max relative error %.3e\n", worst), worst = 0; }

/* ---------------------------------------------------------------- references */

static void ref_layernorm(const float *x, double *y, size_t rows, int c, const float *g, const float *b)
{
    for (size_t r = 0; r < rows; r++) {
        double m = 0, v = 0;
        for (int k = 0; k < c; k++) m += x[r * c + k];
        m /= c;
        for (int k = 0; k < c; k++) v += (x[r * c + k] - m) * (x[r * c + k] - m);
        v /= c;
        for (int k = 0; k < c; k++) y[r * c + k] = (x[r * c + k] - m) / sqrt(v + 1e-5) * g[k] + (b ? b[k] : 0);
    }
}

static double ref_softplus(double x) { return x > 20 ? x : log1p(exp(x)); }

/* One route's scan of a sequence (channel-major u, delta: [d][t]; B, C: [n][t]). */
static void ref_scan(const float *u, const float *delta, const float *A, const float *B, const float *C,
                     const float *D, const float *bias, int dch, int N, size_t L, double *y)
{
    double *h = calloc((size_t)N, sizeof *h);
    for (int d = 0; d < dch; d++) {
        for (int n = 0; n < N; n++) h[n] = 0;
        for (size_t t = 0; t < L; t++) {
            double dt = ref_softplus((double)delta[d * L + t] + (bias ? bias[d] : 0)), acc = 0;
            for (int n = 0; n < N; n++) {
                h[n] = exp(dt * A[d * N + n]) * h[n] + dt * B[n * L + t] * u[d * L + t];
                acc += h[n] * C[n * L + t];
            }
            y[d * L + t] = acc + (D ? D[d] * (double)u[d * L + t] : 0);
        }
    }
    free(h);
}

/* ---------------------------------------------------------------- cases */

static void t_activations(void)
{
    const size_t n = 1001;
    float *x = random_array(n, -30.0f, 30.0f), *s = malloc(n * sizeof *s), *g = malloc(n * sizeof *g);
    double *rs = malloc(n * sizeof *rs), *rg = malloc(n * sizeof *rg), *rp = malloc(n * sizeof *rp);
    float *p = malloc(n * sizeof *p);
    x[0] = 0, x[1] = 20.0f, x[2] = 20.5f, x[3] = -100.0f, x[4] = 100.0f;
    memcpy(s, x, n * sizeof *s);
    memcpy(g, x, n * sizeof *g);
    oiqa_silu_inplace(s, n);
    oiqa_gelu_inplace(g, n);
    for (size_t i = 0; i < n; i++) {
        rs[i] = x[i] / (1 + exp(-(double)x[i]));
        rg[i] = 0.5 * x[i] * (1 + erf(x[i] / sqrt(2.0)));
        rp[i] = ref_softplus(x[i]);
        p[i] = oiqa_softplus(x[i]);
    }
    expect_close("silu", s, rs, n);
    expect_close("gelu", g, rg, n);
    expect_close("softplus", p, rp, n);
    CHECK(oiqa_softplus(20.5f) == 20.5f && oiqa_softplus(-20.0f) > 0.0f && oiqa_softplus(-120.0f) == 0.0f);
    float a[5] = {1, 2, 3, 4, 5}, b[5] = {2, 2, 2, 2, -1};
    oiqa_mul(a, b, a, 5);
    CHECK(a[0] == 2 && a[4] == -5);
    free(x), free(s), free(g), free(p), free(rs), free(rg), free(rp);
    report();
}

/* The vectorisable exp and erf (nn/vmath.h) on a dense grid, and GELU
 * built on them, against double precision: GELU within 1.5e-7 max(1, |x|)
 * (libm's erff in float: 1.1e-7), erf within 1.5e-7, exp(-|x|) within 2.5e-7
 * relative (and flushed to ~1e-38 past 87). */
static void t_vmath(void)
{
    double erf_err = 0, gelu_err = 0, exp_err = 0;
    enum { N = 400001 };
    float *g = malloc(N * sizeof *g);
    for (int i = 0; i < N; i++) g[i] = -12.0f + 24.0f * (float)i / (N - 1);
    float *x = malloc(N * sizeof *x);
    memcpy(x, g, N * sizeof *x);
    oiqa_gelu_inplace(g, N);
    for (int i = 0; i < N; i++) {
        double xd = x[i], scale = fabs(xd) > 1 ? fabs(xd) : 1;
        erf_err = fmax(erf_err, fabs((double)oiqa_verf(x[i]) - erf(xd)));
        gelu_err = fmax(gelu_err, fabs(g[i] - 0.5 * xd * (1 + erf(xd / sqrt(2.0)))) / scale);
        float arg = x[i] * 8.0f; /* to -96 */
        double e = exp(-fabs((double)arg));
        if (fabsf(arg) <= 87.0f) exp_err = fmax(exp_err, fabs((double)oiqa_vexp_neg(arg) - e) / e);
        else CHECK(oiqa_vexp_neg(arg) <= 1.7e-38f && oiqa_vexp_neg(arg) > 0.0f);
    }
    printf("  erf abs %.3e, gelu %.3e (x max(1,|x|)), exp rel %.3e\n", erf_err, gelu_err, exp_err);
    CHECK(erf_err <= 1.5e-7);
    CHECK(gelu_err <= 1.5e-7);
    CHECK(exp_err <= 2.5e-7);
    CHECK(oiqa_verf(0.0f) == 0.0f && oiqa_verf(-30.0f) == -1.0f && oiqa_verf(1e-20f) > 0.0f);
    free(g), free(x);
}

static void t_layernorm(void)
{
    static const int shapes[][2] = {{1, 1}, {1, 3}, {7, 13}, {5, 96}, {33, 37}, {200, 1000}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t rows = (size_t)shapes[k][0];
        int c = shapes[k][1];
        float *x = random_array(rows * c, -3.0f, 5.0f), *g = random_array(c, 0.5f, 1.5f), *b = random_array(c, -1, 1);
        float *y = malloc(rows * c * sizeof *y);
        double *r = malloc(rows * c * sizeof *r);
        ref_layernorm(x, r, rows, c, g, b);
        oiqa_layernorm(x, y, rows, c, g, b, OIQA_LN_EPS);
        if (c > 1) expect_close("layernorm", y, r, rows * c);
        oiqa_layernorm(x, x, rows, c, g, NULL, OIQA_LN_EPS); /* in place, no beta */
        for (size_t i = 0; i < rows * c; i++) r[i] -= b[i % c];
        if (c > 1) expect_close("layernorm in place", x, r, rows * c);
        if (c == 1) CHECK(fabsf(y[0] - b[0]) < 1e-6f); /* one channel: (x - mean) = 0 */
        free(x), free(g), free(b), free(y), free(r);
    }
    report();
}

static void t_linear(void)
{
    static const int shapes[][3] = {{1, 1, 1}, {3, 5, 7}, {17, 13, 3}, {64, 96, 192}, {1, 37, 10}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const size_t rows = (size_t)shapes[k][0];
        const int cin = shapes[k][1], cout = shapes[k][2], ldx = cin + 3, ldy = cout + 2;
        float *x = random_array(rows * ldx, -1, 1), *w = random_array((size_t)cout * cin, -1, 1);
        float *b = random_array(cout, -1, 1), *y = random_array(rows * ldy, -1, 1);
        double *r = malloc(rows * cout * sizeof *r);
        float *got = malloc(rows * cout * sizeof *got);
        for (int acc = 0; acc < 2; acc++) {
            for (size_t i = 0; i < rows; i++)
                for (int o = 0; o < cout; o++) {
                    double s = b[o] + (acc ? y[i * ldy + o] : 0);
                    for (int c = 0; c < cin; c++) s += (double)x[i * ldx + c] * w[(size_t)o * cin + c];
                    r[i * cout + o] = s;
                }
            float pad = y[ldy - 1];
            oiqa_linear(x, ldx, rows, cin, w, b, cout, y, ldy, acc);
            for (size_t i = 0; i < rows; i++) memcpy(got + i * cout, y + i * ldy, cout * sizeof *got);
            expect_close(acc ? "linear accumulate" : "linear", got, r, rows * cout);
            CHECK(y[ldy - 1] == pad); /* the stride gap is left alone */
        }
        free(x), free(w), free(b), free(y), free(r), free(got);
    }
    report();
}

static void t_dwconv(void)
{
    static const int shapes[][4] = {{1, 1, 1, 1}, {1, 1, 5, 3}, {2, 6, 1, 17}, {1, 8, 16, 13}, {2, 7, 11, 40}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        const int n = shapes[k][0], h = shapes[k][1], w = shapes[k][2], c = shapes[k][3];
        oiqa_tensor x = {0}, y = {0};
        if (oiqa_tensor_create(&x, n, h, w, c) || oiqa_tensor_create(&y, n, h, w, c)) abort();
        float *src = random_array(oiqa_tensor_numel(&x), -1, 1);
        memcpy(x.data, src, oiqa_tensor_numel(&x) * sizeof(float));
        float *wt = random_array((size_t)c * 9, -1, 1), *w33 = malloc((size_t)c * 9 * sizeof(float));
        float *b = random_array(c, -1, 1);
        oiqa_dwconv3x3_weight_from_torch(wt, c, w33);
        double *r = malloc(oiqa_tensor_numel(&x) * sizeof *r);
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            for (int bi = 0; bi < n; bi++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                        for (int ch = 0; ch < c; ch++) {
                            double s = with_bias ? b[ch] : 0;
                            for (int u = 0; u < 3; u++)
                                for (int v = 0; v < 3; v++) {
                                    int yi = i + u - 1, xj = j + v - 1;
                                    if (yi < 0 || yi >= h || xj < 0 || xj >= w) continue;
                                    s += (double)x.data[oiqa_tensor_index(&x, bi, yi, xj, ch)] * wt[ch * 9 + u * 3 + v];
                                }
                            r[oiqa_tensor_index(&x, bi, i, j, ch)] = s;
                        }
            CHECK(oiqa_dwconv3x3(&x, w33, with_bias ? b : NULL, &y) == OIQA_OK);
            expect_close("dwconv3x3", y.data, r, oiqa_tensor_numel(&y));
        }
        oiqa_tensor bad = {0};
        if (oiqa_tensor_create(&bad, n, h, w, c + 1)) abort();
        CHECK(oiqa_dwconv3x3(&x, w33, NULL, &bad) == OIQA_EXIT_DATA);
        oiqa_tensor_free(&bad);
        oiqa_tensor_free(&x), oiqa_tensor_free(&y);
        free(src), free(wt), free(w33), free(b), free(r);
    }
    report();
}

static void t_scan_positions(void)
{
    /* 2 x 3 map: p = i*3 + j. Column-major visits (0,0) (1,0) (0,1) (1,1) (0,2) (1,2). */
    static const size_t col[6] = {0, 3, 1, 4, 2, 5};
    for (size_t t = 0; t < 6; t++) {
        CHECK(oiqa_scan_position(OIQA_SCAN_ROW, t, 2, 3) == t);
        CHECK(oiqa_scan_position(OIQA_SCAN_COL, t, 2, 3) == col[t]);
        CHECK(oiqa_scan_position(OIQA_SCAN_ROW_REV, t, 2, 3) == 5 - t);
        CHECK(oiqa_scan_position(OIQA_SCAN_COL_REV, t, 2, 3) == col[5 - t]);
    }
}

/* The scan of one route on an h x w map with channels dch, state N, against
 * ref_scan on the explicitly cross-scanned sequence. */
static void check_scan(int h, int w, int dch, int N, int route, int with_extras, float delta_lo, float delta_hi)
{
    const size_t L = (size_t)h * w;
    const int ld = dch + 1, ld_bc = 2 * N + 1;
    float *u = random_array(L * ld, -2, 2), *delta = random_array(L * ld, delta_lo, delta_hi);
    float *A = random_array((size_t)dch * N, -4, -0.05f), *bc = random_array(L * ld_bc, -1.5, 1.5);
    float *D = random_array(dch, 0.5, 1.5), *bias = random_array(dch, -2, 1);
    float *y = random_array(L * ld, -1, 1), *y0 = malloc(L * ld * sizeof *y0);
    memcpy(y0, y, L * ld * sizeof *y0);
    /* sequences in route order */
    float *us = calloc(L * dch, 4), *ds = calloc(L * dch, 4), *bs = calloc(L * N, 4), *cs = calloc(L * N, 4);
    for (size_t t = 0; t < L; t++) {
        size_t p = oiqa_scan_position(route, t, h, w);
        for (int d = 0; d < dch; d++) us[d * L + t] = u[p * ld + d], ds[d * L + t] = delta[p * ld + d];
        for (int n = 0; n < N; n++) bs[n * L + t] = bc[p * ld_bc + n], cs[n * L + t] = bc[p * ld_bc + N + n];
    }
    double *rs = malloc(L * dch * sizeof *rs), *r = malloc(L * dch * sizeof *r);
    ref_scan(us, ds, A, bs, cs, with_extras ? D : NULL, with_extras ? bias : NULL, dch, N, L, rs);
    for (size_t t = 0; t < L; t++) {
        size_t p = oiqa_scan_position(route, t, h, w);
        for (int d = 0; d < dch; d++) r[p * dch + d] = rs[d * L + t] + (with_extras ? y0[p * ld + d] : 0);
    }
    oiqa_scan_args a = {
        .h = h, .w = w, .route = route, .channels = dch, .d_state = N, .u = u, .ld_u = ld,
        .delta = delta, .ld_delta = ld, .delta_bias = with_extras ? bias : NULL, .A = A,
        .B = bc, .C = bc + N, .ld_bc = ld_bc, .D = with_extras ? D : NULL, .y = y, .ld_y = ld,
        .accumulate = with_extras,
    };
    CHECK(oiqa_selective_scan(&a) == OIQA_OK);
    float *got = calloc(L * dch, sizeof *got);
    for (size_t p = 0; p < L; p++) memcpy(got + p * dch, y + p * ld, dch * sizeof *got);
    expect_close("selective scan", got, r, L * dch);
    for (size_t p = 0; p < L; p++) CHECK(y[p * ld + dch] == y0[p * ld + dch]);
    free(u), free(delta), free(A), free(bc), free(D), free(bias), free(y), free(y0);
    free(us), free(ds), free(bs), free(cs), free(rs), free(r), free(got);
}

static void t_selective_scan(void)
{
    static const int shapes[][4] = {{1, 1, 1, 1},  {1, 7, 3, 16},  {5, 1, 17, 1},
                                    {4, 6, 13, 4}, {3, 5, 37, 16}, {6, 9, 16, 2}}; /* h, w, channels, N */
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        for (int route = 0; route < 4; route++)
            check_scan(shapes[k][0], shapes[k][1], shapes[k][2], shapes[k][3], route, (int)(k + route) % 2, -3, 2);
    /* the whole softplus range, past its threshold of 20 */
    check_scan(4, 5, 19, 3, OIQA_SCAN_COL_REV, 1, -30, 30);
    /* very negative delta*A and large delta (softplus threshold) stay finite */
    float u[2] = {1, 1}, dl[2] = {30, 30}, A[1] = {-50}, bc[2] = {1, 1}, y[2];
    oiqa_scan_args a = {.h = 1, .w = 2, .route = 0, .channels = 1, .d_state = 1, .u = u, .ld_u = 1, .delta = dl,
                        .ld_delta = 1, .A = A, .B = bc, .C = bc + 1, .ld_bc = 0, .y = y, .ld_y = 1};
    CHECK(oiqa_selective_scan(&a) == OIQA_OK);
    CHECK(fabsf(y[0] - 30.0f) < 1e-5f && fabsf(y[1] - 30.0f) < 1e-5f);
    a.d_state = 0;
    CHECK(oiqa_selective_scan(&a) == OIQA_EXIT_DATA);
    report();
}

/* SS2D core against: x_dbl = W_k x, dt = W_dt dts_r, four explicit scans, merge. */
static void check_ss2d(int h, int w, int Di, int N, int R)
{
    const size_t L = (size_t)h * w;
    const int pr = R + 2 * N;
    float *x = random_array(L * Di, -1.5, 1.5), *xw = random_array((size_t)4 * pr * Di, -0.4f, 0.4f);
    float *dtw = random_array((size_t)4 * Di * R, -0.6f, 0.6f), *dtb = random_array((size_t)4 * Di, -2, 0);
    float *A = random_array((size_t)4 * Di * N, -3, -0.1f), *Ds = random_array((size_t)4 * Di, 0.5, 1.5);
    double *r = calloc(L * Di, sizeof *r), *ys = malloc(L * Di * sizeof *ys);
    float *us = calloc(L * Di, 4), *ds = calloc(L * Di, 4), *bs = calloc(L * N, 4), *cs = calloc(L * N, 4);
    for (int k = 0; k < 4; k++) {
        for (size_t t = 0; t < L; t++) {
            size_t p = oiqa_scan_position(k, t, h, w);
            double dbl[64];
            for (int c = 0; c < pr; c++) {
                double s = 0;
                for (int d = 0; d < Di; d++) s += (double)xw[((size_t)k * pr + c) * Di + d] * x[p * Di + d];
                dbl[c] = s;
            }
            for (int d = 0; d < Di; d++) {
                double s = 0;
                for (int q = 0; q < R; q++) s += (double)dtw[((size_t)k * Di + d) * R + q] * dbl[q];
                ds[d * L + t] = (float)s;
                us[d * L + t] = x[p * Di + d];
            }
            for (int n = 0; n < N; n++) bs[n * L + t] = (float)dbl[R + n], cs[n * L + t] = (float)dbl[R + N + n];
        }
        ref_scan(us, ds, A + (size_t)k * Di * N, bs, cs, Ds + (size_t)k * Di, dtb + (size_t)k * Di, Di, N, L, ys);
        for (size_t t = 0; t < L; t++) {
            size_t p = oiqa_scan_position(k, t, h, w);
            for (int d = 0; d < Di; d++) r[p * Di + d] += ys[d * L + t];
        }
    }
    oiqa_ss2d_weights wt = {Di, N, R, xw, dtw, dtb, A, Ds};
    float *y = malloc(L * Di * sizeof *y);
    CHECK(oiqa_ss2d_core(&wt, x, h, w, y) == OIQA_OK);
    expect_close("ss2d core", y, r, L * Di);
    free(x), free(xw), free(dtw), free(dtb), free(A), free(Ds), free(r), free(ys);
    free(us), free(ds), free(bs), free(cs), free(y);
}

static void t_ss2d_core(void)
{
    check_ss2d(1, 1, 3, 1, 1);
    check_ss2d(3, 5, 17, 16, 2);
    check_ss2d(8, 4, 24, 1, 3);
    check_ss2d(1, 9, 13, 4, 1);
    report();
}

/* The same results with 1 and 2 threads (channels split over threads; the
 * GEMMs' row blocks may round differently, so not bit for bit). */
static void t_threads_agree(void)
{
    const int h = 16, w = 24, Di = 40, N = 16, R = 3, pr = R + 2 * N;
    const size_t L = (size_t)h * w;
    float *x = random_array(L * Di, -1.5, 1.5), *xw = random_array((size_t)4 * pr * Di, -0.4f, 0.4f);
    float *dtw = random_array((size_t)4 * Di * R, -0.6f, 0.6f), *dtb = random_array((size_t)4 * Di, -2, 0);
    float *A = random_array((size_t)4 * Di * N, -3, -0.1f), *Ds = random_array((size_t)4 * Di, 0.5, 1.5);
    float *y1 = malloc(L * Di * 4), *y2 = malloc(L * Di * 4);
    oiqa_ss2d_weights wt = {Di, N, R, xw, dtw, dtb, A, Ds};
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    CHECK(oiqa_ss2d_core(&wt, x, h, w, y1) == OIQA_OK);
    omp_set_num_threads(2);
    CHECK(oiqa_ss2d_core(&wt, x, h, w, y2) == OIQA_OK);
    omp_set_num_threads(saved);
    double *r1 = malloc(L * Di * sizeof *r1);
    for (size_t i = 0; i < L * Di; i++) r1[i] = y1[i];
    expect_close("ss2d 1 vs 2 threads", y2, r1, L * Di);
    free(r1);
    report();
    free(x), free(xw), free(dtw), free(dtb), free(A), free(Ds), free(y1), free(y2);
}

int main(void)
{
    RUN(t_activations);
    RUN(t_vmath);
    RUN(t_layernorm);
    RUN(t_linear);
    RUN(t_dwconv);
    RUN(t_scan_positions);
    RUN(t_selective_scan);
    RUN(t_ss2d_core);
    RUN(t_threads_agree);
    return check_done();
}
