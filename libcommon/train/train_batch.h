/* Mini-batches of the MTFI model: rows of a train_data put on the autograd
 * tape as the model's inputs, and batched prediction (evaluation mode) for
 * validation and scoring. */
#ifndef OIQA_TRAIN_BATCH_H
#define OIQA_TRAIN_BATCH_H

#include "models/mtfi.h"
#include "nn/ag.h"
#include "train/train_data.h"

/* Puts rows idx[0..B) of d on the tape as the inputs of m. */
int oiqa_train_batch_inputs(oiqa_ag *ag, const oiqa_mtfi *m, const oiqa_train_data *d, const int *idx, int B,
                            oiqa_mtfi_inputs *in);

typedef struct {
    float *quality; /* n predictions on the normalised target scale */
    float *p_level; /* n x n_levels softmax probabilities (NULL without aux heads) */
    float *p_type;  /* n x n_types */
} oiqa_train_pred;

/* Predicts rows idx[0..n) (all rows when idx is NULL) in batches of
 * `batch`, in evaluation mode (no dropout); the tape is left reset and in
 * training mode. */
int oiqa_train_predict(oiqa_ag *ag, oiqa_mtfi *m, const oiqa_train_data *d, const int *idx, int n, int batch,
                       oiqa_train_pred *out);
void oiqa_train_pred_free(oiqa_train_pred *p);

#endif
