/* Winograd F(4x4, 3x3) convolution (see winograd.h; Lavin & Gray 2016).
 *
 * The output is cut into 4x4 tiles, t = (b*th + ty)*tw + tx, th = ceil(oh/4),
 * tw = ceil(ow/4); tiles that overhang the right or bottom edge read zeros
 * and write only their inside pixels. Tiles are processed in blocks of T:
 *   input transform   V[p][r][c] = (B^T d B)[p] of tile t0+r, channel c
 *   36 sgemms         M[p] (nt x cout) = V[p] (nt x cin) * U[p] (cin x cout)
 *   output transform  y = act(A^T M A + bias + residual) on the tile's pixels
 * so the scratch of a block, 36*T*(cin + cout) floats, stays within
 * WINO_SCRATCH_BYTES per thread and is reused while in cache, except that T
 * is at least MIN_TILES: OpenBLAS packs all of U_p (cin*cout floats) in every
 * sgemm, which swamps sgemms of fewer rows (ResNet's 512 channels: 40 tiles,
 * 6 MB per thread).
 *
 * The blocks follow the shape, whatever the thread count, so that the bytes
 * do not depend on it (see oiqa_winograd_forward).
 *
 * Threads (conv2d.h's rule, OpenBLAS at 1 thread inside OpenMP):
 *   private blocks  each thread transforms, multiplies and writes back its own
 *                   blocks (dynamic schedule);
 *   shared blocks   when the tiles are too few to give every thread a block
 *                   worth an sgemm (e.g. layer4 at batch 1, 4 tiles per
 *                   image): one block at a time, all threads splitting its
 *                   tiles in the transforms and its 36 positions in the
 *                   sgemms. Measured slower than private blocks otherwise on
 *                   a loaded 2-CPU VM (its barriers wait for a preempted
 *                   thread), so only then.
 * Transforms run on CB channels at a time in fixed-size local arrays so the
 * compiler vectorises them across channels (NHWC keeps channels contiguous). */
#include "nn/winograd.h"

#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "base/error.h"

enum {
    P = OIQA_WINOGRAD_POSITIONS,
    CB = 16,                      /* channels per transform step */
    WINO_SCRATCH_BYTES = 4 << 20, /* V + M of one block, per thread */
    MIN_TILES = 40,               /* floor on T (see above) */
    MAX_TILES = 512,
    BLOCK_MULT = 4,               /* blocks come in multiples of this */
    MIN_BLOCK_ROWS = 32,          /* fewer rows per block only when the tiles are fewer */
    PRIVATE_MIN_TILES = 16,       /* fewer tiles per thread: shared blocks */
};

int oiqa_winograd_fits(const oiqa_conv2d *cv)
{
    return cv->kh == 3 && cv->kw == 3 && cv->stride == 1 && cv->pad == 1;
}

size_t oiqa_winograd_weight_floats(int cin, int cout) { return (size_t)P * cin * cout; }

/* G (6x3) of F(4x4, 3x3) with interpolation points 0, 1, -1, 2, -2, inf. */
static const double G[6][3] = {
    {1.0 / 4, 0, 0},
    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6},
    {1.0 / 24, -1.0 / 12, 1.0 / 6},
    {0, 0, 1},
};

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define WEIGHT_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define WEIGHT_CLONES
#endif

/* U[.][c][o0 .. o0 + n) for one input channel, lanes across output channels
 * (vectorised; the same double expressions per element as one at a time, and
 * no contraction into FMAs under -std=c11: the same bits). */
enum { WEIGHT_LANES = 16 };

WEIGHT_CLONES static void weight_block(const float *hwio, int cin, int cout, int c, int o0, int n, float *u)
{
    double g[3][3][WEIGHT_LANES] = {{{0}}}, gg[6][3][WEIGHT_LANES];
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int l = 0; l < n; l++) g[a][b][l] = hwio[(((size_t)a * 3 + b) * cin + c) * cout + o0 + l];
    for (int i = 0; i < 6; i++) /* G g */
        for (int b = 0; b < 3; b++)
#pragma omp simd
            for (int l = 0; l < WEIGHT_LANES; l++)
                gg[i][b][l] = G[i][0] * g[0][b][l] + G[i][1] * g[1][b][l] + G[i][2] * g[2][b][l];
    for (int i = 0; i < 6; i++) /* (G g) G^T */
        for (int j = 0; j < 6; j++) {
            float *dst = u + ((size_t)(i * 6 + j) * cin + c) * cout + o0;
            double row[WEIGHT_LANES];
#pragma omp simd
            for (int l = 0; l < WEIGHT_LANES; l++)
                row[l] = gg[i][0][l] * G[j][0] + gg[i][1][l] * G[j][1] + gg[i][2][l] * G[j][2];
            for (int l = 0; l < n; l++) dst[l] = (float)row[l];
        }
}

void oiqa_winograd_weight(const float *hwio, int cin, int cout, float *u)
{
    /* per step when training (nn/ag_cnn.c): in parallel over input channels */
#pragma omp parallel for schedule(static) if ((size_t)cin * cout > 4096)
    for (int c = 0; c < cin; c++)
        for (int o0 = 0; o0 < cout; o0 += WEIGHT_LANES)
            weight_block(hwio, cin, cout, c, o0, cout - o0 < WEIGHT_LANES ? cout - o0 : WEIGHT_LANES, u);
}

typedef struct {
    const oiqa_conv2d *cv;
    const oiqa_tensor *x;
    const float *residual; /* NULL, or n x oh x ow x cout (may be y's data) */
    int relu;
    oiqa_tensor *y;
    int th, tw;   /* tiles per image along y and x */
    size_t tiles; /* n*th*tw */
    int T;        /* tiles per block: the stride between V's (and M's) positions */
} wino_job;

/* Image, top row and left column of the input patch of tile t (the output
 * tile starts one pixel further in: pad 1). */
static void tile_origin(const wino_job *job, size_t t, int *b, int *y0, int *x0)
{
    size_t per_img = (size_t)job->th * job->tw;
    int rem = (int)(t % per_img);
    *b = (int)(t / per_img);
    *y0 = rem / job->tw * 4 - 1;
    *x0 = rem % job->tw * 4 - 1;
}

/* One row of B^T applied down the 6 rows of d, for CB channels:
 *   B^T = [4  0 -5  0 1 0; 0 -4 -4  1 1 0; 0  4 -4 -1 1 0;
 *          0 -2 -1  2 1 0; 0  2 -1 -2 1 0; 0  4  0 -5 0 1] */
static inline void bt_apply(const float *d0, const float *d1, const float *d2, const float *d3,
                            const float *d4, const float *d5, float *o0, float *o1, float *o2,
                            float *o3, float *o4, float *o5)
{
    for (int c = 0; c < CB; c++) {
        float e = 2.0f * (d3[c] - d1[c]), f = d4[c] - d2[c];
        o0[c] = 4.0f * d0[c] - 5.0f * d2[c] + d4[c];
        o1[c] = -4.0f * (d1[c] + d2[c]) + (d3[c] + d4[c]);
        o2[c] = 4.0f * (d1[c] - d2[c]) + (d4[c] - d3[c]);
        o3[c] = f + e;
        o4[c] = f - e;
        o5[c] = 4.0f * d1[c] - 5.0f * d3[c] + d5[c];
    }
}

/* V of tile t (row r of the block) for every channel. */
static void input_tile(const wino_job *job, size_t t, int r, float *v)
{
    const oiqa_tensor *x = job->x;
    const int cin = x->c;
    int b, y0, x0;
    tile_origin(job, t, &b, &y0, &x0);
    const float *src[6][6];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) {
            int iy = y0 + i, ix = x0 + j;
            src[i][j] = iy >= 0 && iy < x->h && ix >= 0 && ix < x->w
                            ? x->data + oiqa_tensor_index(x, b, iy, ix, 0)
                            : NULL;
        }
    const size_t pstride = (size_t)job->T * cin;
    float *dst = v + (size_t)r * cin;
    for (int c0 = 0; c0 < cin; c0 += CB) {
        const int nc = cin - c0 < CB ? cin - c0 : CB;
        float d[6][6][CB], tmp[6][6][CB], w[6][6][CB];
        for (int i = 0; i < 6; i++)
            for (int j = 0; j < 6; j++) {
                if (src[i][j] && nc == CB) {
                    memcpy(d[i][j], src[i][j] + c0, sizeof d[i][j]);
                } else {
                    memset(d[i][j], 0, sizeof d[i][j]);
                    if (src[i][j]) memcpy(d[i][j], src[i][j] + c0, (size_t)nc * sizeof(float));
                }
            }
        for (int j = 0; j < 6; j++) /* B^T d, column j */
            bt_apply(d[0][j], d[1][j], d[2][j], d[3][j], d[4][j], d[5][j], tmp[0][j], tmp[1][j],
                     tmp[2][j], tmp[3][j], tmp[4][j], tmp[5][j]);
        for (int i = 0; i < 6; i++) /* (B^T d) B, row i */
            bt_apply(tmp[i][0], tmp[i][1], tmp[i][2], tmp[i][3], tmp[i][4], tmp[i][5], w[i][0],
                     w[i][1], w[i][2], w[i][3], w[i][4], w[i][5]);
        if (nc == CB)
            for (int p = 0; p < P; p++) memcpy(dst + (size_t)p * pstride + c0, w[p / 6][p % 6], sizeof w[0][0]);
        else
            for (int p = 0; p < P; p++)
                memcpy(dst + (size_t)p * pstride + c0, w[p / 6][p % 6], (size_t)nc * sizeof(float));
    }
}

/* A^T applied down 6 values, for CB channels:
 *   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] */
static inline void at_apply(const float *m0, const float *m1, const float *m2, const float *m3,
                            const float *m4, const float *m5, float *o0, float *o1, float *o2,
                            float *o3)
{
    for (int c = 0; c < CB; c++) {
        float s12 = m1[c] + m2[c], d12 = m1[c] - m2[c];
        float s34 = m3[c] + m4[c], d34 = m3[c] - m4[c];
        o0[c] = m0[c] + s12 + s34;
        o1[c] = d12 + 2.0f * d34;
        o2[c] = s12 + 4.0f * s34;
        o3[c] = d12 + 8.0f * d34 + m5[c];
    }
}

/* dst = act(val + bias + res) for CB channels, in passes the compiler
 * vectorises; n < CB stores only the first n. */
static inline void store_pixel(float *dst, float *val, const float *bias, const float *res,
                               int relu, int n)
{
    for (int c = 0; c < CB; c++) val[c] += bias[c];
    if (res) {
        if (n == CB)
            for (int c = 0; c < CB; c++) val[c] += res[c];
        else
            for (int c = 0; c < n; c++) val[c] += res[c];
    }
    if (relu)
        for (int c = 0; c < CB; c++) val[c] = val[c] > 0.0f ? val[c] : 0.0f;
    if (n == CB) memcpy(dst, val, CB * sizeof(float));
    else memcpy(dst, val, (size_t)n * sizeof(float));
}

/* y for tile t (row r of the block) from M, with the epilogue. */
static void output_tile(const wino_job *job, size_t t, int r, const float *m)
{
    const oiqa_tensor *y = job->y;
    const int cout = y->c;
    int b, y0, x0;
    tile_origin(job, t, &b, &y0, &x0);
    y0++, x0++; /* the output tile */
    const int ni = y->h - y0 < 4 ? y->h - y0 : 4, nj = y->w - x0 < 4 ? y->w - x0 : 4;
    const size_t pstride = (size_t)job->T * cout;
    const float *src = m + (size_t)r * cout;
    const float *cbias = job->cv->bias;
    for (int o0 = 0; o0 < cout; o0 += CB) {
        const int nc = cout - o0 < CB ? cout - o0 : CB;
        float a[6][6][CB], s[4][6][CB], w[4][CB], bias[CB] = {0};
        if (cbias) memcpy(bias, cbias + o0, (size_t)nc * sizeof(float));
        if (nc == CB) {
            for (int p = 0; p < P; p++) memcpy(a[p / 6][p % 6], src + (size_t)p * pstride + o0, sizeof a[0][0]);
        } else {
            memset(a, 0, sizeof a);
            for (int p = 0; p < P; p++)
                memcpy(a[p / 6][p % 6], src + (size_t)p * pstride + o0, (size_t)nc * sizeof(float));
        }
        for (int j = 0; j < 6; j++) /* A^T a, column j */
            at_apply(a[0][j], a[1][j], a[2][j], a[3][j], a[4][j], a[5][j], s[0][j], s[1][j], s[2][j],
                     s[3][j]);
        for (int i = 0; i < ni; i++) {
            at_apply(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], w[0], w[1], w[2], w[3]);
            for (int j = 0; j < nj; j++) {
                size_t at = oiqa_tensor_index(y, b, y0 + i, x0 + j, o0);
                const float *res = job->residual ? job->residual + at : NULL;
                store_pixel(y->data + at, w[j], bias, res, job->relu, nc);
            }
        }
    }
}

static void gemm_position(const wino_job *job, int p, int nt, const float *v, float *m)
{
    const int cin = job->cv->cin, cout = job->cv->cout;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, nt, cout, cin, 1.0f,
                v + (size_t)p * job->T * cin, cin, job->cv->winograd + (size_t)p * cin * cout, cout,
                0.0f, m + (size_t)p * job->T * cout, cout);
}

/* A whole block by the calling thread (private blocks). */
static void private_block(const wino_job *job, size_t t0, int nt, float *v, float *m)
{
    for (int r = 0; r < nt; r++) input_tile(job, t0 + (size_t)r, r, v);
    for (int p = 0; p < P; p++) gemm_position(job, p, nt, v, m);
    for (int r = 0; r < nt; r++) output_tile(job, t0 + (size_t)r, r, m);
}

/* A block by the team of the enclosing parallel region (shared blocks). */
static void shared_block(const wino_job *job, size_t t0, int nt, float *v, float *m)
{
#pragma omp for schedule(static)
    for (int r = 0; r < nt; r++) input_tile(job, t0 + (size_t)r, r, v);
#pragma omp for schedule(dynamic)
    for (int p = 0; p < P; p++) gemm_position(job, p, nt, v, m);
#pragma omp for schedule(static)
    for (int r = 0; r < nt; r++) output_tile(job, t0 + (size_t)r, r, m);
}

int oiqa_winograd_forward(const oiqa_conv2d *cv, const oiqa_tensor *x,
                          const oiqa_tensor *residual, int relu, oiqa_tensor *y)
{
    wino_job job = {
        .cv = cv, .x = x, .residual = residual ? residual->data : NULL, .relu = relu, .y = y,
        .th = (y->h + 3) / 4, .tw = (y->w + 3) / 4,
    };
    job.tiles = (size_t)x->n * job.th * job.tw;

    int threads = omp_get_max_threads();
    size_t per_tile = (size_t)P * (cv->cin + cv->cout) * sizeof(float);
    size_t cap = WINO_SCRATCH_BYTES / per_tile;
    cap = cap < MIN_TILES ? MIN_TILES : cap > MAX_TILES ? MAX_TILES : cap;
    /* The blocks depend on the shape only, never on the thread count:
     * OpenBLAS's sgemm rounds a row differently for different row counts on
     * some CPUs (its small-matrix kernels), so blocks that followed the
     * threads gave 1 and 2 threads different last bits. A multiple of
     * BLOCK_MULT blocks balances 1, 2 and 4 threads; no fewer than
     * MIN_BLOCK_ROWS rows per sgemm where the tiles allow. */
    size_t blocks = (job.tiles + (size_t)BLOCK_MULT * cap - 1) / ((size_t)BLOCK_MULT * cap) * BLOCK_MULT;
    if ((job.tiles + blocks - 1) / blocks < MIN_BLOCK_ROWS)
        blocks = (job.tiles + MIN_BLOCK_ROWS - 1) / MIN_BLOCK_ROWS;
    if (blocks < 1) blocks = 1;
    job.T = (int)((job.tiles + blocks - 1) / blocks);
    blocks = (job.tiles + (size_t)job.T - 1) / (size_t)job.T;
    int shared = threads > 1 && job.tiles < (size_t)threads * PRIVATE_MIN_TILES;
    int buffers = shared ? 1 : threads;

    size_t v_floats = (size_t)P * job.T * cv->cin, m_floats = (size_t)P * job.T * cv->cout;
    float *scratch = oiqa_nn_alloc((size_t)buffers * (v_floats + m_floats) * sizeof(float));
    if (!scratch)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "conv2d: out of memory for Winograd blocks of %d tiles",
                         job.T);

    int blas_threads = openblas_get_num_threads();
    openblas_set_num_threads(1);
#pragma omp parallel num_threads(threads)
    {
        if (shared) {
            float *v = scratch, *m = scratch + v_floats;
            for (size_t blk = 0; blk < blocks; blk++) {
                size_t t0 = blk * (size_t)job.T;
                int nt = (int)(job.tiles - t0 < (size_t)job.T ? job.tiles - t0 : (size_t)job.T);
                shared_block(&job, t0, nt, v, m);
            }
        } else {
            float *v = scratch + (size_t)omp_get_thread_num() * (v_floats + m_floats);
            float *m = v + v_floats;
#pragma omp for schedule(dynamic)
            for (size_t blk = 0; blk < blocks; blk++) {
                size_t t0 = blk * (size_t)job.T;
                int nt = (int)(job.tiles - t0 < (size_t)job.T ? job.tiles - t0 : (size_t)job.T);
                private_block(&job, t0, nt, v, m);
            }
        }
    }
    openblas_set_num_threads(blas_threads);
    oiqa_nn_free(scratch);
    return OIQA_OK;
}
