/* The global feature stage (oiqa-vmamba, oiqa-backbone): whole ERP images -> a "global"
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
 * and for a token extractor (maps: its patch tokens on the patch grid):
 *   /global/<b>/cls   float32 [N,C]        the block's class token
 *   /global/embedding float32 [N,D]        the image embedding, when it has one
 * Inputs are checked before anything is written: readable images, 2:1
 * unless allow_aspect, at least the network's minimum input size, and names
 * unique. Features that come out NaN or Inf name the image and stop the run
 * (skip_bad: left out, listed in the root attribute `skipped`). */
#ifndef OIQA_STAGE_GLOBAL_H
#define OIQA_STAGE_GLOBAL_H

#include <stdint.h>

#include "io/h5store.h"
#include "nn/device.h"
#include "io/image.h"
#include "models/extractor.h"
#include "nn/tensor.h"

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
    oiqa_device device;    /* where the network runs (nn/device.h) */
    const void *extractor_opts; /* the extractor's own options; NULL: defaults */
} oiqa_global_opts;

int oiqa_global_run(const oiqa_global_opts *o, char *const *names, int n_names, const char *out,
                    const oiqa_provenance *prov);

/* ---- one image in memory (the stage's per-image steps; oiqa-score's raw
 * mode runs them without a file) ---- */

/* The network side of the stage: extractor, blocks, input size. */
typedef struct {
    const oiqa_extractor_kind *kind;
    oiqa_extractor ex;
    int blocks[OIQA_EXTRACTOR_MAX_BLOCKS], n_blocks;
    int H, W;      /* network input */
    int min_h;     /* smallest ERP height the blocks allow (width 2 min_h) */
    float *rgb;    /* scratch: cap x H x W x 3 */
    int cap;
    oiqa_tensor pooled;
    oiqa_device device; /* the options' device and extractor options, for oiqa_global_net_load */
    const void *extractor_opts;
} oiqa_global_net;

/* Checks the extractor, blocks and input size of o (usage errors) without
 * loading weights; oiqa_global_net_load then opens o->weights. */
int oiqa_global_net_init(const oiqa_global_opts *o, oiqa_global_net *g);
int oiqa_global_net_load(oiqa_global_net *g, const char *weights);
void oiqa_global_net_close(oiqa_global_net *g);
/* Whether an image of w x h may go in (large enough for the blocks; 2:1
 * unless allow_aspect): an error naming path otherwise. */
int oiqa_global_check_image(const oiqa_global_net *g, int allow_aspect, const char *path, int w, int h);
/* A decoded image resized to the network input (W x H x 3 bytes). */
int oiqa_global_resize(const oiqa_global_net *g, const oiqa_image *img, uint8_t *resized);
/* n resized images through the network: for the i-th selected block,
 * mean[i], std[i] (n x C floats) and, when map is not NULL, map[i] (float16
 * n x h x w x C, averaged to map_size x map_size when map_size > 0); a token
 * extractor's class tokens into cls[i] (n x C) and embedding (n x D) when
 * those are not NULL. */
int oiqa_global_forward(oiqa_global_net *g, const uint8_t *resized, int n, int map_size, float *const *mean,
                        float *const *std, uint16_t *const *map, float *const *cls, float *embedding);

/* The smallest h x w (h for a 2:1 w = 2h input) for which every selected
 * block of the extractor has at least two positions; 0 when none up to 4096. */
int oiqa_global_min_height(const char *extractor, const int *blocks, int n_blocks);

#endif
