/* The MTFI fusion model (Liu et al., IEEE TCSVT 2025, "multi-task guided
 * NR-OIQA with feature interaction"; ../shared/METHODS.md §1), on cached
 * features, built on the autograd tape (nn/ag.h). docs/mtfi.md describes it
 * with a diagram; the parts the paper leaves open follow the unofficial
 * reading METHODS.md gives, and every part can be switched off.
 *
 * Inputs of a batch of B images with V viewports each:
 *   orig[k]     [B, V, D_k]  local features of scale k of the viewports
 *                            (ResNet-50 layer2..4 mean || std: D_k = 2 C_k)
 *   rest[k]     [B, V, D_k]  the same for the restored pseudo-references
 *   degr[k]     [B, V, D_k]  ... and the degraded ones
 *   global      [B, G]       VMamba stage mean || std, concatenated
 * all z-scored with the training set's statistics.
 *
 * BS-MSFA, one stream per direction d (restored, degraded): at scale k the
 * stream sees x_k = [orig_k, orig_k - d_k] (the feature and its distance to
 * the pseudo-reference); cascaded units
 *     h_1 = ReLU(W_1 x_1),  h_k = ReLU(W_k [x_k, P_k h_{k-1}])  (k > 1)
 * carry the finer scales into the coarser ones. With both directions off, a
 * single stream sees x_k = orig_k. Each stream is pooled over the viewports
 * (mean), then fused with the global features by a residual unit
 *     z = p + ReLU(F [p, g]),   g = ReLU(W_g global)
 * (z = p without global features). Heads on the concatenated streams:
 *     quality  Linear - ReLU - Dropout - Linear -> 1
 *     level    Linear -> n_levels        type  Linear -> n_types
 * Loss: w_q MSE(quality) + w_l CE(level) + w_t CE(type). */
#ifndef OIQA_METHODS_MTFI_MODEL_H
#define OIQA_METHODS_MTFI_MODEL_H

#include "base/rng.h"
#include "nn/ag.h"
#include "nn/ag_layers.h"

#define OIQA_MTFI_MAX_SCALES 4

typedef struct {
    int n_scales;
    int local_dim[OIQA_MTFI_MAX_SCALES]; /* D_k */
    int global_dim;                      /* G; 0: no global input */
    int hidden;                          /* H */
    int use_restored, use_degraded, use_global;
    int aux_heads;                       /* level and type heads */
    int n_levels, n_types;
    float dropout;
    float w_quality, w_level, w_type;
} oiqa_mtfi_config;

typedef struct {
    oiqa_linear_layer unit[OIQA_MTFI_MAX_SCALES]; /* W_k */
    oiqa_linear_layer proj[OIQA_MTFI_MAX_SCALES]; /* P_k (k > 0) */
    oiqa_linear_layer fuse;                       /* F (global on) */
    int direction;                                /* 0 none, 1 restored, 2 degraded */
} oiqa_mtfi_stream;

typedef struct {
    oiqa_mtfi_config cfg;
    int n_streams;
    oiqa_mtfi_stream streams[2];
    oiqa_linear_layer global_proj;           /* W_g */
    oiqa_linear_layer q1, q2, level, type;   /* heads */
} oiqa_mtfi;

/* Checks the config (usage errors naming the key) and draws the weights. */
int oiqa_mtfi_init(oiqa_mtfi *m, const oiqa_mtfi_config *cfg, oiqa_rng *rng);
void oiqa_mtfi_free(oiqa_mtfi *m);
/* Every parameter, in a fixed order (names "stream0.unit1.weight", ...). */
int oiqa_mtfi_params(oiqa_mtfi *m, oiqa_param **out, int max);

typedef struct {
    oiqa_agv orig[OIQA_MTFI_MAX_SCALES], rest[OIQA_MTFI_MAX_SCALES], degr[OIQA_MTFI_MAX_SCALES];
    oiqa_agv global; /* -1 when unused */
} oiqa_mtfi_inputs;

typedef struct {
    oiqa_agv quality; /* [B, 1] */
    oiqa_agv level;   /* [B, n_levels] logits, -1 without aux heads */
    oiqa_agv type;    /* [B, n_types] logits */
} oiqa_mtfi_outputs;

/* The forward pass on the tape (dropout follows oiqa_ag_set_training). */
int oiqa_mtfi_forward(oiqa_ag *ag, oiqa_mtfi *m, const oiqa_mtfi_inputs *in, oiqa_rng *rng,
                      oiqa_mtfi_outputs *out);

/* The weighted multi-task loss; level/type labels may be NULL when the
 * auxiliary heads are off. */
oiqa_agv oiqa_mtfi_loss(oiqa_ag *ag, const oiqa_mtfi *m, const oiqa_mtfi_outputs *out, oiqa_agv target,
                        const int *levels, const int *types);

#endif
