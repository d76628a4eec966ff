/* ImageNet normalisation of RGB images (see imagenet.h). */
#include "models/imagenet.h"

#include <stddef.h>

#include "base/error.h"

/* Kept as separate float32 steps: no contraction into one FMA. */
static inline float normalize(float v, int c)
{
    float unit = v / 255.0f;
    float centred = unit - OIQA_IMAGENET_MEAN[c];
    return centred / OIQA_IMAGENET_STD[c];
}

int oiqa_imagenet_normalize_u8(const uint8_t *rgb, int n, int h, int w, oiqa_tensor *x)
{
    oiqa_tensor_free(x);
    int rc = oiqa_tensor_create(x, n, h, w, 3);
    if (rc != OIQA_OK) return rc;
    size_t values = (size_t)n * h * w * 3;
    for (size_t i = 0; i < values; i++) x->data[i] = normalize((float)rgb[i], (int)(i % 3));
    return OIQA_OK;
}

int oiqa_imagenet_normalize_f32(const float *rgb, int n, int h, int w, oiqa_tensor *x)
{
    if (!(x->data && x->n == n && x->h == h && x->w == w && x->c == 3)) {
        oiqa_tensor_free(x);
        int rc = oiqa_tensor_create(x, n, h, w, 3);
        if (rc != OIQA_OK) return rc;
    }
    size_t values = (size_t)n * h * w * 3;
    for (size_t i = 0; i < values; i++) x->data[i] = normalize(rgb[i], (int)(i % 3));
    return OIQA_OK;
}
