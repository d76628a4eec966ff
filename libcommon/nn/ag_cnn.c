/* The convolutional-network ops of the autograd tape (nn/ag.h): 2-D
 * convolution (strided, padded, grouped), batch normalisation with batch or
 * running statistics, and max pooling, on NHWC values, with PyTorch's
 * definitions so checkpoints and gradients carry over (torch.nn.Conv2d,
 * BatchNorm2d, MaxPool2d).
 *
 * A convolution is one GEMM per image and group over the image's columns
 * (im2col, Chellapilla et al. 2006): Y = col(X) W, dW = col(X)^T dY, and
 * d col = dY W^T gathered back onto dX. The columns are rebuilt in the
 * backward pass rather than kept, so a step holds one image's columns at a
 * time. Ungrouped convs run their forward through the inference kernels
 * (nn/conv2d.h), so 3x3 stride-1 pad-1 ones use Winograd F(4x4, 3x3)
 * (nn/winograd.h, 4x fewer multiplies), and so does their dX, itself such a
 * conv: dX = conv(dY, W'), W'[u][v][o][c] = W[2-u][2-v][c][o] (the kernel
 * turned 180 degrees, in and out swapped). OIQA_NO_WINOGRAD=1 turns both
 * off. GEMMs go through OpenBLAS: call from serial code. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ag_internal.h"
#include "nn/ag_kernels.h"
#include "nn/conv2d.h"
#include "nn/winograd.h"

/* ---- conv2d -------------------------------------------------------------- */

typedef struct {
    int B, H, W, C, OH, OW, O, kh, kw, stride, pad, groups, Cg, Og, K;
} conv_geom;

static conv_geom geom_of(const ag_node *x, const ag_node *w, int stride, int pad, int groups)
{
    conv_geom g = {.B = x->shape[0], .H = x->shape[1], .W = x->shape[2], .C = x->shape[3], .O = w->shape[0],
                   .kh = w->shape[2], .kw = w->shape[3], .stride = stride, .pad = pad, .groups = groups};
    g.Cg = g.C / groups, g.Og = g.O / groups, g.K = g.kh * g.kw * g.Cg;
    g.OH = (g.H + 2 * pad - g.kh) / stride + 1, g.OW = (g.W + 2 * pad - g.kw) / stride + 1;
    return g;
}

/* The 1x1 stride-1 unpadded ungrouped case: the image itself is its columns. */
static int pointwise(const conv_geom *g)
{
    return g->kh == 1 && g->kw == 1 && g->stride == 1 && g->pad == 0 && g->groups == 1;
}

/* The K column entries of output position (i, j) of image b, group q. */
static void im2col_position(const conv_geom *g, const float *x, int b, int i, int j, int q, float *dst)
{
    for (int u = 0; u < g->kh; u++) {
        int y = i * g->stride + u - g->pad;
        for (int v = 0; v < g->kw; v++, dst += g->Cg) {
            int xx = j * g->stride + v - g->pad;
            if (y < 0 || y >= g->H || xx < 0 || xx >= g->W) memset(dst, 0, (size_t)g->Cg * sizeof(float));
            else memcpy(dst, x + (((size_t)b * g->H + y) * g->W + xx) * g->C + (size_t)q * g->Cg,
                        (size_t)g->Cg * sizeof(float));
        }
    }
}

/* Columns of images b0 .. b0 + nb - 1, group q:
 * col[((b - b0)*OH*OW + i*OW + j)*K + (u*kw + v)*Cg + c]. */
static void im2col(const conv_geom *g, const float *x, int b0, int nb, int q, float *col)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = b0; b < b0 + nb; b++)
        for (int i = 0; i < g->OH; i++)
        for (int j = 0; j < g->OW; j++)
            im2col_position(g, x, b, i, j, q, col + (((size_t)(b - b0) * g->OH + i) * g->OW + j) * g->K);
}

/* Columns of the output positions [m0, m1) of image b, group q:
 * col[(m - m0)*K + (u*kw + v)*Cg + c] (one thread). */
static void im2col_rows(const conv_geom *g, const float *x, int b, size_t m0, size_t m1, int q, float *col)
{
    for (size_t m = m0; m < m1; m++)
        im2col_position(g, x, b, (int)(m / (size_t)g->OW), (int)(m % (size_t)g->OW), q, col + (m - m0) * g->K);
}

/* dX of image b, group q += the columns' gradient of positions [m0, m1),
 * scattered in position order (one thread per image: no races). */
static void col2im_rows_add(const conv_geom *g, const float *dcol, int b, size_t m0, size_t m1, int q, float *dx)
{
    for (size_t m = m0; m < m1; m++) {
        int i = (int)(m / (size_t)g->OW), j = (int)(m % (size_t)g->OW);
        const float *src = dcol + (m - m0) * g->K;
        for (int u = 0; u < g->kh; u++) {
            int y = i * g->stride + u - g->pad;
            for (int v = 0; v < g->kw; v++, src += g->Cg) {
                int xx = j * g->stride + v - g->pad;
                if (y < 0 || y >= g->H || xx < 0 || xx >= g->W) continue;
                ag_k_accumulate(dx + (((size_t)b * g->H + y) * g->W + xx) * g->C + (size_t)q * g->Cg, src,
                                (size_t)g->Cg);
            }
        }
    }
}

/* Output positions per block of the backward's columns: about 1 Mi floats,
 * so a worker's scratch stays a few MB at any image size. */
static size_t block_rows(const conv_geom *g)
{
    size_t r = ((size_t)1 << 20) / (size_t)g->K;
    return r < 64 ? 64 : r;
}

/* Images per GEMM of the grouped forward: as many as keep the columns within
 * 64 Mi floats (one GEMM over a chunk of images instead of one per image). */
static int chunk_images(const conv_geom *g)
{
    size_t per = (size_t)g->OH * g->OW * g->K, cap = (size_t)64 << 20;
    size_t n = per ? cap / per : (size_t)g->B;
    return n < 1 ? 1 : n > (size_t)g->B ? g->B : (int)n;
}

/* OIHW [O, Cg, kh, kw] -> per group [K, Og] with K in (u, v, c) order. */
static void pack_weight(const conv_geom *g, const float *w, float *wp)
{
#pragma omp parallel for collapse(2) schedule(static) if ((size_t)g->groups * g->Og * g->K > 32768)
    for (int q = 0; q < g->groups; q++)
        for (int o = 0; o < g->Og; o++)
            for (int c = 0; c < g->Cg; c++)
                for (int u = 0; u < g->kh; u++)
                    for (int v = 0; v < g->kw; v++)
                        wp[(size_t)q * g->K * g->Og + (((size_t)u * g->kw + v) * g->Cg + c) * g->Og + o] =
                            w[((((size_t)q * g->Og + o) * g->Cg + c) * g->kh + u) * g->kw + v];
}

/* The Winograd path of an ungrouped 3x3 stride-1 pad-1 conv (see the top). */
static int winograd_conv(const conv_geom *g)
{
    const char *off = getenv("OIQA_NO_WINOGRAD");
    return g->groups == 1 && g->kh == 3 && g->kw == 3 && g->stride == 1 && g->pad == 1 && !(off && *off && *off != '0');
}

/* y (+)= conv(x) with the HWIO weight hwio [kh][kw][cin][cout] through
 * nn/conv2d.h, Winograd when wino (the weight transformed into pool
 * scratch); accumulate: y += (the residual form, y its own residual). */
static int conv_inference(oiqa_ag *ag, int kh, int kw, int cin, int cout, int stride, int pad, const float *hwio,
                          const float *bias, int wino, int B, int H, int W, const float *x, int OH, int OW, float *y,
                          int accumulate)
{
    oiqa_conv2d cv = {.kh = kh, .kw = kw, .cin = cin, .cout = cout, .stride = stride, .pad = pad, .weight = hwio,
                      .bias = bias};
    size_t nu = wino ? oiqa_winograd_weight_floats(cin, cout) : 0;
    float *u = nu ? ag_buf_get(ag, nu, 0) : NULL;
    if (nu && !u) return -1;
    if (u) oiqa_winograd_weight(hwio, cin, cout, u), cv.winograd = u;
    oiqa_tensor tx = {B, H, W, cin, (float *)x}, ty = {B, OH, OW, cout, y};
    int rc = oiqa_conv2d_forward(&cv, &tx, accumulate ? &ty : NULL, 0, &ty);
    ag_buf_put(ag, u, nu);
    return rc ? -1 : 0;
}

/* dX += conv(dY, W') for a Winograd conv (W' as at the top, from the packed
 * HWIO weight wp). */
static int winograd_dx(oiqa_ag *ag, const conv_geom *g, const float *wp, const float *dy, float *gx)
{
    size_t nw = (size_t)9 * g->C * g->O;
    float *wf = ag_buf_get(ag, nw, 0);
    if (!wf) return -1;
    for (int u = 0; u < 3; u++)
        for (int v = 0; v < 3; v++)
            for (int c = 0; c < g->C; c++)
                for (int o = 0; o < g->O; o++)
                    wf[(((size_t)u * 3 + v) * g->O + o) * g->C + c] = wp[(((size_t)(2 - u) * 3 + (2 - v)) * g->C + c) * g->O + o];
    int rc = conv_inference(ag, 3, 3, g->O, g->C, 1, 1, wf, NULL, 1, g->B, g->OH, g->OW, dy, g->H, g->W, gx, 1);
    ag_buf_put(ag, wf, nw);
    return rc;
}

/* Images run in parallel when there are several and several threads, each
 * thread with its own columns and single-threaded BLAS (the pattern of
 * nn/conv2d.c: OpenBLAS's own threads would spin against OpenMP's between
 * the many small GEMMs); else one thread takes chunks of images with BLAS's
 * threads. */
static int image_workers(const conv_geom *g)
{
    int t = omp_get_max_threads();
    return omp_in_parallel() ? 1 : t < g->B ? t : g->B;
}

/* dW_q (packed, dwp) += col^T dY and dX += d col for image b, in blocks of
 * output positions (col, dcol: block_rows x K each). */
static void backward_image(const conv_geom *g, const ag_node *nx, const ag_node *n, float *gx, float *dwp, int b,
                           float *col, float *dcol)
{
    size_t M = (size_t)g->OH * g->OW, step = pointwise(g) ? M : block_rows(g);
    int direct = pointwise(g);
    for (int q = 0; q < g->groups; q++) {
        const float *wq = n->saved + (size_t)q * g->K * g->Og;
        for (size_t m0 = 0; m0 < M; m0 += step) {
            size_t m1 = M - m0 < step ? M : m0 + step;
            int rows = (int)(m1 - m0);
            const float *dy = n->grad + ((size_t)b * M + m0) * g->O + (size_t)q * g->Og;
            const float *cb = direct ? nx->val + (size_t)b * M * g->C : col;
            if (!direct && dwp) im2col_rows(g, nx->val, b, m0, m1, q, col);
            if (dwp) /* dW_q += col^T dY */
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, g->K, g->Og, rows, 1.0f, cb,
                            direct ? g->C : g->K, dy, g->O, 1.0f, dwp + (size_t)q * g->K * g->Og, g->Og);
            if (gx && direct) /* dX += dY W^T, straight into the image */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, g->K, g->Og, 1.0f, dy, g->O, wq, g->Og,
                            1.0f, gx + (size_t)b * M * g->C, g->C);
            else if (gx) {
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, g->K, g->Og, 1.0f, dy, g->O, wq, g->Og,
                            0.0f, dcol, g->K);
                col2im_rows_add(g, dcol, b, m0, m1, q, gx);
            }
        }
    }
}

static void conv2d_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *nx = ag_node_of(ag, n->in[0]), *nw = ag_node_of(ag, n->in[1]);
    float *gx = ag_grad_of(ag, n->in[0]), *gw = ag_grad_of(ag, n->in[1]);
    float *gb = n->in[2] >= 0 ? ag_grad_of(ag, n->in[2]) : NULL;
    conv_geom g = geom_of(nx, nw, n->i[0], n->i[1], (int)n->f[0]);
    size_t M = (size_t)g.OH * g.OW, wsize = (size_t)g.groups * g.K * g.Og;
    if (gx && winograd_conv(&g) && winograd_dx(ag, &g, n->saved, n->grad, gx) == 0)
        gx = NULL; /* done: the images below only add dW */
    if (!gx && !gw && !gb) return;
    int direct = pointwise(&g), workers = image_workers(&g);
    size_t cols = direct ? 0 : block_rows(&g) * g.K;
    /* per worker: its dW accumulator, its columns and their gradient */
    /* scratch from the tape's pool: the same sizes come back every step */
    size_t n_dwp = (size_t)workers * wsize, n_col = (size_t)workers * cols;
    float *dwp = gw ? ag_buf_get(ag, n_dwp, 1) : NULL;
    float *col = cols && gw ? ag_buf_get(ag, n_col, 0) : NULL;
    float *dcol = cols && gx ? ag_buf_get(ag, n_col, 0) : NULL;
    if ((gw && !dwp) || (cols && gw && !col) || (cols && gx && !dcol)) {
        ag_buf_put(ag, dwp, n_dwp), ag_buf_put(ag, col, n_col), ag_buf_put(ag, dcol, n_col);
        return; /* out of memory: the gradient stays incomplete (rare; the forward allocated as much) */
    }
    if (workers > 1) {
        int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
#pragma omp parallel num_threads(workers)
        {
            int t = omp_get_thread_num();
#pragma omp for schedule(static) /* fixed images per thread: the same sums every run */
            for (int b = 0; b < g.B; b++)
                backward_image(&g, nx, n, gx, dwp ? dwp + (size_t)t * wsize : NULL, b,
                               col ? col + (size_t)t * cols : NULL, dcol ? dcol + (size_t)t * cols : NULL);
        }
        openblas_set_num_threads(blas_threads);
        /* the workers' sums, in worker order */
#pragma omp parallel for schedule(static) if (dwp && wsize > 32768)
        for (size_t k = 0; k < (dwp ? wsize : 0); k++)
            for (int t = 1; t < workers; t++) dwp[k] += dwp[(size_t)t * wsize + k];
    } else {
        for (int b = 0; b < g.B; b++) backward_image(&g, nx, n, gx, dwp, b, col, dcol);
    }
    if (gw) /* back to OIHW */
#pragma omp parallel for collapse(2) schedule(static) if (wsize > 32768)
        for (int q = 0; q < g.groups; q++)
            for (int o = 0; o < g.Og; o++)
                for (int c = 0; c < g.Cg; c++)
                    for (int u = 0; u < g.kh; u++)
                        for (int v = 0; v < g.kw; v++)
                            gw[((((size_t)q * g.Og + o) * g.Cg + c) * g.kh + u) * g.kw + v] +=
                                dwp[(size_t)q * g.K * g.Og + (((size_t)u * g.kw + v) * g.Cg + c) * g.Og + o];
    for (size_t r = 0; gb && r < (size_t)g.B * M; r++)
        for (int o = 0; o < g.O; o++) gb[o] += n->grad[r * g.O + o];
    ag_buf_put(ag, dwp, n_dwp), ag_buf_put(ag, col, n_col), ag_buf_put(ag, dcol, n_col);
}

/* Y = col W for images b0 .. b0+nb-1. */
static void forward_images(const conv_geom *g, const ag_node *nx, ag_node *n, int b0, int nb, float *col)
{
    size_t M = (size_t)g->OH * g->OW;
    int direct = pointwise(g);
    for (int q = 0; q < g->groups; q++) {
        if (!direct) im2col(g, nx->val, b0, nb, q, col);
        const float *cb = direct ? nx->val + (size_t)b0 * M * g->C : col;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)((size_t)nb * M), g->Og, g->K, 1.0f, cb,
                    direct ? g->C : g->K, n->saved + (size_t)q * g->K * g->Og, g->Og, 0.0f,
                    n->val + (size_t)b0 * M * g->O + (size_t)q * g->Og, g->O);
    }
}

oiqa_agv oiqa_ag_conv2d(oiqa_ag *ag, oiqa_agv x, oiqa_agv w, oiqa_agv b, int stride, int pad, int groups)
{
    ag_node *nx = ag_node_of(ag, x), *nw = ag_node_of(ag, w), *nb = b >= 0 ? ag_node_of(ag, b) : NULL;
    if (!nx || !nw || (b != -1 && !nb)) return -1;
    if (nx->ndim != 4 || nw->ndim != 4 || stride < 1 || pad < 0 || groups < 1)
        return ag_fail("conv2d", "needs x [B,H,W,C], w [O,C/groups,kh,kw], stride >= 1, pad >= 0, groups >= 1");
    if (nx->shape[3] % groups || nw->shape[0] % groups || nw->shape[1] * groups != nx->shape[3])
        return ag_fail("conv2d", "channels do not split into the groups");
    if (nb && (nb->numel != (size_t)nw->shape[0])) return ag_fail("conv2d", "bias is not [O]");
    conv_geom g = geom_of(nx, nw, stride, pad, groups);
    if (g.H + 2 * pad < g.kh || g.W + 2 * pad < g.kw) return ag_fail("conv2d", "kernel larger than the padded input");
    int shape[4] = {g.B, g.OH, g.OW, g.O};
    oiqa_agv v = ag_push_raw(ag, 4, shape, x, w, b, conv2d_backward); /* the GEMMs write every value */
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nx = ag_node_of(ag, x), nw = ag_node_of(ag, w), nb = b >= 0 ? ag_node_of(ag, b) : NULL;
    n->i[0] = stride, n->i[1] = pad, n->f[0] = (float)groups;
    size_t M = (size_t)g.OH * g.OW;
    int direct = pointwise(&g), workers = image_workers(&g);
    int chunk = workers > 1 ? 1 : direct ? g.B : chunk_images(&g);
    /* ungrouped: the inference kernels (blocks of rows, Winograd where it
     * fits, the bias fused); their own scratch */
    size_t cols = direct || g.groups == 1 ? 0 : (size_t)chunk * M * g.K;
    size_t n_col = (size_t)workers * cols;
    float *col = cols ? ag_buf_get(ag, n_col, 0) : NULL;
    if (!ag_saved(ag, n, (size_t)g.groups * g.K * g.Og) || (cols && !col)) {
        ag_buf_put(ag, col, n_col);
        return ag_fail("conv2d", "out of memory");
    }
    pack_weight(&g, nw->val, n->saved);
    if (g.groups == 1) {
        if (conv_inference(ag, g.kh, g.kw, g.C, g.O, stride, pad, n->saved, nb ? nb->val : NULL, winograd_conv(&g),
                           g.B, g.H, g.W, nx->val, g.OH, g.OW, n->val, 0))
            return ag_fail("conv2d", "out of memory");
        return v;
    }
    if (workers > 1) {
        int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
#pragma omp parallel num_threads(workers)
        {
            float *mine = col ? col + (size_t)omp_get_thread_num() * cols : NULL;
#pragma omp for schedule(static) /* fixed images per thread: the same sums every run */
            for (int bi = 0; bi < g.B; bi++) forward_images(&g, nx, n, bi, 1, mine);
        }
        openblas_set_num_threads(blas_threads);
    } else {
        for (int b0 = 0; b0 < g.B; b0 += chunk) forward_images(&g, nx, n, b0, g.B - b0 < chunk ? g.B - b0 : chunk, col);
    }
    ag_buf_put(ag, col, n_col);
    if (nb) {
#pragma omp parallel for schedule(static)
        for (size_t r = 0; r < (size_t)g.B * M; r++)
            for (int o = 0; o < g.O; o++) n->val[r * g.O + o] += nb->val[o];
    }
    return v;
}

/* ---- batchnorm2d ------------------------------------------------------------ */

/* Per-channel sums over rows cut into a fixed number of parts (whatever the
 * thread count: the same sums every run), in double, added part by part:
 *   mode 0: sum x;  mode 1: sum (x - mean)^2;
 *   mode 2: sum dy and sum dy xhat (out[C..2C)), dy masked where y <= 0
 *           when relu (the fused ReLU's gradient). */
enum { BN_PARTS = 16 };

typedef struct {
    const float *x, *mean, *invstd, *dy, *y;
    const double *mean_d; /* mode 1 */
    int relu;
} bn_sum_in;

static int bn_sums(const bn_sum_in *in, size_t rows, int C, int mode, double *out)
{
    int parts = rows < BN_PARTS ? (int)rows : BN_PARTS, width = mode == 2 ? 2 * C : C;
    double *part = calloc((size_t)parts * width, sizeof *part);
    if (!part) return -1;
#pragma omp parallel for schedule(static) if (rows * (size_t)C > 32768)
    for (int q = 0; q < parts; q++) {
        double *acc = part + (size_t)q * width;
        size_t r0 = rows * q / parts, r1 = rows * (q + 1) / parts;
        if (mode == 0) ag_k_channel_sum(in->x, r0, r1, C, acc);
        else if (mode == 1) ag_k_channel_sqdev(in->x, r0, r1, C, in->mean_d, acc);
        else ag_k_bn_grad_sums(in->x, in->dy, in->y, in->relu, r0, r1, C, in->mean, in->invstd, acc, acc + C);
    }
    memset(out, 0, (size_t)width * sizeof *out);
    for (int q = 0; q < parts; q++)
        for (int c = 0; c < width; c++) out[c] += part[(size_t)q * width + c];
    free(part);
    return 0;
}

/* Rows [r0, r1) of part q of `parts` equal parts. */
#define PART_ROWS(rows, q, parts) (size_t)((rows) * (size_t)(q) / (size_t)(parts)), \
                                  (size_t)((rows) * (size_t)((q) + 1) / (size_t)(parts))

/* saved: mean[C], invstd[C]; i[0]: 1 when the batch statistics were used;
 * i[1]: 1 with the fused ReLU (its output y is the node's value). */
static void batchnorm_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *nx = ag_node_of(ag, n->in[0]), *ngamma = ag_node_of(ag, n->in[1]);
    float *gx = ag_grad_of(ag, n->in[0]), *gg = ag_grad_of(ag, n->in[1]), *gbeta = ag_grad_of(ag, n->in[2]);
    int C = nx->shape[nx->ndim - 1], relu = n->i[1];
    size_t rows = nx->numel / (size_t)C;
    const float *mean = n->saved, *invstd = n->saved + C, *gamma = ngamma->val;
    double *sum_dy = malloc((size_t)2 * C * sizeof(double));
    bn_sum_in in = {.x = nx->val, .mean = mean, .invstd = invstd, .dy = n->grad, .y = n->val, .relu = relu};
    if (!sum_dy || bn_sums(&in, rows, C, 2, sum_dy)) {
        free(sum_dy);
        return;
    }
    double *sum_dy_xhat = sum_dy + C;
    for (int c = 0; c < C; c++) {
        if (gg) gg[c] += (float)sum_dy_xhat[c];
        if (gbeta) gbeta[c] += (float)sum_dy[c];
    }
    float *coef = gx ? malloc((size_t)3 * C * sizeof(float)) : NULL;
    if (coef) {
        /* dx = g invstd (dy - mean(dy) - xhat mean(dy xhat)) with batch
         * statistics, g invstd dy with running ones */
        float *k = coef, *ma = coef + C, *mb = coef + 2 * C;
        int batch_stats = n->i[0];
        for (int c = 0; c < C; c++) {
            k[c] = (float)((double)gamma[c] * invstd[c]);
            ma[c] = batch_stats ? (float)(sum_dy[c] / (double)rows) : 0.0f;
            mb[c] = batch_stats ? (float)(sum_dy_xhat[c] / (double)rows) : 0.0f;
        }
        int parts = rows < BN_PARTS ? (int)rows : BN_PARTS;
#pragma omp parallel for schedule(static) if (rows * (size_t)C > 32768)
        for (int q = 0; q < parts; q++)
            ag_k_bn_dx(nx->val, n->grad, n->val, relu, gx, PART_ROWS(rows, q, parts), C, mean, invstd, k, ma, mb);
        free(coef);
    }
    free(sum_dy);
}

oiqa_agv oiqa_ag_batchnorm2d_act(oiqa_ag *ag, oiqa_agv x, oiqa_agv gamma, oiqa_agv beta, float *running_mean,
                                 float *running_var, int batch_stats, float momentum, float eps, int relu)
{
    ag_node *nx = ag_node_of(ag, x), *ng = ag_node_of(ag, gamma), *nb = ag_node_of(ag, beta);
    if (!nx || !ng || !nb) return -1;
    if (nx->ndim < 2) return ag_fail("batchnorm2d", "needs [..., C]");
    int C = nx->shape[nx->ndim - 1];
    size_t rows = nx->numel / (size_t)C;
    if (ng->numel != (size_t)C || nb->numel != (size_t)C) return ag_fail("batchnorm2d", "gamma and beta are not [C]");
    if (!batch_stats && (!running_mean || !running_var))
        return ag_fail("batchnorm2d", "running statistics needed outside training");
    if (batch_stats && rows < 2) return ag_fail("batchnorm2d", "batch statistics need more than one value per channel");
    oiqa_agv v = ag_push_raw(ag, nx->ndim, nx->shape, x, gamma, beta, batchnorm_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nx = ag_node_of(ag, x), ng = ag_node_of(ag, gamma), nb = ag_node_of(ag, beta);
    if (!(n->saved = malloc((size_t)2 * C * sizeof(float)))) return ag_fail("batchnorm2d", "out of memory");
    float *mean = n->saved, *invstd = n->saved + C;
    n->i[0] = batch_stats, n->i[1] = relu != 0;
    if (batch_stats) {
        double *s = malloc((size_t)2 * C * sizeof(double));
        bn_sum_in in = {.x = nx->val, .mean_d = s};
        int bad = !s || bn_sums(&in, rows, C, 0, s);
        for (int c = 0; !bad && c < C; c++) s[c] /= (double)rows;
        if (!bad) bad = bn_sums(&in, rows, C, 1, s + C); /* two passes: the squares about the mean */
        for (int c = 0; !bad && c < C; c++) {
            double var = s[C + c] / (double)rows; /* biased, for the normalisation */
            mean[c] = (float)s[c], invstd[c] = (float)(1.0 / sqrt(var + eps));
            if (running_mean && running_var) { /* the unbiased variance into the running estimate */
                running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * (float)s[c];
                running_var[c] =
                    (1.0f - momentum) * running_var[c] + momentum * (float)(s[C + c] / (double)(rows - 1));
            }
        }
        free(s);
        if (bad) return ag_fail("batchnorm2d", "out of memory");
    } else {
        for (int c = 0; c < C; c++)
            mean[c] = running_mean[c], invstd[c] = (float)(1.0 / sqrt((double)running_var[c] + eps));
    }
    float *scale = malloc((size_t)2 * C * sizeof(float));
    if (!scale) return ag_fail("batchnorm2d", "out of memory");
    for (int c = 0; c < C; c++) scale[c] = invstd[c] * ng->val[c], scale[C + c] = nb->val[c];
    int parts = rows < BN_PARTS ? (int)rows : BN_PARTS;
#pragma omp parallel for schedule(static) if (rows * (size_t)C > 32768)
    for (int q = 0; q < parts; q++)
        ag_k_bn_apply(nx->val, n->val, PART_ROWS(rows, q, parts), C, mean, scale, scale + C, relu);
    free(scale);
    return v;
}

oiqa_agv oiqa_ag_batchnorm2d(oiqa_ag *ag, oiqa_agv x, oiqa_agv gamma, oiqa_agv beta, float *running_mean,
                             float *running_var, int batch_stats, float momentum, float eps)
{
    return oiqa_ag_batchnorm2d_act(ag, x, gamma, beta, running_mean, running_var, batch_stats, momentum, eps, 0);
}

/* ---- maxpool2d ----------------------------------------------------------------- */

static void maxpool_backward(oiqa_ag *ag, ag_node *n)
{
    float *gx = ag_grad_of(ag, n->in[0]);
    if (!gx) return;
    /* an output's source lies in its own image: images in parallel */
    int B = n->shape[0];
    size_t per = n->numel / (size_t)B;
#pragma omp parallel for schedule(static) if (n->numel > 65536)
    for (int b = 0; b < B; b++)
        for (size_t k = (size_t)b * per; k < (size_t)(b + 1) * per; k++) gx[n->saved_int[k]] += n->grad[k];
}

oiqa_agv oiqa_ag_maxpool2d(oiqa_ag *ag, oiqa_agv x, int k, int stride, int pad)
{
    ag_node *nx = ag_node_of(ag, x);
    if (!nx) return -1;
    if (nx->ndim != 4 || k < 1 || stride < 1 || pad < 0 || 2 * pad > k)
        return ag_fail("maxpool2d", "needs [B,H,W,C], kernel and stride >= 1, 0 <= pad <= kernel / 2");
    int B = nx->shape[0], H = nx->shape[1], W = nx->shape[2], C = nx->shape[3];
    if (H + 2 * pad < k || W + 2 * pad < k) return ag_fail("maxpool2d", "kernel larger than the padded input");
    int OH = (H + 2 * pad - k) / stride + 1, OW = (W + 2 * pad - k) / stride + 1;
    int shape[4] = {B, OH, OW, C};
    oiqa_agv v = ag_push_raw(ag, 4, shape, x, -1, -1, maxpool_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nx = ag_node_of(ag, x);
    if (!(n->saved_int = malloc(n->numel * sizeof(int)))) return ag_fail("maxpool2d", "out of memory");
    /* Padding is -inf (PyTorch): every window holds at least one pixel as
     * pad <= k / 2; the first maximum wins, as in PyTorch's CPU kernel. */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int i = 0; i < OH; i++)
            for (int j = 0; j < OW; j++)
                for (int c = 0; c < C; c++) {
                    float best = -INFINITY;
                    int at = -1;
                    for (int u = 0; u < k; u++) {
                        int y = i * stride + u - pad;
                        if (y < 0 || y >= H) continue;
                        for (int w = 0; w < k; w++) {
                            int xx = j * stride + w - pad;
                            if (xx < 0 || xx >= W) continue;
                            int src = ((b * H + y) * W + xx) * C + c;
                            float val = nx->val[src];
                            if (at < 0 || val > best || isnan(val)) best = val, at = src;
                            if (isnan(val)) goto found;
                        }
                    }
                found:;
                    size_t o = (((size_t)b * OH + i) * OW + j) * C + c;
                    n->val[o] = best, n->saved_int[o] = at;
                }
    return v;
}

/* ---- average pooling ------------------------------------------------------------ */

/* One output's window: rows [y0, y1), columns [x0, x1) of the input, and the
 * divisor. i[0] = 1 for adaptive (bins), else k, stride, pad in saved_int. */
typedef struct {
    int B, H, W, C, OH, OW, k, stride, pad, adaptive;
} avg_geom;

static void avg_window(const avg_geom *g, int i, int j, int *y0, int *y1, int *x0, int *x1, int *div)
{
    if (g->adaptive) {
        *y0 = i * g->H / g->OH, *y1 = ((i + 1) * g->H + g->OH - 1) / g->OH;
        *x0 = j * g->W / g->OW, *x1 = ((j + 1) * g->W + g->OW - 1) / g->OW;
        *div = (*y1 - *y0) * (*x1 - *x0);
        return;
    }
    int ys = i * g->stride - g->pad, xs = j * g->stride - g->pad;
    int ye = ys + g->k, xe = xs + g->k;
    /* count_include_pad: the window clipped to the padded input counts */
    int ype = ye < g->H + g->pad ? ye : g->H + g->pad, xpe = xe < g->W + g->pad ? xe : g->W + g->pad;
    *div = (ype - ys) * (xpe - xs);
    *y0 = ys < 0 ? 0 : ys, *x0 = xs < 0 ? 0 : xs;
    *y1 = ye < g->H ? ye : g->H, *x1 = xe < g->W ? xe : g->W;
}

static avg_geom avg_geom_of(const ag_node *x, const ag_node *n)
{
    avg_geom g = {.B = x->shape[0], .H = x->shape[1], .W = x->shape[2], .C = x->shape[3], .OH = n->shape[1],
                  .OW = n->shape[2], .k = n->saved_int[0], .stride = n->saved_int[1], .pad = n->saved_int[2],
                  .adaptive = n->saved_int[3]};
    return g;
}

static void avgpool_backward(oiqa_ag *ag, ag_node *n)
{
    ag_node *nx = ag_node_of(ag, n->in[0]);
    float *gx = ag_grad_of(ag, n->in[0]);
    if (!gx) return;
    avg_geom g = avg_geom_of(nx, n);
    for (int b = 0; b < g.B; b++)
        for (int i = 0; i < g.OH; i++)
            for (int j = 0; j < g.OW; j++) {
                int y0, y1, x0, x1, div;
                avg_window(&g, i, j, &y0, &y1, &x0, &x1, &div);
                const float *go = n->grad + (((size_t)b * g.OH + i) * g.OW + j) * g.C;
                for (int y = y0; y < y1; y++)
                    for (int xx = x0; xx < x1; xx++) {
                        float *dst = gx + (((size_t)b * g.H + y) * g.W + xx) * g.C;
                        for (int c = 0; c < g.C; c++) dst[c] += go[c] / (float)div;
                    }
            }
}

static oiqa_agv avgpool(oiqa_ag *ag, oiqa_agv x, int OH, int OW, int k, int stride, int pad, int adaptive)
{
    ag_node *nx = ag_node_of(ag, x);
    int shape[4] = {nx->shape[0], OH, OW, nx->shape[3]};
    oiqa_agv v = ag_push(ag, 4, shape, x, -1, -1, avgpool_backward);
    if (v < 0) return v;
    ag_node *n = &ag->nodes[v];
    nx = ag_node_of(ag, x);
    if (!(n->saved_int = malloc(4 * sizeof(int)))) return ag_fail("avgpool2d", "out of memory");
    n->saved_int[0] = k, n->saved_int[1] = stride, n->saved_int[2] = pad, n->saved_int[3] = adaptive;
    avg_geom g = avg_geom_of(nx, n);
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < g.B; b++)
        for (int i = 0; i < g.OH; i++)
            for (int j = 0; j < g.OW; j++) {
                int y0, y1, x0, x1, div;
                avg_window(&g, i, j, &y0, &y1, &x0, &x1, &div);
                float *dst = n->val + (((size_t)b * g.OH + i) * g.OW + j) * g.C;
                for (int y = y0; y < y1; y++)
                    for (int xx = x0; xx < x1; xx++) {
                        const float *src = nx->val + (((size_t)b * g.H + y) * g.W + xx) * g.C;
                        for (int c = 0; c < g.C; c++) dst[c] += src[c];
                    }
                for (int c = 0; c < g.C; c++) dst[c] /= (float)div;
            }
    return v;
}

oiqa_agv oiqa_ag_avgpool2d(oiqa_ag *ag, oiqa_agv x, int k, int stride, int pad)
{
    ag_node *nx = ag_node_of(ag, x);
    if (!nx) return -1;
    if (nx->ndim != 4 || k < 1 || stride < 1 || pad < 0 || 2 * pad > k)
        return ag_fail("avgpool2d", "needs [B,H,W,C], kernel and stride >= 1, 0 <= pad <= kernel / 2");
    if (nx->shape[1] + 2 * pad < k || nx->shape[2] + 2 * pad < k)
        return ag_fail("avgpool2d", "kernel larger than the padded input");
    return avgpool(ag, x, (nx->shape[1] + 2 * pad - k) / stride + 1, (nx->shape[2] + 2 * pad - k) / stride + 1, k,
                   stride, pad, 0);
}

oiqa_agv oiqa_ag_adaptive_avgpool2d(oiqa_ag *ag, oiqa_agv x, int oh, int ow)
{
    ag_node *nx = ag_node_of(ag, x);
    if (!nx) return -1;
    if (nx->ndim != 4 || oh < 1 || ow < 1) return ag_fail("adaptive_avgpool2d", "needs [B,H,W,C] and sizes >= 1");
    return avgpool(ag, x, oh, ow, 0, 0, 0, 1);
}
