/* Convolution as matrix products (see conv2d.h for shapes and layout).
 *
 * The output rows m = (b*oh + i)*ow + j (M = n*oh*ow of them) are cut into
 * blocks of `rows` rows. For each block:
 *   1x1, stride 1, pad 0  A = the block's rows of x itself (lda = cin): no copy;
 *   anything else         A = im2col of the block: row r holds the kh*kw*cin
 *                         inputs under output pixel m0+r in (u, v, c) order,
 *                         zeros where the window leaves the image. For 1x1
 *                         stride 2 this is just a gather of every other pixel;
 *   y_block = A * W       one cblas_sgemm, W the [kh*kw*cin][cout] weight;
 *   epilogue              + bias, + residual, ReLU on the block while it is
 *                         still in cache.
 * A block's im2col buffer is rows*K floats, K = kh*kw*cin, kept under
 * CONV_SCRATCH_BYTES per thread: 3x3 over 512 channels (K = 4608) gives
 * blocks of 113 rows (2 MB).
 *
 * Threads (see conv2d.h): with at least as many blocks as threads, an OpenMP
 * loop over blocks and OpenBLAS at 1 thread; with fewer, serial blocks, each
 * one sgemm with OpenBLAS's own threads. Either way one pool works at a time.
 *
 * A conv prepared by oiqa_conv2d_prepare (3x3, stride 1, pad 1) goes to
 * nn/winograd.c instead, unless OIQA_NO_WINOGRAD is set. */
#include "nn/conv2d.h"

#include <cblas.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/winograd.h"

enum {
    CONV_SCRATCH_BYTES = 2 << 20, /* im2col buffer per thread */
    MIN_BLOCK_ROWS = 16,          /* below this sgemm is mostly overhead */
    MAX_BLOCK_ROWS = 1024,        /* keeps blocks numerous enough to balance */
    BLOCKS_PER_THREAD = 4,        /* load balance for the dynamic schedule */
};

int oiqa_conv2d_out_size(int in, int k, int stride, int pad)
{
    if (stride < 1) return 0;
    int span = in + 2 * pad - k;
    if (span < 0) return 0;
    return span / stride + 1;
}

/* hwio[((u*kw + v)*cin + c)*cout + o] = oihw[((o*cin + c)*kh + u)*kw + v] */
void oiqa_conv2d_weight_from_oihw(const float *oihw, int cout, int cin, int kh, int kw,
                                  float *hwio)
{
    for (int o = 0; o < cout; o++)
        for (int c = 0; c < cin; c++)
            for (int u = 0; u < kh; u++)
                for (int v = 0; v < kw; v++)
                    hwio[(((size_t)u * kw + v) * cin + c) * cout + o] =
                        oihw[(((size_t)o * cin + c) * kh + u) * kw + v];
}

int oiqa_conv2d_prepare(oiqa_conv2d *cv, float **prepared)
{
    *prepared = NULL;
    if (!oiqa_winograd_fits(cv)) return OIQA_OK;
    float *u = oiqa_nn_alloc(oiqa_winograd_weight_floats(cv->cin, cv->cout) * sizeof(float));
    if (!u)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "conv2d: out of memory for the Winograd weight (%d -> %d)",
                         cv->cin, cv->cout);
    oiqa_winograd_weight(cv->weight, cv->cin, cv->cout, u);
    cv->winograd = u;
    *prepared = u;
    return OIQA_OK;
}

/* OIQA_NO_WINOGRAD set to anything but "" or "0" (conv2d.h). */
static int winograd_disabled(void)
{
    const char *s = getenv("OIQA_NO_WINOGRAD");
    return s && *s && strcmp(s, "0") != 0;
}

typedef struct {
    const oiqa_conv2d *conv;
    const oiqa_tensor *x;
    const float *residual; /* NULL, or a separate residual tensor's data */
    int residual_in_y;     /* residual aliases y: sgemm accumulates with beta = 1 */
    int relu;
    oiqa_tensor *y;
    size_t M;   /* n*oh*ow output pixels */
    size_t K;   /* kh*kw*cin */
    int direct; /* 1x1 stride 1 pad 0: x is A */
} conv_job;

/* cols[r][(u*kw + v)*cin + c] = x[b, i*s+u-p, j*s+v-p, c] (0 outside) for the
 * output pixels m0 .. m0+rows-1, m = (b*oh + i)*ow + j. */
static void im2col_rows(const conv_job *job, size_t m0, int rows, float *cols)
{
    const oiqa_conv2d *cv = job->conv;
    const oiqa_tensor *x = job->x;
    const int oh = job->y->h, ow = job->y->w, cin = cv->cin;
    const size_t row_bytes = (size_t)cv->kw * cin * sizeof(float);
    for (int r = 0; r < rows; r++) {
        size_t m = m0 + (size_t)r;
        int j = (int)(m % (size_t)ow);
        size_t bi = m / (size_t)ow;
        int i = (int)(bi % (size_t)oh), b = (int)(bi / (size_t)oh);
        float *dst = cols + (size_t)r * job->K;
        int y0 = i * cv->stride - cv->pad, x0 = j * cv->stride - cv->pad;
        for (int u = 0; u < cv->kh; u++, dst += (size_t)cv->kw * cin) {
            int iy = y0 + u;
            if (iy < 0 || iy >= x->h) {
                memset(dst, 0, row_bytes);
                continue;
            }
            /* The columns of this kernel row that fall inside the image are
             * contiguous in x: copy them at once, zero the rest. */
            int v_lo = x0 < 0 ? -x0 : 0;
            int v_hi = x->w - x0 < cv->kw ? x->w - x0 : cv->kw; /* exclusive */
            if (v_hi <= v_lo) {
                memset(dst, 0, row_bytes);
                continue;
            }
            if (v_lo > 0) memset(dst, 0, (size_t)v_lo * cin * sizeof(float));
            memcpy(dst + (size_t)v_lo * cin, x->data + oiqa_tensor_index(x, b, iy, x0 + v_lo, 0),
                   (size_t)(v_hi - v_lo) * cin * sizeof(float));
            if (v_hi < cv->kw)
                memset(dst + (size_t)v_hi * cin, 0, (size_t)(cv->kw - v_hi) * cin * sizeof(float));
        }
    }
}

enum { EPI_CHUNK = 16 };

/* y = max(0?, y + bias + residual) on n <= EPI_CHUNK channels. Fixed-size
 * passes over a local copy so that -O2 vectorises them (a loop of unknown
 * length stays scalar there, and the epilogue touches every output). */
static inline void epilogue_chunk(float *y, const float *bias, const float *res, int relu, int n)
{
    float v[EPI_CHUNK] = {0}, t[EPI_CHUNK] = {0};
    if (n == EPI_CHUNK) memcpy(v, y, sizeof v);
    else memcpy(v, y, (size_t)n * sizeof(float));
    if (bias) {
        if (n == EPI_CHUNK) memcpy(t, bias, sizeof t);
        else memcpy(t, bias, (size_t)n * sizeof(float));
        for (int o = 0; o < EPI_CHUNK; o++) v[o] += t[o];
    }
    if (res) {
        if (n == EPI_CHUNK) memcpy(t, res, sizeof t);
        else memcpy(t, res, (size_t)n * sizeof(float));
        for (int o = 0; o < EPI_CHUNK; o++) v[o] += t[o];
    }
    if (relu)
        for (int o = 0; o < EPI_CHUNK; o++) v[o] = v[o] > 0.0f ? v[o] : 0.0f;
    if (n == EPI_CHUNK) memcpy(y, v, sizeof v);
    else memcpy(y, v, (size_t)n * sizeof(float));
}

/* y = max(0?, y + bias + residual) over a block of rows x cout. */
static void epilogue(float *y, const float *residual, const float *bias, int rows, int cout,
                     int relu)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (size_t)r * cout;
        const float *rr = residual ? residual + (size_t)r * cout : NULL;
        for (int o = 0; o < cout; o += EPI_CHUNK)
            epilogue_chunk(yr + o, bias ? bias + o : NULL, rr ? rr + o : NULL, relu,
                           cout - o < EPI_CHUNK ? cout - o : EPI_CHUNK);
    }
}

/* One block of output rows: A (im2col or x), sgemm, epilogue. */
static void conv_block(const conv_job *job, size_t m0, int rows, float *cols)
{
    const oiqa_conv2d *cv = job->conv;
    const int cout = cv->cout;
    const float *a;
    int lda;
    if (job->direct) {
        a = job->x->data + m0 * (size_t)cv->cin;
        lda = cv->cin;
    } else {
        im2col_rows(job, m0, rows, cols);
        a = cols;
        lda = (int)job->K;
    }
    float *yb = job->y->data + m0 * (size_t)cout;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, cout, (int)job->K, 1.0f, a, lda,
                cv->weight, cout, job->residual_in_y ? 1.0f : 0.0f, yb, cout);
    const float *rb = job->residual ? job->residual + m0 * (size_t)cout : NULL;
    if (cv->bias || rb || job->relu) epilogue(yb, rb, cv->bias, rows, cout, job->relu);
}

int oiqa_conv2d_forward(const oiqa_conv2d *cv, const oiqa_tensor *x,
                        const oiqa_tensor *residual, int relu, oiqa_tensor *y)
{
    if (cv->kh < 1 || cv->kw < 1 || cv->cin < 1 || cv->cout < 1 || cv->stride < 1 || cv->pad < 0)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "conv2d: bad parameters k %dx%d, %d -> %d, stride %d, pad %d",
                         cv->kh, cv->kw, cv->cin, cv->cout, cv->stride, cv->pad);
    int oh = oiqa_conv2d_out_size(x->h, cv->kh, cv->stride, cv->pad);
    int ow = oiqa_conv2d_out_size(x->w, cv->kw, cv->stride, cv->pad);
    if (x->c != cv->cin || oh < 1 || ow < 1 || y->n != x->n || y->h != oh || y->w != ow ||
        y->c != cv->cout)
        return oiqa_fail(OIQA_EXIT_DATA, NULL,
                         "conv2d: input %dx%dx%dx%d and output %dx%dx%dx%d do not fit a %dx%d "
                         "stride %d pad %d conv %d -> %d",
                         x->n, x->h, x->w, x->c, y->n, y->h, y->w, y->c, cv->kh, cv->kw, cv->stride,
                         cv->pad, cv->cin, cv->cout);
    if (residual && !oiqa_tensor_same_shape(residual, y))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "conv2d: residual %dx%dx%dx%d is not the output's shape",
                         residual->n, residual->h, residual->w, residual->c);

    if (cv->winograd && oiqa_winograd_fits(cv) && !winograd_disabled())
        return oiqa_winograd_forward(cv, x, residual, relu, y);

    conv_job job = {
        .conv = cv, .x = x, .relu = relu, .y = y,
        .M = (size_t)x->n * oh * ow,
        .K = (size_t)cv->kh * cv->kw * cv->cin,
        .direct = cv->kh == 1 && cv->kw == 1 && cv->stride == 1 && cv->pad == 0,
    };
    if (residual && residual->data == y->data) job.residual_in_y = 1;
    else if (residual) job.residual = residual->data;

    /* Block size: enough blocks to balance the threads, at least
     * MIN_BLOCK_ROWS rows, and an im2col buffer within CONV_SCRATCH_BYTES. */
    int threads = omp_get_max_threads();
    size_t want = (job.M + (size_t)threads * BLOCKS_PER_THREAD - 1) / ((size_t)threads * BLOCKS_PER_THREAD);
    size_t cap = job.direct ? MAX_BLOCK_ROWS : CONV_SCRATCH_BYTES / (job.K * sizeof(float));
    if (cap > MAX_BLOCK_ROWS) cap = MAX_BLOCK_ROWS;
    if (cap < 1) cap = 1;
    size_t rows = want < MIN_BLOCK_ROWS ? MIN_BLOCK_ROWS : want;
    if (rows > cap) rows = cap;
    size_t blocks = (job.M + rows - 1) / rows;
    /* Too few blocks to keep every thread busy (M < ~16 threads, e.g.
     * layer4 at batch 1): one serial pass over blocks as large as the
     * scratch allows (all of M for the direct case), each sgemm threaded by
     * OpenBLAS, which also splits the cout columns. */
    int workers = threads;
    if (blocks < (size_t)threads) {
        workers = 1;
        rows = job.direct ? job.M : (cap < job.M ? cap : job.M);
        blocks = (job.M + rows - 1) / rows;
    }

    float *scratch = NULL;
    if (!job.direct) {
        scratch = oiqa_nn_alloc((size_t)workers * rows * job.K * sizeof(float));
        if (!scratch)
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "conv2d: out of memory for %zu x %zu im2col rows",
                             (size_t)workers * rows, job.K);
    }

    if (workers <= 1) {
        /* Serial blocks; sgemm uses OpenBLAS's configured threads. */
        for (size_t blk = 0; blk < blocks; blk++) {
            size_t m0 = blk * rows;
            int n_rows = (int)(job.M - m0 < rows ? job.M - m0 : rows);
            conv_block(&job, m0, n_rows, scratch);
        }
    } else {
        int blas_threads = openblas_get_num_threads();
        openblas_set_num_threads(1);
#pragma omp parallel num_threads(workers)
        {
            float *cols = scratch ? scratch + (size_t)omp_get_thread_num() * rows * job.K : NULL;
#pragma omp for schedule(dynamic)
            for (size_t blk = 0; blk < blocks; blk++) {
                size_t m0 = blk * rows;
                int n_rows = (int)(job.M - m0 < rows ? job.M - m0 : rows);
                conv_block(&job, m0, n_rows, cols);
            }
        }
        openblas_set_num_threads(blas_threads);
    }
    oiqa_nn_free(scratch);
    return OIQA_OK;
}
