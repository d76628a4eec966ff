/* VMamba (Liu et al. 2024, "VMamba: Visual State Space Model";
 * BACKBONES.md §2), inference only, on NHWC float32 tensors (nn/tensor.h),
 * matching github.com/MzeroMiko/VMamba classification/models/vmamba.py in
 * the two forms its published models use:
 *
 *   v0       (VMamba-T v0): patch embed v1 = conv 4x4/4 + LN; blocks
 *            x += SS2D(LN(x)) with SS2D = in_proj (x | z), SiLU(dwconv3x3 +
 *            bias), 2-D selective scan (nn/ss2d.h), LN, * SiLU(z), out_proj;
 *            downsample v1 = 2x2 patch merging + LN(4C) + Linear(4C -> 2C).
 *   v05_noz  (VMamba-T s2l5 / s1l8): patch embed v2 = conv3x3/2 + LN + GELU
 *            + conv3x3/2 + LN; SS2D without z (in_proj, SiLU(dwconv3x3), scan,
 *            LN, out_proj), then x += fc2(GELU(fc1(LN(x)))) when mlp_ratio > 0;
 *            downsample v3 = conv3x3/2 pad 1 + LN.
 * LN is over channels in both (`ln` and `ln2d` compute the same), eps 1e-5.
 * Stage i has dims[i] channels; its feature map is the output of its blocks,
 * before the downsample into stage i+1. Head: LN, global mean, Linear.
 * Any input size works: 224 x 224 gives 56, 28, 14, 7; 128 x 256 gives
 * 32 x 64 ... 4 x 8 (v1 patch merging pads an odd side with a zero row or
 * column, as the official code does).
 *
 * Which architecture a checkpoint holds: oiqa_vmamba_load with cfg = NULL
 * reads it from the checkpoint's key names and shapes (depths from the block
 * count of each stage, dims from the norms, d_state and Di from A_logs and
 * x_proj_weight, v0 vs v05_noz from in_proj being 2 Di or Di wide, patch
 * embed / downsample versions and MLP width from which keys exist, the
 * classes from the head). That is what someone with an official .pth wants:
 * any size (tiny, small, base, or reduced test models) loads as it was
 * trained. With a preset config (oiqa_vmamba_preset: "vmamba_t_v0",
 * "vmamba_t_s2l5", "vmamba_t_s1l8") the checkpoint must be exactly that
 * model, and every difference is reported (oiqa-weights verify --arch).
 *
 * Key names: those of the current repository (README of the fixtures:
 * patch_embed.0, layers.i.blocks.j.norm / .op / .norm2 / .mlp,
 * layers.i.downsample.*, classifier.norm / .head). The first release's names
 * are accepted too and mapped: patch_embed.proj -> patch_embed.0,
 * patch_embed.norm -> patch_embed.2, blocks.j.ln_1 -> blocks.j.norm,
 * blocks.j.self_attention -> blocks.j.op, norm -> classifier.norm,
 * head -> classifier.head. */
#ifndef OIQA_MODELS_VMAMBA_H
#define OIQA_MODELS_VMAMBA_H

#include "io/ckpt.h"
#include "nn/backend.h"
#include "nn/conv2d.h"
#include "nn/ss2d.h"
#include "nn/tensor.h"

#define OIQA_VMAMBA_STAGES 4

typedef enum {
    OIQA_VMAMBA_V0 = 0,      /* forward_type "v0": z gate, conv bias, no MLP */
    OIQA_VMAMBA_V05_NOZ = 1, /* forward_type "v05_noz": no z gate */
} oiqa_vmamba_forward_type;

typedef struct {
    int depths[OIQA_VMAMBA_STAGES]; /* blocks per stage, e.g. 2, 2, 9, 2 */
    int dims[OIQA_VMAMBA_STAGES];   /* channels per stage, e.g. 96, 192, 384, 768 */
    int d_state;                    /* N: 16 (v0), 1 (v2 models) */
    float ssm_ratio;                /* Di = (int)(ssm_ratio * C): 2.0 or 1.0 */
    float mlp_ratio;                /* MLP hidden = (int)(mlp_ratio * C); 0: no MLP */
    oiqa_vmamba_forward_type forward_type;
    int conv_bias;                  /* SS2D's depthwise conv has a bias (v0: always) */
    int patch_size;                 /* 4 */
    int patch_embed_version;        /* 1 (conv p x p / p) or 2 (two conv3x3/2) */
    int downsample_version;         /* 1 (patch merging) or 3 (conv3x3/2) */
    int num_classes;                /* head outputs; 0: no classifier (norm nor head) */
} oiqa_vmamba_config;

/* Fills cfg with a named preset (the official yaml of that model).
 * OIQA_EXIT_USAGE with the known names in the message when unknown. */
int oiqa_vmamba_preset(const char *name, oiqa_vmamba_config *cfg);

/* "vmamba_t_v0, vmamba_t_s2l5, vmamba_t_s1l8". */
const char *oiqa_vmamba_preset_names(void);

/* Reads a configuration file (configs/models/vmamba_*.yaml: the official
 * yaml keys depths, dims (a list, or dims[0] doubled per stage),
 * forward_type v0|v05_noz, ssm_d_state, ssm_ratio, ssm_dt_rank (auto),
 * ssm_conv (3), ssm_conv_bias, mlp_ratio, norm_layer ln|ln2d, patch_size,
 * patchembed_version v1|v2, downsample_version v1|v3, num_classes; arch and
 * preset are informational). Unknown keys and values the loader cannot run
 * are refused with "FILE:LINE: ..." (OIQA_EXIT_USAGE). */
int oiqa_vmamba_config_from_yaml(const char *path, oiqa_vmamba_config *cfg);

/* Reads the architecture from the keys and shapes of a checkpoint (see
 * above). OIQA_EXIT_DATA naming path when it is not a VMamba state dict. */
int oiqa_vmamba_infer_config(const oiqa_ckpt *ck, const char *path, oiqa_vmamba_config *cfg);

/* One VSS block; weights owned, in the layouts the kernels take. */
typedef struct {
    int dim, d_inner, hidden;     /* C, Di, MLP hidden (0: none) */
    oiqa_vmamba_forward_type forward_type;
    float *norm_w, *norm_b;       /* [C] */
    float *in_proj;               /* [2 Di or Di][C] (rows 0..Di-1: x, Di..: z) */
    float *conv_w, *conv_b;       /* [3][3][Di], [Di] or NULL */
    float *x_proj, *dt_w, *dt_b;  /* [4][R+2N][Di], [4][Di][R], [4][Di] */
    float *A, *Ds;                /* [4 Di][N] = -exp(A_logs), [4 Di] */
    float *out_norm_w, *out_norm_b; /* [Di] */
    float *out_proj;              /* [C][Di] */
    float *norm2_w, *norm2_b;     /* [C]        (MLP only) */
    float *fc1_w, *fc1_b;         /* [hidden][C], [hidden] */
    float *fc2_w, *fc2_b;         /* [C][hidden], [C] */
    oiqa_ss2d_weights ss2d;       /* views of the arrays above */
} oiqa_vmamba_block;

typedef struct {
    oiqa_conv2d conv;             /* v3: 3x3/2 pad 1, C -> 2C; v1 unused */
    float *conv_w, *conv_b;       /* HWIO, [2C] */
    float *reduction;             /* v1: [2C][4C] */
    float *norm_w, *norm_b;       /* v1: [4C], v3: [2C] */
} oiqa_vmamba_downsample;

typedef struct {
    oiqa_vmamba_config cfg;
    oiqa_conv2d embed_conv[2];    /* v1: [0] only; v2: [0] 3 -> C/2, [1] C/2 -> C */
    float *embed_w[2], *embed_b[2];
    float *embed_norm_w[2], *embed_norm_b[2]; /* v1: [0] only */
    oiqa_vmamba_block *blocks;    /* all stages, stage after stage */
    oiqa_vmamba_downsample down[OIQA_VMAMBA_STAGES - 1];
    float *head_norm_w, *head_norm_b; /* [C3] (NULL when num_classes = 0) */
    float *head_w, *head_b;           /* [classes][C3], [classes] */
} oiqa_vmamba;

/* Outputs of a forward (NHWC, owned; start zeroed {0}):
 *   stage[i]  n x hi x wi x dims[i]  (NHWC; the fixtures store NCHW)
 *   pooled    n x 1 x 1 x dims[3]    mean over positions of LN(stage[3])
 *   logits    n x 1 x 1 x classes    (pooled and logits only when asked and
 *                                     the model has a classifier) */
typedef struct {
    oiqa_tensor stage[OIQA_VMAMBA_STAGES];
    oiqa_tensor pooled, logits;
} oiqa_vmamba_out;

/* Loads a VMamba state dict from an open checkpoint (.pth {'model': ...},
 * .safetensors, oiqa .h5; io/ckpt.h). cfg NULL: the architecture is inferred
 * (oiqa_vmamba_infer_config); else the checkpoint must match cfg. Every
 * expected key must be present with its exact shape and nothing else may be
 * there; else OIQA_EXIT_DATA with "PATH: not a VMamba state dict (VARIANT):
 * M missing, U unexpected, S mis-shaped keys: missing K [shape], ...;
 * mis-shaped K is [..], expected [..]; unexpected K" naming the first three
 * of each kind, as models/resnet.h does. net is left empty on failure; free
 * it with oiqa_vmamba_free. path is used in messages only. */
int oiqa_vmamba_load(const oiqa_ckpt *ck, const char *path, const oiqa_vmamba_config *cfg, oiqa_vmamba *net);

/* Opens path (oiqa_ckpt_open), loads and closes it. */
int oiqa_vmamba_load_file(const char *path, const oiqa_vmamba_config *cfg, oiqa_vmamba *net);

void oiqa_vmamba_free(oiqa_vmamba *net);

/* The forward pass.
 *   x:   n x h x w x 3, ImageNet-normalised RGB (models/imagenet.h); h, w
 *        at least the patch size (v1) or 1 (v2)
 *   out: stage maps, and pooled + logits when want_head (and the model has a
 *        classifier), (re)allocated here when their shapes differ.
 * Runs BLAS and OpenMP kernels in turn: call from serial code, threads as
 * set by oiqa_threads_set. Returns OIQA_OK, or OIQA_EXIT_DATA with the
 * message set on a bad input or a failed allocation. */
int oiqa_vmamba_forward(const oiqa_vmamba *net, const oiqa_tensor *x, oiqa_vmamba_out *out, int want_head);

/* The stages on a backend (nn/backend.h): x and out->stage[] live in the
 * backend's memory (free them with oiqa_be_tensor_free of the same
 * backend); no head. Intermediates are taken from and returned to the
 * backend per block. */
int oiqa_vmamba_forward_on(oiqa_backend *be, const oiqa_vmamba *net, const oiqa_tensor *x, oiqa_vmamba_out *out);

void oiqa_vmamba_out_free(oiqa_vmamba_out *out);

/* One VSS block in place on x (n x h x w x C): x += SS2D(LN(x)), then the
 * MLP half when the block has one. Exposed for step-by-step tests. */
int oiqa_vmamba_block_forward(const oiqa_vmamba_block *blk, oiqa_tensor *x);

#endif
