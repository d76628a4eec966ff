/* The configuration of oiqa-train (docs/train.md): a nested YAML document
 *
 *   model:     hidden, dropout, use_restored, use_degraded, use_global,
 *              scales, aux_heads, loss_weights
 *   features:  local (oiqa-resnet file), global (oiqa-vmamba file or null)
 *   labels, splits, repeat
 *   optimizer: type (sgd | adamw), lr, momentum, weight_decay
 *   schedule:  type (constant | step | cosine), warmup, step_size, gamma, min_lr
 *   epochs, batch_size, clip, seed
 *
 * with the defaults of METHODS.md's MTFI reference config (SGD, lr 1e-3,
 * momentum 0.9, weight decay 1e-4, batch 16) except epochs (100, not 300).
 * Keys are applied section by section (a config file, then --set); a dotted
 * key ("model.hidden") sets one entry of a section, so --set lines override
 * single keys of a config file. The resolved text (oiqa_train_config_yaml)
 * is stored in model.h5 and compared on --resume. */
#ifndef OIQA_TRAIN_CONFIG_H
#define OIQA_TRAIN_CONFIG_H

#include "base/yaml.h"
#include "models/mtfi.h"

enum { OIQA_TRAIN_SGD = 0, OIQA_TRAIN_ADAMW = 1 };
enum { OIQA_TRAIN_CONSTANT = 0, OIQA_TRAIN_STEP = 1, OIQA_TRAIN_COSINE = 2 };

typedef struct {
    /* model */
    long hidden;
    double dropout;
    int use_restored, use_degraded, use_global, aux_heads;
    int n_scales;
    char *scales[OIQA_MTFI_MAX_SCALES];
    double loss_weights[3]; /* quality, level, type */
    /* features and labels */
    char *local, *global, *labels, *splits, *repeat;
    /* optimiser and schedule */
    int optimizer;
    double lr, momentum, weight_decay;
    int schedule;
    long warmup, step_size; /* epochs */
    double gamma, min_lr;
    long epochs, batch_size, seed;
    double clip; /* max global gradient norm; 0: off */
} oiqa_train_config;

void oiqa_train_config_defaults(oiqa_train_config *c);
void oiqa_train_config_free(oiqa_train_config *c);
int oiqa_train_config_copy(oiqa_train_config *dst, const oiqa_train_config *src);

/* Applies a whole document (a map of top-level keys; sections are maps). */
int oiqa_train_config_apply(oiqa_train_config *c, const oiqa_yaml_node *root);
/* Applies one key: "epochs", "model" (a map), or "model.hidden"; the value
 * node is YAML. Errors (usage) name the key. */
int oiqa_train_config_apply_key(oiqa_train_config *c, const char *key, const oiqa_yaml_node *value);
/* KEY=VALUE with VALUE read as YAML (the --set form). */
int oiqa_train_config_set(oiqa_train_config *c, const char *assignment);
/* Consistency checks (usage errors naming the key). */
int oiqa_train_config_check(const oiqa_train_config *c);
/* The resolved configuration as nested YAML text (malloc'ed); it reads back
 * through oiqa_train_config_apply to the same config. */
char *oiqa_train_config_yaml(const oiqa_train_config *c);
/* Parses text written by oiqa_train_config_yaml (defaults first). */
int oiqa_train_config_parse(const char *text, const char *source, oiqa_train_config *c);

#endif
