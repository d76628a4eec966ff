#include "nn/pool.h"

#include <math.h>

#include "base/error.h"
#include "nn/conv2d.h"

enum { STATS_CHANNELS = 64 }; /* channels per task in the statistics */

/* One OpenMP task per output row (b, i); each output pixel starts at -inf and
 * takes the max over the taps inside the image, c channels at a time. */
int oiqa_maxpool2d(const oiqa_tensor *x, int k, int stride, int pad, oiqa_tensor *y)
{
    if (k < 1 || stride < 1 || pad < 0 || 2 * pad > k)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "maxpool: bad parameters k %d, stride %d, pad %d",
                         k, stride, pad);
    int oh = oiqa_conv2d_out_size(x->h, k, stride, pad);
    int ow = oiqa_conv2d_out_size(x->w, k, stride, pad);
    if (oh < 1 || ow < 1 || y->n != x->n || y->h != oh || y->w != ow || y->c != x->c)
        return oiqa_fail(OIQA_EXIT_DATA, NULL,
                         "maxpool: output %dx%dx%dx%d does not fit input %dx%dx%dx%d with k %d, "
                         "stride %d, pad %d",
                         y->n, y->h, y->w, y->c, x->n, x->h, x->w, x->c, k, stride, pad);
    const int c = x->c;
    const long out_rows = (long)x->n * oh;
#pragma omp parallel for schedule(static)
    for (long row = 0; row < out_rows; row++) {
        int b = (int)(row / oh), i = (int)(row % oh);
        for (int j = 0; j < ow; j++) {
            float *dst = y->data + oiqa_tensor_index(y, b, i, j, 0);
            for (int ch = 0; ch < c; ch++) dst[ch] = -INFINITY;
            for (int u = 0; u < k; u++) {
                int iy = i * stride - pad + u;
                if (iy < 0 || iy >= x->h) continue;
                for (int v = 0; v < k; v++) {
                    int ix = j * stride - pad + v;
                    if (ix < 0 || ix >= x->w) continue;
                    const float *src = x->data + oiqa_tensor_index(x, b, iy, ix, 0);
                    for (int ch = 0; ch < c; ch++) dst[ch] = src[ch] > dst[ch] ? src[ch] : dst[ch];
                }
            }
        }
    }
    return OIQA_OK;
}

/* Tasks are (image b, block of STATS_CHANNELS channels); each walks the h*w
 * pixels twice (sum, then squared deviations from the mean: the two-pass
 * form does not cancel the way sum(x^2) - N mean^2 does). */
void oiqa_channel_mean_std(const oiqa_tensor *x, float *mean, float *std, int unbiased)
{
    const int c = x->c;
    const size_t npix = (size_t)x->h * x->w;
    const int blocks_per_image = (c + STATS_CHANNELS - 1) / STATS_CHANNELS;
    const long tasks = (long)x->n * blocks_per_image;
#pragma omp parallel for schedule(static)
    for (long task = 0; task < tasks; task++) {
        int b = (int)(task / blocks_per_image);
        int c0 = (int)(task % blocks_per_image) * STATS_CHANNELS;
        int nc = c - c0 < STATS_CHANNELS ? c - c0 : STATS_CHANNELS;
        const float *img = x->data + (size_t)b * npix * c + c0;
        double sum[STATS_CHANNELS] = {0}, dev2[STATS_CHANNELS] = {0};
        for (size_t p = 0; p < npix; p++)
            for (int k = 0; k < nc; k++) sum[k] += img[p * c + k];
        for (int k = 0; k < nc; k++) sum[k] /= (double)npix; /* now the mean */
        if (std) {
            for (size_t p = 0; p < npix; p++)
                for (int k = 0; k < nc; k++) {
                    double d = img[p * c + k] - sum[k];
                    dev2[k] += d * d;
                }
        }
        for (int k = 0; k < nc; k++) {
            mean[(size_t)b * c + c0 + k] = (float)sum[k];
            if (std) {
                double denom = (double)npix - (unbiased ? 1.0 : 0.0);
                std[(size_t)b * c + c0 + k] = denom > 0 ? (float)sqrt(dev2[k] / denom) : NAN;
            }
        }
    }
}

int oiqa_global_avgpool(const oiqa_tensor *x, oiqa_tensor *y)
{
    if (y->n != x->n || y->h != 1 || y->w != 1 || y->c != x->c)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "global avgpool: output %dx%dx%dx%d is not %dx1x1x%d",
                         y->n, y->h, y->w, y->c, x->n, x->c);
    oiqa_channel_mean_std(x, y->data, NULL, 0);
    return OIQA_OK;
}

/* Window [start, end) of output cell i of `out` over `in` positions:
 * start = floor(i * in / out), end = ceil((i + 1) * in / out). */
static void adaptive_window(int i, int in, int out, int *start, int *end)
{
    *start = (int)((long long)i * in / out);
    *end = (int)(((long long)(i + 1) * in + out - 1) / out);
}

int oiqa_adaptive_avgpool2d(const oiqa_tensor *x, oiqa_tensor *y)
{
    if (y->n != x->n || y->c != x->c || y->h < 1 || y->w < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "adaptive avgpool: output %dx%dx%dx%d does not fit input %dx%dx%dx%d",
                         y->n, y->h, y->w, y->c, x->n, x->h, x->w, x->c);
    int c = x->c;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < y->n; b++)
        for (int i = 0; i < y->h; i++) {
            int y0, y1;
            adaptive_window(i, x->h, y->h, &y0, &y1);
            for (int j = 0; j < y->w; j++) {
                int x0, x1;
                adaptive_window(j, x->w, y->w, &x0, &x1);
                float *dst = y->data + oiqa_tensor_index(y, b, i, j, 0);
                for (int ch = 0; ch < c; ch++) dst[ch] = 0;
                for (int u = y0; u < y1; u++)
                    for (int v = x0; v < x1; v++) {
                        const float *src = x->data + oiqa_tensor_index(x, b, u, v, 0);
                        for (int ch = 0; ch < c; ch++) dst[ch] += src[ch];
                    }
                float inv = 1.0f / (float)((y1 - y0) * (x1 - x0));
                for (int ch = 0; ch < c; ch++) dst[ch] *= inv;
            }
        }
    return OIQA_OK;
}
