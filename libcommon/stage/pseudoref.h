/* The pseudo-reference stage (oiqa-pseudoref): viewports.h5 -> pseudoref.h5
 * (DESIGN §3, stage "pseudoref"; MTFI's bidirectional pseudo-references).
 *
 * For every viewport of every image (row of viewports.h5, same names and
 * order):
 *   /restored  uint8 [N,V,S,S,3]  the viewport through a restorer
 *              (iqa/restore.h: denoise, deblock, deblur, auto; or none = a copy)
 *   /degraded  uint8 [N,V,S,S,3]  the viewport through a distortion
 *              (iqa/distort.h) at a level 1..5; degrade = auto takes the
 *              detected dominant family (iqa/detect.h) one level stronger
 *              than detected, capped at 5; a viewport detected as clean
 *              ("none") gets the fallback, blur at level 1
 *   /degrade_applied int32 [N,V,2] the (family code, level) applied
 *   /detected  int32 [N,V,2]  (family code, level) the detector found, and
 *   /detected_strength float32 [N,V] its strength (quality, sigma or
 *              width): only when restore or degrade is auto
 *   /error_restored, /error_degraded float16 [N,V,S,S] with error_maps:
 *              e = log(1/((a-b)^2 + eps/255^2)) / log(255^2/eps) clamped to
 *              [0, 1], on BT.601 luma in [0, 1]; a = viewport, b = restored
 *              (resp. degraded); 1 where they agree
 * Family codes: -1 none, 0 jpeg, 1 blur, 2 noise, 3 resample.
 *
 * Noise is seeded per (image, viewport) from the seed and the row name
 * (oiqa_pseudoref_seed), so the bytes do not depend on threads or batches.
 * Viewports are processed in batches of images, every (image, viewport) in
 * parallel; rows are written in order from one thread. */
#ifndef OIQA_STAGE_PSEUDOREF_H
#define OIQA_STAGE_PSEUDOREF_H

#include <stdint.h>

#include "io/h5store.h"
#include "iqa/distort.h"

/* restore choices (config key `restore`), in option order */
typedef enum { OIQA_PR_RESTORE_AUTO, OIQA_PR_RESTORE_DENOISE, OIQA_PR_RESTORE_DEBLOCK, OIQA_PR_RESTORE_DEBLUR,
               OIQA_PR_RESTORE_NONE } oiqa_pr_restore;
/* degrade choices (config key `degrade`) */
typedef enum { OIQA_PR_DEGRADE_AUTO, OIQA_PR_DEGRADE_JPEG, OIQA_PR_DEGRADE_BLUR, OIQA_PR_DEGRADE_NOISE,
               OIQA_PR_DEGRADE_RESAMPLE } oiqa_pr_degrade;

extern const char *const oiqa_pr_restore_names[]; /* "auto", "denoise", "deblock", "deblur", "none", NULL */
extern const char *const oiqa_pr_degrade_names[]; /* "auto", "jpeg", "blur", "noise", "resample", NULL */

/* The fallback of degrade = auto for a viewport detected as clean. */
#define OIQA_PR_FALLBACK_FAMILY OIQA_DIST_BLUR
#define OIQA_PR_FALLBACK_LEVEL 1
/* Default eps of the error maps: one grey level squared. */
#define OIQA_PR_ERROR_EPS 1.0

typedef struct {
    oiqa_pr_restore restore;
    oiqa_pr_degrade degrade;
    int degrade_level;  /* 1..5; 0 = auto (detected + 1 for degrade auto, 3 for an explicit family) */
    uint64_t seed;
    int error_maps;
    double error_eps;   /* > 0 and < 255^2 */
    int deflate;        /* 0..9 for /restored and /degraded */
    const char *png_dir, *sheet_dir;
    int force, resume;
} oiqa_pseudoref_opts;

/* Runs the stage over every row of `viewports` into `out` (via out.partial). */
int oiqa_pseudoref_run(const oiqa_pseudoref_opts *o, const char *viewports, const char *out,
                       const oiqa_provenance *prov);

/* ---- one image in memory (the stage's per-viewport step; oiqa-score's
 * raw mode runs it without a file) ---- */

/* Viewport v (S x S RGB `in`) of the row `name`: restored and degraded
 * (S*S*3 each); det (family, level) and *strength of the detection (family
 * -1 when nothing was detected or detection is off), applied (family, level)
 * of the degradation. */
int oiqa_pseudoref_view(const oiqa_pseudoref_opts *o, const char *name, int v, const uint8_t *in, int S,
                        uint8_t *restored, uint8_t *degraded, int32_t det[2], int32_t applied[2], float *strength);
/* Every viewport of one image (vp: V*S*S*3, the viewports stage's bytes) into
 * restored and degraded (V*S*S*3 each), viewports in parallel: the bytes the
 * stage writes for the row `name`. Errors name `what` (the image), the
 * viewport and the operator. */
int oiqa_pseudoref_image(const oiqa_pseudoref_opts *o, const char *what, const char *name, const uint8_t *vp, int V,
                         int S, uint8_t *restored, uint8_t *degraded);

/* The noise seed of viewport v of the row `name`: splitmix64 of the seed
 * mixed with the FNV-1a hash of the name and v. */
uint64_t oiqa_pseudoref_seed(uint64_t seed, const char *name, int v);

/* The error map of two S x S RGB images (the formula above) into e (w*h floats). */
void oiqa_error_map(const uint8_t *a, const uint8_t *b, int w, int h, double eps, float *e);

/* The (family, level) degrade = auto applies for a detection: detected
 * family one level stronger (capped at 5), or the fallback for none. With a
 * fixed level (1..5) only the family is chosen. */
void oiqa_pseudoref_auto_degrade(int det_family, int det_level, int fixed_level, int *family, int *level);

#endif
