/* The restoration operators by name, and restore=auto; see iqa/restore.h. */
#include "iqa/restore.h"

#include <math.h>
#include <string.h>

#include "base/error.h"
#include "iqa/deblock.h"
#include "iqa/deblur.h"
#include "iqa/filter.h"
#include "iqa/nlmeans.h"

static const char *const names[OIQA_RESTORE_COUNT] = {"denoise", "deblock", "deblur", "auto"};

const char *oiqa_restore_name(oiqa_restore_op op)
{
    return op >= 0 && op < OIQA_RESTORE_COUNT ? names[op] : "?";
}

int oiqa_restore_parse(const char *name, oiqa_restore_op *op)
{
    for (int i = 0; name && i < OIQA_RESTORE_COUNT; i++)
        if (!strcmp(name, names[i])) {
            *op = (oiqa_restore_op)i;
            return OIQA_OK;
        }
    return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'restore': unknown operator '%s' (denoise, deblock, deblur, auto)",
                     name ? name : "(null)");
}

int oiqa_restore(const uint8_t *src, int w, int h, oiqa_restore_op op, uint8_t *dst, oiqa_detection *det)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    oiqa_detection d;
    memset(&d, 0, sizeof d);
    d.family = OIQA_DIST_NONE;
    switch (op) {
    case OIQA_RESTORE_DENOISE: rc = oiqa_nlmeans(src, w, h, 0, dst, NULL); break;
    case OIQA_RESTORE_DEBLOCK: rc = oiqa_deblock(src, w, h, 0, dst, NULL); break;
    case OIQA_RESTORE_DEBLUR: rc = oiqa_deblur(src, w, h, 0, 0, dst, NULL); break;
    case OIQA_RESTORE_AUTO:
        rc = w >= 16 && h >= 16 ? oiqa_detect(src, w, h, &d) : OIQA_OK;
        if (rc) break;
        if (d.family == OIQA_DIST_JPEG) rc = oiqa_deblock(src, w, h, d.quality, dst, NULL);
        else if (d.family == OIQA_DIST_NOISE) rc = oiqa_nlmeans(src, w, h, d.noise_sigma, dst, NULL);
        else if (d.family == OIQA_DIST_BLUR) {
            const double base = OIQA_DEBLUR_BASE_SIGMA;
            rc = oiqa_deblur(src, w, h, sqrt(fmax(d.blur_sigma * d.blur_sigma - base * base, 0.09)), 0, dst, NULL);
        } else if (dst != src)
            memcpy(dst, src, (size_t)w * h * 3);
        break;
    default: return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'restore': unknown operator %d", (int)op);
    }
    if (det) *det = d;
    return rc;
}
