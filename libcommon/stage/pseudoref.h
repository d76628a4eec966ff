/* The pseudo-reference stage (oiqa-pseudoref): viewports.h5 -> pseudoref.h5
 * (DESIGN §3, stage "pseudoref"; MTFI's bidirectional pseudo-references).
 *
 * Detection (`detect`): erp (default) reads each row's source image (the
 * ERP recorded in /input_path with its sha256, or --erp-root DIR + the row
 * name), and detects the distortion where it was applied, on the codec's
 * grid (iqa/detect.h, oiqa_detect_erp); every viewport of the image takes
 * that family and level. viewport runs the per-viewport detector on each
 * viewport instead (jpeg, noise and blur only; no source image needed).
 *
 * For every viewport of every image (row of viewports.h5, same names and
 * order):
 *   /restored  uint8 [N,V,S,S,3]  restore = auto: the detected family's
 *              restorer (iqa/restore.h): jpeg, jpeg2000, h264 and hevc on
 *              the ERP, then cut with the viewports' geometry (restore-on
 *              erp) or on each viewport (restore-on viewport); noise and
 *              blur on each viewport; a copy for none. Or one named
 *              restorer (denoise, deblock, deblur) or none (a copy).
 *   /degraded  uint8 [N,V,S,S,3]  degrade = auto: the detected family one
 *              level stronger (level + 1; level 6 is the table's "beyond",
 *              iqa/distort.h) applied to the viewport; a viewport of a clean
 *              image gets the fallback, blur at level 1. Or a named family
 *              at degrade-level (default 3).
 *   /degrade_applied int32 [N,V,2] the (family code, level) applied
 *   /detected  int32 [N,V,2], /detected_strength float32 [N,V]: the
 *              detection each viewport used (only when restore or degrade
 *              is auto)
 *   /erp_detected int32 [N,2], /erp_detected_strength float32 [N],
 *   /erp_measures float32 [N,10]: detect = erp only, the image's detection
 *              and the measurements behind it
 *   /error_restored, /error_degraded float16 [N,V,S,S] with error_maps:
 *              e = log(1/((a-b)^2 + eps/255^2)) / log(255^2/eps) clamped to
 *              [0, 1], on BT.601 luma in [0, 1]; a = viewport, b = restored
 *              (resp. degraded); 1 where they agree
 * Family codes: -1 none, 0 jpeg, 1 blur, 2 noise, 3 resample, 4 jpeg2000,
 * 5 h264, 6 hevc.
 *
 * Noise is seeded per (image, viewport) from the seed and the row name
 * (oiqa_pseudoref_seed), so the bytes do not depend on threads or batches.
 * Images are processed in batches: their ERP steps in parallel, then every
 * (image, viewport) in parallel, then the video degradations one ffmpeg
 * call per image; rows are written in order from one thread. */
#ifndef OIQA_STAGE_PSEUDOREF_H
#define OIQA_STAGE_PSEUDOREF_H

#include <stdint.h>

#include "io/h5store.h"
#include "iqa/detect.h"
#include "iqa/distort.h"
#include "stage/viewports.h"

/* restore choices (config key `restore`), in option order */
typedef enum { OIQA_PR_RESTORE_AUTO, OIQA_PR_RESTORE_DENOISE, OIQA_PR_RESTORE_DEBLOCK, OIQA_PR_RESTORE_DEBLUR,
               OIQA_PR_RESTORE_NONE } oiqa_pr_restore;
/* degrade choices (config key `degrade`): auto, then the families in code order */
typedef enum { OIQA_PR_DEGRADE_AUTO, OIQA_PR_DEGRADE_JPEG, OIQA_PR_DEGRADE_BLUR, OIQA_PR_DEGRADE_NOISE,
               OIQA_PR_DEGRADE_RESAMPLE, OIQA_PR_DEGRADE_JPEG2000, OIQA_PR_DEGRADE_H264,
               OIQA_PR_DEGRADE_HEVC } oiqa_pr_degrade;
/* where detection runs (config key `detect`) */
typedef enum { OIQA_PR_DETECT_ERP, OIQA_PR_DETECT_VIEWPORT } oiqa_pr_detect;
/* where the grid families are restored (config key `restore-on`) */
typedef enum { OIQA_PR_ON_ERP, OIQA_PR_ON_VIEWPORT } oiqa_pr_space;

extern const char *const oiqa_pr_restore_names[]; /* "auto", "denoise", "deblock", "deblur", "none", NULL */
extern const char *const oiqa_pr_degrade_names[]; /* "auto", "jpeg", ..., "hevc", NULL */
extern const char *const oiqa_pr_detect_names[];  /* "erp", "viewport", NULL */
extern const char *const oiqa_pr_space_names[];   /* "erp", "viewport", NULL */

/* The fallback of degrade = auto for a viewport detected as clean. */
#define OIQA_PR_FALLBACK_FAMILY OIQA_DIST_BLUR
#define OIQA_PR_FALLBACK_LEVEL 1
/* Default eps of the error maps: one grey level squared. */
#define OIQA_PR_ERROR_EPS 1.0

typedef struct {
    oiqa_pr_restore restore;
    oiqa_pr_degrade degrade;
    int degrade_level;  /* 1..5; 0 = auto (detected + 1 for degrade auto, 3 for an explicit family) */
    oiqa_pr_detect detect;
    oiqa_pr_space restore_on;
    const char *erp_root; /* detect erp: sources are erp_root/<row name>; NULL: the recorded /input_path */
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

/* Every viewport of one image (vp: V*S*S*3, the viewports stage's bytes) into
 * restored and degraded (V*S*S*3 each), viewports in parallel: the bytes the
 * stage writes for the row `name`. With detect = erp, src is the image's
 * decoded ERP with the views vp was cut with and vo their sampling (as
 * oiqa_viewports_prepare made them); with detect = viewport both may be
 * NULL. Errors name `what` (the image), the viewport and the operator. */
int oiqa_pseudoref_image(const oiqa_pseudoref_opts *o, const char *what, const char *name, const uint8_t *vp, int V,
                         int S, const oiqa_viewports_opts *vo, const oiqa_vp_source *src, uint8_t *restored,
                         uint8_t *degraded);

/* The noise seed of viewport v of the row `name`: splitmix64 of the seed
 * mixed with the FNV-1a hash of the name and v. */
uint64_t oiqa_pseudoref_seed(uint64_t seed, const char *name, int v);

/* The error map of two S x S RGB images (the formula above) into e (w*h floats). */
void oiqa_error_map(const uint8_t *a, const uint8_t *b, int w, int h, double eps, float *e);

/* The (family, level) degrade = auto applies for a detection: detected
 * family one level stronger (level 6, the table's "beyond", after 5), or
 * the fallback for none. With a fixed level (1..5) only the family is
 * chosen. */
void oiqa_pseudoref_auto_degrade(int det_family, int det_level, int fixed_level, int *family, int *level);

#endif
