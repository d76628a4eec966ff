/* Vision and text transformers on the autograd tape (nn/ag.h): the
 * trainable form of the ViT backbones (issue 17), for the methods that
 * fine-tune them (SIND's CLIP ViT-B/16, DPAM's timm ViT-B/8, MMIFN's
 * viewport ViT and text encoder).
 *
 * Three layouts of one pre-norm transformer (Dosovitskiy et al. 2021;
 * Radford et al. 2021), told apart by the checkpoint's keys and the tower
 * asked for:
 *   - timm VisionTransformer (0.5.5 names: patch_embed.proj, cls_token,
 *     pos_embed, blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2},
 *     norm, head): exact GELU, LayerNorm eps 1e-6;
 *   - CLIP's image tower (visual.conv1 without bias, class_embedding,
 *     positional_embedding, ln_pre, transformer.resblocks.N.{ln_1,
 *     attn.in_proj_*, attn.out_proj, ln_2, mlp.c_fc, mlp.c_proj}, ln_post,
 *     proj): QuickGELU, eps 1e-5;
 *   - CLIP's text tower (token_embedding, positional_embedding, the same
 *     blocks under a causal mask, ln_final, text_projection).
 * Block: x += drop_path(attn(ln1(x))); x += drop_path(mlp(ln2(x))).
 * Parameters are named by their state-dict keys; the sizes (width, depth,
 * MLP width, tokens, patch) come from the tensors. The head count is not
 * stored in a checkpoint: it is an option, width / 64 by default (ViT-B and
 * OpenAI's build_model). */
#ifndef OIQA_MODELS_TRANSFORMER_TAPE_H
#define OIQA_MODELS_TRANSFORMER_TAPE_H

#include "base/rng.h"
#include "io/ckpt.h"
#include "nn/ag.h"

#define OIQA_TRANSFORMER_MAX_DEPTH 48
#define OIQA_TRANSFORMER_MAX_PARAMS 1024

typedef enum { OIQA_TOWER_IMAGE, OIQA_TOWER_TEXT } oiqa_tower;
typedef enum { OIQA_TRANSFORMER_TIMM, OIQA_TRANSFORMER_CLIP } oiqa_transformer_dialect;

typedef struct {
    int heads;       /* 0: width / 64 */
    float drop_path; /* stochastic depth of the last block; block i gets drop_path * i / (depth - 1), timm's rule */
    uint64_t seed;   /* of the drop-path draws */
} oiqa_transformer_opts;

typedef struct {
    oiqa_param ln1_w, ln1_b, qkv_w, qkv_b, out_w, out_b; /* qkv [3D, D]: q, k, v stacked */
    oiqa_param ln2_w, ln2_b, fc1_w, fc1_b, fc2_w, fc2_b;
    float drop_path;
} oiqa_transformer_block;

typedef struct {
    oiqa_transformer_dialect dialect;
    oiqa_tower tower;
    int width, depth, heads, mlp, tokens; /* tokens: with the class token (images) or the context (text) */
    int patch, grid_h, grid_w;            /* images */
    int vocab;                            /* text */
    int embed_dim;                        /* columns of proj, classes of the head; 0 without */
    int quick_gelu;
    float eps;
    oiqa_param patch_w, patch_b; /* [D, 3, p, p] (OIHW), bias (timm only) */
    oiqa_param cls, pos;         /* class token, positional embedding */
    oiqa_param tok;              /* text: token embedding [vocab, D] */
    oiqa_param pre_w, pre_b;     /* CLIP's ln_pre (images) */
    oiqa_param post_w, post_b;   /* norm, ln_post or ln_final */
    oiqa_param proj;             /* CLIP: [D, E] */
    oiqa_param head_w, head_b;   /* timm: [classes, D] */
    int has_patch_b, has_pre, has_proj, has_head;
    oiqa_transformer_block *blocks;
    float *causal; /* text: [T, T], -inf above the diagonal */
    oiqa_rng rng;
    oiqa_param *params[OIQA_TRANSFORMER_MAX_PARAMS]; /* every trainable tensor, load order */
    int n_params;
} oiqa_transformer_tape;

/* Builds the tower from a timm ViT or a CLIP state dict (opts NULL:
 * defaults). A checkpoint that is neither, or has no such tower (timm has
 * no text), fails with one line naming the file and the first missing or
 * mis-shaped key. */
int oiqa_transformer_tape_load(const oiqa_ckpt *ck, const char *path, oiqa_tower tower,
                               const oiqa_transformer_opts *opts, oiqa_transformer_tape *net);
void oiqa_transformer_tape_free(oiqa_transformer_tape *net);
oiqa_param *oiqa_transformer_tape_param(oiqa_transformer_tape *net, const char *name);

typedef struct {
    oiqa_agv tokens;                            /* [B, T, D] into the first block */
    oiqa_agv block[OIQA_TRANSFORMER_MAX_DEPTH]; /* residual stream after each block */
    oiqa_agv norm;   /* the final LayerNorm on every token [B, T, D] (token 0 = class token for images) */
    oiqa_agv pooled; /* [B, D]: the class token of norm, or the end-of-text token's row */
    oiqa_agv embed;  /* pooled @ proj (CLIP), head(pooled) (timm with a head), or -1 */
} oiqa_transformer_tape_out;

/* Images: x [B, H, W, 3] normalised NHWC, H and W the patch grid the
 * positional embedding was trained for. */
int oiqa_transformer_tape_forward_image(oiqa_ag *ag, oiqa_transformer_tape *net, oiqa_agv x,
                                        oiqa_transformer_tape_out *out);
/* Text: B rows of `tokens` ids, context long (CLIP's tokenizer output);
 * the pooled row is at the largest id of each row (the end-of-text token,
 * as OpenAI's text.argmax(-1)). */
int oiqa_transformer_tape_forward_text(oiqa_ag *ag, oiqa_transformer_tape *net, const int *tokens, int B,
                                       oiqa_transformer_tape_out *out);

#endif
