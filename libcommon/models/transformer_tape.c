/* Transformers on the autograd tape; see models/transformer_tape.h. */
#include "models/transformer_tape.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "models/tape_params.h"

/* Key names of one dialect and tower: the stem's and the blocks'. */
typedef struct {
    const char *what;
    const char *blocks; /* "blocks", "visual.transformer.resblocks", "transformer.resblocks" */
    const char *ln1, *qkv_w, *qkv_b, *out, *ln2, *fc1, *fc2;
} key_names;

static const key_names TIMM_KEYS = {"a timm VisionTransformer", "blocks", "norm1", "attn.qkv.weight",
                                    "attn.qkv.bias", "attn.proj", "norm2", "mlp.fc1", "mlp.fc2"};
static const key_names CLIP_IMAGE_KEYS = {"a CLIP (image tower)", "visual.transformer.resblocks", "ln_1",
                                          "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj", "ln_2",
                                          "mlp.c_fc", "mlp.c_proj"};
static const key_names CLIP_TEXT_KEYS = {"a CLIP (text tower)", "transformer.resblocks", "ln_1",
                                         "attn.in_proj_weight", "attn.in_proj_bias", "attn.out_proj", "ln_2",
                                         "mlp.c_fc", "mlp.c_proj"};

typedef struct {
    oiqa_tape_loader t;
    const key_names *keys;
} loader;

static int param_as(loader *l, const char *name, int ndim, const int *want, oiqa_param *p)
{
    return oiqa_tape_load_param(&l->t, name, ndim, want, p);
}

/* "<prefix>.weight" [C] and "<prefix>.bias" [C]: a LayerNorm, or a Linear when in > 0 ([C, in]). */
static int weight_bias(loader *l, const char *prefix, int C, int in, oiqa_param *w, oiqa_param *b)
{
    char name[200];
    int ws[2] = {C, in}, bs[1] = {C};
    snprintf(name, sizeof name, "%s.weight", prefix);
    int rc = param_as(l, name, in > 0 ? 2 : 1, ws, w);
    if (rc) return rc;
    snprintf(name, sizeof name, "%s.bias", prefix);
    bs[0] = w->shape[0];
    return param_as(l, name, 1, bs, b);
}

static int load_block(loader *l, oiqa_transformer_tape *net, int i)
{
    const key_names *k = l->keys;
    oiqa_transformer_block *b = &net->blocks[i];
    char pre[160], name[200];
    int D = net->width, rc;
    snprintf(pre, sizeof pre, "%s.%d", k->blocks, i);
    snprintf(name, sizeof name, "%s.%s", pre, k->ln1);
    if ((rc = weight_bias(l, name, D, 0, &b->ln1_w, &b->ln1_b))) return rc;
    int qw[2] = {3 * D, D}, qb[1] = {3 * D};
    snprintf(name, sizeof name, "%s.%s", pre, k->qkv_w);
    if ((rc = param_as(l, name, 2, qw, &b->qkv_w))) return rc;
    snprintf(name, sizeof name, "%s.%s", pre, k->qkv_b);
    if ((rc = param_as(l, name, 1, qb, &b->qkv_b))) return rc;
    snprintf(name, sizeof name, "%s.%s", pre, k->out);
    if ((rc = weight_bias(l, name, D, D, &b->out_w, &b->out_b))) return rc;
    snprintf(name, sizeof name, "%s.%s", pre, k->ln2);
    if ((rc = weight_bias(l, name, D, 0, &b->ln2_w, &b->ln2_b))) return rc;
    snprintf(name, sizeof name, "%s.%s", pre, k->fc1);
    if ((rc = weight_bias(l, name, net->mlp ? net->mlp : -1, D, &b->fc1_w, &b->fc1_b))) return rc;
    net->mlp = b->fc1_w.shape[0];
    snprintf(name, sizeof name, "%s.%s", pre, k->fc2);
    return weight_bias(l, name, D, net->mlp, &b->fc2_w, &b->fc2_b);
}

static int count_blocks(const oiqa_ckpt *ck, const key_names *k)
{
    char name[200];
    int n = 0;
    for (;; n++) {
        snprintf(name, sizeof name, "%s.%d.%s", k->blocks, n, k->qkv_w);
        if (!oiqa_ckpt_find(ck, name)) return n;
    }
}

/* The stem and the final norm of an image tower. */
static int load_image_stem(loader *l, oiqa_transformer_tape *net)
{
    int timm = net->dialect == OIQA_TRANSFORMER_TIMM, rc;
    const char *conv = timm ? "patch_embed.proj.weight" : "visual.conv1.weight";
    int cw[4] = {0, 3, 0, 0};
    if ((rc = param_as(l, conv, 4, cw, &net->patch_w))) return rc;
    net->width = net->patch_w.shape[0], net->patch = net->patch_w.shape[2];
    if (net->patch_w.shape[3] != net->patch)
        return oiqa_fail(OIQA_EXIT_DATA, l->t.path, "%s: the patch is not square", conv);
    int D = net->width, bs[1] = {D};
    net->has_patch_b = timm;
    if (timm && (rc = param_as(l, "patch_embed.proj.bias", 1, bs, &net->patch_b))) return rc;
    int cls3[3] = {1, 1, D};
    if ((rc = timm ? param_as(l, "cls_token", 3, cls3, &net->cls) : param_as(l, "visual.class_embedding", 1, bs, &net->cls)))
        return rc;
    int pos3[3] = {1, 0, D}, pos2[2] = {0, D};
    if ((rc = timm ? param_as(l, "pos_embed", 3, pos3, &net->pos)
                   : param_as(l, "visual.positional_embedding", 2, pos2, &net->pos)))
        return rc;
    net->tokens = net->pos.shape[net->pos.ndim - 2];
    int grid = (int)lround(sqrt((double)(net->tokens - 1)));
    if (grid * grid != net->tokens - 1)
        return oiqa_fail(OIQA_EXIT_DATA, l->t.path, "%d positions are not a square grid and a class token",
                         net->tokens);
    net->grid_h = net->grid_w = grid;
    net->has_pre = !timm;
    if (!timm && (rc = weight_bias(l, "visual.ln_pre", D, 0, &net->pre_w, &net->pre_b))) return rc;
    return OIQA_OK;
}

static int load_text_stem(loader *l, oiqa_transformer_tape *net)
{
    int te[2] = {0, 0}, rc;
    if ((rc = param_as(l, "token_embedding.weight", 2, te, &net->tok))) return rc;
    net->vocab = net->tok.shape[0], net->width = net->tok.shape[1];
    int pos2[2] = {0, net->width};
    if ((rc = param_as(l, "positional_embedding", 2, pos2, &net->pos))) return rc;
    net->tokens = net->pos.shape[0];
    size_t T = (size_t)net->tokens;
    if (!(net->causal = malloc(T * T * sizeof(float)))) return oiqa_fail(OIQA_EXIT_DATA, l->t.path, "out of memory");
    for (size_t i = 0; i < T; i++)
        for (size_t j = 0; j < T; j++) net->causal[i * T + j] = j > i ? -INFINITY : 0.0f;
    return OIQA_OK;
}

/* The final norm and the projection or head. */
static int load_top(loader *l, oiqa_transformer_tape *net)
{
    int D = net->width, rc;
    int timm = net->dialect == OIQA_TRANSFORMER_TIMM, text = net->tower == OIQA_TOWER_TEXT;
    const char *norm = timm ? "norm" : text ? "ln_final" : "visual.ln_post";
    if ((rc = weight_bias(l, norm, D, 0, &net->post_w, &net->post_b))) return rc;
    if (timm) {
        net->has_head = oiqa_ckpt_find(l->t.ck, "head.weight") != NULL;
        if (net->has_head && (rc = weight_bias(l, "head", -1, D, &net->head_w, &net->head_b))) return rc;
        net->embed_dim = net->has_head ? net->head_w.shape[0] : 0;
        return OIQA_OK;
    }
    const char *proj = text ? "text_projection" : "visual.proj";
    net->has_proj = oiqa_ckpt_find(l->t.ck, proj) != NULL; /* open_clip may drop it (proj None) */
    int ps[2] = {D, 0};
    if (net->has_proj && (rc = param_as(l, proj, 2, ps, &net->proj))) return rc;
    net->embed_dim = net->has_proj ? net->proj.shape[1] : 0;
    return OIQA_OK;
}

int oiqa_transformer_tape_load(const oiqa_ckpt *ck, const char *path, oiqa_tower tower,
                               const oiqa_transformer_opts *opts, oiqa_transformer_tape *net)
{
    memset(net, 0, sizeof *net);
    oiqa_transformer_opts def = {0};
    if (!opts) opts = &def;
    int timm = oiqa_ckpt_find(ck, "patch_embed.proj.weight") != NULL;
    int clip = oiqa_ckpt_find(ck, "visual.conv1.weight") != NULL || oiqa_ckpt_find(ck, "token_embedding.weight");
    if (!timm && !clip)
        return oiqa_fail(OIQA_EXIT_DATA, path,
                         "not a timm ViT or CLIP state dict: no patch_embed.proj.weight, visual.conv1.weight or "
                         "token_embedding.weight");
    if (timm && tower == OIQA_TOWER_TEXT)
        return oiqa_fail(OIQA_EXIT_DATA, path, "a timm ViT has no text tower");
    net->dialect = timm ? OIQA_TRANSFORMER_TIMM : OIQA_TRANSFORMER_CLIP;
    net->tower = tower;
    net->quick_gelu = !timm;
    net->eps = timm ? 1e-6f : 1e-5f;
    const key_names *keys = timm ? &TIMM_KEYS : tower == OIQA_TOWER_TEXT ? &CLIP_TEXT_KEYS : &CLIP_IMAGE_KEYS;
    loader l = {{ck, path, keys->what, net->params, &net->n_params, OIQA_TRANSFORMER_MAX_PARAMS, NULL, NULL, 0}, keys};
    int rc = tower == OIQA_TOWER_TEXT ? load_text_stem(&l, net) : load_image_stem(&l, net);
    if (!rc) {
        net->depth = count_blocks(ck, keys);
        if (net->depth < 1 || net->depth > OIQA_TRANSFORMER_MAX_DEPTH)
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "not %s state dict: %d blocks under %s (1 to %d)", keys->what,
                           net->depth, keys->blocks, OIQA_TRANSFORMER_MAX_DEPTH);
    }
    if (!rc) {
        net->heads = opts->heads ? opts->heads : net->width / 64;
        if (net->heads < 1 || net->width % net->heads)
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "width %d does not split into %d heads; give the head count",
                           net->width, net->heads);
    }
    if (!rc && !(opts->drop_path >= 0 && opts->drop_path < 1))
        rc = oiqa_fail(OIQA_EXIT_USAGE, path, "drop_path %g is not in [0, 1)", opts->drop_path);
    if (!rc && !(net->blocks = calloc((size_t)net->depth, sizeof *net->blocks)))
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    for (int i = 0; i < net->depth && !rc; i++) {
        rc = load_block(&l, net, i);
        net->blocks[i].drop_path = net->depth > 1 ? opts->drop_path * (float)i / (float)(net->depth - 1) : 0;
    }
    if (!rc) rc = load_top(&l, net);
    oiqa_rng_seed(&net->rng, opts->seed);
    if (rc) oiqa_transformer_tape_free(net);
    return rc;
}

void oiqa_transformer_tape_free(oiqa_transformer_tape *net)
{
    for (int i = 0; i < net->n_params; i++) oiqa_param_free(net->params[i]);
    free(net->blocks);
    free(net->causal);
    memset(net, 0, sizeof *net);
}

oiqa_param *oiqa_transformer_tape_param(oiqa_transformer_tape *net, const char *name)
{
    return oiqa_tape_find_param(net->params, net->n_params, name);
}

/* x += drop_path(attn(ln1(x))); x += drop_path(mlp(ln2(x))). */
static oiqa_agv block_forward(oiqa_ag *ag, oiqa_transformer_tape *net, oiqa_transformer_block *b, oiqa_agv x,
                              const float *mask)
{
    oiqa_agv h = oiqa_ag_layernorm(ag, x, oiqa_ag_param(ag, &b->ln1_w), oiqa_ag_param(ag, &b->ln1_b), net->eps);
    h = oiqa_ag_linear(ag, h, oiqa_ag_param(ag, &b->qkv_w), oiqa_ag_param(ag, &b->qkv_b));
    h = oiqa_ag_attention_qkv(ag, h, net->heads, mask);
    h = oiqa_ag_linear(ag, h, oiqa_ag_param(ag, &b->out_w), oiqa_ag_param(ag, &b->out_b));
    x = oiqa_ag_add(ag, x, oiqa_ag_drop_path(ag, h, b->drop_path, &net->rng));
    h = oiqa_ag_layernorm(ag, x, oiqa_ag_param(ag, &b->ln2_w), oiqa_ag_param(ag, &b->ln2_b), net->eps);
    h = oiqa_ag_linear(ag, h, oiqa_ag_param(ag, &b->fc1_w), oiqa_ag_param(ag, &b->fc1_b));
    h = net->quick_gelu ? oiqa_ag_quick_gelu(ag, h) : oiqa_ag_gelu(ag, h);
    h = oiqa_ag_linear(ag, h, oiqa_ag_param(ag, &b->fc2_w), oiqa_ag_param(ag, &b->fc2_b));
    return oiqa_ag_add(ag, x, oiqa_ag_drop_path(ag, h, b->drop_path, &net->rng));
}

/* The blocks and the final norm from out->tokens. */
static int run_blocks(oiqa_ag *ag, oiqa_transformer_tape *net, const float *mask, oiqa_transformer_tape_out *out)
{
    oiqa_agv x = out->tokens;
    for (int i = 0; i < net->depth; i++) out->block[i] = x = block_forward(ag, net, &net->blocks[i], x, mask);
    out->norm = oiqa_ag_layernorm(ag, x, oiqa_ag_param(ag, &net->post_w), oiqa_ag_param(ag, &net->post_b), net->eps);
    return out->norm < 0 ? -1 : 0;
}

static oiqa_agv top(oiqa_ag *ag, oiqa_transformer_tape *net, oiqa_agv pooled)
{
    if (net->has_proj) return oiqa_ag_matmul(ag, pooled, oiqa_ag_param(ag, &net->proj));
    if (net->has_head)
        return oiqa_ag_linear(ag, pooled, oiqa_ag_param(ag, &net->head_w), oiqa_ag_param(ag, &net->head_b));
    return -1;
}

static void out_reset(oiqa_transformer_tape_out *out)
{
    out->tokens = out->norm = out->pooled = out->embed = -1;
    for (int i = 0; i < OIQA_TRANSFORMER_MAX_DEPTH; i++) out->block[i] = -1;
}

static int forward_failed(const char *what)
{
    return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s forward: %s", what, oiqa_errmsg());
}

int oiqa_transformer_tape_forward_image(oiqa_ag *ag, oiqa_transformer_tape *net, oiqa_agv x,
                                        oiqa_transformer_tape_out *out)
{
    out_reset(out);
    if (net->tower != OIQA_TOWER_IMAGE) return oiqa_fail(OIQA_EXIT_DATA, NULL, "not an image tower");
    const int *s = oiqa_ag_shape(ag, x);
    if (!s || oiqa_ag_ndim(ag, x) != 4 || s[3] != 3 || s[1] != net->grid_h * net->patch ||
        s[2] != net->grid_w * net->patch)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "the transformer needs [B, %d, %d, 3] images",
                         net->grid_h * net->patch, net->grid_w * net->patch);
    int B = s[0], D = net->width, T = net->tokens;
    oiqa_agv pe = oiqa_ag_conv2d(ag, x, oiqa_ag_param(ag, &net->patch_w),
                                 net->has_patch_b ? oiqa_ag_param(ag, &net->patch_b) : -1, net->patch, 0, 1);
    int seq[3] = {B, T - 1, D}, row[2] = {1, D}, tok2[2] = {T, D}, flat[2] = {B, D};
    pe = oiqa_ag_reshape(ag, pe, 3, seq);
    oiqa_agv cls = oiqa_ag_repeat(ag, oiqa_ag_reshape(ag, oiqa_ag_param(ag, &net->cls), 2, row), B);
    oiqa_agv parts[2] = {cls, pe};
    oiqa_agv t = oiqa_ag_concat_axis(ag, parts, 2, 1);
    t = oiqa_ag_add(ag, t, oiqa_ag_reshape(ag, oiqa_ag_param(ag, &net->pos), 2, tok2));
    if (net->has_pre) t = oiqa_ag_layernorm(ag, t, oiqa_ag_param(ag, &net->pre_w), oiqa_ag_param(ag, &net->pre_b), net->eps);
    out->tokens = t;
    if (t < 0 || run_blocks(ag, net, NULL, out)) return forward_failed("transformer");
    out->pooled = oiqa_ag_reshape(ag, oiqa_ag_narrow(ag, out->norm, 1, 0, 1), 2, flat);
    out->embed = top(ag, net, out->pooled);
    if (out->pooled < 0 || (net->embed_dim && out->embed < 0)) return forward_failed("transformer");
    return OIQA_OK;
}

int oiqa_transformer_tape_forward_text(oiqa_ag *ag, oiqa_transformer_tape *net, const int *tokens, int B,
                                       oiqa_transformer_tape_out *out)
{
    out_reset(out);
    if (net->tower != OIQA_TOWER_TEXT) return oiqa_fail(OIQA_EXIT_DATA, NULL, "not a text tower");
    int T = net->tokens, D = net->width;
    size_t n = (size_t)B * T;
    int *rows = malloc(n * sizeof(int));
    if (!rows) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    int rc = OIQA_OK;
    for (size_t k = 0; k < n && !rc; k++)
        if (tokens[k] < 0 || tokens[k] >= net->vocab)
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "token id %d outside the vocabulary of %d", tokens[k], net->vocab);
    if (rc) {
        free(rows);
        return rc;
    }
    int seq[3] = {B, T, D}, all[2] = {B * T, D};
    oiqa_agv t = oiqa_ag_reshape(ag, oiqa_ag_take_rows(ag, oiqa_ag_param(ag, &net->tok), tokens, (int)n), 3, seq);
    out->tokens = oiqa_ag_add(ag, t, oiqa_ag_param(ag, &net->pos));
    if (out->tokens < 0 || run_blocks(ag, net, net->causal, out)) {
        free(rows);
        return forward_failed("text transformer");
    }
    for (int b = 0; b < B; b++) { /* the end-of-text token: the largest id, first of equals (torch.argmax) */
        int best = 0;
        for (int j = 1; j < T; j++)
            if (tokens[(size_t)b * T + j] > tokens[(size_t)b * T + best]) best = j;
        rows[b] = b * T + best;
    }
    out->pooled = oiqa_ag_take_rows(ag, oiqa_ag_reshape(ag, out->norm, 2, all), rows, B);
    free(rows);
    out->embed = top(ag, net, out->pooled);
    if (out->pooled < 0 || (net->embed_dim && out->embed < 0)) return forward_failed("text transformer");
    return OIQA_OK;
}
