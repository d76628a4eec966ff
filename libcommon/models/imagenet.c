/* ImageNet normalisation of uint8 RGB images (see imagenet.h). */
#include "models/imagenet.h"

#include <stddef.h>

#include "base/error.h"

int oiqa_imagenet_normalize_u8(const uint8_t *rgb, int n, int h, int w, oiqa_tensor *x)
{
    oiqa_tensor_free(x);
    int rc = oiqa_tensor_create(x, n, h, w, 3);
    if (rc != OIQA_OK) return rc;
    size_t pixels = (size_t)n * h * w;
    for (size_t p = 0; p < pixels; p++) {
        for (int c = 0; c < 3; c++) {
            /* Kept as separate float32 steps: no contraction into one FMA. */
            float unit = (float)rgb[3 * p + c] / 255.0f;
            float centred = unit - OIQA_IMAGENET_MEAN[c];
            x->data[3 * p + c] = centred / OIQA_IMAGENET_STD[c];
        }
    }
    return OIQA_OK;
}
