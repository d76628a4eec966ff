/* The provenance of a cached feature file, as a trained model records it
 * (model.h5's `features` attribute) and as scoring checks it: the fields
 *
 *   path, sha256, stage, backbone, weights, weights_sha256, blocks, streams,
 *   config, normalisation, input_size, resize, viewports_config,
 *   pseudoref_config
 *
 * config is the resolved config of the tool that wrote the file; the last
 * two (backbone files only) are those of the viewports and pseudoref stages
 * it read: with config, the recipe oiqa-score's raw mode recomputes the
 * features from images with. "" when the file has no such attribute. */
#ifndef OIQA_METHODS_FEATURE_PROV_H
#define OIQA_METHODS_FEATURE_PROV_H

#include "io/h5store.h"

#define OIQA_PROV_FIELDS 14
extern const char *const oiqa_prov_field_names[OIQA_PROV_FIELDS];

/* Field indices of oiqa_prov_field_names. */
enum { OIQA_PROV_PATH, OIQA_PROV_SHA, OIQA_PROV_STAGE, OIQA_PROV_BACKBONE, OIQA_PROV_WEIGHTS,
       OIQA_PROV_WEIGHTS_SHA, OIQA_PROV_BLOCKS, OIQA_PROV_STREAMS, OIQA_PROV_CONFIG, OIQA_PROV_NORM,
       OIQA_PROV_INPUT_SIZE, OIQA_PROV_RESIZE, OIQA_PROV_VP_CONFIG, OIQA_PROV_PR_CONFIG };

typedef struct {
    char *v[OIQA_PROV_FIELDS];
} oiqa_feature_prov;

void oiqa_feature_prov_free(oiqa_feature_prov *p);

/* The provenance of an open feature file (hash: compute its sha256). */
int oiqa_feature_prov_from_reader(const oiqa_store_reader *r, const char *path, int hash, oiqa_feature_prov *p);
/* Reads the provenance of one feature file (opened as `stage`) without its
 * rows or hash. */
int oiqa_feature_prov_read(const char *path, const char *stage, oiqa_feature_prov *p);

/* Provenance as a JSON list of objects (malloc'ed), and back. */
char *oiqa_feature_prov_json(const oiqa_feature_prov *const *provs, int n);
int oiqa_feature_prov_parse(const char *json, const char *path, oiqa_feature_prov *provs, int max, int *n);

/* Refuses (OIQA_EXIT_DATA, one line naming the first difference and both
 * values) a feature file whose provenance differs from the training one in
 * what fixes the meaning of its numbers: stage, backbone, weights_sha256
 * (and weights for random ones), normalisation, input_size, resize. */
int oiqa_feature_prov_compare(const oiqa_feature_prov *trained, const oiqa_feature_prov *given, const char *model);

#endif
