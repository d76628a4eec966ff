/* Batched prediction of any method (evaluation mode), for validation and
 * scoring, and the host copy of a batch's outputs the log reads. */
#ifndef OIQA_METHODS_PREDICT_H
#define OIQA_METHODS_PREDICT_H

#include "methods/features.h"

/* Predicts rows idx[0..n) of fs (all rows when idx is NULL) in batches of
 * `batch`, in evaluation mode (no dropout); the tape is left reset and in
 * training mode. */
int oiqa_method_predict(oiqa_ag *ag, const oiqa_method *m, void *model, const oiqa_feature_set *fs, const int *idx,
                        int n, int batch, oiqa_method_pred *out);
/* Copies the outputs of one forward pass (B rows) into rows [at, at + B) of
 * p, which has room for p->n rows (allocated on the first call: p zeroed,
 * p->n set); class logits become softmax probabilities. */
int oiqa_method_pred_take(oiqa_ag *ag, const oiqa_method *m, const oiqa_agv *out, int B, int at,
                          oiqa_method_pred *p);
void oiqa_method_pred_free(oiqa_method_pred *p);

#endif
