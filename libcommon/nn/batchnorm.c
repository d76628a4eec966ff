#include "nn/batchnorm.h"

#include <math.h>
#include <stddef.h>

/* weight [kh*kw*cin][cout]: each row is scaled elementwise by scale[cout]. */
void oiqa_bn_fold(int kh, int kw, int cin, int cout, float *weight, const float *conv_bias,
                  const float *gamma, const float *beta, const float *mean, const float *var,
                  float eps, float *bias_out)
{
    size_t taps = (size_t)kh * kw * cin;
    for (int o = 0; o < cout; o++) {
        double scale = (double)gamma[o] / sqrt((double)var[o] + (double)eps);
        double b = conv_bias ? (double)conv_bias[o] : 0.0;
        bias_out[o] = (float)((double)beta[o] + (b - (double)mean[o]) * scale);
        for (size_t t = 0; t < taps; t++) weight[t * cout + o] = (float)(weight[t * cout + o] * scale);
    }
}
