/* A quality-assessment method as a plug-in (libvmaf's feature-extractor
 * shape, applied to models): one oiqa_method row says everything the
 * training engine (train/), the scorer (score/) and the tools need about it.
 *
 *   name, summary   "mtfi", one line
 *   opts            its options: the `model:` section of oiqa-train's config
 *                   (an oiqa_opt table over a struct of opts_size bytes)
 *   inputs          the cached features it reads, as data (role, stage kind,
 *                   layout, streams); `select` says which a configuration
 *                   reads, and which blocks
 *   outputs         what forward returns: output 0 is the quality score
 *                   (normalised target scale), others class logits
 *   loss_parts      the parts of its loss, log.csv's train_<part> columns
 *   hooks           check, build, params, forward, loss, log_parts,
 *                   log_total, and the extra prediction columns
 *
 * The engine owns everything that is the same for every method: labels and
 * splits, loading and z-scoring the features (methods/features.h,
 * feature_norm.h), the class vocabularies (methods/classes.h), epochs,
 * shuffling, batching, clipping, optimisers and schedules, best-by-
 * validation, resume, log.csv and the weight files (parameters by name).
 *
 * To add a method: a folder methods/NAME/ with its model and this row, and
 * one line in methods/registry.c (docs/methods.md). */
#ifndef OIQA_METHODS_METHOD_H
#define OIQA_METHODS_METHOD_H

#include <stddef.h>
#include <stdio.h>

#include "base/cli.h"
#include "base/rng.h"
#include "methods/classes.h"
#include "nn/ag.h"

#define OIQA_METHOD_MAX_INPUTS 4
#define OIQA_METHOD_MAX_STREAMS 3
#define OIQA_METHOD_MAX_BLOCKS 8
#define OIQA_METHOD_MAX_OUTPUTS 4
#define OIQA_METHOD_MAX_PARTS 4
#define OIQA_METHOD_MAX_PARAMS 1024
#define OIQA_METHOD_OPTS_MAX 1024 /* bytes of a method's options struct */

/* How a feature file's datasets become one input of the model. */
typedef enum {
    /* per block: /<stream>/<block>/mean and /std, [N, V, C] each: the block
     * is a [V, 2C] input (mean || std per viewport); blocks from `select` */
    OIQA_LAYOUT_VIEW_BLOCKS = 0,
    /* every block the file lists (its `blocks` attribute, in order):
     * /<stream>/<block>/mean and /std, [N, C] each, concatenated to one
     * vector of 2 sum C (mean || std per block) */
    OIQA_LAYOUT_IMAGE_CONCAT = 1,
    /* per selected name (from `select`, as the blocks): the float32 dataset
     * /<stream>/<name> as it is, [N, V, D] in a backbone file (a [V, D]
     * input) or [N, D] in a global one (a [D] input): a token backbone's
     * "embedding", "<block>/cls", or one statistic "<block>/mean"
     * (features/README.md). Its block name is the name with '/' as '.'. */
    OIQA_LAYOUT_VECTORS = 2,
    /* the cached maps of one block, /<stream>/<block>/map float16
     * [N, V, h, w, C] (a backbone stage run with --maps): a [B*V, h, w, C]
     * input, not z-scored, for a network that continues from that layer (a
     * trainable backbone above a cached cut). One block, from `select`; its
     * dim is C. */
    OIQA_LAYOUT_MAPS = 3,
    /* the images themselves, /<stream> uint8 [N, V, S, S, 3] (a viewports.h5:
     * stream "viewports"; a pseudoref.h5: "restored", "degraded"): a
     * [B*V, S, S, 3] float input on the 0..255 scale, for a network trained
     * from the pixels (the method normalises and augments). dim is 3. */
    OIQA_LAYOUT_IMAGES = 4,
} oiqa_feature_layout;

typedef struct {
    const char *role;     /* "local": the config key features.<role>, the model.h5 attribute <role>_dims */
    const char *stage;    /* the stage kind its file must come from (io/h5store.h: "backbone", "global") */
    oiqa_feature_layout layout;
    const char *streams[OIQA_METHOD_MAX_STREAMS]; /* "original", "restored", ...; the first is always read */
    const char *help;     /* of the features.<role> key */
    /* What to tell a user whose file lacks a block / a stream ("%s" is the
     * block / the stream): "change model.scales", "set model.use_%s: false". */
    const char *fix_block, *fix_stream;
    /* What to tell a user whose config reads the input but gives no file. */
    const char *fix_missing;
} oiqa_method_input;

/* What one configuration reads (method->select fills it). */
typedef struct {
    int use[OIQA_METHOD_MAX_INPUTS];                              /* 0: not read */
    int stream[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_STREAMS];  /* streams read (stream 0 always) */
    int n_blocks[OIQA_METHOD_MAX_INPUTS];                         /* VIEW_BLOCKS: the blocks, in order */
    const char *blocks[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_BLOCKS];
} oiqa_method_select;

/* The sizes the model is built for: per input (in the method's order) the
 * blocks and their dims (2 C per block; one block of 2 sum C for concat). */
typedef struct {
    int used[OIQA_METHOD_MAX_INPUTS];
    int n_blocks[OIQA_METHOD_MAX_INPUTS];
    int dim[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_BLOCKS];
    const oiqa_train_classes *classes; /* vocabularies of the training labels */
} oiqa_method_shape;

/* One mini-batch on the tape: x[input][stream][block] is [B, V, dim] (view
 * blocks), [B, dim] (concat), [B*V, h, w, C] (maps) or [B*V, S, S, 3]
 * (images), -1 when not read. */
typedef struct {
    int B;
    oiqa_agv x[OIQA_METHOD_MAX_INPUTS][OIQA_METHOD_MAX_STREAMS][OIQA_METHOD_MAX_BLOCKS];
} oiqa_method_batch;

enum {
    OIQA_OUT_SCORE = 0,   /* [B, 1] quality on the normalised target scale */
    OIQA_OUT_CLASSES = 1, /* [B, K] logits: predictions keep their softmax */
};

typedef struct {
    const char *name; /* "quality", "level" */
    int kind;         /* OIQA_OUT_* */
} oiqa_method_output;

/* Predictions of n images on the host: v[j] is n x width[j] (scores
 * normalised, class outputs as softmax probabilities); NULL when output j
 * is off in this configuration. */
typedef struct {
    int n;
    int width[OIQA_METHOD_MAX_OUTPUTS];
    float *v[OIQA_METHOD_MAX_OUTPUTS];
} oiqa_method_pred;

/* Targets of images: score on the normalised scale (double, as the log
 * computes it; float on the tape), class indices (-1: no class). */
typedef struct {
    const double *score;
    const int *level, *type;
} oiqa_method_targets;

typedef struct oiqa_method {
    const char *name;
    const char *summary;
    const oiqa_opt *opts; /* the model: keys; offsets into a struct of opts_size bytes */
    size_t opts_size;
    int n_inputs;
    const oiqa_method_input *inputs;
    int n_outputs;
    const oiqa_method_output *outputs;
    int n_parts;
    const char *const *loss_parts; /* "quality", "level", "type" */

    /* Consistency of the options beyond the table's ranges (usage errors
     * naming the key). May be NULL. */
    int (*check)(const void *opts);
    /* Which inputs, streams and blocks these options read. */
    void (*select)(const void *opts, oiqa_method_select *sel);
    /* A model for these options and sizes, weights drawn from rng. */
    int (*build)(const void *opts, const oiqa_method_shape *shape, oiqa_rng *rng, void **model);
    /* Every parameter in a fixed order, with unique names; the count or -1. */
    int (*params)(void *model, oiqa_param **out, int max);
    /* The forward pass on the tape (dropout follows oiqa_ag_set_training;
     * rng NULL in evaluation); sets out[0 .. n_outputs), -1 for those off. */
    int (*forward)(void *model, oiqa_ag *ag, const oiqa_method_batch *in, oiqa_rng *rng, oiqa_agv *out);
    /* The training loss of a batch (target [B, 1] on the tape). */
    oiqa_agv (*loss)(void *model, oiqa_ag *ag, const oiqa_agv *out, oiqa_agv target, const int *level,
                     const int *type);
    /* For log.csv: adds each part's sum over rows [0, n) of p to sum[] and
     * the images it counts to count[] (the parts are the sums' means). */
    void (*log_parts)(const void *model, const oiqa_method_pred *p, const oiqa_method_targets *t, double *sum,
                      long *count);
    /* The loss of the parts' means, as loss() weighs them. */
    double (*log_total)(const void *model, const double *part);
    /* Prediction columns after name,score (may be NULL): the header's, and
     * row i's, each starting with its comma. */
    void (*csv_header)(const void *model, const oiqa_train_classes *c, FILE *f);
    void (*csv_row)(const void *model, const oiqa_train_classes *c, const oiqa_method_pred *p, int i, FILE *f);
    void (*free)(void *model);
} oiqa_method;

/* A method's options: an aligned buffer its table's offsets index. */
typedef union {
    max_align_t align;
    unsigned char bytes[OIQA_METHOD_OPTS_MAX];
} oiqa_method_opts;

#endif
