/* The inputs of a method, assembled from the cached feature files (DESIGN
 * §3) for a list of image names, as the method's input rows declare them
 * (methods/method.h):
 *
 *   view blocks   per stream s and block k: x[s][k] [N, V, 2 C_k] =
 *                 /<stream>/<block>/mean || /std
 *   image concat  x[0][0] [N, 1, G] = concat over the file's blocks (its
 *                 `blocks` attribute, in order) of mean || std
 *   maps          maps[s][0] [N, V, h, w, C] float16 = /<stream>/<block>/map,
 *                 kept as float16 (half the memory), float32 per batch
 *   images        pixels[s] [N, V, S, S, 3] uint8 = /<stream>, float per batch
 *
 * Names are matched to the files' rows by name; a name missing from a file,
 * or a NaN / Inf value, is an error naming the file, the row and the
 * dataset. The provenance of each file is kept (methods/feature_prov.h). */
#ifndef OIQA_METHODS_FEATURES_H
#define OIQA_METHODS_FEATURES_H

#include <stdint.h>

#include "methods/feature_prov.h"
#include "methods/method.h"

typedef struct {
    int used;
    oiqa_feature_layout layout;
    int n_blocks, V;                    /* V = 1 for concat */
    int flat;                           /* batches [B, dim], not [B, V, dim] (concat; vectors of [N, D]) */
    int dim[OIQA_METHOD_MAX_BLOCKS];    /* 2 C per block; concat: one block of G */
    char *block[OIQA_METHOD_MAX_BLOCKS]; /* names; concat: the input's role */
    float *x[OIQA_METHOD_MAX_STREAMS][OIQA_METHOD_MAX_BLOCKS]; /* [n, V, dim]; NULL: stream not read */
    int map_h, map_w;                                         /* maps, images: the side of the stored maps */
    uint16_t *maps[OIQA_METHOD_MAX_STREAMS];                  /* maps: [n, V, h, w, C] float16; NULL: not read */
    uint8_t *pixels[OIQA_METHOD_MAX_STREAMS];                 /* images: [n, V, S, S, 3]; NULL: not read */
    oiqa_feature_prov prov;
} oiqa_feature_input;

typedef struct {
    int n;
    char **names;
    int n_inputs;
    oiqa_feature_input in[OIQA_METHOD_MAX_INPUTS];
} oiqa_feature_set;

typedef struct {
    const oiqa_method *method;
    const oiqa_method_select *sel;
    const char *const *paths; /* per input (NULL for those not used) */
    int hash;                 /* compute the files' sha256 (provenance) */
} oiqa_feature_spec;

/* Loads the rows of `names` (all rows of the first used input's file when
 * names is NULL). `what` names where the names come from in messages
 * ("labels.csv"), lines (may be NULL) their lines there. */
int oiqa_feature_set_load(const oiqa_feature_spec *spec, char *const *names, const int *lines, int n,
                          const char *what, oiqa_feature_set *fs);
/* The name of block k of input i as the features name it (into buf): the
 * selected block of a view-blocks input, the role of a concat input, the
 * selected dataset with '/' as '.' of a vectors input. */
const char *oiqa_feature_block_name(const oiqa_method *m, const oiqa_method_select *sel, int i, int k, char *buf,
                                    size_t cap);
/* Room for n rows of the given sizes (the dims and blocks of shape; V per
 * input; streams per sel), names unset: what raw scoring fills (inputs of
 * the vector layouts; a maps input gets no room). */
void oiqa_feature_set_alloc(const oiqa_method *m, const oiqa_method_select *sel, const oiqa_method_shape *shape,
                            const int *V, int n, oiqa_feature_set *fs);
void oiqa_feature_set_free(oiqa_feature_set *fs);

/* The sizes of a loaded set, for building a model. */
void oiqa_feature_set_shape(const oiqa_feature_set *fs, const oiqa_train_classes *classes, oiqa_method_shape *shape);

/* Rows idx[0..B) of fs on the tape (every stream and block read). */
int oiqa_feature_set_batch(oiqa_ag *ag, const oiqa_feature_set *fs, const int *idx, int B, oiqa_method_batch *in);

#endif
