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
 * backward, optional global gradient-norm clipping, one optimiser step (the
 * parameters `freeze` names are constants of the tape and never stepped;
 * optimizer.lr_scale's groups get their multiple of the learning rate),
 * then, with `ema`, the update of the weights' moving average. The schedule
 * gives the learning rate per epoch or per batch (schedule.per: step t of
 * epochs or of epochs x batches per epoch). After each epoch the val images
 * are predicted in evaluation mode (with the average's weights under ema):
 * val loss, PLCC and SRCC. The checkpoint with the highest val SRCC + PLCC
 * is model.h5 (the last epoch's without val images); last.h5 holds the last
 * epoch's weights and the whole training state, for --resume; log.csv gets
 * a row per epoch, with a train_<part> column per loss part of the method.
 *
 * Mid-epoch: every save_every batches, at stop_after_batches, and at the
 * batch boundary after *interrupt becomes non-zero (a signal handler's
 * flag), last.h5 gets the state inside the epoch (the generator before its
 * shuffle, the batches done, the loss sums so far); --resume continues at
 * the next batch.
 *
 * The same config, data, seed and thread count give bit-identical weights;
 * a resumed run ends with the same weights as an uninterrupted one, whether
 * it stopped at an epoch's end or inside one. */
#ifndef OIQA_TRAIN_LOOP_H
#define OIQA_TRAIN_LOOP_H

#include <signal.h>

#include "train/train_config.h"

/* oiqa_train_run's code when *interrupt stopped it (last.h5 was saved). */
#define OIQA_TRAIN_INTERRUPTED 130

typedef struct {
    const char *out_dir;  /* model.h5, last.h5, log.csv go here (created) */
    int resume;           /* continue from out_dir/last.h5 */
    int force;            /* replace the outputs of an earlier run */
    int progress;         /* show a progress bar */
    const char *command;  /* provenance */
    long stop_after;      /* > 0: stop after this epoch (tests simulate an interruption) */
    long stop_after_batches; /* > 0: stop after this many batches of the run (counted from its start) */
    long save_every;      /* > 0: also write last.h5 every this many batches */
    volatile sig_atomic_t *interrupt; /* non-zero: save and stop at the next batch boundary */
} oiqa_train_opts;

typedef struct {
    long epochs_run;      /* completed in this invocation */
    long batches_run;     /* in this invocation */
    long best_epoch;      /* 1-based */
    double best_srcc, best_plcc;
    double seconds_per_epoch;
    int n_train, n_val;
} oiqa_train_result;

int oiqa_train_run(const oiqa_train_config *cfg, const oiqa_train_opts *o, oiqa_train_result *res);

#endif
