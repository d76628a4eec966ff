/* Winograd F(4x4, 3x3) (nn/winograd.h), reached through a prepared conv
 * (oiqa_conv2d_prepare + oiqa_conv2d_forward), against the naive
 * double-precision oracle of nn/reference.c on awkward shapes: 1x1, 2x2 and
 * odd maps (tiles overhanging the edge), non-square, channels 3, 5, 17, 33,
 * batches 1..3, every epilogue, the residual in place, ResNet-50's shapes;
 * the same results with 1 and 2 threads in both block modes; the dispatch
 * rules and OIQA_NO_WINOGRAD. Values are drawn from [-1, 1]; the error is
 * DESIGN §6's max|d| / max|ref| per tensor. */
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "check.h"
#define TEST_RNG_SEED 0x2545f4914f6cdd1dull
#include "test_data.h"
#include "base/error.h"
#include "base/threads.h"
#include "nn/conv2d.h"
#include "nn/reference.h"
#include "nn/tensor.h"
#include "nn/winograd.h"

/* F(4x4, 3x3) rounds more than a direct sum (its transforms scale values by
 * up to 8 and 1/24): about 1e-5 on random data with 256 channels, against
 * 1e-6 for im2col; whole networks stay far inside DESIGN §6's 1e-4. */
#define REL_TOL 3e-5

static oiqa_tensor tensor(int n, int h, int w, int c, float lo, float hi)
{
    oiqa_tensor t;
    if (oiqa_tensor_create(&t, n, h, w, c) != OIQA_OK) abort();
    fill(t.data, oiqa_tensor_numel(&t), lo, hi);
    return t;
}

static double rel_err(const float *a, const float *ref, size_t n)
{
    double dmax = 0.0, rmax = 1e-30;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        if (isnan(d)) return INFINITY;
        if (d > dmax) dmax = d;
        if (fabs(ref[i]) > rmax) rmax = fabs(ref[i]);
    }
    return dmax / rmax;
}

typedef struct {
    int n, h, w, cin, cout;
} wshape;

/* A random 3x3 pad-1 conv with its OIHW weight (for the oracle), HWIO weight
 * and prepared Winograd weight. */
typedef struct {
    oiqa_conv2d cv;
    float *oihw, *hwio, *bias, *prepared;
} wconv;

static wconv wconv_new(int cin, int cout, int use_bias)
{
    wconv c = {0};
    size_t wn = (size_t)9 * cin * cout;
    c.oihw = random_array(wn);
    c.hwio = malloc(wn * sizeof(float));
    c.bias = use_bias ? random_array((size_t)cout) : NULL;
    oiqa_conv2d_weight_from_oihw(c.oihw, cout, cin, 3, 3, c.hwio);
    c.cv = (oiqa_conv2d){3, 3, cin, cout, 1, 1, c.hwio, c.bias, NULL};
    if (oiqa_conv2d_prepare(&c.cv, &c.prepared) != OIQA_OK || !c.prepared) abort();
    return c;
}

static void wconv_free(wconv *c)
{
    free(c->oihw), free(c->hwio), free(c->bias), oiqa_nn_free(c->prepared);
}

/* Winograd against the oracle with one epilogue; +inf when the call fails. */
static double wino_case(const wshape *s, int use_bias, int use_residual, int relu, int in_place)
{
    wconv c = wconv_new(s->cin, s->cout, use_bias);
    oiqa_tensor x = tensor(s->n, s->h, s->w, s->cin, -1, 1);
    oiqa_tensor res = tensor(s->n, s->h, s->w, s->cout, -1, 1);
    oiqa_tensor ref = tensor(s->n, s->h, s->w, s->cout, 1e3f, 2e3f);
    oiqa_tensor y = tensor(s->n, s->h, s->w, s->cout, 1e3f, 2e3f); /* garbage to overwrite */
    oiqa_ref_conv2d(&x, c.oihw, c.bias, s->cout, 3, 3, 1, 1, use_residual ? &res : NULL, relu, &ref);
    int rc;
    if (use_residual && in_place) {
        memcpy(y.data, res.data, oiqa_tensor_numel(&y) * sizeof(float));
        rc = oiqa_conv2d_forward(&c.cv, &x, &y, relu, &y);
    } else {
        rc = oiqa_conv2d_forward(&c.cv, &x, use_residual ? &res : NULL, relu, &y);
    }
    double err = rc == OIQA_OK ? rel_err(y.data, ref.data, oiqa_tensor_numel(&y)) : INFINITY;
    oiqa_tensor_free(&x), oiqa_tensor_free(&res), oiqa_tensor_free(&ref), oiqa_tensor_free(&y);
    wconv_free(&c);
    return err;
}

static const wshape shapes[] = {
    /* n  h   w  cin cout */
    {1, 1, 1, 3, 5},     /* 1x1 map: one tile, only the centre tap */
    {3, 1, 1, 17, 3},
    {1, 2, 2, 5, 17},    /* 2x2 map */
    {2, 2, 3, 3, 5},
    {1, 4, 4, 17, 17},   /* exactly one tile */
    {1, 5, 5, 3, 33},    /* one pixel past a tile */
    {3, 7, 12, 5, 17},   /* non-square, batch 3 */
    {1, 13, 9, 33, 5},   /* odd, overhang on both axes */
    {2, 11, 6, 16, 16},  /* channels exactly one transform step */
    {1, 9, 17, 40, 24},  /* channels one step + a partial one */
    {2, 30, 26, 17, 33}, /* many tiles: several blocks */
};
enum { N_SHAPES = sizeof shapes / sizeof shapes[0] };

static void t_shapes_plain(void)
{
    double worst = 0;
    for (int i = 0; i < N_SHAPES; i++) {
        double e = wino_case(&shapes[i], 0, 0, 0, 0);
        worst = e > worst ? e : worst;
        CHECK_MSG(e <= REL_TOL, "shape %d: rel err %g", i, e);
    }
    printf("# worst rel err %.3g\n", worst);
}

/* Every combination of bias, residual and ReLU, and the residual in place. */
static void t_epilogues(void)
{
    for (int i = 0; i < N_SHAPES; i++) {
        for (int combo = 1; combo < 8; combo++) {
            double e = wino_case(&shapes[i], combo & 1, (combo >> 1) & 1, (combo >> 2) & 1, 0);
            CHECK_MSG(e <= REL_TOL, "shape %d, bias %d residual %d relu %d: rel err %g", i,
                      combo & 1, (combo >> 1) & 1, (combo >> 2) & 1, e);
        }
        for (int relu = 0; relu < 2; relu++) {
            double e = wino_case(&shapes[i], 1, 1, relu, 1);
            CHECK_MSG(e <= REL_TOL, "shape %d in place, relu %d: rel err %g", i, relu, e);
        }
    }
}

/* ResNet-50's 3x3 stride-1 convs (layer1..layer4 at 224x224 and an ERP-sized
 * layer4), bias + residual + ReLU; last, 1280 tiles of 32 channels: more
 * private blocks than threads (512 tiles at most per block). */
static void t_resnet_shapes(void)
{
    static const wshape rs[] = {
        {1, 56, 56, 64, 64}, {1, 28, 28, 128, 128}, {2, 14, 14, 256, 256},
        {1, 7, 7, 512, 512}, {1, 8, 16, 512, 512}, {5, 64, 64, 32, 32},
    };
    double worst = 0;
    for (int i = 0; i < 6; i++) {
        double e = wino_case(&rs[i], 1, 1, 1, 0);
        worst = e > worst ? e : worst;
        CHECK_MSG(e <= REL_TOL, "shape %d: rel err %g", i, e);
    }
    printf("# worst rel err %.3g\n", worst);
}

/* The weight transform on a delta: g = 1 at tap (a, b) makes U_p the outer
 * product of G's columns a and b. */
static void t_weight_transform(void)
{
    static const double G[6][3] = {
        {0.25, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
        {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1},
    };
    float hwio[9], u[36];
    for (int tap = 0; tap < 9; tap++) {
        memset(hwio, 0, sizeof hwio);
        hwio[tap] = 1.0f;
        oiqa_winograd_weight(hwio, 1, 1, u);
        for (int p = 0; p < 36; p++)
            CHECK_NEAR(u[p], G[p / 6][tap / 3] * G[p % 6][tap % 3], 1e-7);
    }
    CHECK(oiqa_winograd_weight_floats(3, 5) == 36u * 15);
}

/* Only 3x3 stride-1 pad-1 convs are prepared; OIQA_NO_WINOGRAD=1 gives the
 * im2col result exactly. */
static void t_dispatch(void)
{
    float w[9 * 4 * 2] = {0}, *prep = (float *)1;
    oiqa_conv2d s2 = {3, 3, 4, 2, 2, 1, w, NULL, NULL}, p0 = {3, 3, 4, 2, 1, 0, w, NULL, NULL};
    oiqa_conv2d k1 = {1, 1, 4, 2, 1, 0, w, NULL, NULL};
    CHECK(oiqa_conv2d_prepare(&s2, &prep) == OIQA_OK && !prep && !s2.winograd);
    prep = (float *)1;
    CHECK(oiqa_conv2d_prepare(&p0, &prep) == OIQA_OK && !prep && !p0.winograd);
    prep = (float *)1;
    CHECK(oiqa_conv2d_prepare(&k1, &prep) == OIQA_OK && !prep && !k1.winograd);

    const wshape s = {2, 13, 11, 17, 33};
    wconv c = wconv_new(s.cin, s.cout, 1);
    CHECK(c.cv.winograd == c.prepared);
    oiqa_conv2d plain = c.cv;
    plain.winograd = NULL;
    oiqa_tensor x = tensor(s.n, s.h, s.w, s.cin, -1, 1);
    oiqa_tensor a = tensor(s.n, s.h, s.w, s.cout, 0, 1), b = tensor(s.n, s.h, s.w, s.cout, 0, 1);
    oiqa_tensor wy = tensor(s.n, s.h, s.w, s.cout, 0, 1);
    CHECK(oiqa_conv2d_forward(&plain, &x, NULL, 1, &a) == OIQA_OK);
    setenv("OIQA_NO_WINOGRAD", "1", 1);
    CHECK(oiqa_conv2d_forward(&c.cv, &x, NULL, 1, &b) == OIQA_OK);
    unsetenv("OIQA_NO_WINOGRAD");
    CHECK(memcmp(a.data, b.data, oiqa_tensor_numel(&a) * sizeof(float)) == 0);
    CHECK(oiqa_conv2d_forward(&c.cv, &x, NULL, 1, &wy) == OIQA_OK);
    double e = rel_err(wy.data, a.data, oiqa_tensor_numel(&a));
    CHECK_MSG(e > 0 && e <= REL_TOL, "winograd vs im2col rel diff %g (0 means not dispatched)", e);
    oiqa_tensor_free(&x), oiqa_tensor_free(&a), oiqa_tensor_free(&b), oiqa_tensor_free(&wy);
    wconv_free(&c);
}

/* 1 vs 2 threads: private blocks, shared blocks (too few tiles for every
 * thread to have a block). The tiles of a block change, each output's
 * arithmetic must not. */
static void t_threads(void)
{
    static const wshape ts[] = {
        {2, 40, 36, 33, 17},   /* private blocks */
        {1, 14, 14, 256, 256}, /* shared: 16 tiles */
        {1, 7, 7, 48, 40},     /* shared: 4 tiles */
    };
    int saved = oiqa_threads_get();
    for (int i = 0; i < 3; i++) {
        const wshape *s = &ts[i];
        wconv c = wconv_new(s->cin, s->cout, 1);
        oiqa_tensor x = tensor(s->n, s->h, s->w, s->cin, -1, 1), res = tensor(s->n, s->h, s->w, s->cout, -1, 1);
        oiqa_tensor y1 = tensor(s->n, s->h, s->w, s->cout, 0, 1), y2 = tensor(s->n, s->h, s->w, s->cout, 0, 1);
        oiqa_threads_set(1);
        CHECK(oiqa_conv2d_forward(&c.cv, &x, &res, 1, &y1) == OIQA_OK);
        oiqa_threads_set(2);
        CHECK(oiqa_conv2d_forward(&c.cv, &x, &res, 1, &y2) == OIQA_OK);
        double e = rel_err(y2.data, y1.data, oiqa_tensor_numel(&y1));
        CHECK_MSG(e <= 1e-6, "shape %d: 1 vs 2 threads rel diff %g", i, e);
        oiqa_tensor_free(&x), oiqa_tensor_free(&res), oiqa_tensor_free(&y1), oiqa_tensor_free(&y2);
        wconv_free(&c);
    }
    oiqa_threads_set(saved);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ResNet-50's 3x3 stride-1 convs at batch 4 of 224x224, Winograd against
 * im2col, interleaved (printed, not asserted). */
static void t_speed(void)
{
    static const wshape ss[] = {
        {4, 56, 56, 64, 64}, {4, 28, 28, 128, 128}, {4, 14, 14, 256, 256}, {4, 7, 7, 512, 512},
    };
    for (int i = 0; i < 4; i++) {
        const wshape *s = &ss[i];
        wconv c = wconv_new(s->cin, s->cout, 1);
        oiqa_conv2d plain = c.cv;
        plain.winograd = NULL;
        oiqa_tensor x = tensor(s->n, s->h, s->w, s->cin, -1, 1), y = tensor(s->n, s->h, s->w, s->cout, 0, 1);
        double best[2] = {1e30, 1e30};
        for (int r = 0; r < 6; r++) {
            const oiqa_conv2d *cv = r % 2 ? &plain : &c.cv;
            double t0 = now_s();
            CHECK(oiqa_conv2d_forward(cv, &x, &y, 1, &y) == OIQA_OK);
            double dt = now_s() - t0;
            if (dt < best[r % 2]) best[r % 2] = dt;
        }
        printf("# %dx%dx%dx%d -> %d: winograd %.2f ms, im2col %.2f ms (x%.2f), %d threads\n", s->n, s->h,
               s->w, s->cin, s->cout, best[0] * 1e3, best[1] * 1e3, best[1] / best[0],
               omp_get_max_threads());
        oiqa_tensor_free(&x), oiqa_tensor_free(&y);
        wconv_free(&c);
    }
}

int main(void)
{
    oiqa_threads_set(0);
    RUN(t_weight_transform);
    RUN(t_shapes_plain);
    RUN(t_epilogues);
    RUN(t_resnet_shapes);
    RUN(t_dispatch);
    RUN(t_threads);
    RUN(t_speed);
    return check_done();
}
