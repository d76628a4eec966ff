/* Scoring images with a trained MTFI model (oiqa-score; docs/train.md):
 * model.h5 + the feature files of the images -> predictions.csv
 *
 *   name,score[,level,type,p_level_<L>...,p_type_<T>...]
 *
 * score on the label scale (the model's normalised output mapped back with
 * the training MOS mean and std); with auxiliary heads the predicted level
 * and type (class names, the argmax) and the softmax probability of every
 * class, in the order of the vocabularies. oiqa-eval reads these columns.
 *
 * Before any row is read, the feature files' provenance must match the
 * training features' (train/train_data.h, oiqa_feature_prov_compare). */
#ifndef OIQA_TRAIN_SCORE_H
#define OIQA_TRAIN_SCORE_H

typedef struct {
    const char *model;   /* model.h5 */
    const char *local;   /* backbone features */
    const char *global;  /* global features, NULL when the model has none */
    char *const *names;  /* NULL: every row of the local file */
    int n_names;
    const char *out;     /* predictions.csv (via out.partial) */
    int force;
    int batch;           /* images per forward pass */
} oiqa_score_opts;

int oiqa_score_run(const oiqa_score_opts *o);

#endif
