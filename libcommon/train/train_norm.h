/* Input and target normalisation of the MTFI model (docs/mtfi.md: inputs
 * are z-scored with the training split's statistics, stored with the model).
 *
 * Local features: per scale and per feature, the mean and (population) std
 * of the ORIGINAL stream over the training images and all their viewports;
 * the restored and degraded streams are scaled with the same statistics, so
 * that the differences o - r, o - d the model looks at keep their meaning
 * (a stream's own statistics would remove the very offset that encodes the
 * quality difference). Global features: per feature over the training
 * images. The target (MOS) is z-scored too, so one learning rate fits every
 * score scale; predictions are mapped back to the label scale. A feature
 * whose std is below 1e-6 (1 + |mean|) keeps std 1 (constant features). */
#ifndef OIQA_TRAIN_NORM_H
#define OIQA_TRAIN_NORM_H

#include "io/ckpt.h"
#include "train/train_data.h"

typedef struct {
    int n_scales, dim[OIQA_MTFI_MAX_SCALES], G;
    float *mean[OIQA_MTFI_MAX_SCALES], *std[OIQA_MTFI_MAX_SCALES];
    float *gmean, *gstd; /* NULL without global features */
    double target_mean, target_std;
} oiqa_train_norm;

/* Statistics of the rows idx[0..n) of d and of their targets mos[idx[i]]. */
int oiqa_train_norm_fit(oiqa_train_norm *z, const oiqa_train_data *d, const int *idx, int n, const double *mos);
/* z-scores every row of d in place. */
void oiqa_train_norm_apply(const oiqa_train_norm *z, oiqa_train_data *d);
void oiqa_train_norm_free(oiqa_train_norm *z);

/* As tensors "norm.<block>.mean" / ".std" [2 C_k], "norm.global.mean" /
 * ".std" [G], "norm.target" [2] (mean, std), and back (checking shapes
 * against the data's dimensions). */
int oiqa_train_norm_save(const oiqa_train_norm *z, char *const *scales, oiqa_ckpt *ck);
int oiqa_train_norm_load(oiqa_train_norm *z, char *const *scales, int n_scales, const int *dim, int G,
                         const oiqa_ckpt *ck, const char *path);

#endif
