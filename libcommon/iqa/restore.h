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

#endif
