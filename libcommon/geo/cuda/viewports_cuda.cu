/* GPU viewports (geo/viewports_gpu.h): the twin of oiqa_view_map
 * (geo/viewport.c) and the sample_*.c filters, operation for operation.
 *
 * Exactness. Every float32/float64 operation below that has a CPU
 * counterpart is written with the IEEE round-to-nearest intrinsics
 * (__fadd_rn, __dmul_rn, ...), which nvcc never contracts into FMAs, in the
 * CPU code's order (the CPU build has no FMA: x86-64 without -march, ISO C).
 * The per-view camera trigonometry (tan, sin, cos) is computed on the host
 * by the same expressions as oiqa_view_map. What remains device-specific is
 * atan2 (CUDA: 2 ulp in double) in the map, and sin/log2 in the antialias
 * LOD (computed in double, rounded to float, against glibc's sinf/log2f):
 * these can move a float by one ulp now and then, so an output byte can
 * differ by 1 where the CPU's value sat on a rounding tie.
 *
 * The functions marked HD are also compiled for the host, where they use
 * plain operators (identical on x86-64 without FMA): a test harness can run
 * the per-pixel code on the CPU and compare it with geo/sample_*.c. */
#include <cuda_runtime.h>

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern "C" {
#include "base/error.h"
#include "geo/sphere.h"
#include "geo/viewports_gpu.h"
}

#define HD static inline __host__ __device__

#ifdef __CUDA_ARCH__
#define F_ADD(a, b) __fadd_rn((a), (b))
#define F_SUB(a, b) __fsub_rn((a), (b))
#define F_MUL(a, b) __fmul_rn((a), (b))
#define F_DIV(a, b) __fdiv_rn((a), (b))
#define D_ADD(a, b) __dadd_rn((a), (b))
#define D_SUB(a, b) __dsub_rn((a), (b))
#define D_MUL(a, b) __dmul_rn((a), (b))
#define D_DIV(a, b) __ddiv_rn((a), (b))
#define F_RINT(x) __float2int_rn(x) /* nearest, ties to even, as cvtps2dq */
#else
#define F_ADD(a, b) ((float)(a) + (float)(b))
#define F_SUB(a, b) ((float)(a) - (float)(b))
#define F_MUL(a, b) ((float)(a) * (float)(b))
#define F_DIV(a, b) ((float)(a) / (float)(b))
#define D_ADD(a, b) ((double)(a) + (double)(b))
#define D_SUB(a, b) ((double)(a) - (double)(b))
#define D_MUL(a, b) ((double)(a) * (double)(b))
#define D_DIV(a, b) ((double)(a) / (double)(b))
#define F_RINT(x) ((int)nearbyintf(x))
#endif

enum { BLOCK = 256, MAX_LEVELS = OIQA_VP_PYRAMID_LEVELS, MAX_S = 16384, MAX_V = 65535 };

/* The camera of one view, as oiqa_view_map computes it: t = tan(F/2),
 * ph = the wrapped longitude and (st, ct) = sin, cos of the latitude. */
typedef struct {
    double t, ph, st, ct;
} view_trig;

/* u = lon ku + cu, v = lat kv + cv (lon, lat in radians) for a W x H ERP. */
typedef struct {
    int W, H;
    double ku, cu, kv, cv;
} erp_geom;

/* Pyramid levels inside one device buffer (level 0 is the ERP). */
typedef struct {
    int levels;
    int w[MAX_LEVELS], h[MAX_LEVELS];
    size_t off[MAX_LEVELS];
} pyr_desc;

/* ---- per-pixel code (device, and host for tests) ------------------------ */

/* (u, v) of viewport pixel (i, j) (column, row): oiqa_view_map. The CPU
 * evaluates the columns in mirrored pairs (i, S-1-i) from the x of the left
 * one, the right one taking lon = ph - alpha (and the middle column of an
 * odd S too, written last); the same x is used here so that the two agree
 * to the bit. */
HD void pixel_uv(const view_trig *p, const erp_geom *e, int S, int i, int j, float *u, float *v)
{
    const double y = D_MUL(D_SUB(1.0, D_DIV(D_MUL(2.0, D_ADD((double)j, 0.5)), (double)S)), p->t);
    const double a = D_SUB(p->ct, D_MUL(y, p->st)), b = D_ADD(D_MUL(y, p->ct), p->st);
    const int left = 2 * i < S - 1, k = left ? i : S - 1 - i;
    const double x = D_MUL(D_SUB(D_DIV(D_MUL(2.0, D_ADD((double)k, 0.5)), (double)S), 1.0), p->t);
    const double alpha = atan2(x, a);
    const double lat = atan2(b, sqrt(D_ADD(D_MUL(x, x), D_MUL(a, a))));
    double lon = left ? D_ADD(p->ph, alpha) : D_SUB(p->ph, alpha);
    if (lon <= -OIQA_PI) lon = D_ADD(lon, 2.0 * OIQA_PI);
    else if (lon > OIQA_PI) lon = D_SUB(lon, 2.0 * OIQA_PI);
    *u = (float)D_ADD(D_MUL(lon, e->ku), e->cu);
    *v = (float)D_ADD(D_MUL(lat, e->kv), e->cv);
}

/* geo/sample_internal.h split_u: column in [0, W) and fraction, u wrapping. */
HD int split_u(float u, int W, float *frac)
{
    if (u >= 0.0f && u < (float)W) {
        int x0 = (int)u;
        *frac = F_SUB(u, (float)x0);
        return x0;
    }
    double w = fmod((double)u, (double)W);
    if (!(w >= 0.0)) w = w < 0.0 ? D_ADD(w, (double)W) : 0.0;
    if (w >= W) w = 0.0;
    int x0 = (int)w;
    *frac = (float)D_SUB(w, (double)x0);
    return x0;
}

/* split_v: v clamped to [0, H-1] (NaN -> 0), row and fraction. */
HD int split_v(float v, int H, float *frac)
{
    if (!(v > 0.0f)) v = 0.0f;
    else if (v > (float)(H - 1)) v = (float)(H - 1);
    int y0 = (int)v;
    *frac = F_SUB(v, (float)y0);
    return y0;
}

/* sample_bilinear.c, u8: 14-bit weights, integer blend, rounded. `sse` says
 * which weight rounding the CPU used for this pixel: nearest-even in its
 * SSE2 plan (groups of 4 pixels, all with u in [0, W)), half-up in the
 * scalar plan (any other pixel). */
HD void bilinear_u8_px(const uint8_t *img, int W, int H, float u, float v, int sse, uint8_t *o)
{
    float fx, fy;
    const int x0 = split_u(u, W, &fx), y0 = split_v(v, H, &fy);
    const int x1 = x0 + 1 < W ? x0 + 1 : 0, y1 = y0 + 1 < H ? y0 + 1 : y0;
    const float gx = F_SUB(1.0f, fx), gy = F_SUB(1.0f, fy);
    const float w[4] = {F_MUL(gx, gy), F_MUL(fx, gy), F_MUL(gx, fy), F_MUL(fx, fy)};
    int q[4];
    for (int k = 0; k < 4; k++) {
        const float s = F_MUL(w[k], 16384.0f);
        q[k] = sse ? F_RINT(s) : (int)F_ADD(s, 0.5f);
    }
    const uint8_t *r0 = img + (size_t)y0 * W * 3, *r1 = img + (size_t)y1 * W * 3;
    for (int c = 0; c < 3; c++) {
        int s = r0[3 * x0 + c] * q[0] + r0[3 * x1 + c] * q[1] + r1[3 * x0 + c] * q[2] + r1[3 * x1 + c] * q[3];
        s = (s + (1 << 13)) >> 14;
        o[c] = (uint8_t)(s > 255 ? 255 : s);
    }
}

/* sample_bicubic.c keys_weights (a = -0.75; 5a, 8a, 4a, a+2, a+3 exact). */
HD void keys_weights(float t, float w[4])
{
    const float s0 = F_ADD(1.0f, t), s1 = t, s2 = F_SUB(1.0f, t);
    w[0] = F_SUB(F_MUL(F_ADD(F_MUL(F_SUB(F_MUL(-0.75f, s0), -3.75f), s0), -6.0f), s0), -3.0f);
    w[1] = F_ADD(F_MUL(F_MUL(F_SUB(F_MUL(1.25f, s1), 2.25f), s1), s1), 1.0f);
    w[2] = F_ADD(F_MUL(F_MUL(F_SUB(F_MUL(1.25f, s2), 2.25f), s2), s2), 1.0f);
    w[3] = F_SUB(F_SUB(F_SUB(1.0f, w[0]), w[1]), w[2]);
}

/* sample_bicubic.c: 4 x 4 taps, columns wrapped, rows clamped; each tap
 * row's weighted sum, then the rows weighted, clamped, rounded (even). */
HD void bicubic_u8_px(const uint8_t *img, int W, int H, float u, float v, uint8_t *o)
{
    float fx, fy, wx[4], wy[4];
    const int x0 = split_u(u, W, &fx), y0 = split_v(v, H, &fy);
    keys_weights(fx, wx);
    keys_weights(fy, wy);
    size_t col[4];
    const uint8_t *row[4];
    for (int k = 0; k < 4; k++) {
        int x = x0 - 1 + k, y = y0 - 1 + k;
        x = x < 0 ? x + W : (x >= W ? x - W : x);
        if (x < 0 || x >= W) x = ((x % W) + W) % W; /* W < 3 */
        y = y < 0 ? 0 : (y >= H ? H - 1 : y);
        col[k] = (size_t)x * 3;
        row[k] = img + (size_t)y * W * 3;
    }
    float acc[3] = {0.0f, 0.0f, 0.0f};
    for (int r = 0; r < 4; r++) {
        const uint8_t *q = row[r];
        for (int c = 0; c < 3; c++) {
            float h = F_MUL((float)q[col[0] + c], wx[0]);
            h = F_ADD(h, F_MUL((float)q[col[1] + c], wx[1]));
            h = F_ADD(h, F_MUL((float)q[col[2] + c], wx[2]));
            h = F_ADD(h, F_MUL((float)q[col[3] + c], wx[3]));
            acc[c] = F_ADD(acc[c], F_MUL(h, wy[r]));
        }
    }
    for (int c = 0; c < 3; c++) o[c] = (uint8_t)F_RINT(fminf(fmaxf(acc[c], 0.0f), 255.0f));
}

/* sample_mip.c unwrap_du. */
HD float unwrap_du(float d, float W)
{
    if (d > F_MUL(0.5f, W)) return F_SUB(d, W);
    if (d < F_MUL(-0.5f, W)) return F_ADD(d, W);
    return d;
}

/* sample_mip.c oiqa_map_lod at pixel (i, j) of the S x S map uv. */
HD float pixel_lod(const float *uv, int S, int W, int H, float lat_per_row, int i, int j)
{
    const float fw = (float)W;
    const int ja = j > 0 ? j - 1 : j, jb = j + 1 < S ? j + 1 : j;
    const int ia = i > 0 ? i - 1 : i, ib = i + 1 < S ? i + 1 : i;
    const float *here = uv + 2 * ((size_t)j * S + i);
    const float *pa = uv + 2 * ((size_t)j * S + ia), *pb = uv + 2 * ((size_t)j * S + ib);
    const float *qa = uv + 2 * ((size_t)ja * S + i), *qb = uv + 2 * ((size_t)jb * S + i);
    const float si = ib > ia ? F_DIV(1.0f, (float)(ib - ia)) : 0.0f;
    const float sj = jb > ja ? F_DIV(1.0f, (float)(jb - ja)) : 0.0f;
    const float v = fminf(fmaxf(F_ADD(here[1], 0.5f), 0.0f), (float)H);
    const float c = (float)sin((double)F_MUL(v, lat_per_row));
    const float dui = F_MUL(F_MUL(c, unwrap_du(F_SUB(pb[0], pa[0]), fw)), si), dvi = F_MUL(F_SUB(pb[1], pa[1]), si);
    const float duj = F_MUL(F_MUL(c, unwrap_du(F_SUB(qb[0], qa[0]), fw)), sj), dvj = F_MUL(F_SUB(qb[1], qa[1]), sj);
    const float rho2 = fmaxf(F_ADD(F_MUL(dui, dui), F_MUL(dvi, dvi)), F_ADD(F_MUL(duj, duj), F_MUL(dvj, dvj)));
    return rho2 > 1.0f ? F_MUL(0.5f, (float)log2((double)rho2)) : 0.0f;
}

/* sample_mip.c bilinear_taps + the SSE2 blend: ((p00 w00 + p01 w01) + p10 w10) + p11 w11. */
HD void level_bilinear(const uint8_t *im, int W, int H, float u, float v, float out[3])
{
    float fx, fy;
    const int x0 = split_u(u, W, &fx), y0 = split_v(v, H, &fy);
    const int x1 = x0 + 1 == W ? 0 : x0 + 1, y1 = y0 + 1 < H ? y0 + 1 : y0;
    const uint8_t *r0 = im + (size_t)y0 * W * 3, *r1 = im + (size_t)y1 * W * 3;
    const float gx = F_SUB(1.0f, fx), gy = F_SUB(1.0f, fy);
    const float w0 = F_MUL(gx, gy), w1 = F_MUL(fx, gy), w2 = F_MUL(gx, fy), w3 = F_MUL(fx, fy);
    for (int c = 0; c < 3; c++) {
        float s = F_ADD(F_MUL((float)r0[3 * x0 + c], w0), F_MUL((float)r0[3 * x1 + c], w1));
        s = F_ADD(s, F_MUL((float)r1[3 * x0 + c], w2));
        out[c] = F_ADD(s, F_MUL((float)r1[3 * x1 + c], w3));
    }
}

/* sample_mip.c oiqa_sample_trilinear_u8 for one pixel; base is the buffer
 * of all levels. */
HD void trilinear_u8_px(const uint8_t *base, const pyr_desc *d, float uu, float vv, float lod, uint8_t *o)
{
    const int last = d->levels - 1;
    const float l = lod > 0.0f ? lod : 0.0f; /* also NaN -> 0 */
    const int l0 = l < (float)last ? (int)l : last;
    const float t = l0 < last ? F_SUB(l, (float)l0) : 0.0f;
    const float u = F_ADD(uu, 0.5f), v = F_ADD(vv, 0.5f), s0 = ldexpf(1.0f, -l0), s1 = F_MUL(0.5f, s0);
    float a[3], b[3];
    level_bilinear(base + d->off[l0], d->w[l0], d->h[l0], F_SUB(F_MUL(u, s0), 0.5f), F_SUB(F_MUL(v, s0), 0.5f), a);
    if (t > 0.0f) {
        level_bilinear(base + d->off[l0 + 1], d->w[l0 + 1], d->h[l0 + 1], F_SUB(F_MUL(u, s1), 0.5f),
                       F_SUB(F_MUL(v, s1), 0.5f), b);
        for (int c = 0; c < 3; c++) a[c] = F_ADD(a[c], F_MUL(t, F_SUB(b[c], a[c])));
    }
    for (int c = 0; c < 3; c++) o[c] = (uint8_t)F_RINT(fminf(fmaxf(a[c], 0.0f), 255.0f));
}

/* sample_mip.c downsample_2x2 for destination pixel (x, y). */
HD void down2_px(const uint8_t *src, int w, int h, int x, int y, uint8_t *o)
{
    const int y0 = 2 * y, y1 = 2 * y + 1 < h ? 2 * y + 1 : h - 1;
    const size_t c0 = (size_t)(2 * x) * 3, c1 = (size_t)(2 * x + 1 < w ? 2 * x + 1 : 0) * 3;
    const uint8_t *r0 = src + (size_t)y0 * w * 3, *r1 = src + (size_t)y1 * w * 3;
    for (int c = 0; c < 3; c++) o[c] = (uint8_t)((r0[c0 + c] + r0[c1 + c] + r1[c0 + c] + r1[c1 + c] + 2) >> 2);
}

/* ---- kernels ------------------------------------------------------------- */
/* The sampling kernels run on a grid (ceil(S*S / BLOCK), V): blockIdx.y is
 * the view, p = blockIdx.x * BLOCK + threadIdx.x the pixel j * S + i. */

/* Bilinear or bicubic, map and sample fused. For bilinear the CPU's weight
 * rounding depends on the pixel's group of 4 (p & ~3, within the viewport):
 * BLOCK is a multiple of 32, so the group is 4 aligned lanes of one warp,
 * and a ballot tells whether all four have u in [0, W). The CPU's SSE2 plan
 * covers the groups that end within the viewport (p < (S*S & ~3)); its 64-
 * pixel chunks are multiples of 4 and change nothing. */
__global__ void __launch_bounds__(BLOCK) k_direct(const uint8_t *img, erp_geom e, const view_trig *views, int S,
                                                  int bicubic, uint8_t *out)
{
    const int n_px = S * S, view = blockIdx.y;
    const int p = blockIdx.x * BLOCK + threadIdx.x;
    const int live = p < n_px;
    float u = 0.0f, v = 0.0f;
    if (live) pixel_uv(&views[view], &e, S, p % S, p / S, &u, &v);
    uint8_t *o = out + ((size_t)view * n_px + p) * 3;
    if (bicubic) { /* uniform over the grid */
        if (live) bicubic_u8_px(img, e.W, e.H, u, v, o);
        return;
    }
    const unsigned in = __ballot_sync(0xffffffffu, live && u >= 0.0f && u < (float)e.W);
    const unsigned group = (in >> (threadIdx.x & 28u)) & 0xfu;
    if (!live) return;
    bilinear_u8_px(img, e.W, e.H, u, v, group == 0xfu && p < (n_px & ~3), o);
}

/* The maps alone (antialias needs the neighbours' (u, v)): uv V x S*S x 2. */
__global__ void __launch_bounds__(BLOCK) k_uv(erp_geom e, const view_trig *views, int S, float *uv)
{
    const int n_px = S * S, view = blockIdx.y;
    const int p = blockIdx.x * BLOCK + threadIdx.x;
    if (p >= n_px) return;
    float *m = uv + ((size_t)view * n_px + p) * 2;
    pixel_uv(&views[view], &e, S, p % S, p / S, &m[0], &m[1]);
}

/* Antialias: LOD from the map, then trilinear in the pyramid. */
__global__ void __launch_bounds__(BLOCK) k_trilinear(const uint8_t *base, pyr_desc d, const float *uv, int S,
                                                     float lat_per_row, uint8_t *out)
{
    const int n_px = S * S, view = blockIdx.y;
    const int p = blockIdx.x * BLOCK + threadIdx.x;
    if (p >= n_px) return;
    const float *m = uv + (size_t)view * n_px * 2;
    const float lod = pixel_lod(m, S, d.w[0], d.h[0], lat_per_row, p % S, p / S);
    trilinear_u8_px(base, &d, m[2 * p], m[2 * p + 1], lod, out + ((size_t)view * n_px + p) * 3);
}

/* One pyramid level from the previous: n = dw * dh destination pixels. */
__global__ void __launch_bounds__(BLOCK) k_down2(const uint8_t *src, int w, int h, uint8_t *dst, int dw, long long n)
{
    const long long q = (long long)blockIdx.x * BLOCK + threadIdx.x;
    if (q >= n) return;
    const int x = (int)(q % dw), y = (int)(q / dw);
    down2_px(src, w, h, x, y, dst + q * 3);
}

/* ---- host side ------------------------------------------------------------ */

struct oiqa_vp_gpu {
    cudaStream_t stream;
    uint8_t *h_in;  /* pinned: view parameters, then the ERP */
    uint8_t *h_out; /* pinned: the viewports */
    uint8_t *d_img; /* the ERP, then the pyramid levels (antialias) */
    uint8_t *d_out;
    float *d_uv;    /* antialias maps */
    view_trig *d_views;
    size_t h_in_cap, h_out_cap, d_img_cap, d_out_cap, d_uv_cap, d_views_cap;
};

static int cu_fail(cudaError_t e, const char *what)
{
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "GPU viewports: %s: %s", what, cudaGetErrorString(e));
}

#define CU(call, what)                                   \
    do {                                                 \
        cudaError_t e_ = (call);                         \
        if (e_ != cudaSuccess) return cu_fail(e_, what); \
    } while (0)

static int grow_host(uint8_t **p, size_t *cap, size_t need, const char *what)
{
    if (need <= *cap) return OIQA_OK;
    if (*p) cudaFreeHost(*p);
    *p = NULL;
    *cap = 0;
    void *q = NULL;
    cudaError_t e = cudaHostAlloc(&q, need, cudaHostAllocDefault);
    if (e != cudaSuccess) return cu_fail(e, what);
    *p = (uint8_t *)q;
    *cap = need;
    return OIQA_OK;
}

static int grow_dev(void **p, size_t *cap, size_t need, const char *what)
{
    if (need <= *cap) return OIQA_OK;
    if (*p) cudaFree(*p);
    *p = NULL;
    *cap = 0;
    cudaError_t e = cudaMalloc(p, need);
    if (e != cudaSuccess) {
        *p = NULL;
        return cu_fail(e, what);
    }
    *cap = need;
    return OIQA_OK;
}

extern "C" int oiqa_vp_gpu_create(oiqa_vp_gpu **out)
{
    *out = NULL;
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return cu_fail(e, "no usable CUDA device");
    }
    if (n < 1) return oiqa_fail(OIQA_EXIT_DATA, NULL, "GPU viewports: no CUDA device");
    oiqa_vp_gpu *g = (oiqa_vp_gpu *)calloc(1, sizeof *g);
    if (!g) return oiqa_fail(OIQA_EXIT_DATA, NULL, "GPU viewports: out of memory");
    e = cudaStreamCreateWithFlags(&g->stream, cudaStreamNonBlocking);
    if (e != cudaSuccess) {
        free(g);
        cudaGetLastError();
        return cu_fail(e, "cannot create a CUDA stream");
    }
    *out = g;
    return OIQA_OK;
}

extern "C" void oiqa_vp_gpu_destroy(oiqa_vp_gpu *g)
{
    if (!g) return;
    cudaStreamSynchronize(g->stream);
    if (g->h_in) cudaFreeHost(g->h_in);
    if (g->h_out) cudaFreeHost(g->h_out);
    if (g->d_img) cudaFree(g->d_img);
    if (g->d_out) cudaFree(g->d_out);
    if (g->d_uv) cudaFree(g->d_uv);
    if (g->d_views) cudaFree(g->d_views);
    cudaStreamDestroy(g->stream);
    cudaGetLastError();
    free(g);
}

/* The camera trigonometry of a view: the first lines of oiqa_view_map. */
static void view_trig_of(const oiqa_view *v, view_trig *p)
{
    p->t = tan(0.5 * v->fov * OIQA_DEG2RAD);
    p->ph = oiqa_wrap_lon(v->lon) * OIQA_DEG2RAD;
    const double th = v->lat * OIQA_DEG2RAD;
    p->st = sin(th);
    p->ct = cos(th);
}

/* oiqa_pyramid_build's level sizes (OIQA_VP_PYRAMID_LEVELS levels at most)
 * and their offsets in one buffer; returns the total bytes. */
static size_t pyramid_layout(int W, int H, pyr_desc *d)
{
    memset(d, 0, sizeof *d);
    int n = 1;
    for (int w = W, h = H; n < MAX_LEVELS && (w > 1 || h > 1); n++) w = (w + 1) / 2, h = (h + 1) / 2;
    d->levels = n;
    size_t off = 0;
    for (int l = 0; l < n; l++) {
        d->w[l] = l ? (d->w[l - 1] + 1) / 2 : W;
        d->h[l] = l ? (d->h[l - 1] + 1) / 2 : H;
        d->off[l] = off;
        off += (size_t)d->w[l] * d->h[l] * 3;
    }
    return off;
}

static int sample_impl(oiqa_vp_gpu *g, const oiqa_image *erp, const oiqa_view *views, int V, int S,
                       oiqa_filter filter, uint8_t *out)
{
    const int W = erp->w, H = erp->h, aa = filter == OIQA_FILTER_ANTIALIAS;
    const size_t n_px = (size_t)S * S, erp_bytes = (size_t)W * H * 3, out_bytes = (size_t)V * n_px * 3;
    const size_t views_bytes = (size_t)V * sizeof(view_trig), img_off = (views_bytes + 255) & ~(size_t)255;
    pyr_desc d = {};
    const size_t img_bytes = aa ? pyramid_layout(W, H, &d) : erp_bytes;
    int rc;
    if ((rc = grow_host(&g->h_in, &g->h_in_cap, img_off + erp_bytes, "pinned input buffer")) ||
        (rc = grow_host(&g->h_out, &g->h_out_cap, out_bytes, "pinned output buffer")) ||
        (rc = grow_dev((void **)&g->d_img, &g->d_img_cap, img_bytes, "device image buffer")) ||
        (rc = grow_dev((void **)&g->d_out, &g->d_out_cap, out_bytes, "device viewport buffer")) ||
        (rc = grow_dev((void **)&g->d_views, &g->d_views_cap, views_bytes, "device view buffer")) ||
        (aa && (rc = grow_dev((void **)&g->d_uv, &g->d_uv_cap, (size_t)V * n_px * 2 * sizeof(float),
                              "device map buffer"))))
        return rc;

    view_trig *hv = (view_trig *)g->h_in;
    for (int k = 0; k < V; k++) view_trig_of(&views[k], &hv[k]);
    memcpy(g->h_in + img_off, erp->rgb, erp_bytes);
    cudaStream_t s = g->stream;
    CU(cudaMemcpyAsync(g->d_views, g->h_in, views_bytes, cudaMemcpyHostToDevice, s), "upload");
    CU(cudaMemcpyAsync(g->d_img, g->h_in + img_off, erp_bytes, cudaMemcpyHostToDevice, s), "upload");

    const erp_geom e = {W, H, W / (2.0 * OIQA_PI), 0.5 * W - 0.5, -H / OIQA_PI, 0.5 * H - 0.5};
    const dim3 grid((unsigned)((n_px + BLOCK - 1) / BLOCK), (unsigned)V);
    if (aa) {
        for (int l = 1; l < d.levels; l++) {
            const long long n = (long long)d.w[l] * d.h[l];
            k_down2<<<(unsigned)((n + BLOCK - 1) / BLOCK), BLOCK, 0, s>>>(g->d_img + d.off[l - 1], d.w[l - 1],
                                                                         d.h[l - 1], g->d_img + d.off[l], d.w[l], n);
        }
        k_uv<<<grid, BLOCK, 0, s>>>(e, g->d_views, S, g->d_uv);
        k_trilinear<<<grid, BLOCK, 0, s>>>(g->d_img, d, g->d_uv, S, (float)(OIQA_PI / H), g->d_out);
    } else {
        k_direct<<<grid, BLOCK, 0, s>>>(g->d_img, e, g->d_views, S, filter == OIQA_FILTER_BICUBIC, g->d_out);
    }
    CU(cudaGetLastError(), "kernel launch");
    CU(cudaMemcpyAsync(g->h_out, g->d_out, out_bytes, cudaMemcpyDeviceToHost, s), "download");
    CU(cudaStreamSynchronize(s), "viewport kernels");
    memcpy(out, g->h_out, out_bytes);
    return OIQA_OK;
}

extern "C" int oiqa_vp_gpu_sample(oiqa_vp_gpu *g, const oiqa_image *erp, const oiqa_view *views, int V, int S,
                                  oiqa_filter filter, uint8_t *out)
{
    if (!g || !erp || !erp->rgb || !views || !out)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "GPU viewports: NULL argument");
    if (erp->w < 1 || erp->h < 1 || erp->w > 65535 || erp->h > 65535)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "GPU viewports: ERP of %dx%d (sides 1 to 65535)", erp->w, erp->h);
    if (V < 1 || V > MAX_V || S < 1 || S > MAX_S)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "GPU viewports: %d viewports of %dx%d (1 to %d of 1 to %d pixels)",
                         V, S, S, MAX_V, MAX_S);
    if (filter != OIQA_FILTER_BILINEAR && filter != OIQA_FILTER_BICUBIC && filter != OIQA_FILTER_ANTIALIAS)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "GPU viewports: unknown filter %d", (int)filter);
    int rc = sample_impl(g, erp, views, V, S, filter, out);
    if (rc) {
        /* Leave nothing in flight on the buffers, and clear a non-sticky error. */
        cudaStreamSynchronize(g->stream);
        cudaGetLastError();
    }
    return rc;
}
