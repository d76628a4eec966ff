/* The training engine of every method (oiqa-train; docs/train.md).
 *
 * Data: labels.csv and splits.csv (the configured repeat column), checked
 * content-disjoint (iqa/split.h); the train and val images' features are
 * loaded as the method's inputs declare them (methods/features.h), z-scored
 * with the training statistics (methods/feature_norm.h); class vocabularies
 * from the training labels (methods/classes.h).
 *
 * Loop: the model's weights are drawn (the method's build hook) from
 * oiqa_rng seeded with `seed`; every epoch the training images are put in a
 * fresh random order (a Fisher-Yates shuffle of 0..n-1 with the same
 * generator, which also drives dropout) and cut into mini-batches of
 * batch_size (the last one smaller); each batch: forward, the method's loss,
 * backward, optional global gradient-norm clipping, one optimiser step at
 * the epoch's learning rate (the schedule is evaluated per epoch: warmup
 * epochs of linear warm-up, then constant / step / cosine over the remaining
 * epochs). After each epoch the val images are predicted (evaluation mode):
 * val loss, PLCC and SRCC. The checkpoint with the highest val SRCC + PLCC
 * is model.h5 (the last epoch's without val images); last.h5 holds the last
 * epoch's weights and the whole training state, for --resume; log.csv gets
 * a row per epoch, with a train_<part> column per loss part of the method.
 *
 * The same config, data, seed and thread count give bit-identical weights;
 * a resumed run ends with the same weights as an uninterrupted one. */
#ifndef OIQA_TRAIN_LOOP_H
#define OIQA_TRAIN_LOOP_H

#include "train/train_config.h"

typedef struct {
    const char *out_dir;  /* model.h5, last.h5, log.csv go here (created) */
    int resume;           /* continue from out_dir/last.h5 */
    int force;            /* replace the outputs of an earlier run */
    int progress;         /* show a progress bar */
    const char *command;  /* provenance */
    long stop_after;      /* > 0: stop after this epoch (tests simulate an interruption) */
} oiqa_train_opts;

typedef struct {
    long epochs_run;      /* in this invocation */
    long best_epoch;      /* 1-based */
    double best_srcc, best_plcc;
    double seconds_per_epoch;
    int n_train, n_val;
} oiqa_train_result;

int oiqa_train_run(const oiqa_train_config *cfg, const oiqa_train_opts *o, oiqa_train_result *res);

#endif
