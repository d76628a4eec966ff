/* The CPU kernels of libcommon/nn against the naive double-precision oracle
 * of nn/reference.c, on awkward shapes: 1x1 spatial inputs, odd sizes with
 * stride 2, padding 0/1/3, non-square maps, channel counts that are not a
 * multiple of any vector width, batches 1..3, the ResNet stem, every
 * epilogue, BatchNorm folding, -inf padding in max pooling, the statistics,
 * and the same results with 1 and 2 threads. Values are drawn from [-1, 1];
 * the error measure is DESIGN §6's max|d| / max|ref| per tensor. */
#include <omp.h>
#include <stdint.h>
#include <time.h>

#include "check.h"
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#include "test_data.h"
#include "base/error.h"
#include "base/threads.h"
#include "nn/batchnorm.h"
#include "nn/conv2d.h"
#include "nn/eltwise.h"
#include "nn/pool.h"
#include "nn/reference.h"
#include "nn/tensor.h"

#define REL_TOL 1e-5

static oiqa_tensor random_tensor(int n, int h, int w, int c)
{
    oiqa_tensor t;
    if (oiqa_tensor_create(&t, n, h, w, c) != OIQA_OK) abort();
    fill(t.data, oiqa_tensor_numel(&t), -1.0f, 1.0f);
    return t;
}

static oiqa_tensor new_tensor(int n, int h, int w, int c)
{
    oiqa_tensor t;
    if (oiqa_tensor_create(&t, n, h, w, c) != OIQA_OK) abort();
    fill(t.data, oiqa_tensor_numel(&t), 1e3f, 2e3f); /* garbage the kernel must overwrite */
    return t;
}

/* max|a - ref| / max|ref| (max|ref| floored at 1e-30); NaN anywhere -> inf. */
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

/* ---- tensor ------------------------------------------------------------- */

static void t_tensor_basics(void)
{
    oiqa_tensor t;
    CHECK(oiqa_tensor_create(&t, 3, 7, 12, 5) == OIQA_OK);
    CHECK(((uintptr_t)t.data & 63) == 0);
    CHECK(oiqa_tensor_numel(&t) == 3u * 7 * 12 * 5);
    CHECK(oiqa_tensor_index(&t, 2, 6, 11, 4) == oiqa_tensor_numel(&t) - 1);
    CHECK(oiqa_tensor_index(&t, 1, 0, 1, 0) == 7u * 12 * 5 + 5);
    oiqa_tensor_zero(&t);
    int zeros = 1;
    for (size_t i = 0; i < oiqa_tensor_numel(&t); i++) zeros &= t.data[i] == 0.0f;
    CHECK(zeros);
    oiqa_tensor u;
    CHECK(oiqa_tensor_create(&u, 3, 7, 12, 5) == OIQA_OK);
    CHECK(oiqa_tensor_same_shape(&t, &u));
    oiqa_tensor_free(&u);
    CHECK(u.data == NULL && u.n == 0);
    oiqa_tensor_free(&u); /* twice is harmless */
    CHECK(oiqa_tensor_create(&u, 1, 0, 4, 4) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "bad shape") != NULL);
    CHECK(u.data == NULL);
    oiqa_tensor_free(&t);
}

/* ---- convolution -------------------------------------------------------- */

typedef struct {
    int n, h, w, cin, cout, kh, kw, stride, pad;
} conv_shape;

/* The fast conv (weight converted from OIHW) against the oracle with one
 * epilogue; returns the relative error, or +inf when the call failed. */
static double conv_case(const conv_shape *s, int use_bias, int use_residual, int relu,
                        int residual_in_place)
{
    int oh = oiqa_conv2d_out_size(s->h, s->kh, s->stride, s->pad);
    int ow = oiqa_conv2d_out_size(s->w, s->kw, s->stride, s->pad);
    size_t wcount = (size_t)s->cout * s->cin * s->kh * s->kw;
    float *w_oihw = random_array(wcount), *w_hwio = malloc(wcount * sizeof(float));
    float *bias = use_bias ? random_array((size_t)s->cout) : NULL;
    oiqa_conv2d_weight_from_oihw(w_oihw, s->cout, s->cin, s->kh, s->kw, w_hwio);
    oiqa_tensor x = random_tensor(s->n, s->h, s->w, s->cin);
    oiqa_tensor res = random_tensor(s->n, oh, ow, s->cout);
    oiqa_tensor ref = new_tensor(s->n, oh, ow, s->cout);
    oiqa_tensor y = new_tensor(s->n, oh, ow, s->cout);
    oiqa_ref_conv2d(&x, w_oihw, bias, s->cout, s->kh, s->kw, s->stride, s->pad,
                    use_residual ? &res : NULL, relu, &ref);
    oiqa_conv2d cv = {s->kh, s->kw, s->cin, s->cout, s->stride, s->pad, w_hwio, bias, NULL};
    int rc;
    if (use_residual && residual_in_place) {
        memcpy(y.data, res.data, oiqa_tensor_numel(&y) * sizeof(float));
        rc = oiqa_conv2d_forward(&cv, &x, &y, relu, &y);
    } else {
        rc = oiqa_conv2d_forward(&cv, &x, use_residual ? &res : NULL, relu, &y);
    }
    double err = rc == OIQA_OK ? rel_err(y.data, ref.data, oiqa_tensor_numel(&y)) : INFINITY;
    oiqa_tensor_free(&x), oiqa_tensor_free(&res), oiqa_tensor_free(&ref), oiqa_tensor_free(&y);
    free(w_oihw), free(w_hwio), free(bias);
    return err;
}

static const conv_shape conv_shapes[] = {
    /* n  h   w  cin cout kh kw s  p */
    {1, 1, 1, 17, 5, 1, 1, 1, 0},   /* 1x1 spatial, 1x1 conv */
    {3, 1, 1, 3, 33, 3, 3, 1, 1},   /* 1x1 spatial, 3x3 pad 1: only the centre tap */
    {1, 1, 1, 5, 17, 3, 3, 2, 1},   /* 1x1 spatial, stride 2 */
    {3, 7, 12, 5, 17, 1, 1, 1, 0},  /* non-square, batch 3, 1x1 s1 (direct sgemm) */
    {1, 7, 12, 33, 17, 1, 1, 2, 0}, /* 1x1 s2 on odd sizes (gather) */
    {3, 9, 13, 17, 33, 1, 1, 2, 0},
    {1, 7, 12, 17, 5, 3, 3, 1, 1},  /* 3x3 s1 p1 */
    {3, 11, 9, 5, 33, 3, 3, 2, 1},  /* 3x3 s2 p1, odd sizes */
    {1, 6, 7, 3, 5, 3, 3, 1, 0},    /* pad 0 */
    {2, 23, 17, 3, 64, 7, 7, 2, 3}, /* the ResNet stem: 7x7 s2 p3, 3 -> 64 */
    {1, 5, 4, 3, 17, 7, 7, 2, 3},   /* stem window wider than the image */
    {1, 7, 12, 5, 17, 1, 3, 1, 1},  /* non-square kernel */
    {1, 5, 6, 3, 5, 2, 2, 1, 1},    /* even kernel */
    {2, 40, 36, 33, 17, 3, 3, 1, 1},/* many row blocks */
    {1, 20, 20, 300, 8, 3, 3, 1, 1},/* K = 2700: blocks capped by scratch size */
    {1, 64, 50, 33, 65, 1, 1, 1, 0},/* many direct blocks */
};
enum { N_CONV_SHAPES = sizeof conv_shapes / sizeof conv_shapes[0] };

static void t_conv_shapes_plain(void)
{
    for (int i = 0; i < N_CONV_SHAPES; i++) {
        double e = conv_case(&conv_shapes[i], 0, 0, 0, 0);
        CHECK_MSG(e <= REL_TOL, "shape %d: rel err %g", i, e);
    }
}

/* Every combination of bias, residual and ReLU on every shape. */
static void t_conv_epilogues(void)
{
    for (int i = 0; i < N_CONV_SHAPES; i++)
        for (int combo = 1; combo < 8; combo++) {
            double e = conv_case(&conv_shapes[i], combo & 1, (combo >> 1) & 1, (combo >> 2) & 1, 0);
            CHECK_MSG(e <= REL_TOL, "shape %d, bias %d residual %d relu %d: rel err %g", i,
                      combo & 1, (combo >> 1) & 1, (combo >> 2) & 1, e);
        }
}

/* Real ResNet-50 layer shapes at small M (layer4 at 224x224 is 7x7): the
 * path where OpenBLAS's threads split the columns. Bias + residual + ReLU. */
static void t_conv_resnet_shapes(void)
{
    static const conv_shape shapes[] = {
        {1, 7, 7, 512, 2048, 1, 1, 1, 0},  /* layer4 conv3 */
        {1, 14, 14, 1024, 2048, 1, 1, 2, 0}, /* layer4 downsample */
        {1, 14, 14, 512, 512, 3, 3, 2, 1}, /* layer4.0 conv2 (stride in the 3x3) */
    };
    for (int i = 0; i < 3; i++) {
        double e = conv_case(&shapes[i], 1, 1, 1, 0);
        CHECK_MSG(e <= REL_TOL, "shape %d: rel err %g", i, e);
    }
}

/* The residual may be y itself (the bottleneck adds its identity in place). */
static void t_conv_residual_in_place(void)
{
    for (int i = 0; i < N_CONV_SHAPES; i++)
        for (int relu = 0; relu < 2; relu++) {
            double e = conv_case(&conv_shapes[i], 1, 1, relu, 1);
            CHECK_MSG(e <= REL_TOL, "shape %d relu %d: rel err %g", i, relu, e);
        }
}

static void t_conv_weight_layout(void)
{
    /* cout 2, cin 3, kh 2, kw 3: oihw value = its own OIHW index. */
    float oihw[2 * 3 * 2 * 3], hwio[2 * 3 * 2 * 3];
    for (int i = 0; i < 36; i++) oihw[i] = (float)i;
    oiqa_conv2d_weight_from_oihw(oihw, 2, 3, 2, 3, hwio);
    for (int o = 0; o < 2; o++)
        for (int c = 0; c < 3; c++)
            for (int u = 0; u < 2; u++)
                for (int v = 0; v < 3; v++)
                    CHECK(hwio[((u * 3 + v) * 3 + c) * 2 + o] == (float)(((o * 3 + c) * 2 + u) * 3 + v));
}

static void t_conv_bad_shapes(void)
{
    float w[3 * 3 * 4 * 2] = {0};
    oiqa_conv2d cv = {3, 3, 4, 2, 2, 1, w, NULL, NULL};
    oiqa_tensor x = random_tensor(1, 7, 5, 4), y = new_tensor(1, 4, 3, 2), bad = new_tensor(1, 4, 4, 2);
    CHECK(oiqa_conv2d_out_size(7, 3, 2, 1) == 4 && oiqa_conv2d_out_size(5, 3, 2, 1) == 3);
    CHECK(oiqa_conv2d_out_size(2, 7, 1, 0) <= 0);
    CHECK(oiqa_conv2d_forward(&cv, &x, NULL, 0, &y) == OIQA_OK);
    CHECK(oiqa_conv2d_forward(&cv, &x, NULL, 0, &bad) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "conv2d") != NULL);
    CHECK(oiqa_conv2d_forward(&cv, &x, &bad, 0, &y) == OIQA_EXIT_DATA);
    cv.cin = 3;
    CHECK(oiqa_conv2d_forward(&cv, &x, NULL, 0, &y) == OIQA_EXIT_DATA);
    oiqa_tensor_free(&x), oiqa_tensor_free(&y), oiqa_tensor_free(&bad);
}

/* 1 and 2 threads: the blocks change, each output element's sum must not. */
static void t_conv_threads(void)
{
    static const conv_shape shapes[] = {
        {2, 40, 36, 33, 17, 3, 3, 1, 1},
        {1, 64, 50, 33, 65, 1, 1, 1, 0},
        {2, 23, 17, 3, 64, 7, 7, 2, 3},
    };
    int saved = oiqa_threads_get();
    for (int i = 0; i < 3; i++) {
        const conv_shape *s = &shapes[i];
        int oh = oiqa_conv2d_out_size(s->h, s->kh, s->stride, s->pad);
        int ow = oiqa_conv2d_out_size(s->w, s->kw, s->stride, s->pad);
        size_t wcount = (size_t)s->cout * s->cin * s->kh * s->kw;
        float *w = random_array(wcount), *bias = random_array((size_t)s->cout);
        oiqa_tensor x = random_tensor(s->n, s->h, s->w, s->cin), res = random_tensor(s->n, oh, ow, s->cout);
        oiqa_tensor y1 = new_tensor(s->n, oh, ow, s->cout), y2 = new_tensor(s->n, oh, ow, s->cout);
        oiqa_conv2d cv = {s->kh, s->kw, s->cin, s->cout, s->stride, s->pad, w, bias, NULL};
        oiqa_threads_set(1);
        CHECK(oiqa_conv2d_forward(&cv, &x, &res, 1, &y1) == OIQA_OK);
        oiqa_threads_set(2);
        CHECK(omp_get_max_threads() == 2);
        CHECK(oiqa_conv2d_forward(&cv, &x, &res, 1, &y2) == OIQA_OK);
        double e = rel_err(y2.data, y1.data, oiqa_tensor_numel(&y1));
        CHECK_MSG(e <= 1e-6, "shape %d: 1 vs 2 threads rel diff %g", i, e);
        oiqa_tensor_free(&x), oiqa_tensor_free(&res), oiqa_tensor_free(&y1), oiqa_tensor_free(&y2);
        free(w), free(bias);
    }
    oiqa_threads_set(saved);
}

/* ---- BatchNorm folding -------------------------------------------------- */

/* fold(conv) == BN(conv), with and without a conv bias. */
static void t_bn_fold(void)
{
    static const conv_shape shapes[] = {
        {1, 9, 13, 17, 33, 3, 3, 2, 1},
        {3, 7, 12, 33, 5, 1, 1, 1, 0},
        {1, 23, 17, 3, 64, 7, 7, 2, 3},
    };
    for (int i = 0; i < 3; i++)
        for (int with_bias = 0; with_bias < 2; with_bias++) {
            const conv_shape *s = &shapes[i];
            int oh = oiqa_conv2d_out_size(s->h, s->kh, s->stride, s->pad);
            int ow = oiqa_conv2d_out_size(s->w, s->kw, s->stride, s->pad);
            size_t wcount = (size_t)s->cout * s->cin * s->kh * s->kw;
            float *w_oihw = random_array(wcount), *w_hwio = malloc(wcount * sizeof(float));
            float *conv_bias = with_bias ? random_array((size_t)s->cout) : NULL;
            float *gamma = random_array((size_t)s->cout), *beta = random_array((size_t)s->cout);
            float *mean = random_array((size_t)s->cout), *var = malloc((size_t)s->cout * sizeof(float));
            float *folded_bias = malloc((size_t)s->cout * sizeof(float));
            fill(var, (size_t)s->cout, 0.05f, 2.0f);
            var[0] = 0.0f; /* eps alone keeps it finite */
            oiqa_tensor x = random_tensor(s->n, s->h, s->w, s->cin);
            oiqa_tensor ref = new_tensor(s->n, oh, ow, s->cout), y = new_tensor(s->n, oh, ow, s->cout);
            oiqa_ref_conv2d(&x, w_oihw, conv_bias, s->cout, s->kh, s->kw, s->stride, s->pad, NULL, 0, &ref);
            oiqa_ref_batchnorm(&ref, gamma, beta, mean, var, OIQA_BN_EPS);
            oiqa_conv2d_weight_from_oihw(w_oihw, s->cout, s->cin, s->kh, s->kw, w_hwio);
            oiqa_bn_fold(s->kh, s->kw, s->cin, s->cout, w_hwio, conv_bias, gamma, beta, mean, var,
                         OIQA_BN_EPS, folded_bias);
            oiqa_conv2d cv = {s->kh, s->kw, s->cin, s->cout, s->stride, s->pad, w_hwio, folded_bias, NULL};
            CHECK(oiqa_conv2d_forward(&cv, &x, NULL, 0, &y) == OIQA_OK);
            double e = rel_err(y.data, ref.data, oiqa_tensor_numel(&y));
            CHECK_MSG(e <= REL_TOL, "shape %d bias %d: rel err %g", i, with_bias, e);
            oiqa_tensor_free(&x), oiqa_tensor_free(&ref), oiqa_tensor_free(&y);
            free(w_oihw), free(w_hwio), free(conv_bias), free(gamma), free(beta), free(mean);
            free(var), free(folded_bias);
        }
}

/* ---- pooling and statistics --------------------------------------------- */

/* 3x3 s2 p1 (the stem's) and others on all-negative inputs: a padded -inf
 * must never win, and a 0 padding would. Max is exact: results must equal. */
static void t_maxpool(void)
{
    static const int shapes[][7] = {
        /* n  h   w  c  k  s  p */
        {1, 7, 12, 5, 3, 2, 1},
        {3, 9, 8, 17, 3, 2, 1},
        {1, 1, 1, 3, 3, 2, 1},
        {2, 56, 56, 64, 3, 2, 1},
        {1, 6, 7, 33, 2, 2, 0},
        {1, 5, 5, 3, 3, 1, 0},
        {1, 8, 9, 5, 7, 2, 3},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        int oh = oiqa_conv2d_out_size(s[1], s[4], s[5], s[6]);
        int ow = oiqa_conv2d_out_size(s[2], s[4], s[5], s[6]);
        oiqa_tensor x = new_tensor(s[0], s[1], s[2], s[3]);
        fill(x.data, oiqa_tensor_numel(&x), -1.0f, -0.01f);
        oiqa_tensor y = new_tensor(s[0], oh, ow, s[3]), ref = new_tensor(s[0], oh, ow, s[3]);
        CHECK(oiqa_maxpool2d(&x, s[4], s[5], s[6], &y) == OIQA_OK);
        oiqa_ref_maxpool2d(&x, s[4], s[5], s[6], &ref);
        int equal = 1, negative = 1;
        for (size_t k = 0; k < oiqa_tensor_numel(&y); k++) {
            equal &= y.data[k] == ref.data[k];
            negative &= y.data[k] < 0.0f && isfinite(y.data[k]);
        }
        CHECK_MSG(equal && negative, "shape %zu: equal %d, all finite negative %d", i, equal, negative);
        oiqa_tensor_free(&x), oiqa_tensor_free(&y), oiqa_tensor_free(&ref);
    }
    /* PyTorch: 112 -> 56 and 7 -> 4 with k 3 s 2 p 1 (floor). */
    CHECK(oiqa_conv2d_out_size(112, 3, 2, 1) == 56 && oiqa_conv2d_out_size(7, 3, 2, 1) == 4);
    oiqa_tensor x = random_tensor(1, 4, 4, 3), y = new_tensor(1, 3, 3, 3);
    CHECK(oiqa_maxpool2d(&x, 3, 2, 1, &y) == OIQA_EXIT_DATA); /* should be 2x2 */
    CHECK(oiqa_maxpool2d(&x, 3, 2, 2, &y) == OIQA_EXIT_DATA); /* pad > k/2 */
    oiqa_tensor_free(&x), oiqa_tensor_free(&y);
}

static void t_mean_std(void)
{
    static const int shapes[][4] = {
        {1, 7, 12, 5}, {3, 9, 8, 70}, {1, 1, 1, 3}, {2, 14, 14, 129}, {1, 1, 2, 33},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int *s = shapes[i];
        oiqa_tensor x = random_tensor(s[0], s[1], s[2], s[3]);
        size_t nc = (size_t)s[0] * s[3];
        /* An offset channel: the two-pass std must not cancel. */
        for (size_t p = 0; p < oiqa_tensor_numel(&x); p += (size_t)s[3]) x.data[p] += 1000.0f;
        for (int unbiased = 0; unbiased < 2; unbiased++) {
            float *mean = malloc(nc * sizeof(float)), *std = malloc(nc * sizeof(float));
            double *rmean = malloc(nc * sizeof(double)), *rstd = malloc(nc * sizeof(double));
            oiqa_channel_mean_std(&x, mean, std, unbiased);
            oiqa_ref_channel_mean_std(&x, rmean, rstd, unbiased);
            int ok = 1;
            for (size_t k = 0; k < nc; k++) {
                if (isnan(rstd[k])) ok &= isnan(std[k]) != 0; /* N = 1, unbiased: NaN as torch.std */
                else ok &= fabs(std[k] - rstd[k]) <= 1e-6 * (fabs(rstd[k]) + 1e-30) + 1e-12;
                ok &= fabs(mean[k] - rmean[k]) <= 1e-6 * fabs(rmean[k]) + 1e-7;
            }
            CHECK_MSG(ok, "shape %zu unbiased %d", i, unbiased);
            free(mean), free(std), free(rmean), free(rstd);
        }
        oiqa_tensor_free(&x);
    }
    /* Known values: 1, 2, 3, 4 -> mean 2.5, population std sqrt(1.25), unbiased sqrt(5/3). */
    oiqa_tensor t = new_tensor(1, 2, 2, 1);
    for (int k = 0; k < 4; k++) t.data[k] = (float)(k + 1);
    float m, sd;
    oiqa_channel_mean_std(&t, &m, &sd, 0);
    CHECK_NEAR(m, 2.5, 1e-7);
    CHECK_NEAR(sd, sqrt(1.25), 1e-6);
    oiqa_channel_mean_std(&t, &m, &sd, 1);
    CHECK_NEAR(sd, sqrt(5.0 / 3.0), 1e-6);
    oiqa_tensor_free(&t);
}

static void t_global_avgpool(void)
{
    oiqa_tensor x = random_tensor(3, 7, 7, 2048 / 16 + 3), y = new_tensor(3, 1, 1, 2048 / 16 + 3);
    double *rmean = malloc(3 * (size_t)x.c * sizeof(double)), *rstd = malloc(3 * (size_t)x.c * sizeof(double));
    CHECK(oiqa_global_avgpool(&x, &y) == OIQA_OK);
    oiqa_ref_channel_mean_std(&x, rmean, rstd, 0);
    int ok = 1;
    for (int k = 0; k < 3 * x.c; k++) ok &= fabs(y.data[k] - rmean[k]) <= 1e-6;
    CHECK(ok);
    oiqa_tensor bad = new_tensor(3, 1, 2, x.c);
    CHECK(oiqa_global_avgpool(&x, &bad) == OIQA_EXIT_DATA);
    oiqa_tensor_free(&x), oiqa_tensor_free(&y), oiqa_tensor_free(&bad);
    free(rmean), free(rstd);
}

/* ---- elementwise -------------------------------------------------------- */

static void t_eltwise(void)
{
    enum { N = 70000 + 3 }; /* above the parallel threshold, odd length */
    float *a = random_array(N), *b = random_array(N), *y = malloc(N * sizeof(float));
    oiqa_add(a, b, y, N);
    int ok = 1;
    for (int i = 0; i < N; i++) ok &= y[i] == a[i] + b[i];
    CHECK(ok);
    oiqa_relu_inplace(y, N);
    ok = 1;
    for (int i = 0; i < N; i++) ok &= y[i] == (a[i] + b[i] > 0.0f ? a[i] + b[i] : 0.0f);
    CHECK(ok);
    oiqa_add(a, b, a, 5); /* in place */
    CHECK(a[4] == y[4] || y[4] == 0.0f);
    free(a), free(b), free(y);
}

/* ---- speed (printed, not asserted) -------------------------------------- */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* layer1's 3x3 conv at 224x224 input: 1 x 56 x 56 x 64 -> 64, pad 1. */
static void t_conv_speed(void)
{
    const conv_shape s = {1, 56, 56, 64, 64, 3, 3, 1, 1};
    size_t wcount = (size_t)9 * 64 * 64;
    float *w = random_array(wcount), *bias = random_array(64);
    oiqa_tensor x = random_tensor(1, 56, 56, 64), res = random_tensor(1, 56, 56, 64), y = new_tensor(1, 56, 56, 64);
    oiqa_conv2d cv = {s.kh, s.kw, s.cin, s.cout, s.stride, s.pad, w, bias, NULL};
    CHECK(oiqa_conv2d_forward(&cv, &x, &res, 1, &y) == OIQA_OK); /* warm up */
    int reps = 5;
    double t0 = now_s();
    for (int r = 0; r < reps; r++) CHECK(oiqa_conv2d_forward(&cv, &x, &res, 1, &y) == OIQA_OK);
    double dt = (now_s() - t0) / reps;
    double flop = 2.0 * 56 * 56 * 64 * 9 * 64;
    printf("# conv 3x3 56x56x64->64 (+bias, residual, relu): %.3f ms, %.1f GFLOP/s, %d threads\n",
           dt * 1e3, flop / dt * 1e-9, omp_get_max_threads());
    oiqa_tensor_free(&x), oiqa_tensor_free(&res), oiqa_tensor_free(&y);
    free(w), free(bias);
}

int main(void)
{
    oiqa_threads_set(0);
    RUN(t_tensor_basics);
    RUN(t_conv_weight_layout);
    RUN(t_conv_shapes_plain);
    RUN(t_conv_epilogues);
    RUN(t_conv_residual_in_place);
    RUN(t_conv_resnet_shapes);
    RUN(t_conv_bad_shapes);
    RUN(t_conv_threads);
    RUN(t_bn_fold);
    RUN(t_maxpool);
    RUN(t_mean_std);
    RUN(t_global_avgpool);
    RUN(t_eltwise);
    RUN(t_conv_speed);
    return check_done();
}
