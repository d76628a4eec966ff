/* The registry of feature extractors: every backbone a stage can run, as one
 * table row each (libvmaf's feature-extractor list is the model: a stage
 * runner looks an extractor up by name and needs nothing else about it).
 *
 * An extractor takes a batch of RGB images and returns named feature maps
 * ("blocks": ResNet-50's layer1..layer4, VMamba's stage0..stage3). A row
 * says what it is, which blocks it has (name, channels), how big each map is
 * for an input size, what input it is meant for and its preprocessing, and
 * how to load weights: a checkpoint file through io/ckpt.h, or deterministic
 * random weights ("random:SEED") built as an in-memory state dict and loaded
 * through the same loader, so both paths check the same keys and shapes.
 *
 * A row also carries its own options (an oiqa_opt table over its own
 * struct, which oiqa-backbone adds to the common ones: the open hook gets
 * them parsed), what `oiqa-weights verify` checks a checkpoint with (its
 * open; a family check for a family of rows, such as any VMamba), and its
 * output kind: spatial maps (ResNet, VMamba), or a token set (ViT, CLIP),
 * whose patch tokens are the maps of the patch grid and which may add a
 * class token per block and an image embedding (features/README.md).
 *
 * To add an extractor: write its open/forward/close and map_shape, add a row
 * to the table in extractor.c (or, for one that lives outside the library,
 * a test's, register the row at run time). */
#ifndef OIQA_MODELS_EXTRACTOR_H
#define OIQA_MODELS_EXTRACTOR_H

#include <stdint.h>

#include <stddef.h>

#include "base/cli.h"
#include "io/ckpt.h"
#include "nn/backend.h"
#include "nn/tensor.h"

#define OIQA_EXTRACTOR_MAX_BLOCKS 16 /* ViT-B: 12 blocks and its final norm */

typedef enum {
    OIQA_INPUT_VIEWPORT = 0, /* rectilinear views (viewports.h5) */
    OIQA_INPUT_ERP = 1,      /* whole equirectangular images, resized */
} oiqa_input_kind;

typedef enum {
    OIQA_OUTPUT_MAPS = 0,   /* spatial feature maps per block */
    OIQA_OUTPUT_TOKENS = 1, /* a token set per block: the patch tokens as maps of the patch grid, plus the extras */
} oiqa_extractor_output;

typedef struct {
    const char *name; /* "layer2" */
    int channels;     /* 512 */
} oiqa_extractor_block;

/* What a token extractor gives besides the patch-token maps, for the last
 * forward: per block its class token (n x 1 x 1 x C; every block of a token
 * extractor has one) and the image embedding (n x 1 x 1 x embed_dim; NULL
 * when embed_dim is 0), host tensors owned by the state. */
typedef struct {
    const oiqa_tensor *cls[OIQA_EXTRACTOR_MAX_BLOCKS];
    const oiqa_tensor *embedding;
} oiqa_extractor_extras;

/* The parsed own options of an extractor (its opts table's struct). */
#define OIQA_EXTRACTOR_OPTS_MAX 512
typedef union {
    max_align_t align;
    unsigned char bytes[OIQA_EXTRACTOR_OPTS_MAX];
} oiqa_extractor_opts;

typedef struct oiqa_extractor_kind {
    const char *name;          /* "resnet50" */
    const char *description;   /* one line */
    oiqa_input_kind input;     /* what the method feeds it */
    int input_h, input_w;      /* the method's input size (224 x 224) */
    const char *normalisation; /* recorded in outputs ("imagenet: (v/255 - mean) / std, ...") */
    const char *init;          /* what random:SEED draws, recorded in outputs */
    int n_blocks;
    const oiqa_extractor_block *blocks;
    const char *default_blocks; /* "layer2,layer3,layer4" */
    const char *weights_help;   /* what checkpoints it loads, for --help; NULL: a generic line */
    oiqa_extractor_output output;
    int embed_dim;              /* OIQA_OUTPUT_TOKENS: the embedding's size; 0: none */
    /* Its own options: a table over a struct of opts_size bytes (at most
     * OIQA_EXTRACTOR_OPTS_MAX), terminated by name == NULL; NULL: none.
     * Their names must not be those of oiqa-backbone's common options. */
    const oiqa_opt *opts;
    size_t opts_size;
    /* A family of rows one check covers (oiqa-weights verify --arch FAMILY:
     * "vmamba", whose loader reads the architecture from the keys); NULL:
     * none. Every row of a family names the same family_check. */
    const char *family;
    int (*family_check)(const oiqa_ckpt *ck, const char *path);
    /* Map size of block b for an h x w input (0 x 0 when the input is too
     * small for the network). */
    void (*map_shape)(int b, int h, int w, int *mh, int *mw);
    /* Random weights as an in-memory state dict. */
    int (*random_ckpt)(uint64_t seed, oiqa_ckpt **out);
    /* Loads weights from an open checkpoint (path for messages); opts: its
     * own options, parsed (defaults applied), NULL when it has none. */
    int (*open)(const oiqa_ckpt *ck, const char *path, const void *opts, void **state);
    /* rgb: n images h x w x 3, NHWC float on the 0..255 scale. Sets maps[b]
     * for every block to a tensor owned by the state, valid until the next
     * forward. Run from serial code (the kernels use the threads). */
    int (*forward)(void *state, const float *rgb, int n, int h, int w, const oiqa_tensor **maps);
    /* The network on a backend (nn/backend.h): x is n x h x w x 3,
     * normalised, in the backend's memory; sets maps[b] to tensors in the
     * backend's memory held by the state until the next call or close. */
    int (*forward_on)(void *state, oiqa_backend *be, const oiqa_tensor *x, const oiqa_tensor **maps);
    /* OIQA_OUTPUT_TOKENS only (NULL otherwise): the extras of the last
     * forward. */
    int (*extras)(void *state, oiqa_extractor_extras *out);
    void (*close)(void *state);
} oiqa_extractor_kind;

/* An extractor with its weights loaded. */
typedef struct {
    const oiqa_extractor_kind *kind;
    void *state;
    oiqa_backend *be;      /* where forward runs (the CPU backend unless opened on a GPU) */
    oiqa_tensor x_dev;     /* GPU only: the input batch in device memory */
    oiqa_tensor host[OIQA_EXTRACTOR_MAX_BLOCKS]; /* GPU only: the maps brought back */
    char *weights;          /* as given: a path or "random:SEED" */
    char weights_sha256[65]; /* of the file; "" for random weights */
    int random;             /* 1 for random:SEED */
    uint64_t seed;
    oiqa_extractor_opts opts; /* its own options as opened */
    oiqa_cli opts_cli;        /* owns their strings */
} oiqa_extractor;

/* NULL when the name is unknown. */
const oiqa_extractor_kind *oiqa_extractor_find(const char *name);
/* The registry in order: kinds 0 .. oiqa_extractor_count() - 1. */
int oiqa_extractor_count(void);
const oiqa_extractor_kind *oiqa_extractor_at(int i);
/* Whether ck holds weights kind k can load (its open, then close): OIQA_OK,
 * else the loader's one-line message (oiqa-weights verify, models/arch.h). */
int oiqa_extractor_check(const oiqa_extractor_kind *k, const oiqa_ckpt *ck, const char *path);
/* "resnet50, ..." (static storage, valid until the next register) */
const char *oiqa_extractor_names(void);
/* The extractor's own options with their defaults into opts (strings owned
 * by cli, freed with oiqa_cli_free); nothing for a row without options. */
int oiqa_extractor_default_opts(const oiqa_extractor_kind *k, oiqa_extractor_opts *opts, oiqa_cli *cli);
/* Adds a row after the built-in ones (an extractor outside the library: a
 * test's, a user's own tool's): OIQA_OK, or a usage error for a name taken,
 * a row without its hooks, or a full registry. */
int oiqa_extractor_register(const oiqa_extractor_kind *k);

/* Parses "random:SEED" (SEED a decimal integer >= 0). Returns 1 and sets seed
 * for that form, 0 for anything else (a file path); -1 (usage error, message
 * set) for "random:" followed by something that is not a seed. */
int oiqa_weights_spec_random(const char *spec, uint64_t *seed);

/* Loads the named extractor with the weights spec (a checkpoint path or
 * random:SEED). Unknown names are usage errors listing the known ones; a
 * checkpoint that does not fit names its first mismatches (the model's
 * loader message). ex is left closed-safe on failure. */
int oiqa_extractor_open(const char *name, const char *weights, oiqa_extractor *ex);
/* The same on a device (nn/device.h; resolved here: cuda/auto fall back to
 * the CPU with the stderr line). On the GPU, forward copies the images in
 * sub-batches sized to the free device memory and brings every block's
 * maps back to host tensors; maps are then the same as on the CPU within
 * DESIGN §6's tolerance. */
int oiqa_extractor_open_on(const char *name, const char *weights, oiqa_device device, oiqa_extractor *ex);
/* The same with the extractor's own options (a struct its opts table
 * parsed; NULL: the defaults), copied into ex. */
int oiqa_extractor_open_with(const char *name, const char *weights, const void *opts, oiqa_device device,
                             oiqa_extractor *ex);
int oiqa_extractor_forward(oiqa_extractor *ex, const float *rgb, int n, int h, int w, const oiqa_tensor **maps);
/* The statistics pooling of the stages without the maps: for blocks[i],
 * mean[i] and std[i] (n x C floats, torch.std's unbiased std over the
 * positions; nn/pool.h oiqa_channel_mean_std). On the GPU the statistics
 * are computed there and only they are copied back. */
int oiqa_extractor_forward_stats(oiqa_extractor *ex, const float *rgb, int n, int h, int w, const int *blocks,
                                 int n_blocks, float *const *mean, float *const *std);
/* The extras of the last forward (a token extractor's class tokens and
 * embedding; all NULL for a maps extractor). On a GPU a token extractor's
 * extras are not brought back yet: an error says so. */
int oiqa_extractor_extras_of(oiqa_extractor *ex, oiqa_extractor_extras *out);
void oiqa_extractor_close(oiqa_extractor *ex);

/* Block index by name, -1 if absent. */
int oiqa_extractor_block_index(const oiqa_extractor_kind *k, const char *name);

/* Parses a comma-separated block list ("layer2,layer3") into indices in
 * network order without repeats (at most OIQA_EXTRACTOR_MAX_BLOCKS); NULL or
 * "" means the default list. An unknown name is a usage error naming the
 * valid ones. Returns the count in *n. */
int oiqa_extractor_parse_blocks(const oiqa_extractor_kind *k, const char *list, int *idx, int *n);

#endif
