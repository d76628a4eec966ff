/* The configuration of oiqa-train (docs/train.md): a nested YAML document
 *
 *   method:    the method (methods/registry.h; default mtfi)
 *   model:     the method's own keys (its option table: docs/mtfi.md)
 *   features:  one file per input role of the method (MTFI: local, global)
 *   labels, splits, repeat
 *   optimizer: type (sgd | adamw | adam), lr, momentum, weight_decay, betas,
 *              eps, lr_scale (parameter groups: [PREFIX=SCALE, ...])
 *   schedule:  type (constant | step | cosine), per (epoch | batch),
 *              in_epochs, warmup, warmup_rule (to_lr | from_init),
 *              warmup_init, step_size, gamma, min_lr, period
 *   freeze (parameter name prefixes), ema (decay), ema_warmup, epochs,
 *   batch_size, clip, seed
 *
 * with the defaults of METHODS.md's MTFI reference config (SGD, lr 1e-3,
 * momentum 0.9, weight decay 1e-4, batch 16) except epochs (100, not 300).
 * Every key comes from one option table (base/cli.h): sections are maps,
 * --set model.hidden=64 sets one key of one, and the resolved text
 * (oiqa_train_config_yaml) is stored in model.h5 and compared on --resume.
 * Strings of a parsed config are owned by the oiqa_cli that parsed it. */
#ifndef OIQA_TRAIN_CONFIG_H
#define OIQA_TRAIN_CONFIG_H

#include "base/cli.h"
#include "methods/method.h"

enum { OIQA_TRAIN_SGD = 0, OIQA_TRAIN_ADAMW = 1, OIQA_TRAIN_ADAM = 2 };
enum { OIQA_TRAIN_CONSTANT = 0, OIQA_TRAIN_STEP = 1, OIQA_TRAIN_COSINE = 2 };

enum { OIQA_TRAIN_PER_EPOCH = 0, OIQA_TRAIN_PER_BATCH = 1 };

typedef struct {
    int type; /* OIQA_TRAIN_SGD, ... */
    double lr, momentum, weight_decay;
    oiqa_opt_numbers betas; /* Adam, AdamW: [beta1, beta2] */
    double eps;
    oiqa_opt_strings lr_scale; /* "PREFIX=SCALE": the named parameters' lr times SCALE */
} oiqa_train_optimizer_config;

typedef struct {
    int type;               /* OIQA_TRAIN_CONSTANT, ... */
    int per;                /* OIQA_TRAIN_PER_EPOCH, _PER_BATCH: the unit of t and of the counts below */
    int in_epochs;          /* per batch: the counts are in epochs all the same */
    long warmup, step_size; /* in `per` units */
    int warmup_rule;        /* nn/optim.h's oiqa_warmup_kind */
    double warmup_init, gamma, min_lr;
    long period;            /* cosine: the half period (torch's T_max); 0: the run after warm-up */
} oiqa_train_schedule_config;

typedef struct {
    const oiqa_method *m;   /* set by oiqa_train_config_bind from `method` */
    char *method;
    oiqa_method_opts model; /* the method's options struct */
    char *features[OIQA_METHOD_MAX_INPUTS]; /* per input role, in the method's order */
    char *labels, *splits, *repeat;
    oiqa_train_optimizer_config optimizer;
    oiqa_train_schedule_config schedule;
    oiqa_opt_strings freeze; /* parameter name prefixes kept constant */
    double ema;              /* decay of the weights' moving average (0: off) */
    int ema_warmup;          /* torch_ema's decay warm-up */
    long epochs, batch_size, seed;
    double clip; /* max global gradient norm; 0: off */
} oiqa_train_config;

/* The option rows of the config keys for method m, offsets relative to a
 * struct that holds an oiqa_train_config at `base` (a tool appends them to
 * its own options). */
#define OIQA_TRAIN_ROWS_MAX 20
typedef struct {
    oiqa_opt row[OIQA_TRAIN_ROWS_MAX];
    oiqa_opt features[OIQA_METHOD_MAX_INPUTS + 1];
    char method_help[256], model_help[320];
    int n;
} oiqa_train_rows;
void oiqa_train_config_rows(const oiqa_method *m, size_t base, oiqa_train_rows *r);

/* A tool's table: its own rows (n_own of them, may be 0) then the config
 * rows of m at `base`, terminated; `tool` gets the table, its other fields
 * are the caller's. */
#define OIQA_TRAIN_TOOL_ROWS_MAX 32
typedef struct {
    oiqa_train_rows rows;
    oiqa_opt opts[OIQA_TRAIN_TOOL_ROWS_MAX + 1];
} oiqa_train_table;
int oiqa_train_tool_table(const oiqa_method *m, const oiqa_opt *own, int n_own, size_t base, oiqa_train_table *t,
                          oiqa_tool *tool);

/* The method a command line asks for (`method` of --config, --set method=,
 * --method; mtfi when none): a usage error naming the known ones when it is
 * unknown. */
int oiqa_train_method_of_args(int argc, char **argv, const oiqa_method **m);
/* Sets c->m from c->method; a usage error if they disagree with want (when
 * not NULL) or the method is unknown. */
int oiqa_train_config_bind(oiqa_train_config *c, const oiqa_method *want);

/* Parses text written by oiqa_train_config_yaml for method m (defaults
 * first; a text without `method` is read as m's). Strings live in cli. */
int oiqa_train_config_parse(const oiqa_method *m, const char *text, const char *source, oiqa_train_config *c,
                            oiqa_cli *cli);
/* Consistency checks (usage errors naming the key). */
int oiqa_train_config_check(const oiqa_train_config *c);
/* The resolved configuration as nested YAML text (malloc'ed); it reads back
 * through oiqa_train_config_parse to the same config. */
char *oiqa_train_config_yaml(const oiqa_train_config *c);
/* Whether the prefix names the parameter: the whole name or a leading part
 * of it up to a '.' ("layer1" names layer1.0.conv1.weight, not
 * layer10.weight). */
int oiqa_train_prefix_names(const char *prefix, const char *param_name);

/* The input role index of a features key, -1 when m has none of that name. */
int oiqa_train_input_index(const oiqa_method *m, const char *role);

#endif
