/* Separable area / linear resizing; see geo/resize.h. */
#include "geo/resize.h"

#include <math.h>
#include <stdlib.h>

#include "base/error.h"

/* The input taps of every output index along one axis: taps first[o] ..
 * first[o] + count[o] - 1 with weights w[o * max_taps + k], summing to 1. */
typedef struct {
    int *first, *count;
    double *w;
    int max_taps;
} axis_taps;

static void taps_free(axis_taps *t) { free(t->first), free(t->count), free(t->w); }

static int taps_build(int in, int out, axis_taps *t)
{
    double scale = (double)in / out;
    t->max_taps = scale >= 1 ? (int)ceil(scale) + 1 : 2;
    t->first = malloc((size_t)out * sizeof(int));
    t->count = malloc((size_t)out * sizeof(int));
    t->w = calloc((size_t)out * t->max_taps, sizeof(double));
    if (!t->first || !t->count || !t->w) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for resize weights");
    for (int o = 0; o < out; o++) {
        double *w = t->w + (size_t)o * t->max_taps;
        if (scale >= 1) {
            double a = o * scale, b = (o + 1) * scale;
            int i0 = (int)floor(a), i1 = (int)ceil(b);
            if (i1 > in) i1 = in;
            t->first[o] = i0;
            t->count[o] = 0;
            for (int i = i0; i < i1; i++) {
                double lo = i > a ? i : a, hi = i + 1 < b ? i + 1 : b;
                if (hi > lo) w[i - i0] = (hi - lo) / scale, t->count[o] = i - i0 + 1;
            }
        } else {
            double s = (o + 0.5) * scale - 0.5;
            if (s < 0) s = 0;
            int i0 = (int)floor(s);
            if (i0 > in - 1) i0 = in - 1;
            double f = s - i0;
            t->first[o] = i0;
            if (i0 + 1 < in && f > 0) {
                w[0] = 1 - f, w[1] = f, t->count[o] = 2;
            } else {
                w[0] = 1, t->count[o] = 1;
            }
        }
    }
    return OIQA_OK;
}

int oiqa_resize_rgb_u8(const oiqa_image *src, int out_w, int out_h, uint8_t *dst)
{
    if (src->w < 1 || src->h < 1 || out_w < 1 || out_h < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "resize: bad sizes %dx%d -> %dx%d", src->w, src->h, out_w, out_h);
    axis_taps tx = {0}, ty = {0};
    int rc = taps_build(src->w, out_w, &tx);
    if (!rc) rc = taps_build(src->h, out_h, &ty);
    /* Horizontal pass into a double buffer of src->h x out_w x 3, then vertical. */
    double *rows = rc ? NULL : malloc((size_t)src->h * out_w * 3 * sizeof(double));
    if (!rc && !rows) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for resize (%dx%d)", out_w, src->h);
    if (rc) {
        taps_free(&tx), taps_free(&ty);
        return rc;
    }
#pragma omp parallel for schedule(static)
    for (int y = 0; y < src->h; y++) {
        const uint8_t *in = src->rgb + (size_t)y * src->w * 3;
        double *o_row = rows + (size_t)y * out_w * 3;
        for (int x = 0; x < out_w; x++) {
            const double *w = tx.w + (size_t)x * tx.max_taps;
            double acc[3] = {0, 0, 0};
            for (int k = 0; k < tx.count[x]; k++) {
                const uint8_t *p = in + (size_t)(tx.first[x] + k) * 3;
                acc[0] += w[k] * p[0], acc[1] += w[k] * p[1], acc[2] += w[k] * p[2];
            }
            o_row[3 * x] = acc[0], o_row[3 * x + 1] = acc[1], o_row[3 * x + 2] = acc[2];
        }
    }
#pragma omp parallel for schedule(static)
    for (int y = 0; y < out_h; y++) {
        const double *w = ty.w + (size_t)y * ty.max_taps;
        uint8_t *o = dst + (size_t)y * out_w * 3;
        for (int i = 0; i < out_w * 3; i++) {
            double acc = 0;
            for (int k = 0; k < ty.count[y]; k++) acc += w[k] * rows[(size_t)(ty.first[y] + k) * out_w * 3 + i];
            double r = nearbyint(acc);
            o[i] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
        }
    }
    free(rows);
    taps_free(&tx), taps_free(&ty);
    return OIQA_OK;
}
