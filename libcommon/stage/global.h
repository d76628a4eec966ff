/* The global feature stage (oiqa-vmamba): whole ERP images -> a "global"
 * feature file (DESIGN §3).
 *
 * Each image is decoded, resized to height x width (geo/resize.h: area
 * averaging when shrinking, as cv2.resize INTER_AREA; linear when enlarging),
 * run through the extractor in batches of `batch` images, and for every
 * selected block b:
 *   /global/<b>/mean  float32 [N,C]        per-channel spatial mean
 *   /global/<b>/std   float32 [N,C]        Bessel-corrected spatial std
 *   /global/<b>/map   float16 [N,h,w,C]    on request, optionally averaged
 *                                          to P x P
 * Inputs are checked before anything is written: readable images, 2:1
 * unless allow_aspect, at least the network's minimum input size, and names
 * unique. Features that come out NaN or Inf name the image and stop the run
 * (skip_bad: left out, listed in the root attribute `skipped`). */
#ifndef OIQA_STAGE_GLOBAL_H
#define OIQA_STAGE_GLOBAL_H

#include <stdint.h>

#include "io/h5store.h"

typedef struct {
    const char *extractor; /* registry name */
    const char *weights;   /* checkpoint path or random:SEED */
    const char *blocks;    /* comma-separated; NULL: the extractor's default */
    int height, width;     /* network input; 0: the extractor's input size */
    int maps, map_size;    /* as stage/backbone.h */
    int batch;             /* images per forward pass, >= 1 */
    int deflate;
    int allow_aspect;      /* accept images that are not 2:1 */
    int64_t max_pixels;    /* refuse larger images (checked before decoding) */
    const char *root;      /* dataset root; NULL: names are paths */
    int skip_bad, force, resume;
} oiqa_global_opts;

int oiqa_global_run(const oiqa_global_opts *o, char *const *names, int n_names, const char *out,
                    const oiqa_provenance *prov);

/* The smallest h x w (h for a 2:1 w = 2h input) for which every selected
 * block of the extractor has at least two positions; 0 when none up to 4096. */
int oiqa_global_min_height(const char *extractor, const int *blocks, int n_blocks);

#endif
