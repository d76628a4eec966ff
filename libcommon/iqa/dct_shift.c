/* Shift-averaged 8x8 DCT filtering; see iqa/dct_shift.h. */
#include "iqa/dct_shift.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "iqa/filter.h"

/* T.81 Table K.1, row-major. */
static const unsigned char K1[64] = {
    16, 11, 10, 16, 24,  40,  51,  61,  12, 12, 14, 19, 26,  58,  60,  55,
    14, 13, 16, 24, 40,  57,  69,  56,  14, 17, 22, 29, 51,  87,  80,  62,
    18, 22, 37, 56, 68,  109, 103, 77,  24, 35, 55, 64, 81,  104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
};

void oiqa_jpeg_luma_table(int quality, float q[64])
{
    quality = quality < 1 ? 1 : quality > 100 ? 100 : quality;
    int s = quality < 50 ? 5000 / quality : 200 - 2 * quality;
    for (int k = 0; k < 64; k++) {
        long v = ((long)K1[k] * s + 50) / 100;
        q[k] = (float)(v < 1 ? 1 : v > 255 ? 255 : v);
    }
}

/* C[u][x] = c(u) cos((2x + 1) u pi / 16): F = C B C^T, B = C^T F C. */
static void dct_matrix(float c[8][8])
{
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < 8; x++)
            c[u][x] = (float)((u ? 0.5 : sqrt(0.125)) * cos((2 * x + 1) * u * M_PI / 16));
}

/* One block: b (8x8, row stride 8) through the transform, the coefficient
 * rule and back, in place. */
static void filter_block(float b[64], const float c[8][8], const float q[64], oiqa_dct_mode mode)
{
    float t[64], f[64];
    /* t = C b (columns), f = t C^T (rows) */
    for (int u = 0; u < 8; u++)
        for (int x = 0; x < 8; x++) {
            float s = 0;
            for (int k = 0; k < 8; k++) s += c[u][k] * b[k * 8 + x];
            t[u * 8 + x] = s;
        }
    for (int u = 0; u < 8; u++)
        for (int v = 0; v < 8; v++) {
            float s = 0;
            for (int k = 0; k < 8; k++) s += t[u * 8 + k] * c[v][k];
            f[u * 8 + v] = s;
        }
    if (mode == OIQA_DCT_REQUANT) {
        for (int k = 0; k < 64; k++) f[k] = rintf(f[k] / q[k]) * q[k];
    } else {
        for (int k = 1; k < 64; k++)
            if (fabsf(f[k]) < q[k]) f[k] = 0;
    }
    /* b = C^T f C */
    for (int x = 0; x < 8; x++)
        for (int v = 0; v < 8; v++) {
            float s = 0;
            for (int k = 0; k < 8; k++) s += c[k][x] * f[k * 8 + v];
            t[x * 8 + v] = s;
        }
    for (int x = 0; x < 8; x++)
        for (int y = 0; y < 8; y++) {
            float s = 0;
            for (int k = 0; k < 8; k++) s += t[x * 8 + k] * c[k][y];
            b[x * 8 + y] = s;
        }
}

/* The fast path: the scaled DCT of Y. Arai, T. Agui & M. Nakajima 1988
 * ("A fast DCT-SQ scheme for images", Trans. IEICE E71(11)), in the
 * floating-point form of the IJG library: the 2-D forward transform gives
 * 8 a(u) a(v) F(u,v) with a(0) = 1, a(k) = sqrt(2) cos(k pi / 16), and the
 * inverse takes a(u) a(v) F(u,v) and gives 8 B; the scales are folded into
 * two tables per coefficient. Each 1-D pass runs on 8 row vectors at once
 * (x[k][0..7]: the k-th sample of 8 columns), so its loops vectorise. */
static void fdct_rows(float x[8][8])
{
    for (int j = 0; j < 8; j++) {
        float t0 = x[0][j] + x[7][j], t7 = x[0][j] - x[7][j], t1 = x[1][j] + x[6][j], t6 = x[1][j] - x[6][j];
        float t2 = x[2][j] + x[5][j], t5 = x[2][j] - x[5][j], t3 = x[3][j] + x[4][j], t4 = x[3][j] - x[4][j];
        float t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
        x[0][j] = t10 + t11, x[4][j] = t10 - t11;
        float z1 = (t12 + t13) * 0.707106781f;
        x[2][j] = t13 + z1, x[6][j] = t13 - z1;
        t10 = t4 + t5, t11 = t5 + t6, t12 = t6 + t7;
        float z5 = (t10 - t12) * 0.382683433f, z2 = 0.541196100f * t10 + z5, z4 = 1.306562965f * t12 + z5;
        float z3 = t11 * 0.707106781f, z11 = t7 + z3, z13 = t7 - z3;
        x[5][j] = z13 + z2, x[3][j] = z13 - z2, x[1][j] = z11 + z4, x[7][j] = z11 - z4;
    }
}

static void idct_rows(float x[8][8])
{
    for (int j = 0; j < 8; j++) {
        float t0 = x[0][j], t1 = x[2][j], t2 = x[4][j], t3 = x[6][j];
        float t10 = t0 + t2, t11 = t0 - t2, t13 = t1 + t3, t12 = (t1 - t3) * 1.414213562f - t13;
        t0 = t10 + t13, t3 = t10 - t13, t1 = t11 + t12, t2 = t11 - t12;
        float t4 = x[1][j], t5 = x[3][j], t6 = x[5][j], t7 = x[7][j];
        float z13 = t6 + t5, z10 = t6 - t5, z11 = t4 + t7, z12 = t4 - t7;
        t7 = z11 + z13;
        t11 = (z11 - z13) * 1.414213562f;
        float z5 = (z10 + z12) * 1.847759065f;
        t10 = 1.082392200f * z12 - z5;
        t12 = -2.613125930f * z10 + z5;
        t6 = t12 - t7, t5 = t11 - t6, t4 = t10 + t5;
        x[0][j] = t0 + t7, x[7][j] = t0 - t7, x[1][j] = t1 + t6, x[6][j] = t1 - t6;
        x[2][j] = t2 + t5, x[5][j] = t2 - t5, x[4][j] = t3 + t4, x[3][j] = t3 - t4;
    }
}

static inline void transpose8(float x[8][8])
{
    for (int i = 0; i < 8; i++)
        for (int j = i + 1; j < 8; j++) {
            float t = x[i][j];
            x[i][j] = x[j][i], x[j][i] = t;
        }
}

typedef struct {
    float inv[64], mul[64], keep[64]; /* per coefficient of the scaled transform, row-major (u, v) */
} fast_tables;

static void fast_tables_init(const float q[64], fast_tables *t)
{
    double a[8];
    for (int k = 0; k < 8; k++) a[k] = k ? sqrt(2.0) * cos(k * M_PI / 16) : 1.0;
    for (int u = 0; u < 8; u++)
        for (int v = 0; v < 8; v++) {
            int k = 8 * u + v;
            double m = 8 * a[u] * a[v]; /* forward output = m F */
            t->inv[k] = (float)(1.0 / (m * q[k]));
            t->mul[k] = (float)(q[k] * a[u] * a[v] / 8.0); /* F_q a a / 8: the inverse then gives B */
            t->keep[k] = (float)(q[k] * m);
        }
}

static void filter_block_fast(float b[8][8], const fast_tables *t, oiqa_dct_mode mode)
{
    fdct_rows(b); /* columns: b[k][x] are the 8 columns' k-th samples */
    transpose8(b);
    fdct_rows(b); /* now b[v][u] */
    transpose8(b); /* b[u][v] = 8 a a F */
    float *f = &b[0][0];
    if (mode == OIQA_DCT_REQUANT) {
        for (int k = 0; k < 64; k++) f[k] = rintf(f[k] * t->inv[k]) * t->mul[k];
    } else {
        const float s = 1.0f / 64;
        for (int k = 0; k < 64; k++) f[k] = (k == 0 || fabsf(f[k]) >= t->keep[k]) ? f[k] * s : 0.0f;
    }
    idct_rows(b);
    transpose8(b);
    idct_rows(b);
    transpose8(b);
}

static int check_args(const float *in, const float *out, int w, int h, const float q[64], oiqa_dct_mode mode, int step)
{
    if (!in || !out || !q || w < 1 || h < 1 || (step != 1 && step != 2 && step != 4 && step != 8) ||
        (mode != OIQA_DCT_REQUANT && mode != OIQA_DCT_HARD))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'dct filter': bad arguments (%dx%d, step %d)", w, h, step);
    for (int k = 0; k < 64; k++)
        if (!(q[k] > 0)) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'dct filter': table entry %d is %g", k, q[k]);
    return OIQA_OK;
}

/* The plane extended by 8 reflected pixels on every side. */
static float *padded_plane(const float *in, int w, int h)
{
    const int pw = w + 16, ph = h + 16;
    float *pad = malloc((size_t)pw * ph * sizeof(float));
    if (!pad) return NULL;
    for (int y = 0; y < ph; y++) {
        const float *row = in + (size_t)oiqa_reflect_index(y - 8, h) * w;
        float *o = pad + (size_t)y * pw;
        for (int x = 0; x < pw; x++) o[x] = row[oiqa_reflect_index(x - 8, w)];
    }
    return pad;
}

int oiqa_dct_shift_filter(const float *in, float *out, int w, int h, const float q[64], oiqa_dct_mode mode, int step)
{
    int rc = check_args(in, out, w, h, q, mode, step);
    if (rc) return rc;
    const int pw = w + 16;
    float *pad = padded_plane(in, w, h), *acc = calloc((size_t)w * h, sizeof(float));
    if (!pad || !acc) {
        free(pad), free(acc);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for DCT filtering %dx%d", w, h);
    }
    fast_tables tab;
    fast_tables_init(q, &tab);
    int big = (double)w * h >= (1 << 18), shifts = 0;
    for (int dy = 0; dy < 8; dy += step)
        for (int dx = 0; dx < 8; dx += step, shifts++) {
            /* blocks at padded (dx + 8i, dy + 8j) overlapping the image [8, 8 + w) x [8, 8 + h) */
            int nbx = (w + 8 - dx + 7) / 8, nby = (h + 8 - dy + 7) / 8;
#pragma omp parallel for schedule(static) if (big)
            for (int j = 0; j < nby; j++) {
                int oy = dy + 8 * j;
                if (oy + 8 <= 8 || oy >= 8 + h) continue;
                for (int i = 0; i < nbx; i++) {
                    int ox = dx + 8 * i;
                    if (ox + 8 <= 8 || ox >= 8 + w) continue;
                    float b[8][8];
                    for (int y = 0; y < 8; y++) memcpy(b[y], pad + (size_t)(oy + y) * pw + ox, 8 * sizeof(float));
                    filter_block_fast(b, &tab, mode);
                    for (int y = 0; y < 8; y++) {
                        int iy = oy + y - 8;
                        if (iy < 0 || iy >= h) continue;
                        float *a = acc + (size_t)iy * w;
                        for (int x = 0; x < 8; x++) {
                            int ix = ox + x - 8;
                            if (ix >= 0 && ix < w) a[ix] += b[y][x];
                        }
                    }
                }
            }
        }
    size_t n = (size_t)w * h;
    for (size_t k = 0; k < n; k++) out[k] = acc[k] / (float)shifts;
    free(pad), free(acc);
    return OIQA_OK;
}

/* The reference: block by block, the same arithmetic (tests compare the two). */
int oiqa_dct_shift_filter_naive(const float *in, float *out, int w, int h, const float q[64], oiqa_dct_mode mode, int step)
{
    int rc = check_args(in, out, w, h, q, mode, step);
    if (rc) return rc;
    const int pw = w + 16;
    float *pad = padded_plane(in, w, h), *acc = calloc((size_t)w * h, sizeof(float));
    if (!pad || !acc) {
        free(pad), free(acc);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for DCT filtering %dx%d", w, h);
    }
    float c[8][8];
    dct_matrix(c);
    int shifts = 0;
    for (int dy = 0; dy < 8; dy += step)
        for (int dx = 0; dx < 8; dx += step, shifts++) {
            /* blocks at padded (dx + 8i, dy + 8j) overlapping the image [8, 8 + w) x [8, 8 + h) */
            int nbx = (w + 8 - dx + 7) / 8, nby = (h + 8 - dy + 7) / 8;
            for (int j = 0; j < nby; j++) {
                int oy = dy + 8 * j;
                if (oy + 8 <= 8 || oy >= 8 + h) continue;
                for (int i = 0; i < nbx; i++) {
                    int ox = dx + 8 * i;
                    if (ox + 8 <= 8 || ox >= 8 + w) continue;
                    float b[64];
                    for (int y = 0; y < 8; y++) memcpy(b + 8 * y, pad + (size_t)(oy + y) * pw + ox, 8 * sizeof(float));
                    filter_block(b, c, q, mode);
                    for (int y = 0; y < 8; y++) {
                        int iy = oy + y - 8;
                        if (iy < 0 || iy >= h) continue;
                        float *a = acc + (size_t)iy * w;
                        for (int x = 0; x < 8; x++) {
                            int ix = ox + x - 8;
                            if (ix >= 0 && ix < w) a[ix] += b[8 * y + x];
                        }
                    }
                }
            }
        }
    size_t n = (size_t)w * h;
    for (size_t k = 0; k < n; k++) out[k] = acc[k] / (float)shifts;
    free(pad), free(acc);
    return OIQA_OK;
}
