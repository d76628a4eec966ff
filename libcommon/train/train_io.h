/* model.h5 and last.h5 of oiqa-train: oiqa HDF5 weight files (io/ckpt_h5.h,
 * so `oiqa-weights ls` lists them) for any method of the registry, holding
 *
 *   tensors   the method's parameters by name ("stream0.unit0.weight", ...),
 *             the normalisation statistics ("norm.<block>.mean", ...,
 *             methods/feature_norm.h) and, in last.h5 only, the optimiser
 *             state ("optim.m.<param>", "optim.v.<param>") and, with ema,
 *             the moving average ("ema.<param>"; model.h5's weights are
 *             the average then)
 *   root attributes (strings)
 *             model (the method's name, e.g. "mtfi"); config (the resolved
 *             training YAML); levels, types (class vocabularies, JSON); per
 *             input role the input sizes: <role>_dims (view blocks: a JSON
 *             list, one per block) or <role>_dim (concat: one number, 0 when
 *             not read); features (JSON list of the provenance of every
 *             feature file used, in the method's input order); epoch (of
 *             these weights); val_srcc, val_plcc; in last.h5 also
 *             optimizer_step, rng (the generator state), best_epoch,
 *             best_score; mid-epoch (a signal, --save-every) also
 *             epoch_batches (batches done of epoch `epoch` + 1),
 *             epoch_rng (the generator before that epoch's shuffle) and
 *             epoch_sums (its loss sums so far)
 *
 * docs/train.md lists them with examples. */
#ifndef OIQA_TRAIN_IO_H
#define OIQA_TRAIN_IO_H

#include "base/rng.h"
#include "methods/classes.h"
#include "methods/feature_norm.h"
#include "methods/features.h"
#include "nn/optim.h"
#include "train/train_config.h"

typedef struct {
    const oiqa_method *m;
    void *model;
    oiqa_train_config cfg;
    oiqa_cli cfg_cli;       /* owns the strings of cfg */
    char *config_yaml;
    oiqa_method_select sel;
    oiqa_method_shape shape;
    oiqa_train_classes classes;
    oiqa_feature_norm norm;
    oiqa_feature_prov prov[OIQA_METHOD_MAX_INPUTS]; /* one per used input, in order */
    int n_prov;
    long epoch;
    double val_srcc, val_plcc;
    /* training state (last.h5) */
    int has_state;
    oiqa_optimizer opt;
    oiqa_rng rng;
    long best_epoch;
    double best_score;
    long epoch_batches;  /* > 0: saved in the middle of epoch `epoch` + 1 */
    oiqa_rng epoch_rng;
    char *epoch_sums;    /* the loop's partial sums, as it wrote them */
    float **ema;         /* per parameter (the method's order; NULL entries: not averaged), or NULL */
    int n_ema;
    long ema_updates;
} oiqa_train_model;

/* What a save writes besides the model's tensors. */
typedef struct {
    const char *config_yaml;
    const oiqa_train_classes *classes;
    const oiqa_feature_norm *norm;
    const oiqa_method_shape *shape;
    const oiqa_feature_prov *prov[OIQA_METHOD_MAX_INPUTS];
    int n_prov;
    long epoch;
    double val_srcc, val_plcc;
    const char *command;
    /* training state: NULL opt for model.h5 */
    const oiqa_optimizer *opt;
    const oiqa_rng *rng;
    long best_epoch;
    double best_score;
    const oiqa_ema *ema;       /* the average: model.h5's weights, last.h5's ema.* */
    long epoch_batches;        /* mid-epoch state (0: at the end of `epoch`) */
    const oiqa_rng *epoch_rng;
    const char *epoch_sums;
} oiqa_train_save_info;

/* Writes path (via path.partial, replacing it). */
int oiqa_train_save(const oiqa_method *m, void *model, const oiqa_train_save_info *info, const char *path);
/* Reads a file written by oiqa_train_save: the method's model with its
 * weights, the config, classes, normalisation, provenance (and the state,
 * if present). */
int oiqa_train_load(const char *path, oiqa_train_model *tm);
void oiqa_train_model_free(oiqa_train_model *tm);
/* The provenance record of input i (the records are those of the used
 * inputs, in order); NULL when the input is not used or has none. */
const oiqa_feature_prov *oiqa_train_model_prov(const oiqa_train_model *tm, int i);

/* The optimiser of a training config. */
void oiqa_train_optimizer_init(const oiqa_train_config *c, oiqa_optimizer *o);

#endif
