/* exp and erf written so that GCC vectorises loops calling them (libm's
 * expf/erff do not vectorise without -ffast-math): straight-line float
 * arithmetic, and no float comparisons (GCC 12 at -O2 will not if-convert
 * those; selects here work on the integer bits instead). For the selective
 * scan (nn/selective_scan.c) and GELU (nn/activation.c).
 * Accuracy: oiqa_vexp_neg within 2 ulp; oiqa_verf within 1.5e-7 absolute,
 * which gives GELU within 1.2e-7 max(1, |x|) of the exact value, as
 * 0.5 x (1 + erff(x / sqrt 2)) computed with libm in float does (1.0e-7). */
#ifndef OIQA_NN_VMATH_H
#define OIQA_NN_VMATH_H

#include <stdint.h>
#include <string.h>

static inline uint32_t oiqa_vmath_bits(float x)
{
    uint32_t b;
    memcpy(&b, &x, sizeof b);
    return b;
}

static inline float oiqa_vmath_float(uint32_t b)
{
    float x;
    memcpy(&x, &b, sizeof x);
    return x;
}

/* exp(-|x|), with |x| clamped at 87 (e^-87 ~ 1.6e-38 keeps 2^k a normal
 * float): exp(y) = 2^k e^r with k = round(y / ln 2), r = y - k ln 2 in
 * [-ln2/2, ln2/2] (ln 2 split in two so r is exact), e^r by its degree-7
 * Taylor polynomial (truncation < 6e-9 relative), 2^k built in the exponent
 * bits. */
static inline float oiqa_vexp_neg(float x)
{
    const uint32_t mag = oiqa_vmath_bits(x) & 0x7fffffffu, max_mag = 0x42ae0000u; /* 87.0f */
    const float y = -oiqa_vmath_float(mag > max_mag ? max_mag : mag);              /* an unsigned min */
    const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
    const float kf = (y * 1.44269504088896341f + shifter) - shifter;
    const float r = (y - kf * 0.693145751953125f) - kf * 1.42860682030941723212e-6f;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * oiqa_vmath_float((uint32_t)((int32_t)kf + 127) << 23);
}

/* erf(x). |x| < 0.875: x times the Taylor series of erf(x)/x in x^2 to x^20
 * (2/sqrt(pi) (-1)^n / (n! (2n+1)); truncation < 1e-10). Otherwise
 * 1 - e^{-x^2} f(|x|) with f(a) = erfc(a) e^{a^2} as a degree-9 polynomial
 * in w = (1/(1+a) - 11/30) * 6, a least-squares fit on [0.875, 4] (relative
 * error 5e-10); |x| is clamped at 4, where 1 - erfc rounds to 1 anyway. */
static inline float oiqa_verf(float x)
{
    const uint32_t bits = oiqa_vmath_bits(x), sign = bits & 0x80000000u, mag = bits & 0x7fffffffu;
    const float a = oiqa_vmath_float(mag), a2 = a * a;
    float s = 1.48071928e-08f; /* n = 10 */
    s = s * a2 - 1.63658447e-07f;
    s = s * a2 + 1.64621144e-06f;
    s = s * a2 - 1.49256504e-05f;
    s = s * a2 + 1.20553330e-04f;
    s = s * a2 - 8.54832702e-04f;
    s = s * a2 + 5.22397763e-03f;
    s = s * a2 - 2.68661706e-02f;
    s = s * a2 + 1.12837917e-01f;
    s = s * a2 - 3.76126389e-01f;
    s = s * a2 + 1.12837917e+00f; /* n = 0: 2 / sqrt(pi) */
    const float small = a * s;
    const uint32_t four = 0x40800000u; /* 4.0f */
    const float ac = oiqa_vmath_float(mag > four ? four : mag);
    const float w = (1.0f / (1.0f + ac) - 0.36666666666666667f) * 6.0f;
    float f = -4.5465171e-08f;
    f = f * w + 5.6382958e-07f;
    f = f * w - 1.6012948e-06f;
    f = f * w - 6.0260139e-06f;
    f = f * w + 6.9623724e-05f;
    f = f * w - 1.3520833e-04f;
    f = f * w - 1.9647430e-03f;
    f = f * w + 1.2818154e-02f;
    f = f * w + 1.6555283e-01f;
    f = f * w + 2.8797804e-01f;
    const float large = 1.0f - oiqa_vexp_neg(ac * ac) * f;
    /* select by the magnitude bits, as a mask (no branch, no float compare) */
    const uint32_t use_small = (uint32_t)0 - (uint32_t)(mag < 0x3f600000u); /* 0.875f */
    return oiqa_vmath_float(((oiqa_vmath_bits(small) & use_small) | (oiqa_vmath_bits(large) & ~use_small)) | sign);
}

#endif
