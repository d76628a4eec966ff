#include "nn/dwconv.h"

#include <string.h>

#include "base/error.h"

void oiqa_dwconv3x3_weight_from_torch(const float *w_c133, int c, float *w_33c)
{
    for (int ch = 0; ch < c; ch++)
        for (int k = 0; k < 9; k++) w_33c[(size_t)k * c + ch] = w_c133[(size_t)ch * 9 + k];
}

/* One output row: start from the bias, then add the (up to) three input
 * rows, each tap a contiguous channel vector. */
static void dwconv_row(const oiqa_tensor *x, const float *w, const float *bias, int b, int i, float *yrow)
{
    const int W = x->w, C = x->c;
    for (int j = 0; j < W; j++) {
        float *yp = yrow + (size_t)j * C;
        if (bias) memcpy(yp, bias, sizeof(float) * C);
        else memset(yp, 0, sizeof(float) * C);
    }
    for (int u = 0; u < 3; u++) {
        int yi = i + u - 1;
        if (yi < 0 || yi >= x->h) continue;
        const float *xrow = x->data + oiqa_tensor_index(x, b, yi, 0, 0);
        for (int j = 0; j < W; j++) {
            float *yp = yrow + (size_t)j * C;
            for (int v = 0; v < 3; v++) {
                int xj = j + v - 1;
                if (xj < 0 || xj >= W) continue;
                const float *xp = xrow + (size_t)xj * C, *wp = w + (size_t)(u * 3 + v) * C;
                for (int ch = 0; ch < C; ch++) yp[ch] += xp[ch] * wp[ch];
            }
        }
    }
}

int oiqa_dwconv3x3(const oiqa_tensor *x, const float *w_33c, const float *bias, oiqa_tensor *y)
{
    if (!oiqa_tensor_same_shape(x, y))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "dwconv3x3: output %dx%dx%dx%d, input %dx%dx%dx%d", y->n, y->h,
                         y->w, y->c, x->n, x->h, x->w, x->c);
    int rows = x->n * x->h;
#pragma omp parallel for schedule(static) if (oiqa_tensor_numel(x) >= (1u << 16))
    for (int r = 0; r < rows; r++)
        dwconv_row(x, w_33c, bias, r / x->h, r % x->h, y->data + oiqa_tensor_index(y, r / x->h, r % x->h, 0, 0));
    return OIQA_OK;
}
