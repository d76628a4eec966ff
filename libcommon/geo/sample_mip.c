/* The antialias filter (geo/sample.h): trilinear mipmapping after
 * L. Williams, "Pyramidal parametrics", SIGGRAPH 1983, with the level of
 * detail chosen as in the OpenGL specification (§8.14 of GL 4.6: lambda =
 * log2 rho, rho the larger of the two axis footprints of a pixel), measured
 * on the sphere (see oiqa_map_lod below).
 *
 * Level l has pixels 2^l ERP pixels wide; a map position (u, v) in level-0
 * pixels is (u_l, v_l) = ((u + 0.5) / 2^l - 0.5, (v + 0.5) / 2^l - 0.5) there
 * (pixel centres stay at the centres of their 2^l x 2^l blocks). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "geo/sample.h"
#include "geo/sample_internal.h"
#include "geo/sphere.h"

/* src w x h x 3 -> dst ceil(w/2) x ceil(h/2) x 3: the rounded mean of the
 * 2 x 2 block at (2x, 2y). For odd sizes the last block wraps horizontally
 * (columns w-1 and 0, as the ERP is periodic) and repeats the last row
 * vertically (latitude clamps). */
static void downsample_2x2(const oiqa_image *src, oiqa_image *dst)
{
    const int w = src->w, h = src->h;
    const size_t stride = (size_t)w * 3;
    for (int y = 0; y < dst->h; y++) {
        int y0 = 2 * y, y1 = 2 * y + 1 < h ? 2 * y + 1 : h - 1;
        const uint8_t *r0 = src->rgb + (size_t)y0 * stride, *r1 = src->rgb + (size_t)y1 * stride;
        uint8_t *o = dst->rgb + (size_t)y * dst->w * 3;
        for (int x = 0; x < dst->w; x++) {
            size_t c0 = (size_t)(2 * x) * 3, c1 = (size_t)(2 * x + 1 < w ? 2 * x + 1 : 0) * 3;
            for (int ch = 0; ch < 3; ch++)
                o[3 * x + ch] = (uint8_t)((r0[c0 + ch] + r0[c1 + ch] + r1[c0 + ch] + r1[c1 + ch] + 2) >> 2);
        }
    }
}

int oiqa_pyramid_build(const oiqa_image *erp, int max_levels, oiqa_pyramid *p)
{
    p->levels = 0;
    p->level = NULL;
    if (!erp || !erp->rgb || erp->w < 1 || erp->h < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "mip pyramid: empty image");
    int n = 1;
    for (int w = erp->w, h = erp->h; n < max_levels && (w > 1 || h > 1); n++)
        w = (w + 1) / 2, h = (h + 1) / 2;
    p->level = calloc((size_t)n, sizeof *p->level);
    if (!p->level) return oiqa_fail(OIQA_EXIT_DATA, NULL, "mip pyramid: out of memory");
    p->level[0] = *erp;
    p->levels = 1;
    for (int l = 1; l < n; l++) {
        oiqa_image *prev = &p->level[l - 1], *cur = &p->level[l];
        cur->w = (prev->w + 1) / 2;
        cur->h = (prev->h + 1) / 2;
        cur->rgb = malloc((size_t)cur->w * cur->h * 3);
        if (!cur->rgb) {
            oiqa_pyramid_free(p);
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "mip pyramid: out of memory (level %d)", l);
        }
        downsample_2x2(prev, cur);
        p->levels = l + 1;
    }
    return OIQA_OK;
}

void oiqa_pyramid_free(oiqa_pyramid *p)
{
    if (!p->level) return;
    for (int l = 1; l < p->levels; l++) free(p->level[l].rgb);
    free(p->level);
    p->level = NULL;
    p->levels = 0;
}

/* Difference of two u coordinates taken the short way round the seam. */
static inline float unwrap_du(float d, float W)
{
    if (d > 0.5f * W) return d - W;
    if (d < -0.5f * W) return d + W;
    return d;
}

/* uv S x S x 2 -> lod S x S: lambda = log2 rho, clamped below at 0, with
 * rho = max(|(c du/di, dv/di)|, |(c du/dj, dv/dj)|), the larger footprint of
 * the two pixel axes in ERP pixels. The derivatives are central differences
 * (one-sided on the border, 0 for S = 1), du is unwrapped across the seam,
 * and c = cos(lat) at the pixel: a step of du columns at latitude lat spans
 * c du pixels' worth of the sphere, so rho measures the footprint on the
 * sphere. Near a pole the horizontal footprint in ERP columns is large, but
 * those columns are the pole's oversampling; the pyramid then filters fewer
 * of them than the pixel covers, which only matters for content that varies
 * with longitude right at the pole. */
void oiqa_map_lod(const float *uv, int S, int W, int H, float *lod)
{
    const float fw = (float)W, lat_per_row = (float)(OIQA_PI / H);
    for (int j = 0; j < S; j++) {
        int ja = j > 0 ? j - 1 : j, jb = j + 1 < S ? j + 1 : j;
        for (int i = 0; i < S; i++) {
            int ia = i > 0 ? i - 1 : i, ib = i + 1 < S ? i + 1 : i;
            const float *here = uv + 2 * ((size_t)j * S + i);
            const float *pa = uv + 2 * ((size_t)j * S + ia), *pb = uv + 2 * ((size_t)j * S + ib);
            const float *qa = uv + 2 * ((size_t)ja * S + i), *qb = uv + 2 * ((size_t)jb * S + i);
            float si = ib > ia ? 1.0f / (float)(ib - ia) : 0.0f;
            float sj = jb > ja ? 1.0f / (float)(jb - ja) : 0.0f;
            /* cos(lat) = sin(pi (v + 0.5) / H), v clamped to the sphere */
            float v = fminf(fmaxf(here[1] + 0.5f, 0.0f), (float)H);
            float c = sinf(v * lat_per_row);
            float dui = c * unwrap_du(pb[0] - pa[0], fw) * si, dvi = (pb[1] - pa[1]) * si;
            float duj = c * unwrap_du(qb[0] - qa[0], fw) * sj, dvj = (qb[1] - qa[1]) * sj;
            float rho2 = fmaxf(dui * dui + dvi * dvi, duj * duj + dvj * dvj);
            /* log2(rho) = 0.5 log2(rho^2); NaN maps give 0 */
            lod[(size_t)j * S + i] = rho2 > 1.0f ? 0.5f * log2f(rho2) : 0.0f;
        }
    }
}

/* Bilinear at level coordinates (u wraps modulo the level width, v clamps),
 * per channel: ((p00 w00 + p01 w01) + p10 w10) + p11 w11 in float32. */
static inline void bilinear_taps(const oiqa_image *im, float u, float v, const uint8_t *t[4], float w[4])
{
    const int W = im->w, H = im->h;
    float fx, fy;
    int x0 = split_u(u, W, &fx);
    int y0 = split_v(v, H, &fy);
    int x1 = x0 + 1 == W ? 0 : x0 + 1;
    int y1 = y0 + 1 < H ? y0 + 1 : y0;
    const uint8_t *r0 = im->rgb + (size_t)y0 * W * 3, *r1 = im->rgb + (size_t)y1 * W * 3;
    t[0] = r0 + 3 * x0, t[1] = r0 + 3 * x1, t[2] = r1 + 3 * x0, t[3] = r1 + 3 * x1;
    float gx = 1.0f - fx, gy = 1.0f - fy;
    w[0] = gx * gy, w[1] = fx * gy, w[2] = gx * fy, w[3] = fx * fy;
}

#ifdef __SSE2__
static inline __m128 bilinear_ps(const oiqa_image *im, float u, float v)
{
    const uint8_t *t[4], *last = im->rgb + ((size_t)im->w * im->h - 1) * 3;
    float w[4];
    bilinear_taps(im, u, v, t, w);
    __m128 s = _mm_add_ps(_mm_mul_ps(load_rgb_ps(t[0], last), _mm_set1_ps(w[0])),
                          _mm_mul_ps(load_rgb_ps(t[1], last), _mm_set1_ps(w[1])));
    s = _mm_add_ps(s, _mm_mul_ps(load_rgb_ps(t[2], last), _mm_set1_ps(w[2])));
    return _mm_add_ps(s, _mm_mul_ps(load_rgb_ps(t[3], last), _mm_set1_ps(w[3])));
}
#else
static inline void bilinear_px(const oiqa_image *im, float u, float v, float out[3])
{
    const uint8_t *t[4];
    float w[4];
    bilinear_taps(im, u, v, t, w);
    for (int ch = 0; ch < 3; ch++) out[ch] = t[0][ch] * w[0] + t[1][ch] * w[1] + t[2][ch] * w[2] + t[3][ch] * w[3];
}
#endif

/* uv n_px x 2 and lod n_px (from oiqa_map_lod) -> out n_px x 3 uint8:
 * bilinear in levels floor(lod) and floor(lod) + 1, mixed linearly by the
 * fraction of lod (a + t (b - a)), rounded to nearest; lod beyond the last
 * level samples the last level. */
void oiqa_sample_trilinear_u8(const oiqa_pyramid *p, const float *uv, const float *lod, int64_t n_px,
                              uint8_t *out)
{
    const int last = p->levels - 1;
    float scale[64]; /* 2^-l; a pyramid of 65535-pixel sides has 17 levels */
    for (int l = 0; l <= last && l < 64; l++) scale[l] = ldexpf(1.0f, -l);
    for (int64_t q = 0; q < n_px; q++) {
        float l = lod[q] > 0.0f ? lod[q] : 0.0f; /* also NaN -> 0 */
        int l0 = l < (float)last ? (int)l : last;
        float t = l0 < last ? l - (float)l0 : 0.0f;
        float u = uv[2 * q] + 0.5f, v = uv[2 * q + 1] + 0.5f, s0 = scale[l0], s1 = 0.5f * s0;
#ifdef __SSE2__
        __m128 a = bilinear_ps(&p->level[l0], u * s0 - 0.5f, v * s0 - 0.5f);
        if (t > 0.0f) {
            __m128 b = bilinear_ps(&p->level[l0 + 1], u * s1 - 0.5f, v * s1 - 0.5f);
            a = _mm_add_ps(a, _mm_mul_ps(_mm_set1_ps(t), _mm_sub_ps(b, a)));
        }
        store_rgb_u8(_mm_min_ps(_mm_max_ps(a, _mm_setzero_ps()), _mm_set1_ps(255.0f)), out + 3 * q, q + 1 < n_px);
#else
        float a[3], b[3] = {0.0f, 0.0f, 0.0f};
        bilinear_px(&p->level[l0], u * s0 - 0.5f, v * s0 - 0.5f, a);
        if (t > 0.0f) bilinear_px(&p->level[l0 + 1], u * s1 - 0.5f, v * s1 - 0.5f, b);
        for (int ch = 0; ch < 3; ch++) {
            float s = a[ch] + t * (b[ch] - a[ch]) + 0.5f;
            out[3 * q + ch] = s <= 0.0f ? 0 : (s >= 255.0f ? 255 : (uint8_t)s);
        }
#endif
    }
}
