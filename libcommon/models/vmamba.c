/* VMamba forward pass (models/vmamba.h): patch embedding, VSS blocks,
 * downsampling and the classifier, composed from the nn/ kernels. Every
 * kernel works on a whole batch except the 2-D scan, which runs per image. */
#include "models/vmamba.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/backend.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/pool.h"

static size_t positions(const oiqa_tensor *x) { return (size_t)x->n * x->h * x->w; }

/* LayerNorm over the channels of t, in place. */
static int norm_inplace(oiqa_backend *be, oiqa_tensor *t, const float *w, const float *b)
{
    return be->ops->layernorm(be, t->data, t->data, positions(t), t->c, w, b, OIQA_LN_EPS);
}

/* x += out_proj(norm(ss2d(silu(dwconv(in_proj(LN(x))))))) (* silu(z) in v0). */
static int ss2d_half(oiqa_backend *be, const oiqa_vmamba_block *blk, oiqa_tensor *x)
{
    const int C = blk->dim, Di = blk->d_inner;
    const size_t M = positions(x);
    const int gated = blk->forward_type == OIQA_VMAMBA_V0;
    const oiqa_backend_ops *op = be->ops;
    oiqa_tensor ln = {0}, xa = {0}, xc = {0}, z = {0};
    int rc = oiqa_be_tensor_create(be, &ln, x->n, x->h, x->w, C);
    if (!rc) rc = oiqa_be_tensor_create(be, &xa, x->n, x->h, x->w, Di);
    if (!rc) rc = oiqa_be_tensor_create(be, &xc, x->n, x->h, x->w, Di);
    if (!rc && gated) rc = oiqa_be_tensor_create(be, &z, x->n, x->h, x->w, Di);
    if (!rc) rc = op->layernorm(be, x->data, ln.data, M, C, blk->norm_w, blk->norm_b, OIQA_LN_EPS);
    if (!rc) rc = op->linear(be, ln.data, C, M, C, blk->in_proj, NULL, Di, xa.data, Di, 0);
    if (!rc && gated) rc = op->linear(be, ln.data, C, M, C, blk->in_proj + (size_t)Di * C, NULL, Di, z.data, Di, 0);
    if (!rc && gated) rc = op->activation(be, OIQA_ACT_SILU, z.data, M * Di);
    if (!rc) rc = op->dwconv3x3(be, &xa, blk->conv_w, blk->conv_b, &xc);
    if (!rc) rc = op->activation(be, OIQA_ACT_SILU, xc.data, M * Di);
    if (!rc) rc = op->ss2d(be, &blk->ss2d, &xc, &xa); /* y into xa, no longer needed */
    if (!rc) rc = op->layernorm(be, xa.data, xa.data, M, Di, blk->out_norm_w, blk->out_norm_b, OIQA_LN_EPS);
    if (!rc && gated) rc = op->mul(be, xa.data, z.data, xa.data, M * Di);
    if (!rc) rc = op->linear(be, xa.data, Di, M, Di, blk->out_proj, NULL, C, x->data, C, 1);
    oiqa_be_tensor_free(be, &ln);
    oiqa_be_tensor_free(be, &xa);
    oiqa_be_tensor_free(be, &xc);
    oiqa_be_tensor_free(be, &z);
    return rc;
}

/* x += fc2(gelu(fc1(LN(x)))). */
static int mlp_half(oiqa_backend *be, const oiqa_vmamba_block *blk, oiqa_tensor *x)
{
    const int C = blk->dim, H = blk->hidden;
    const size_t M = positions(x);
    const oiqa_backend_ops *op = be->ops;
    oiqa_tensor ln = {0}, hid = {0};
    int rc = oiqa_be_tensor_create(be, &ln, x->n, x->h, x->w, C);
    if (!rc) rc = oiqa_be_tensor_create(be, &hid, x->n, x->h, x->w, H);
    if (!rc) rc = op->layernorm(be, x->data, ln.data, M, C, blk->norm2_w, blk->norm2_b, OIQA_LN_EPS);
    if (!rc) rc = op->linear(be, ln.data, C, M, C, blk->fc1_w, blk->fc1_b, H, hid.data, H, 0);
    if (!rc) rc = op->activation(be, OIQA_ACT_GELU, hid.data, M * H);
    if (!rc) rc = op->linear(be, hid.data, H, M, H, blk->fc2_w, blk->fc2_b, C, x->data, C, 1);
    oiqa_be_tensor_free(be, &ln);
    oiqa_be_tensor_free(be, &hid);
    return rc;
}

static int block_forward(oiqa_backend *be, const oiqa_vmamba_block *blk, oiqa_tensor *x)
{
    if (x->c != blk->dim)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "vmamba block: input has %d channels, expected %d", x->c, blk->dim);
    int rc = ss2d_half(be, blk, x);
    if (!rc && blk->hidden > 0) rc = mlp_half(be, blk, x);
    return rc;
}

int oiqa_vmamba_block_forward(const oiqa_vmamba_block *blk, oiqa_tensor *x)
{
    return block_forward(oiqa_backend_cpu(), blk, x);
}

/* conv (HWIO, bias) into y, allocated to the conv's output size. */
static int conv_into(oiqa_backend *be, const oiqa_conv2d *cv, const oiqa_tensor *x, oiqa_tensor *y)
{
    int oh = oiqa_conv2d_out_size(x->h, cv->kh, cv->stride, cv->pad);
    int ow = oiqa_conv2d_out_size(x->w, cv->kw, cv->stride, cv->pad);
    if (oh < 1 || ow < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "vmamba: a %dx%d map is too small for a %dx%d/%d conv", x->h, x->w,
                         cv->kh, cv->kw, cv->stride);
    int rc = oiqa_be_tensor_ensure(be, y, x->n, oh, ow, cv->cout);
    if (!rc) rc = be->ops->conv2d(be, cv, x, NULL, 0, y);
    return rc;
}

static int patch_embed(oiqa_backend *be, const oiqa_vmamba *net, const oiqa_tensor *x, oiqa_tensor *y)
{
    if (net->cfg.patch_embed_version == 1) {
        int rc = conv_into(be, &net->embed_conv[0], x, y);
        if (!rc) rc = norm_inplace(be, y, net->embed_norm_w[0], net->embed_norm_b[0]);
        return rc;
    }
    oiqa_tensor mid = {0};
    int rc = conv_into(be, &net->embed_conv[0], x, &mid);
    if (!rc) rc = norm_inplace(be, &mid, net->embed_norm_w[0], net->embed_norm_b[0]);
    if (!rc) rc = be->ops->activation(be, OIQA_ACT_GELU, mid.data, oiqa_tensor_numel(&mid));
    if (!rc) rc = conv_into(be, &net->embed_conv[1], &mid, y);
    if (!rc) rc = norm_inplace(be, y, net->embed_norm_w[1], net->embed_norm_b[1]);
    oiqa_be_tensor_free(be, &mid);
    return rc;
}

/* Patch merging (v1): the 2x2 neighbours of each output pixel concatenated
 * (the backend's patch_merge gather, zero-padding an odd side), LN(4C), then
 * Linear(4C -> 2C). */
static int patch_merge(oiqa_backend *be, const oiqa_vmamba_downsample *d, const oiqa_tensor *x, oiqa_tensor *y)
{
    const int C = x->c, oh = (x->h + 1) / 2, ow = (x->w + 1) / 2;
    oiqa_tensor cat = {0};
    int rc = oiqa_be_tensor_create(be, &cat, x->n, oh, ow, 4 * C);
    if (!rc) rc = oiqa_be_tensor_ensure(be, y, x->n, oh, ow, 2 * C);
    if (!rc) rc = be->ops->patch_merge(be, x, &cat);
    if (!rc) rc = norm_inplace(be, &cat, d->norm_w, d->norm_b);
    if (!rc)
        rc = be->ops->linear(be, cat.data, 4 * C, positions(&cat), 4 * C, d->reduction, NULL, 2 * C, y->data, 2 * C,
                             0);
    oiqa_be_tensor_free(be, &cat);
    return rc;
}

static int downsample(oiqa_backend *be, const oiqa_vmamba *net, int stage, const oiqa_tensor *x, oiqa_tensor *y)
{
    const oiqa_vmamba_downsample *d = &net->down[stage];
    if (net->cfg.downsample_version == 1) return patch_merge(be, d, x, y);
    int rc = conv_into(be, &d->conv, x, y);
    if (!rc) rc = norm_inplace(be, y, d->norm_w, d->norm_b);
    return rc;
}

/* The classifier, on the host: LN, global mean, Linear. */
static int head(const oiqa_vmamba *net, const oiqa_tensor *last, oiqa_vmamba_out *out)
{
    const int C = last->c, classes = net->cfg.num_classes;
    oiqa_tensor ln = {0};
    int rc = oiqa_tensor_create(&ln, last->n, last->h, last->w, C);
    if (!rc) rc = oiqa_be_tensor_ensure(oiqa_backend_cpu(), &out->pooled, last->n, 1, 1, C);
    if (!rc) rc = oiqa_be_tensor_ensure(oiqa_backend_cpu(), &out->logits, last->n, 1, 1, classes);
    if (!rc) {
        oiqa_layernorm(last->data, ln.data, positions(last), C, net->head_norm_w, net->head_norm_b, OIQA_LN_EPS);
        rc = oiqa_global_avgpool(&ln, &out->pooled);
    }
    if (!rc)
        oiqa_linear(out->pooled.data, C, last->n, C, net->head_w, net->head_b, classes, out->logits.data, classes, 0);
    oiqa_tensor_free(&ln);
    return rc;
}

int oiqa_vmamba_forward_on(oiqa_backend *be, const oiqa_vmamba *net, const oiqa_tensor *x, oiqa_vmamba_out *out)
{
    if (!x->data || x->c != 3 || x->n < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "vmamba: input must be n x h x w x 3 (got %dx%dx%dx%d)", x->n, x->h,
                         x->w, x->c);
    int rc = patch_embed(be, net, x, &out->stage[0]);
    const oiqa_vmamba_block *blk = net->blocks;
    for (int s = 0; s < OIQA_VMAMBA_STAGES && !rc; s++) {
        if (s > 0) rc = downsample(be, net, s - 1, &out->stage[s - 1], &out->stage[s]);
        for (int j = 0; j < net->cfg.depths[s] && !rc; j++) rc = block_forward(be, blk++, &out->stage[s]);
    }
    return rc;
}

int oiqa_vmamba_forward(const oiqa_vmamba *net, const oiqa_tensor *x, oiqa_vmamba_out *out, int want_head)
{
    int rc = oiqa_vmamba_forward_on(oiqa_backend_cpu(), net, x, out);
    if (!rc && want_head && net->cfg.num_classes > 0) rc = head(net, &out->stage[OIQA_VMAMBA_STAGES - 1], out);
    return rc;
}

void oiqa_vmamba_out_free(oiqa_vmamba_out *out)
{
    for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) oiqa_tensor_free(&out->stage[s]);
    oiqa_tensor_free(&out->pooled);
    oiqa_tensor_free(&out->logits);
}
