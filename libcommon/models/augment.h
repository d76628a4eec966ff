/* Per-step image augmentation of NHWC float batches, as torchvision's
 * transforms do it for the methods that fine-tune a backbone from images:
 * RandomCrop / CenterCrop (SIND: 256² -> 224) and RandomHorizontalFlip.
 * The random draws come from the training generator (oiqa_rng), one image
 * after another, so a run is reproducible for a given seed. */
#ifndef OIQA_MODELS_AUGMENT_H
#define OIQA_MODELS_AUGMENT_H

#include "base/rng.h"

/* The crop's offsets for one image of H x W cut to ch x cw (ch <= H,
 * cw <= W). With rng: torchvision's RandomCrop, top then left, each uniform
 * over the valid offsets; without: CenterCrop, top = round((H - ch) / 2)
 * with Python's rounding (half to even), left likewise. */
void oiqa_crop_offsets(int H, int W, int ch, int cw, oiqa_rng *rng, int *top, int *left);

/* dst[n, ch, cw, C] = the crops of src[n, H, W, C], each image at its own
 * offsets (see above). Returns OIQA_OK, or OIQA_EXIT_USAGE with the message
 * set when the crop is larger than the images. */
int oiqa_crop_batch(const float *src, int n, int H, int W, int C, int ch, int cw, oiqa_rng *rng, float *dst);

/* In place: each of the n images [H, W, C] flipped left-right with
 * probability 1/2 (RandomHorizontalFlip: flipped when the draw is < 0.5). */
void oiqa_hflip_batch(float *v, int n, int H, int W, int C, oiqa_rng *rng);

#endif
