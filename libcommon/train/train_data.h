/* The inputs of the MTFI fusion model, assembled from the cached feature
 * files (DESIGN §3) for a list of image names:
 *
 *   for each scale (block) k:  orig[k] [N, V, 2 C_k] = /original/<block>/mean || /std
 *                              rest[k], degr[k] the same from /restored, /degraded
 *   global                     [N, G] = concat over the global file's stages
 *                              (its `blocks` attribute, in order) of mean || std
 *
 * Names are matched to the feature files' rows by name; a name missing from
 * a file, or a NaN / Inf value, is an error naming the file, the row and the
 * dataset. The provenance of each file (path, sha256 and the attributes
 * that fix what its numbers mean) is kept for model.h5 and oiqa-score. */
#ifndef OIQA_TRAIN_DATA_H
#define OIQA_TRAIN_DATA_H

#include "models/mtfi.h"

/* The provenance fields recorded per feature file, in this order. */
#define OIQA_PROV_FIELDS 14
extern const char *const oiqa_prov_field_names[OIQA_PROV_FIELDS];
/* path, sha256, stage, backbone, weights, weights_sha256, blocks, streams,
 * config, normalisation, input_size, resize, viewports_config,
 * pseudoref_config. config is the resolved config of the tool that wrote the
 * file; the last two (backbone files only) are those of the viewports and
 * pseudoref stages it read: with config, the recipe oiqa-score's raw mode
 * recomputes the features from images with. */
typedef struct {
    char *v[OIQA_PROV_FIELDS]; /* "" when the file has no such attribute */
} oiqa_feature_prov;

typedef struct {
    const char *local, *global;  /* paths; global NULL: no global input */
    char *const *scales;         /* block names */
    int n_scales;
    int need_restored, need_degraded;
    int hash;                    /* compute the files' sha256 (provenance) */
} oiqa_train_data_spec;

typedef struct {
    int n, V, n_scales, G;
    int dim[OIQA_MTFI_MAX_SCALES];          /* 2 C_k */
    float *orig[OIQA_MTFI_MAX_SCALES];      /* [n, V, dim[k]] */
    float *rest[OIQA_MTFI_MAX_SCALES];      /* NULL when not needed */
    float *degr[OIQA_MTFI_MAX_SCALES];
    float *global;                          /* [n, G] or NULL */
    char **names;                           /* n */
    oiqa_feature_prov local_prov, global_prov;
    int has_global;
} oiqa_train_data;

/* Loads the rows of `names` (all rows of the local file when names is
 * NULL). `what` names where the names come from in messages ("labels.csv"),
 * lines (may be NULL) their lines there. */
int oiqa_train_data_load(const oiqa_train_data_spec *spec, char *const *names, const int *lines, int n,
                         const char *what, oiqa_train_data *d);
void oiqa_train_data_free(oiqa_train_data *d);
void oiqa_feature_prov_free(oiqa_feature_prov *p);

/* Reads the provenance of one feature file (opened as `stage`) without its
 * rows or hash. */
int oiqa_feature_prov_read(const char *path, const char *stage, oiqa_feature_prov *p);

/* Provenance as a JSON object / list of objects (malloc'ed), and back. */
char *oiqa_feature_prov_json(const oiqa_feature_prov *const *provs, int n);
int oiqa_feature_prov_parse(const char *json, const char *path, oiqa_feature_prov *provs, int max, int *n);

/* Refuses (OIQA_EXIT_DATA, one line naming the first difference and both
 * values) a feature file whose provenance differs from the training one in
 * what fixes the meaning of its numbers: stage, backbone, weights_sha256
 * (and weights for random ones), normalisation, input_size, resize. */
int oiqa_feature_prov_compare(const oiqa_feature_prov *trained, const oiqa_feature_prov *given, const char *model);

#endif
