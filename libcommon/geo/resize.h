/* Resizing a whole image (the ERP fed to a global backbone such as VMamba).
 *
 * Per axis, with scale = in / out:
 *   scale >= 1 (shrinking): area averaging, OpenCV's INTER_AREA: output
 *     pixel o averages the input interval [o*scale, (o+1)*scale), pixels cut
 *     by its ends weighted by the part inside; for whole-number scales this
 *     is the plain box mean of scale x scale pixels.
 *   scale < 1 (enlarging): linear interpolation with pixel centres at half
 *     integers, src = (o + 0.5) * scale - 0.5, clamped at the borders
 *     (OpenCV's INTER_LINEAR, PyTorch's align_corners=False).
 * The two axes are independent (separable weights). Sums run in double and
 * the uint8 result is rounded to nearest, ties to even (OpenCV's cvRound),
 * so whole-number shrinking matches cv2.resize(INTER_AREA) exactly. */
#ifndef OIQA_GEO_RESIZE_H
#define OIQA_GEO_RESIZE_H

#include <stdint.h>

#include "io/image.h"

/* src (w x h RGB) -> dst, out_w x out_h x 3 bytes (allocated by the caller).
 * Returns OIQA_OK, or OIQA_EXIT_DATA (message set) on bad sizes or when out
 * of memory. Threads: OpenMP over output rows. */
int oiqa_resize_rgb_u8(const oiqa_image *src, int out_w, int out_h, uint8_t *dst);

#endif
