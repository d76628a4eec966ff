/* Input and target normalisation of every method (docs/train.md: inputs are
 * z-scored with the training split's statistics, stored with the model).
 *
 * Per input and block, per feature: the mean and (population) std of the
 * FIRST stream over the training images and all their viewports; the other
 * streams are scaled with the same statistics, so that differences between
 * streams (MTFI's o - r, o - d) keep their meaning (a stream's own
 * statistics would remove the very offset that encodes the quality
 * difference). The target (MOS) is z-scored too, so one learning rate fits
 * every score scale; predictions are mapped back to the label scale. A
 * feature whose std is below 1e-6 (1 + |mean|) keeps std 1 (constant
 * features). */
#ifndef OIQA_METHODS_FEATURE_NORM_H
#define OIQA_METHODS_FEATURE_NORM_H

#include "io/ckpt.h"
#include "methods/features.h"

typedef struct {
    int n_inputs;
    int n_blocks[OIQA_METHOD_MAX_INPUTS];
    int dim[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_BLOCKS];
    char *name[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_BLOCKS]; /* the block's name (concat: the role) */
    float *mean[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_BLOCKS], *std[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_BLOCKS];
    double target_mean, target_std;
} oiqa_feature_norm;

/* Statistics of the rows idx[0..n) of fs and of their targets mos[idx[i]]. */
int oiqa_feature_norm_fit(oiqa_feature_norm *z, const oiqa_feature_set *fs, const int *idx, int n, const double *mos);
/* z-scores every row of fs in place. */
void oiqa_feature_norm_apply(const oiqa_feature_norm *z, oiqa_feature_set *fs);
void oiqa_feature_norm_free(oiqa_feature_norm *z);

/* As tensors "norm.<name>.mean" / ".std" [dim] per used input and block,
 * "norm.target" [2] (mean, std); and back, for the blocks of a model of
 * these sizes (names as the features were selected: sel's blocks, the
 * roles of concat inputs). */
int oiqa_feature_norm_save(const oiqa_feature_norm *z, oiqa_ckpt *ck);
int oiqa_feature_norm_load(oiqa_feature_norm *z, const oiqa_method *m, const oiqa_method_select *sel,
                           const oiqa_method_shape *shape, const oiqa_ckpt *ck, const char *path);

#endif
