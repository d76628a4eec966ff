/* Bicubic sampling of an ERP at the (u, v) positions of a map (geo/sample.h). */
#include <stddef.h>

#include "geo/sample.h"
#include "geo/sample_internal.h"

/* Keys cubic convolution kernel weights for the taps at offsets -1, 0, 1, 2
 * from x0, given the fraction t in [0, 1) (R. Keys, "Cubic convolution
 * interpolation for digital image processing", IEEE TASSP 1981), with
 * a = -0.75 as OpenCV's INTER_CUBIC:
 *   k(s) = (a+2)|s|^3 - (a+3)|s|^2 + 1        for |s| <= 1
 *   k(s) = a|s|^3 - 5a|s|^2 + 8a|s| - 4a      for 1 < |s| < 2
 * The four weights sum to 1; the last is taken as 1 - the others. */
static inline void keys_weights(float t, float w[4])
{
    const float a = -0.75f;
    float s0 = 1.0f + t, s1 = t, s2 = 1.0f - t;
    w[0] = ((a * s0 - 5.0f * a) * s0 + 8.0f * a) * s0 - 4.0f * a;
    w[1] = ((a + 2.0f) * s1 - (a + 3.0f)) * s1 * s1 + 1.0f;
    w[2] = ((a + 2.0f) * s2 - (a + 3.0f)) * s2 * s2 + 1.0f;
    w[3] = 1.0f - w[0] - w[1] - w[2];
}

/* erp W x H x 3 uint8, uv n_px x 2 float, out n_px x 3 uint8.
 * 4 x 4 taps around (x0, y0): columns x0-1..x0+2 wrapped modulo W, rows
 * y0-1..y0+2 clamped to [0, H-1] (v itself clamped first); the sum of each
 * tap row weighted by the column weights, then of the rows by the row
 * weights (float32, in this order), clamped to [0, 255] and rounded to
 * nearest. With SSE2 the three channels are summed in one vector, in the
 * same order. */
void oiqa_sample_bicubic_u8(const oiqa_image *erp, const float *uv, int64_t n_px, uint8_t *out)
{
    const int W = erp->w, H = erp->h;
    const size_t stride = (size_t)W * 3;
    const uint8_t *img = erp->rgb;
#ifdef __SSE2__
    const uint8_t *last = img + ((size_t)W * H - 1) * 3;
    const __m128 lo = _mm_setzero_ps(), hi = _mm_set1_ps(255.0f);
#endif
    for (int64_t p = 0; p < n_px; p++) {
        float fx, fy, wx[4], wy[4];
        int x0 = split_u(uv[2 * p], W, &fx);
        int y0 = split_v(uv[2 * p + 1], H, &fy);
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
            row[k] = img + (size_t)y * stride;
        }
#ifdef __SSE2__
        __m128 acc = _mm_setzero_ps();
        for (int r = 0; r < 4; r++) {
            const uint8_t *q = row[r];
            __m128 h = _mm_mul_ps(load_rgb_ps(q + col[0], last), _mm_set1_ps(wx[0]));
            h = _mm_add_ps(h, _mm_mul_ps(load_rgb_ps(q + col[1], last), _mm_set1_ps(wx[1])));
            h = _mm_add_ps(h, _mm_mul_ps(load_rgb_ps(q + col[2], last), _mm_set1_ps(wx[2])));
            h = _mm_add_ps(h, _mm_mul_ps(load_rgb_ps(q + col[3], last), _mm_set1_ps(wx[3])));
            acc = _mm_add_ps(acc, _mm_mul_ps(h, _mm_set1_ps(wy[r])));
        }
        store_rgb_u8(_mm_min_ps(_mm_max_ps(acc, lo), hi), out + 3 * p, p + 1 < n_px);
#else
        float acc[3] = {0.0f, 0.0f, 0.0f};
        for (int r = 0; r < 4; r++) {
            const uint8_t *q = row[r];
            for (int ch = 0; ch < 3; ch++) {
                float h = q[col[0] + ch] * wx[0] + q[col[1] + ch] * wx[1] + q[col[2] + ch] * wx[2] +
                          q[col[3] + ch] * wx[3];
                acc[ch] += h * wy[r];
            }
        }
        for (int ch = 0; ch < 3; ch++) {
            float s = acc[ch] + 0.5f;
            out[3 * p + ch] = s <= 0.0f ? 0 : (s >= 255.0f ? 255 : (uint8_t)s);
        }
#endif
    }
}
