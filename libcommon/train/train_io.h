/* model.h5 and last.h5 of oiqa-train: oiqa HDF5 weight files (io/ckpt_h5.h,
 * so `oiqa-weights ls` lists them) holding
 *
 *   tensors   the MTFI parameters by name ("stream0.unit0.weight", ...), the
 *             normalisation statistics ("norm.<block>.mean", ...,
 *             train/train_norm.h) and, in last.h5 only, the optimiser state
 *             ("optim.m.<param>", "optim.v.<param>")
 *   root attributes (strings)
 *             model "mtfi"; config (the resolved training YAML); levels,
 *             types (class vocabularies, JSON); local_dims, global_dim (the
 *             input sizes); features (JSON list of the provenance of every
 *             feature file used); epoch (of these weights); val_srcc,
 *             val_plcc; in last.h5 also optimizer_step, rng (the generator
 *             state), best_epoch, best_score, log_rows
 *
 * docs/train.md lists them with examples. */
#ifndef OIQA_TRAIN_IO_H
#define OIQA_TRAIN_IO_H

#include "base/rng.h"
#include "models/mtfi.h"
#include "nn/optim.h"
#include "train/train_classes.h"
#include "train/train_config.h"
#include "train/train_data.h"
#include "train/train_norm.h"

typedef struct {
    oiqa_mtfi model;
    oiqa_train_config cfg;
    char *config_yaml;
    oiqa_train_classes classes;
    oiqa_train_norm norm;
    oiqa_feature_prov prov[2];
    int n_prov;
    long epoch;
    double val_srcc, val_plcc;
    /* training state (last.h5) */
    int has_state;
    oiqa_optimizer opt;
    oiqa_rng rng;
    long best_epoch;
    double best_score;
} oiqa_train_model;

/* What a save writes besides the model's tensors. */
typedef struct {
    const char *config_yaml;
    const oiqa_train_classes *classes;
    const oiqa_train_norm *norm;
    char *const *scales;             /* block names, for the norm tensors */
    const oiqa_feature_prov *prov[2];
    int n_prov;
    long epoch;
    double val_srcc, val_plcc;
    const char *command;
    /* training state: NULL opt for model.h5 */
    const oiqa_optimizer *opt;
    const oiqa_rng *rng;
    long best_epoch;
    double best_score;
} oiqa_train_save_info;

/* Writes path (via path.partial, replacing it). */
int oiqa_train_save(oiqa_mtfi *m, const oiqa_train_save_info *info, const char *path);
/* Reads a file written by oiqa_train_save: the model with its weights, the
 * config, classes, normalisation, provenance (and the state, if present). */
int oiqa_train_load(const char *path, oiqa_train_model *tm);
void oiqa_train_model_free(oiqa_train_model *tm);

/* The MTFI config of a training config and data dimensions. */
void oiqa_train_mtfi_config(const oiqa_train_config *c, int n_scales, const int *dims, int G,
                            const oiqa_train_classes *cl, oiqa_mtfi_config *mc);
/* The optimiser of a training config (AdamW's betas 0.9, 0.999, eps 1e-8). */
void oiqa_train_optimizer_init(const oiqa_train_config *c, oiqa_optimizer *o);

#endif
