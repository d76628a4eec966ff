/* Scoring images with a trained model of any method (oiqa-score;
 * docs/train.md): model.h5 + the feature files of the images ->
 * predictions.csv
 *
 *   name,score[,the method's columns]
 *
 * score on the label scale (the model's normalised output mapped back with
 * the training MOS mean and std); then the method's own columns (MTFI with
 * auxiliary heads: level,type,p_level_<L>...,p_type_<T>..., the argmax
 * classes and the softmax probability of every class). oiqa-eval reads
 * these columns.
 *
 * Before any row is read, the feature files' provenance must match the
 * training features' (methods/feature_prov.h, oiqa_feature_prov_compare). */
#ifndef OIQA_SCORE_SCORE_H
#define OIQA_SCORE_SCORE_H

#include <stdio.h>

#include "methods/predict.h"
#include "nn/device.h"
#include "train/train_io.h"

/* A feature file given for one input of the model's method: role NULL is
 * the method's first input; option names the flag in messages. */
typedef struct {
    const char *role, *path, *option;
} oiqa_score_input;

typedef struct {
    const char *model;   /* model.h5 */
    const oiqa_score_input *inputs; /* the feature files given (path NULL: not given) */
    int n_inputs;
    char *const *names;  /* NULL: every row of the first input's file */
    int n_names;
    const char *out;     /* predictions.csv (via out.partial) */
    int force;
    int batch;           /* images per forward pass */
} oiqa_score_opts;

int oiqa_score_run(const oiqa_score_opts *o);

/* ---- raw images (the deployment path; score/score_raw.c) ----------------
 *
 * The same predictions from ERP images, with no feature file: every stage
 * the model's features went through runs in memory, image by image, with the
 * settings recorded in model.h5 (the provenance of the feature files,
 * methods/feature_prov.h: the resolved configs of oiqa-viewports,
 * oiqa-pseudoref, oiqa-resnet and oiqa-vmamba), through the stages' own
 * per-image functions (stage/viewports.h, pseudoref.h, backbone.h,
 * global.h). Nothing is cached. A model whose provenance lacks the recipe
 * (features computed before it was recorded) is refused.
 *
 * Weights: random:SEED is rebuilt; a checkpoint is the override when given
 * (local_weights, global_weights), else weights_dir/<recorded file name>
 * when weights_dir is given and that exists, else the path recorded in the
 * stage config; its sha256 must equal the recorded one. */
typedef struct {
    const char *model;
    char *const *names;  /* image names (row names: the pseudoref noise seed depends on them) */
    int n_names;
    const char *root;    /* names are relative to it; NULL: paths */
    const char *out;     /* predictions CSV (via out.partial); NULL: stdout */
    int force;
    int batch;           /* images per forward pass of the fusion model */
    const char *weights_dir, *local_weights, *global_weights;
    oiqa_device device;  /* where the backbones run (nn/device.h) */
} oiqa_score_raw_opts;

int oiqa_score_raw_run(const oiqa_score_raw_opts *o);

/* Finds and checks a backbone's weights for raw scoring. recorded: the
 * weights as the stage was given them (a path or random:SEED); sha256: the
 * recorded hash ("" for random); role "local" or "global" (names the
 * override option in messages). *path: malloc'ed spec to load. Errors
 * (OIQA_EXIT_DATA, one line naming the file): not found (with the places
 * looked at and "give --weights-dir or --ROLE-weights"), or a sha256 that
 * differs from the recorded one (naming both). */
int oiqa_score_find_weights(const char *recorded, const char *sha256, const char *role, const char *weights_dir,
                            const char *override, char **path);

/* The predictions CSV: the header line, then rows of fs with predictions p. */
void oiqa_score_csv_header(const oiqa_train_model *tm, FILE *f);
void oiqa_score_csv_rows(const oiqa_train_model *tm, const oiqa_feature_set *fs, const oiqa_method_pred *p, FILE *f);

#endif
