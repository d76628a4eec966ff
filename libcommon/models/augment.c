/* Crops and flips of image batches; see models/augment.h. */
#include "models/augment.h"

#include <math.h>
#include <string.h>

#include "base/error.h"

void oiqa_crop_offsets(int H, int W, int ch, int cw, oiqa_rng *rng, int *top, int *left)
{
    if (rng) {
        *top = oiqa_rng_below(rng, H - ch + 1);
        *left = oiqa_rng_below(rng, W - cw + 1);
    } else { /* torchvision: int(round((H - ch) / 2.0)); nearbyint rounds half to even as Python does */
        *top = (int)nearbyint((H - ch) / 2.0);
        *left = (int)nearbyint((W - cw) / 2.0);
    }
}

int oiqa_crop_batch(const float *src, int n, int H, int W, int C, int ch, int cw, oiqa_rng *rng, float *dst)
{
    if (ch < 1 || cw < 1 || ch > H || cw > W)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "a crop of %dx%d does not fit images of %dx%d", ch, cw, H, W);
    for (int i = 0; i < n; i++) {
        int top, left;
        oiqa_crop_offsets(H, W, ch, cw, rng, &top, &left);
        const float *img = src + (size_t)i * H * W * C;
        float *out = dst + (size_t)i * ch * cw * C;
        for (int y = 0; y < ch; y++)
            memcpy(out + (size_t)y * cw * C, img + ((size_t)(top + y) * W + left) * C, (size_t)cw * C * sizeof(float));
    }
    return OIQA_OK;
}

void oiqa_hflip_batch(float *v, int n, int H, int W, int C, oiqa_rng *rng)
{
    for (int i = 0; i < n; i++) {
        if (oiqa_rng_uniform(rng) >= 0.5) continue;
        float *img = v + (size_t)i * H * W * C;
        for (int y = 0; y < H; y++)
            for (int a = 0, b = W - 1; a < b; a++, b--)
                for (int c = 0; c < C; c++) {
                    float *pa = img + ((size_t)y * W + a) * C + c, *pb = img + ((size_t)y * W + b) * C + c, t = *pa;
                    *pa = *pb, *pb = t;
                }
    }
}
