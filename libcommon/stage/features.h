/* What every backbone feature stage shares (stage/backbone.c for viewports,
 * stage/global.c for whole ERPs): turning a block's feature maps into the
 * stored statistics and maps, the finiteness check, the weights provenance
 * attributes, and the names-relative-to-a-root inputs. */
#ifndef OIQA_STAGE_FEATURES_H
#define OIQA_STAGE_FEATURES_H

#include <stddef.h>
#include <stdint.h>

#include "io/h5store.h"
#include "models/extractor.h"
#include "nn/tensor.h"

/* For the m->n items of a batch: per-channel spatial mean and Bessel-
 * corrected std (torch.std) into mean/std (m->n * m->c floats each), and when
 * map is not NULL the map as float16, averaged to map_size x map_size first
 * when map_size > 0 (pooled is the scratch tensor for that, reused). */
int oiqa_block_features(const oiqa_tensor *m, float *mean, float *std, uint16_t *map, int map_size,
                        oiqa_tensor *pooled);

/* A token extractor's extras of its last forward of n items (models/
 * extractor.h): the class token of blocks[i] into cls[i] (n x C floats) and,
 * when embedding is not NULL, the embedding (n x embed_dim floats). A data
 * error when the extractor did not give them. */
int oiqa_block_extras(oiqa_extractor *ex, const int *blocks, int n_blocks, int n, float *const *cls,
                      float *embedding);

/* Index of the first NaN or Inf in x[0..n), or n when all are finite. */
size_t oiqa_first_nonfinite(const float *x, size_t n);

/* Root attributes naming the extractor and its weights: backbone, weights
 * (file name, or random:SEED), weights_sha256, weights_random, weights_init
 * (random only), normalisation, blocks (the selected names, comma-separated),
 * std (its definition), output (maps or tokens) and, for a token extractor,
 * what mean and std are over and embed_dim. */
int oiqa_features_set_attrs(oiqa_store *store, const oiqa_extractor *ex, const int *blocks, int n_blocks);

/* Ends a stage's store: finishes it when rc is OIQA_OK; else keeps the
 * .partial when rows were committed (adding to the message that --resume
 * continues them) or removes it. Returns the final status. */
int oiqa_stage_close(oiqa_store *store, int rc, const char *out);

/* Refuses (usage error, naming it) a name given twice. */
int oiqa_check_unique_names(char *const *names, int n);

#endif
