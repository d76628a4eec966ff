/* The viewport feature stage (oiqa-resnet; any extractor of
 * models/extractor.h that sees viewports): viewports.h5 [+ pseudoref.h5]
 * -> a "backbone" feature file (DESIGN §3).
 *
 * For every image (row of viewports.h5), every stream (original = the
 * viewports; restored and degraded = the pseudo-references, when a
 * pseudoref.h5 is given) and every selected block b of the extractor:
 *   /<stream>/<b>/mean  float32 [N,V,C]  per-channel spatial mean of the map
 *   /<stream>/<b>/std   float32 [N,V,C]  per-channel spatial std, Bessel-
 *                                        corrected (N-1), as torch.std
 *   /<stream>/<b>/map   float16 [N,V,h,w,C] the map itself, or averaged to
 *                                        P x P (AdaptiveAvgPool2d), on request
 * and for a token extractor (ViT, CLIP), whose maps are its patch tokens on
 * the patch grid:
 *   /<stream>/<b>/cls   float32 [N,V,C]  the block's class token
 *   /<stream>/embedding float32 [N,V,D]  the image embedding, when it has one
 * Root attributes record the extractor, the weights (file name and sha256,
 * or random:SEED with how it draws), the input size, the normalisation, the
 * blocks, the streams and the source files with their sha256, and the
 * recipe of its inputs: the resolved configs of the viewports and
 * pseudoref stages (viewports_config, pseudoref_config: the `config`
 * attributes of those files), which oiqa-score's raw mode rebuilds them from.
 *
 * /viewports may be uint8 (what oiqa-viewports writes) or float32 on the
 * 0..255 scale (viewports made by other tools). A row holding NaN or Inf in
 * its input, or whose features come out non-finite, is named in the error
 * and stops the run (finished rows kept in OUT.partial); with skip_bad it is
 * left out with a warning and listed in the root attribute `skipped`. */
#ifndef OIQA_STAGE_BACKBONE_H
#define OIQA_STAGE_BACKBONE_H

#include <stdint.h>

#include "io/h5store.h"
#include "nn/device.h"
#include "models/extractor.h"
#include "nn/tensor.h"

typedef struct {
    const char *extractor; /* registry name, "resnet50" */
    const char *weights;   /* checkpoint path or random:SEED */
    const char *blocks;    /* comma-separated; NULL: the extractor's default */
    const char *pseudoref; /* NULL, or a pseudoref.h5 covering every viewports row */
    int maps;              /* also write the maps (float16) */
    int map_size;          /* 0: native size; P > 0: averaged to P x P */
    int batch;             /* viewports per forward pass, >= 1 */
    int deflate;           /* 0..9 for the feature datasets */
    int skip_bad, force, resume;
    oiqa_device device;    /* where the network runs (nn/device.h) */
    const void *extractor_opts; /* the extractor's own options (its opts table's struct); NULL: defaults */
} oiqa_backbone_opts;

/* One stream of one image in memory, the stage's per-row step: V viewports
 * (rgb: V*S*S*3 floats on the 0..255 scale) through the open extractor in
 * forward passes of `batch` viewports; for the i-th of blocks[0..n_blocks):
 * mean[i], std[i] (V*C floats each) and, when map is not NULL, map[i]
 * (float16 V*h*w*C, averaged to map_size x map_size when map_size > 0).
 * A token extractor's class tokens go to cls[i] (V*C floats) and its
 * embedding to embedding (V*embed_dim floats) when those are not NULL.
 * pooled is scratch kept between calls (free with oiqa_tensor_free). */
int oiqa_backbone_viewports(oiqa_extractor *ex, const int *blocks, int n_blocks, const float *rgb, int V, int S,
                            int batch, int map_size, float *const *mean, float *const *std, uint16_t *const *map,
                            float *const *cls, float *embedding, oiqa_tensor *pooled);

int oiqa_backbone_run(const oiqa_backbone_opts *o, const char *viewports, const char *out,
                      const oiqa_provenance *prov);

#endif
