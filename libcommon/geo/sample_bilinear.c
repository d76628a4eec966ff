/* Bilinear sampling of an ERP at the (u, v) positions of a map (geo/sample.h).
 *
 * The value at (u, v) is the exact bilinear blend
 *   (1-fx)(1-fy) P[y0][x0] + fx(1-fy) P[y0][x1] + (1-fx)fy P[y1][x0] + fx fy P[y1][x1]
 * with x0 = floor(u) mod W, x1 = (x0+1) mod W, fx = u - floor(u), and v
 * clamped to [0, H-1], y0 = floor(v), y1 = min(y0+1, H-1), fy = v - y0.
 * Unlike OpenCV's INTER_LINEAR, positions are not quantised to 1/32 pixel.
 *
 * Speed: a 4096 x 2048 ERP is 25 MB, and a 224 x 224 viewport with a 90 degree
 * field of view steps about 5 ERP pixels per output pixel, so nearly every
 * output row starts on cache lines nobody has touched: the loop is bound by
 * memory latency, then by instruction count. Each call therefore runs in two
 * passes over chunks of PLAN_CHUNK pixels:
 *   plan   where each pixel samples (x0, y0, the offsets to x1 and y1) and its
 *          weights, four pixels at a time with SSE2, and a software prefetch of
 *          the two ERP rows it will read;
 *   blend  the weighted sum, one pixel per iteration with SSE2 (pmaddwd).
 * The plan of chunk k+1 (and its prefetches) is made before chunk k is
 * blended, so the loads of a chunk were requested PLAN_CHUNK pixels earlier.
 *
 * The f32 output uses float32 weights as above (exact up to float rounding,
 * ~1e-4 grey levels). The u8 output uses the same four weights rounded to
 * 14 bits (w * 16384): each is off by at most 0.5/16384, so the blend is off
 * by at most 4 * 0.5/16384 * 255 = 0.03 grey levels before rounding to
 * nearest, and a value differs from the rounded exact blend by at most 1,
 * only next to a .5 tie (measured: 0.26% of the values). Without SSE2 both
 * outputs come from the plain C blends below, with the same arithmetic. */
#include <stddef.h>
#include <string.h>

#include "geo/sample.h"
#include "geo/sample_internal.h"

enum { PLAN_CHUNK = 64, WEIGHT_BITS = 14 };

/* Where and how the pixels of one chunk sample. dx is the byte offset from
 * column x0 to x1 (3, or 3 - 3W at the seam), dy from row y0 to y1 (the row
 * stride, or 0 on the last row). w_top packs the u8 weights of the upper taps
 * as w00 | w01 << 16, w_bot those of the lower taps. */
typedef struct {
    int32_t x0[PLAN_CHUNK], y0[PLAN_CHUNK], dx[PLAN_CHUNK], dy[PLAN_CHUNK];
    float fx[PLAN_CHUNK], fy[PLAN_CHUNK];
    int32_t w_top[PLAN_CHUNK], w_bot[PLAN_CHUNK];
} bilinear_plan;

typedef struct {
    const uint8_t *img;
    int W, H;
    int32_t stride; /* bytes per ERP row */
} erp_view;

static inline int32_t weight_q14(float w) { return (int32_t)(w * (float)(1 << WEIGHT_BITS) + 0.5f); }

/* Plan of one pixel, any (u, v): the reference for the SSE2 plan below. */
static inline void plan_one(const erp_view *e, float u, float v, bilinear_plan *pl, int i)
{
    float fx, fy;
    int x0 = split_u(u, e->W, &fx);
    int y0 = split_v(v, e->H, &fy);
    pl->x0[i] = x0;
    pl->y0[i] = y0;
    pl->dx[i] = x0 + 1 < e->W ? 3 : 3 - 3 * e->W;
    pl->dy[i] = y0 + 1 < e->H ? e->stride : 0;
    pl->fx[i] = fx;
    pl->fy[i] = fy;
    float gx = 1.0f - fx, gy = 1.0f - fy;
    pl->w_top[i] = weight_q14(gx * gy) | weight_q14(fx * gy) << 16;
    pl->w_bot[i] = weight_q14(gx * fy) | weight_q14(fx * fy) << 16;
}

/* Plans pixels [0, n) of uv (n <= PLAN_CHUNK) and prefetches their rows. */
static void plan_chunk(const erp_view *e, const float *uv, int n, bilinear_plan *pl)
{
    int i = 0;
#ifdef __SSE2__
    const __m128 zero = _mm_setzero_ps(), one = _mm_set1_ps(1.0f);
    const __m128 width = _mm_set1_ps((float)e->W), last_row = _mm_set1_ps((float)(e->H - 1));
    const __m128 scale = _mm_set1_ps((float)(1 << WEIGHT_BITS));
    const __m128i last_col = _mm_set1_epi32(e->W - 1), last_rowi = _mm_set1_epi32(e->H - 1);
    const __m128i three = _mm_set1_epi32(3), seam = _mm_set1_epi32(-3 * e->W);
    const __m128i stride = _mm_set1_epi32(e->stride);
    for (; i + 4 <= n; i += 4) {
        __m128 a = _mm_loadu_ps(uv + 2 * i), b = _mm_loadu_ps(uv + 2 * i + 4);
        __m128 u = _mm_shuffle_ps(a, b, _MM_SHUFFLE(2, 0, 2, 0));
        __m128 v = _mm_shuffle_ps(a, b, _MM_SHUFFLE(3, 1, 3, 1));
        /* u outside [0, W) (the seam's last half pixel, or any other map): per pixel */
        if (_mm_movemask_ps(_mm_and_ps(_mm_cmpge_ps(u, zero), _mm_cmplt_ps(u, width))) != 15) {
            for (int k = i; k < i + 4; k++) plan_one(e, uv[2 * k], uv[2 * k + 1], pl, k);
            continue;
        }
        __m128i x0 = _mm_cvttps_epi32(u); /* u >= 0: truncation is floor */
        __m128 fx = _mm_sub_ps(u, _mm_cvtepi32_ps(x0));
        __m128i dx = _mm_add_epi32(three, _mm_and_si128(_mm_cmpeq_epi32(x0, last_col), seam));
        v = _mm_min_ps(_mm_max_ps(v, zero), last_row); /* maxps(NaN, 0) is 0 */
        __m128i y0 = _mm_cvttps_epi32(v);
        __m128 fy = _mm_sub_ps(v, _mm_cvtepi32_ps(y0));
        __m128i dy = _mm_andnot_si128(_mm_cmpeq_epi32(y0, last_rowi), stride);
        __m128 gx = _mm_sub_ps(one, fx), gy = _mm_sub_ps(one, fy);
        /* cvtps rounds to nearest (even); the scalar plan rounds half up: both within 0.5/16384 */
        __m128i w00 = _mm_cvtps_epi32(_mm_mul_ps(_mm_mul_ps(gx, gy), scale));
        __m128i w01 = _mm_cvtps_epi32(_mm_mul_ps(_mm_mul_ps(fx, gy), scale));
        __m128i w10 = _mm_cvtps_epi32(_mm_mul_ps(_mm_mul_ps(gx, fy), scale));
        __m128i w11 = _mm_cvtps_epi32(_mm_mul_ps(_mm_mul_ps(fx, fy), scale));
        _mm_storeu_si128((__m128i *)(pl->x0 + i), x0);
        _mm_storeu_si128((__m128i *)(pl->y0 + i), y0);
        _mm_storeu_si128((__m128i *)(pl->dx + i), dx);
        _mm_storeu_si128((__m128i *)(pl->dy + i), dy);
        _mm_storeu_ps(pl->fx + i, fx);
        _mm_storeu_ps(pl->fy + i, fy);
        _mm_storeu_si128((__m128i *)(pl->w_top + i), _mm_or_si128(w00, _mm_slli_epi32(w01, 16)));
        _mm_storeu_si128((__m128i *)(pl->w_bot + i), _mm_or_si128(w10, _mm_slli_epi32(w11, 16)));
    }
#endif
    for (; i < n; i++) plan_one(e, uv[2 * i], uv[2 * i + 1], pl, i);
    for (i = 0; i < n; i++) {
        const uint8_t *p = e->img + (size_t)pl->y0[i] * e->stride + 3 * (size_t)pl->x0[i];
        __builtin_prefetch(p);
        __builtin_prefetch(p + pl->dy[i]);
    }
}

/* The four taps of planned pixel i: channel c of tap k at t[k][c]. */
static inline void taps(const erp_view *e, const bilinear_plan *pl, int i, const uint8_t *t[4])
{
    t[0] = e->img + (size_t)pl->y0[i] * e->stride + 3 * (size_t)pl->x0[i];
    t[1] = t[0] + pl->dx[i];
    t[2] = t[0] + pl->dy[i];
    t[3] = t[2] + pl->dx[i];
}

/* Plain C blends of one planned pixel (the reference for the SSE2 ones). */
static inline void blend_u8_c(const erp_view *e, const bilinear_plan *pl, int i, uint8_t *out)
{
    const uint8_t *t[4];
    taps(e, pl, i, t);
    int32_t w00 = pl->w_top[i] & 0xffff, w01 = pl->w_top[i] >> 16;
    int32_t w10 = pl->w_bot[i] & 0xffff, w11 = pl->w_bot[i] >> 16;
    for (int c = 0; c < 3; c++) {
        int32_t s = t[0][c] * w00 + t[1][c] * w01 + t[2][c] * w10 + t[3][c] * w11;
        s = (s + (1 << (WEIGHT_BITS - 1))) >> WEIGHT_BITS;
        out[c] = (uint8_t)(s > 255 ? 255 : s);
    }
}

static inline void blend_f32_c(const erp_view *e, const bilinear_plan *pl, int i, float *out)
{
    const uint8_t *t[4];
    taps(e, pl, i, t);
    float fx = pl->fx[i], fy = pl->fy[i], gx = 1.0f - fx, gy = 1.0f - fy;
    float w00 = gx * gy, w01 = fx * gy, w10 = gx * fy, w11 = fx * fy;
    for (int c = 0; c < 3; c++) out[c] = t[0][c] * w00 + t[1][c] * w01 + t[2][c] * w10 + t[3][c] * w11;
}

#ifdef __SSE2__
static inline __m128i load4(const uint8_t *p)
{
    int32_t x;
    memcpy(&x, p, 4);
    return _mm_cvtsi32_si128(x);
}

/* Whether the 4-byte loads of pixel i stay inside the image: the taps are
 * at most t[2] + 3, and only the image's very last pixel has no 4th byte. */
static inline int wide_loads_ok(const erp_view *e, const bilinear_plan *pl, int i, size_t last_px)
{
    size_t off = (size_t)pl->y0[i] * e->stride + 3 * (size_t)pl->x0[i] + (size_t)pl->dy[i] + 3;
    return off < last_px;
}
#endif

/* Blends pixels [0, n) of a plan into out (n x 3); `last` says whether the
 * chunk ends the output (its final pixel may not write a 4th byte). */
static void blend_chunk_u8(const erp_view *e, const bilinear_plan *pl, int n, int last, uint8_t *out)
{
    int i = 0;
#ifdef __SSE2__
    const size_t last_px = (size_t)e->stride * e->H - 3;
    const __m128i zero = _mm_setzero_si128(), half = _mm_set1_epi32(1 << (WEIGHT_BITS - 1));
    const int wide_end = last ? n - 1 : n;
    for (; i < wide_end; i++) {
        if (!wide_loads_ok(e, pl, i, last_px)) {
            blend_u8_c(e, pl, i, out + 3 * i);
            continue;
        }
        const uint8_t *t[4];
        taps(e, pl, i, t);
        /* [a0 b0 a1 b1 a2 b2 a3 b3] as 16-bit, times [w00 w01 ...] pairwise: R, G, B, - */
        __m128i top = _mm_unpacklo_epi8(_mm_unpacklo_epi8(load4(t[0]), load4(t[1])), zero);
        __m128i bot = _mm_unpacklo_epi8(_mm_unpacklo_epi8(load4(t[2]), load4(t[3])), zero);
        __m128i s = _mm_add_epi32(_mm_madd_epi16(top, _mm_set1_epi32(pl->w_top[i])),
                                  _mm_madd_epi16(bot, _mm_set1_epi32(pl->w_bot[i])));
        s = _mm_srli_epi32(_mm_add_epi32(s, half), WEIGHT_BITS);
        s = _mm_packus_epi16(_mm_packs_epi32(s, s), zero);
        int32_t rgbx = _mm_cvtsi128_si32(s);
        memcpy(out + 3 * i, &rgbx, 4); /* the 4th byte is overwritten by pixel i+1 */
    }
#endif
    for (; i < n; i++) blend_u8_c(e, pl, i, out + 3 * i);
}

static void blend_chunk_f32(const erp_view *e, const bilinear_plan *pl, int n, int last, float *out)
{
    int i = 0;
#ifdef __SSE2__
    const size_t last_px = (size_t)e->stride * e->H - 3;
    const __m128i zero = _mm_setzero_si128();
    const __m128 one = _mm_set1_ps(1.0f);
    const int wide_end = last ? n - 1 : n;
    for (; i < wide_end; i++) {
        if (!wide_loads_ok(e, pl, i, last_px)) {
            blend_f32_c(e, pl, i, out + 3 * i);
            continue;
        }
        const uint8_t *t[4];
        taps(e, pl, i, t);
        __m128 fx = _mm_set1_ps(pl->fx[i]), fy = _mm_set1_ps(pl->fy[i]);
        __m128 gx = _mm_sub_ps(one, fx), gy = _mm_sub_ps(one, fy);
        __m128 p[4];
        for (int k = 0; k < 4; k++)
            p[k] = _mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(load4(t[k]), zero), zero));
        /* ((p00 w00 + p01 w01) + p10 w10) + p11 w11, as the plain C blend */
        __m128 s = _mm_add_ps(_mm_mul_ps(p[0], _mm_mul_ps(gx, gy)), _mm_mul_ps(p[1], _mm_mul_ps(fx, gy)));
        s = _mm_add_ps(s, _mm_mul_ps(p[2], _mm_mul_ps(gx, fy)));
        s = _mm_add_ps(s, _mm_mul_ps(p[3], _mm_mul_ps(fx, fy)));
        _mm_storeu_ps(out + 3 * i, s); /* the 4th float is overwritten by pixel i+1 */
    }
#endif
    for (; i < n; i++) blend_f32_c(e, pl, i, out + 3 * i);
}

/* Blends chunk pl (n pixels starting at pixel `first`) into out. */
typedef void (*blend_chunk_fn)(const erp_view *e, const bilinear_plan *pl, int n, int last, void *out, int64_t first);

static void blend_u8_at(const erp_view *e, const bilinear_plan *pl, int n, int last, void *out, int64_t first)
{
    blend_chunk_u8(e, pl, n, last, (uint8_t *)out + 3 * first);
}

static void blend_f32_at(const erp_view *e, const bilinear_plan *pl, int n, int last, void *out, int64_t first)
{
    blend_chunk_f32(e, pl, n, last, (float *)out + 3 * first);
}

/* Plans chunk k+1 (positions, weights, prefetches) before blending chunk k,
 * so the ERP rows chunk k+1 needs are on their way while k is blended. */
static void sample_planned(const oiqa_image *erp, const float *uv, int64_t n_px, blend_chunk_fn blend, void *out)
{
    const erp_view e = {erp->rgb, erp->w, erp->h, (int32_t)(erp->w * 3)};
    bilinear_plan plans[2];
    int cur = 0, n = n_px < PLAN_CHUNK ? (int)n_px : PLAN_CHUNK;
    if (n_px <= 0) return;
    plan_chunk(&e, uv, n, &plans[cur]);
    for (int64_t p = 0; p < n_px; p += PLAN_CHUNK) {
        int64_t next = p + PLAN_CHUNK;
        int n_next = next >= n_px ? 0 : (n_px - next < PLAN_CHUNK ? (int)(n_px - next) : PLAN_CHUNK);
        if (n_next) plan_chunk(&e, uv + 2 * next, n_next, &plans[cur ^ 1]);
        blend(&e, &plans[cur], n, n_next == 0, out, p);
        cur ^= 1;
        n = n_next;
    }
}

/* erp W x H x 3 uint8, uv n_px x 2 float, out n_px x 3 uint8. */
void oiqa_sample_bilinear_u8(const oiqa_image *erp, const float *uv, int64_t n_px, uint8_t *out)
{
    sample_planned(erp, uv, n_px, blend_u8_at, out);
}

/* erp W x H x 3 uint8, uv n_px x 2 float, out n_px x 3 float (0..255). */
void oiqa_sample_bilinear_f32(const oiqa_image *erp, const float *uv, int64_t n_px, float *out)
{
    sample_planned(erp, uv, n_px, blend_f32_at, out);
}
