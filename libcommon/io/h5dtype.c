/* The six element types of the store: sizes, names, float16 bits and the
 * element conversions the store does itself (HDF5 converts the rest). */
#include "io/h5store.h"
#include "io/h5util.h"

#include <math.h>
#include <string.h>

size_t oiqa_dtype_size(oiqa_dtype t)
{
    switch (t) {
    case OIQA_U8: return 1;
    case OIQA_F16: return 2;
    case OIQA_I32:
    case OIQA_F32: return 4;
    case OIQA_I64:
    case OIQA_F64: return 8;
    }
    return 0;
}

const char *oiqa_dtype_name(oiqa_dtype t)
{
    switch (t) {
    case OIQA_U8: return "uint8";
    case OIQA_I32: return "int32";
    case OIQA_I64: return "int64";
    case OIQA_F16: return "float16";
    case OIQA_F32: return "float32";
    case OIQA_F64: return "float64";
    }
    return "unknown";
}

uint16_t oiqa_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    uint32_t exp = (x >> 23) & 0xffu, mant = x & 0x7fffffu;
    if (exp == 0xff) /* Inf, or NaN kept quiet with its top payload bits */
        return (uint16_t)(sign | 0x7c00u | (mant ? 0x200u | (mant >> 13) : 0));
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 31) return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) {
        /* Subnormal half (or zero): shift the full significand into place. */
        if (e < -10) return sign;
        mant |= 0x800000u;
        unsigned shift = (unsigned)(14 - e);
        uint32_t h = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1u))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)e << 10) | (mant >> 13), rem = mant & 0x1fffu;
    /* A carry out of the mantissa correctly bumps the exponent (to Inf at the top). */
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++;
    return (uint16_t)(sign | h);
}

float oiqa_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, mant = h & 0x3ffu;
    uint32_t x;
    if (exp == 0x1f) x = sign | 0x7f800000u | (mant << 13);
    else if (exp == 0) {
        float v = ldexpf((float)mant, -24);
        return sign ? -v : v;
    } else x = sign | ((exp - 15 + 127) << 23) | (mant << 13);
    float f;
    memcpy(&f, &x, sizeof f);
    return f;
}

static double load(const void *p, oiqa_dtype t, size_t i)
{
    switch (t) {
    case OIQA_U8: return ((const uint8_t *)p)[i];
    case OIQA_I32: return ((const int32_t *)p)[i];
    case OIQA_I64: return (double)((const int64_t *)p)[i];
    case OIQA_F16: return oiqa_f16_to_f32(((const uint16_t *)p)[i]);
    case OIQA_F32: return ((const float *)p)[i];
    case OIQA_F64: return ((const double *)p)[i];
    }
    return 0;
}

/* Float to integer as HDF5 does it: truncation, clipped to the range, NaN 0. */
static double clip(double v, double lo, double hi)
{
    if (isnan(v)) return 0;
    v = trunc(v);
    return v < lo ? lo : v > hi ? hi : v;
}

static void store(void *p, oiqa_dtype t, size_t i, double v)
{
    switch (t) {
    case OIQA_U8: ((uint8_t *)p)[i] = (uint8_t)clip(v, 0, 255); break;
    case OIQA_I32: ((int32_t *)p)[i] = (int32_t)clip(v, -2147483648.0, 2147483647.0); break;
    case OIQA_I64: ((int64_t *)p)[i] = (int64_t)clip(v, -9223372036854775808.0, 9223372036854774784.0); break;
    case OIQA_F16: ((uint16_t *)p)[i] = oiqa_f32_to_f16((float)v); break;
    case OIQA_F32: ((float *)p)[i] = (float)v; break;
    case OIQA_F64: ((double *)p)[i] = v; break;
    }
}

void oiqa_convert_elements(const void *src, oiqa_dtype from, void *dst, oiqa_dtype to, size_t n)
{
    if (from == to) {
        memmove(dst, src, n * oiqa_dtype_size(to));
        return;
    }
    if (from == OIQA_F16 && to == OIQA_F32) { /* the common case, without the double detour */
        for (size_t i = 0; i < n; i++) ((float *)dst)[i] = oiqa_f16_to_f32(((const uint16_t *)src)[i]);
        return;
    }
    if (from == OIQA_F32 && to == OIQA_F16) {
        for (size_t i = 0; i < n; i++) ((uint16_t *)dst)[i] = oiqa_f32_to_f16(((const float *)src)[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) store(dst, to, i, load(src, from, i));
}
