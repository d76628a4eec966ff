/* Private to geo/sample_*.c: how a map position (u, v) becomes the integer
 * pixel and the fraction the filter weights are built from (u wraps modulo
 * W, v clamps to [0, H-1], DESIGN §5), and SSE2 helpers to move one RGB pixel
 * in and out of a vector. */
#ifndef OIQA_GEO_SAMPLE_INTERNAL_H
#define OIQA_GEO_SAMPLE_INTERNAL_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* Splits a horizontal coordinate into a column x0 in [0, W) and a fraction
 * in [0, 1), wrapping modulo W. The common case (u within [0, W)) costs a
 * truncation; anything else (negative, beyond W, NaN) goes through fmod. */
static inline int split_u(float u, int W, float *frac)
{
    if (u >= 0.0f && u < (float)W) {
        int x0 = (int)u;
        *frac = u - (float)x0;
        return x0;
    }
    double w = fmod((double)u, (double)W);
    if (!(w >= 0.0)) w = w < 0.0 ? w + W : 0.0; /* negative, or NaN -> 0 */
    if (w >= W) w = 0.0;                        /* a tiny negative u rounded up to W */
    int x0 = (int)w;
    *frac = (float)(w - x0);
    return x0;
}

/* Clamps v to [0, H-1] (NaN -> 0) and splits it into a row and a fraction. */
static inline int split_v(float v, int H, float *frac)
{
    if (!(v > 0.0f)) v = 0.0f;
    else if (v > (float)(H - 1)) v = (float)(H - 1);
    int y0 = (int)v;
    *frac = v - (float)y0;
    return y0;
}

#ifdef __SSE2__
/* The RGB pixel at p as floats [R, G, B, x]. A 4-byte load, except at
 * `last` (the image's final pixel), which has no 4th byte to read. */
static inline __m128 load_rgb_ps(const uint8_t *p, const uint8_t *last)
{
    int32_t x;
    if (p != last) memcpy(&x, p, 4);
    else x = p[0] | p[1] << 8 | p[2] << 16;
    __m128i z = _mm_setzero_si128();
    return _mm_cvtepi32_ps(_mm_unpacklo_epi16(_mm_unpacklo_epi8(_mm_cvtsi32_si128(x), z), z));
}

/* Rounds [R, G, B, x] (already clamped to [0, 255]) to nearest and stores 3
 * bytes at out; `wide` allows a 4-byte store (the 4th byte is scratch). */
static inline void store_rgb_u8(__m128 s, uint8_t *out, int wide)
{
    __m128i i = _mm_cvtps_epi32(s); /* nearest, ties to even */
    i = _mm_packus_epi16(_mm_packs_epi32(i, i), i);
    int32_t x = _mm_cvtsi128_si32(i);
    if (wide) memcpy(out, &x, 4);
    else out[0] = (uint8_t)x, out[1] = (uint8_t)(x >> 8), out[2] = (uint8_t)(x >> 16);
}
#endif

#endif
