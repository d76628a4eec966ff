/* Restoration operators for the restored pseudo-reference, by name:
 *   denoise  non-local means, sigma estimated (iqa/nlmeans.h)
 *   deblock  H.264-style deblocking, quality estimated (iqa/deblock.h)
 *   deblur   Richardson-Lucy, Gaussian PSF estimated (iqa/deblur.h)
 *   auto     the detector (iqa/detect.h) picks: jpeg -> deblock at the
 *            detected quality, noise -> denoise at the detected sigma,
 *            blur -> deblur (PSF from the detected width less the content's
 *            own, OIQA_DEBLUR_BASE_SIGMA, in quadrature), none -> a copy.
 * Every operator writes dst (w x h x 3, caller-allocated; dst == src is
 * allowed) and is deterministic (no random numbers; the same bytes on every
 * thread count). */
#ifndef OIQA_IQA_RESTORE_H
#define OIQA_IQA_RESTORE_H

#include <stdint.h>

#include "iqa/detect.h"

typedef enum {
    OIQA_RESTORE_DENOISE = 0,
    OIQA_RESTORE_DEBLOCK,
    OIQA_RESTORE_DEBLUR,
    OIQA_RESTORE_AUTO,
    OIQA_RESTORE_COUNT
} oiqa_restore_op;

const char *oiqa_restore_name(oiqa_restore_op op);
/* Unknown names are OIQA_EXIT_USAGE ("key 'restore': ..."). */
int oiqa_restore_parse(const char *name, oiqa_restore_op *op);

/* det (may be NULL) receives the detection for auto (zeroed, family none,
 * for the other operators). Returns OIQA_OK, OIQA_EXIT_USAGE or
 * OIQA_EXIT_DATA (out of memory). */
int oiqa_restore(const uint8_t *src, int w, int h, oiqa_restore_op op, uint8_t *dst, oiqa_detection *det);

/* ---- restorers for a detection of the whole image (iqa/restore_grid.c) ----
 *
 * Families whose artefacts live on the coded image's pixel grid are
 * restored on that image (the ERP), before any resampling:
 *   jpeg      re-application of JPEG (iqa/dct_shift.h, REQUANT) on the luma
 *             with the IJG table of the detected quality, 16 shifts;
 *   jpeg2000  shift-averaged DCT hard thresholding of the luma, threshold
 *             oiqa_restore_threshold(level) = 4 + 2.5 level grey levels;
 *   h264/hevc the same, after the chroma of replicated 4:2:0 (chroma pairs
 *             <= 0.4) is re-interpolated (oiqa_chroma_reinterpolate).
 * The luma change is added to all three channels. The others are restored
 * per viewport by oiqa_restore_family: noise -> non-local means at the
 * viewport's own sigma, blur -> Richardson-Lucy with the viewport's own
 * width (resampling changes both from the ERP's), none -> a copy. */
#define OIQA_RESTORE_DCT_STEP 2 /* 16 shifts: within 0.1 dB of all 64 on the shipped panoramas, 4x faster */

int oiqa_restore_is_grid_family(oiqa_dist_family f);
double oiqa_restore_threshold(int level);
/* dst == src allowed. OIQA_EXIT_USAGE for a family that is not a grid family. */
int oiqa_restore_grid(const uint8_t *src, int w, int h, const oiqa_detection *det, uint8_t *dst);
/* The restorer of det->family on one image (a viewport), as described above
 * (grid families through oiqa_restore_grid on the image given). */
int oiqa_restore_family(const uint8_t *src, int w, int h, const oiqa_detection *det, uint8_t *dst);
/* 4:2:0 chroma decoded by sample replication (one Cb, Cr per 2x2 block at
 * the origin's grid) re-interpolated bilinearly at the block centres, the
 * luma kept: the BT.601 chroma of each block is its mean, the new RGB is
 * Y + the interpolated chroma. */
int oiqa_chroma_reinterpolate(const uint8_t *src, int w, int h, uint8_t *dst);

#endif
