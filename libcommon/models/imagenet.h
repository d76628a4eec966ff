/* ImageNet input normalisation, the one place its constants live.
 *
 * torchvision's ToTensor() + Normalize(mean, std) on RGB in [0, 1]
 * (BACKBONES.md §1): x = (v / 255 - mean[c]) / std[c], every operation
 * rounded to float32 in that order, which reproduces PyTorch bit for bit. */
#ifndef OIQA_MODELS_IMAGENET_H
#define OIQA_MODELS_IMAGENET_H

#include <stdint.h>

#include "nn/tensor.h"

/* RGB order. */
static const float OIQA_IMAGENET_MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float OIQA_IMAGENET_STD[3] = {0.229f, 0.224f, 0.225f};

/* uint8 HWC RGB images -> normalised NHWC float input.
 *   rgb: n images of h x w x 3 bytes, one after the other (NHWC uint8)
 *   x:   n x h x w x 3 float32; allocated here (any previous contents are
 *        freed first, so pass an empty or owned tensor)
 * Returns OIQA_OK, or OIQA_EXIT_DATA with the message set on a bad shape or
 * a failed allocation. */
int oiqa_imagenet_normalize_u8(const uint8_t *rgb, int n, int h, int w, oiqa_tensor *x);

/* The same from float RGB on the 0..255 scale (identical results for
 * integer values); x is reused when it already has the shape n x h x w x 3. */
int oiqa_imagenet_normalize_f32(const float *rgb, int n, int h, int w, oiqa_tensor *x);

#endif
