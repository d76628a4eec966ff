#include "nn/reference.h"

#include <math.h>

void oiqa_ref_conv2d(const oiqa_tensor *x, const float *weight_oihw, const float *bias, int cout,
                     int kh, int kw, int stride, int pad, const oiqa_tensor *residual, int relu,
                     oiqa_tensor *y)
{
    const int cin = x->c;
    for (int b = 0; b < y->n; b++)
        for (int i = 0; i < y->h; i++)
            for (int j = 0; j < y->w; j++)
                for (int o = 0; o < cout; o++) {
                    double acc = bias ? bias[o] : 0.0;
                    for (int c = 0; c < cin; c++)
                        for (int u = 0; u < kh; u++)
                            for (int v = 0; v < kw; v++) {
                                int iy = i * stride + u - pad, ix = j * stride + v - pad;
                                if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) continue;
                                double w = weight_oihw[(((size_t)o * cin + c) * kh + u) * kw + v];
                                acc += w * x->data[oiqa_tensor_index(x, b, iy, ix, c)];
                            }
                    size_t at = oiqa_tensor_index(y, b, i, j, o);
                    if (residual) acc += residual->data[at];
                    if (relu && acc < 0.0) acc = 0.0;
                    y->data[at] = (float)acc;
                }
}

void oiqa_ref_batchnorm(oiqa_tensor *x, const float *gamma, const float *beta, const float *mean,
                        const float *var, float eps)
{
    size_t pixels = (size_t)x->n * x->h * x->w;
    for (size_t p = 0; p < pixels; p++)
        for (int o = 0; o < x->c; o++) {
            float *v = &x->data[p * x->c + o];
            *v = (float)(((double)*v - mean[o]) / sqrt((double)var[o] + eps) * gamma[o] + beta[o]);
        }
}

void oiqa_ref_maxpool2d(const oiqa_tensor *x, int k, int stride, int pad, oiqa_tensor *y)
{
    for (int b = 0; b < y->n; b++)
        for (int i = 0; i < y->h; i++)
            for (int j = 0; j < y->w; j++)
                for (int ch = 0; ch < y->c; ch++) {
                    float best = -INFINITY;
                    for (int u = 0; u < k; u++)
                        for (int v = 0; v < k; v++) {
                            int iy = i * stride + u - pad, ix = j * stride + v - pad;
                            if (iy < 0 || iy >= x->h || ix < 0 || ix >= x->w) continue;
                            float val = x->data[oiqa_tensor_index(x, b, iy, ix, ch)];
                            if (val > best) best = val;
                        }
                    y->data[oiqa_tensor_index(y, b, i, j, ch)] = best;
                }
}

void oiqa_ref_channel_mean_std(const oiqa_tensor *x, double *mean, double *std, int unbiased)
{
    const double npix = (double)x->h * x->w;
    for (int b = 0; b < x->n; b++)
        for (int ch = 0; ch < x->c; ch++) {
            double sum = 0.0;
            for (int i = 0; i < x->h; i++)
                for (int j = 0; j < x->w; j++) sum += x->data[oiqa_tensor_index(x, b, i, j, ch)];
            double m = sum / npix, dev2 = 0.0;
            for (int i = 0; i < x->h; i++)
                for (int j = 0; j < x->w; j++) {
                    double d = x->data[oiqa_tensor_index(x, b, i, j, ch)] - m;
                    dev2 += d * d;
                }
            mean[(size_t)b * x->c + ch] = m;
            std[(size_t)b * x->c + ch] = sqrt(dev2 / (npix - (unbiased ? 1.0 : 0.0)));
        }
}
