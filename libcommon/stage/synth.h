/* Dataset synthesis (oiqa-synth): pristine ERP images -> a distorted
 * dataset with full-reference pseudo-scores, laid out like a real database
 * (DESIGN §4) so every later tool can train and evaluate on it.
 *
 * For every reference R (file stem r) and every family f of `families` and
 * level l of `levels` (iqa/distort.h, applied to the whole ERP, noise seeded
 * per (r, f, l) from the seed):
 *   OUT_DIR/r_f_l.png   the distorted ERP
 *   OUT_DIR/r.png       the reference itself (level 0)
 *   OUT_DIR/labels.csv  name,mos,ref,dist_type,dist_level: names relative to
 *                       OUT_DIR, ref = r, dist_type REF and dist_level 0 for
 *                       references
 * mos = 100 * mean over the V viewports of the layout (icosa20 by default,
 * S x S, fov, bilinear: as oiqa-viewports samples them) of SSIM (or
 * MS-SSIM) between the distorted and the reference viewport; 100 for a
 * reference. Deterministic; images are processed in parallel, every
 * (reference, family, level) a task. */
#ifndef OIQA_STAGE_SYNTH_H
#define OIQA_STAGE_SYNTH_H

#include <stdint.h>

#include "geo/layout.h"
#include "iqa/distort.h"

typedef enum { OIQA_SYNTH_SSIM, OIQA_SYNTH_MS_SSIM } oiqa_synth_metric;
extern const char *const oiqa_synth_metric_names[]; /* "ssim", "ms-ssim", NULL */
extern const char *const oiqa_synth_layout_names[]; /* "icosa20", "cube6", NULL (oiqa_layout_kind order) */

typedef struct {
    int families[OIQA_DIST_COUNT], n_families;
    int levels[OIQA_DIST_LEVELS], n_levels;
    oiqa_synth_metric metric;
    oiqa_layout_kind layout; /* ICOSA20 or CUBE6 */
    int size;                /* S, >= 11 (SSIM's window) */
    double fov;              /* degrees */
    uint64_t seed;
    int allow_aspect;
    int64_t max_pixels;
    const char *root;        /* NULL: names are paths */
    const char *config;      /* resolved config, written to OUT_DIR/synth.yaml (NULL: no file) */
    int force;               /* overwrite OUT_DIR/labels.csv and the images */
} oiqa_synth_opts;

/* "jpeg,blur" -> family codes (in the order given, no repeats); errors
 * name the key 'families'. */
int oiqa_synth_parse_families(const char *text, int *families, int *n);
/* "1,3,5" or "1-5" -> levels (ascending, no repeats); errors name 'levels'. */
int oiqa_synth_parse_levels(const char *text, int *levels, int *n);

/* The seed of (reference stem, family, level). */
uint64_t oiqa_synth_seed(uint64_t seed, const char *stem, int family, int level);

/* Mean per-viewport SSIM / MS-SSIM of V viewports of S x S (a, b hold
 * V*S*S*3 bytes each). */
int oiqa_synth_score(const uint8_t *a, const uint8_t *b, int V, int S, oiqa_synth_metric metric, double *mean);

/* Runs the synthesis over `names` (reference images) into out_dir. */
int oiqa_synth_run(const oiqa_synth_opts *o, char *const *names, int n_names, const char *out_dir);

#endif
