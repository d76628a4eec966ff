/* Private to geo/sample*.c: how a map position (u, v) becomes the integer
 * pixel and the fraction that bilinear and bicubic weights are built from.
 * u wraps modulo W, v clamps to [0, H-1] (DESIGN §5). */
#ifndef OIQA_GEO_SAMPLE_COORDS_H
#define OIQA_GEO_SAMPLE_COORDS_H

#include <math.h>

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

#endif
