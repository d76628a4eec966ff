/* VMamba forward pass (models/vmamba.h): patch embedding, VSS blocks,
 * downsampling and the classifier, composed from the nn/ kernels. Every
 * kernel works on a whole batch except the 2-D scan, which runs per image. */
#include "models/vmamba.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "nn/activation.h"
#include "nn/dwconv.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/pool.h"

/* (Re)allocates t to n x h x w x c unless it already has that shape. */
static int ensure_tensor(oiqa_tensor *t, int n, int h, int w, int c)
{
    if (t->data && t->n == n && t->h == h && t->w == w && t->c == c) return OIQA_OK;
    oiqa_tensor_free(t);
    return oiqa_tensor_create(t, n, h, w, c);
}

static size_t positions(const oiqa_tensor *x) { return (size_t)x->n * x->h * x->w; }

/* LayerNorm over the channels of t, in place. */
static void norm_inplace(oiqa_tensor *t, const float *w, const float *b)
{
    oiqa_layernorm(t->data, t->data, positions(t), t->c, w, b, OIQA_LN_EPS);
}

/* x += out_proj(norm(ss2d(silu(dwconv(in_proj(LN(x))))))) (* silu(z) in v0). */
static int ss2d_half(const oiqa_vmamba_block *blk, oiqa_tensor *x)
{
    const int C = blk->dim, Di = blk->d_inner;
    const size_t M = positions(x), per_image = (size_t)x->h * x->w * Di;
    const int gated = blk->forward_type == OIQA_VMAMBA_V0;
    oiqa_tensor ln = {0}, xa = {0}, xc = {0}, z = {0};
    int rc = oiqa_tensor_create(&ln, x->n, x->h, x->w, C);
    if (!rc) rc = oiqa_tensor_create(&xa, x->n, x->h, x->w, Di);
    if (!rc) rc = oiqa_tensor_create(&xc, x->n, x->h, x->w, Di);
    if (!rc && gated) rc = oiqa_tensor_create(&z, x->n, x->h, x->w, Di);
    if (!rc) {
        oiqa_layernorm(x->data, ln.data, M, C, blk->norm_w, blk->norm_b, OIQA_LN_EPS);
        oiqa_linear(ln.data, C, M, C, blk->in_proj, NULL, Di, xa.data, Di, 0);
        if (gated) {
            oiqa_linear(ln.data, C, M, C, blk->in_proj + (size_t)Di * C, NULL, Di, z.data, Di, 0);
            oiqa_silu_inplace(z.data, M * Di);
        }
        rc = oiqa_dwconv3x3(&xa, blk->conv_w, blk->conv_b, &xc);
    }
    if (!rc) {
        oiqa_silu_inplace(xc.data, M * Di);
        for (int b = 0; b < x->n && !rc; b++) /* y into xa, no longer needed */
            rc = oiqa_ss2d_core(&blk->ss2d, xc.data + b * per_image, x->h, x->w, xa.data + b * per_image);
    }
    if (!rc) {
        oiqa_layernorm(xa.data, xa.data, M, Di, blk->out_norm_w, blk->out_norm_b, OIQA_LN_EPS);
        if (gated) oiqa_mul(xa.data, z.data, xa.data, M * Di);
        oiqa_linear(xa.data, Di, M, Di, blk->out_proj, NULL, C, x->data, C, 1);
    }
    oiqa_tensor_free(&ln);
    oiqa_tensor_free(&xa);
    oiqa_tensor_free(&xc);
    oiqa_tensor_free(&z);
    return rc;
}

/* x += fc2(gelu(fc1(LN(x)))). */
static int mlp_half(const oiqa_vmamba_block *blk, oiqa_tensor *x)
{
    const int C = blk->dim, H = blk->hidden;
    const size_t M = positions(x);
    oiqa_tensor ln = {0}, hid = {0};
    int rc = oiqa_tensor_create(&ln, x->n, x->h, x->w, C);
    if (!rc) rc = oiqa_tensor_create(&hid, x->n, x->h, x->w, H);
    if (!rc) {
        oiqa_layernorm(x->data, ln.data, M, C, blk->norm2_w, blk->norm2_b, OIQA_LN_EPS);
        oiqa_linear(ln.data, C, M, C, blk->fc1_w, blk->fc1_b, H, hid.data, H, 0);
        oiqa_gelu_inplace(hid.data, M * H);
        oiqa_linear(hid.data, H, M, H, blk->fc2_w, blk->fc2_b, C, x->data, C, 1);
    }
    oiqa_tensor_free(&ln);
    oiqa_tensor_free(&hid);
    return rc;
}

int oiqa_vmamba_block_forward(const oiqa_vmamba_block *blk, oiqa_tensor *x)
{
    if (x->c != blk->dim)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "vmamba block: input has %d channels, expected %d", x->c, blk->dim);
    int rc = ss2d_half(blk, x);
    if (!rc && blk->hidden > 0) rc = mlp_half(blk, x);
    return rc;
}

/* conv (HWIO, bias) into y, allocated to the conv's output size. */
static int conv_into(const oiqa_conv2d *cv, const oiqa_tensor *x, oiqa_tensor *y)
{
    int oh = oiqa_conv2d_out_size(x->h, cv->kh, cv->stride, cv->pad);
    int ow = oiqa_conv2d_out_size(x->w, cv->kw, cv->stride, cv->pad);
    if (oh < 1 || ow < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "vmamba: a %dx%d map is too small for a %dx%d/%d conv", x->h, x->w,
                         cv->kh, cv->kw, cv->stride);
    int rc = ensure_tensor(y, x->n, oh, ow, cv->cout);
    if (!rc) rc = oiqa_conv2d_forward(cv, x, NULL, 0, y);
    return rc;
}

static int patch_embed(const oiqa_vmamba *net, const oiqa_tensor *x, oiqa_tensor *y)
{
    if (net->cfg.patch_embed_version == 1) {
        int rc = conv_into(&net->embed_conv[0], x, y);
        if (!rc) norm_inplace(y, net->embed_norm_w[0], net->embed_norm_b[0]);
        return rc;
    }
    oiqa_tensor mid = {0};
    int rc = conv_into(&net->embed_conv[0], x, &mid);
    if (!rc) {
        norm_inplace(&mid, net->embed_norm_w[0], net->embed_norm_b[0]);
        oiqa_gelu_inplace(mid.data, oiqa_tensor_numel(&mid));
        rc = conv_into(&net->embed_conv[1], &mid, y);
    }
    if (!rc) norm_inplace(y, net->embed_norm_w[1], net->embed_norm_b[1]);
    oiqa_tensor_free(&mid);
    return rc;
}

/* Patch merging (v1): the 2x2 neighbours of each output pixel concatenated
 * in the order (0,0), (1,0), (0,1), (1,1) as (row, col) offsets; an odd side
 * is padded with zeros at the bottom / right first. */
static int patch_merge(const oiqa_vmamba_downsample *d, const oiqa_tensor *x, oiqa_tensor *y)
{
    const int C = x->c, oh = (x->h + 1) / 2, ow = (x->w + 1) / 2;
    oiqa_tensor cat = {0};
    int rc = oiqa_tensor_create(&cat, x->n, oh, ow, 4 * C);
    if (!rc) rc = ensure_tensor(y, x->n, oh, ow, 2 * C);
    if (rc) {
        oiqa_tensor_free(&cat);
        return rc;
    }
    static const int offs[4][2] = {{0, 0}, {1, 0}, {0, 1}, {1, 1}};
    for (int b = 0; b < x->n; b++)
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
                for (int q = 0; q < 4; q++) {
                    int yi = 2 * i + offs[q][0], xj = 2 * j + offs[q][1];
                    float *dst = cat.data + oiqa_tensor_index(&cat, b, i, j, q * C);
                    if (yi < x->h && xj < x->w)
                        memcpy(dst, x->data + oiqa_tensor_index(x, b, yi, xj, 0), sizeof(float) * C);
                    else
                        memset(dst, 0, sizeof(float) * C);
                }
    norm_inplace(&cat, d->norm_w, d->norm_b);
    oiqa_linear(cat.data, 4 * C, positions(&cat), 4 * C, d->reduction, NULL, 2 * C, y->data, 2 * C, 0);
    oiqa_tensor_free(&cat);
    return OIQA_OK;
}

static int downsample(const oiqa_vmamba *net, int stage, const oiqa_tensor *x, oiqa_tensor *y)
{
    const oiqa_vmamba_downsample *d = &net->down[stage];
    if (net->cfg.downsample_version == 1) return patch_merge(d, x, y);
    int rc = conv_into(&d->conv, x, y);
    if (!rc) norm_inplace(y, d->norm_w, d->norm_b);
    return rc;
}

static int head(const oiqa_vmamba *net, const oiqa_tensor *last, oiqa_vmamba_out *out)
{
    const int C = last->c, classes = net->cfg.num_classes;
    oiqa_tensor ln = {0};
    int rc = oiqa_tensor_create(&ln, last->n, last->h, last->w, C);
    if (!rc) rc = ensure_tensor(&out->pooled, last->n, 1, 1, C);
    if (!rc) rc = ensure_tensor(&out->logits, last->n, 1, 1, classes);
    if (!rc) {
        oiqa_layernorm(last->data, ln.data, positions(last), C, net->head_norm_w, net->head_norm_b, OIQA_LN_EPS);
        rc = oiqa_global_avgpool(&ln, &out->pooled);
    }
    if (!rc)
        oiqa_linear(out->pooled.data, C, last->n, C, net->head_w, net->head_b, classes, out->logits.data, classes, 0);
    oiqa_tensor_free(&ln);
    return rc;
}

int oiqa_vmamba_forward(const oiqa_vmamba *net, const oiqa_tensor *x, oiqa_vmamba_out *out, int want_head)
{
    if (!x->data || x->c != 3 || x->n < 1)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "vmamba: input must be n x h x w x 3 (got %dx%dx%dx%d)", x->n, x->h,
                         x->w, x->c);
    int rc = patch_embed(net, x, &out->stage[0]);
    const oiqa_vmamba_block *blk = net->blocks;
    for (int s = 0; s < OIQA_VMAMBA_STAGES && !rc; s++) {
        if (s > 0) rc = downsample(net, s - 1, &out->stage[s - 1], &out->stage[s]);
        for (int j = 0; j < net->cfg.depths[s] && !rc; j++) rc = oiqa_vmamba_block_forward(blk++, &out->stage[s]);
    }
    if (!rc && want_head && net->cfg.num_classes > 0) rc = head(net, &out->stage[OIQA_VMAMBA_STAGES - 1], out);
    return rc;
}

void oiqa_vmamba_out_free(oiqa_vmamba_out *out)
{
    for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) oiqa_tensor_free(&out->stage[s]);
    oiqa_tensor_free(&out->pooled);
    oiqa_tensor_free(&out->logits);
}
