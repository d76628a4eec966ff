/* ResNet on the autograd tape; see models/resnet_tape.h. */
#include "models/resnet_tape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "models/tape_params.h"

#define BN_MOMENTUM 0.1f
#define BN_EPS 1e-5f

typedef struct {
    oiqa_tape_loader t;
} loader;

static int load_param(loader *l, const char *name, int ndim, const int *want, oiqa_param *p)
{
    return oiqa_tape_load_param(&l->t, name, ndim, want, p);
}

static int load_buffer(loader *l, const char *name, int C, oiqa_param *p)
{
    return oiqa_tape_load_buffer(&l->t, name, (size_t)C, p);
}

static int load_bn(loader *l, const char *prefix, int C, oiqa_tape_bn *bn)
{
    char name[160];
    int shape[1] = {C}, rc;
    bn->C = C;
    snprintf(name, sizeof name, "%s.weight", prefix);
    if ((rc = load_param(l, name, 1, shape, &bn->weight))) return rc;
    snprintf(name, sizeof name, "%s.bias", prefix);
    if ((rc = load_param(l, name, 1, shape, &bn->bias))) return rc;
    snprintf(name, sizeof name, "%s.running_mean", prefix);
    if ((rc = load_buffer(l, name, C, &bn->stats[0]))) return rc;
    snprintf(name, sizeof name, "%s.running_var", prefix);
    if ((rc = load_buffer(l, name, C, &bn->stats[1]))) return rc;
    bn->running_mean = bn->stats[0].w, bn->running_var = bn->stats[1].w;
    snprintf(name, sizeof name, "%s.num_batches_tracked", prefix);
    const oiqa_ck_tensor *t = oiqa_ckpt_find(l->t.ck, name); /* optional, as in torchvision's loader */
    if (t && t->numel == 1) {
        float v;
        if (!oiqa_ckpt_read_f32(l->t.ck, t, &v)) bn->num_batches_tracked = (long)v;
    }
    return OIQA_OK;
}

/* One conv of the plan and its BN. */
static int load_conv_bn(loader *l, const oiqa_resnet_conv_spec *c, oiqa_tape_conv_bn *cb)
{
    char name[160];
    snprintf(name, sizeof name, "%s.weight", c->conv);
    int want[4] = {c->cout, c->cin, c->k, c->k};
    int rc = load_param(l, name, 4, want, &cb->w);
    if (rc) return rc;
    cb->stride = c->stride, cb->pad = c->pad;
    return load_bn(l, c->bn, c->cout, &cb->bn);
}

/* The structure as the checkpoint has it: block kind, blocks per layer,
 * stem width; a depth of the table when one matches. */
static int depth_of(const oiqa_ckpt *ck, const char *path, oiqa_resnet_tape *net)
{
    net->depth.kind = oiqa_ckpt_find(ck, "layer1.0.conv3.weight") ? OIQA_RESNET_BOTTLENECK : OIQA_RESNET_BASIC;
    int total = 0;
    for (int li = 0; li < 4; li++) {
        char name[64];
        int n = 0;
        for (;; n++) {
            snprintf(name, sizeof name, "layer%d.%d.conv1.weight", li + 1, n);
            if (!oiqa_ckpt_find(ck, name)) break;
        }
        if (n == 0)
            return oiqa_fail(OIQA_EXIT_DATA, path, "not a torchvision ResNet state dict: no layer%d.0.conv1.weight",
                             li + 1);
        net->depth.blocks[li] = n, total += n;
    }
    if (total > OIQA_RESNET_MAX_BLOCKS) return oiqa_fail(OIQA_EXIT_DATA, path, "more than %d blocks", OIQA_RESNET_MAX_BLOCKS);
    const oiqa_resnet_depth *known = oiqa_resnet_depth_match(net->depth.kind, net->depth.blocks);
    if (known) net->depth = *known;
    else net->depth.name = "resnet", net->depth.title = "ResNet";
    return OIQA_OK;
}

int oiqa_resnet_tape_load(const oiqa_ckpt *ck, const char *path, oiqa_resnet_tape *net)
{
    memset(net, 0, sizeof *net);
    loader l = {{ck, path, "a torchvision ResNet", net->params, &net->n_params, OIQA_RESNET_TAPE_MAX_PARAMS,
                 net->buffers, &net->n_buffers, OIQA_RESNET_TAPE_MAX_PARAMS}};
    const oiqa_ck_tensor *stem = oiqa_ckpt_find(ck, "conv1.weight");
    if (!stem || stem->ndim != 4 || stem->shape[0] < 1 || stem->shape[0] > 4096)
        return oiqa_fail(OIQA_EXIT_DATA, path, "not a torchvision ResNet state dict: no conv1.weight [w, 3, 7, 7]");
    int rc = depth_of(ck, path, net);
    oiqa_resnet_plan *plan = rc ? NULL : malloc(sizeof *plan);
    if (!rc && !plan) rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    if (!rc) {
        oiqa_resnet_plan_make(&net->depth, (int)stem->shape[0], plan);
        net->bottleneck = net->depth.kind == OIQA_RESNET_BOTTLENECK;
        memcpy(net->n_blocks, net->depth.blocks, sizeof net->n_blocks);
        memcpy(net->channels, plan->channels, sizeof net->channels);
    }
    for (int li = 0; li < 4 && !rc; li++)
        if (!(net->layer[li] = calloc((size_t)net->n_blocks[li], sizeof(oiqa_tape_block))))
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    for (int i = 0; !rc && i < plan->n_convs; i++) {
        const oiqa_resnet_conv_spec *c = &plan->conv[i];
        if (c->role == OIQA_RESNET_ROLE_STEM) {
            rc = load_conv_bn(&l, c, &net->stem);
            continue;
        }
        int li = plan->stage_of[c->block], bi = c->block;
        for (int k = 0; k < li; k++) bi -= net->n_blocks[k];
        oiqa_tape_block *b = &net->layer[li][bi];
        b->n_conv = plan->convs_per_block;
        if (c->role == OIQA_RESNET_ROLE_DOWN) b->has_down = 1;
        rc = load_conv_bn(&l, c, c->role == OIQA_RESNET_ROLE_DOWN ? &b->down : &b->conv[c->role]);
    }
    free(plan);
    int c = net->channels[3];
    net->has_fc = !rc && oiqa_ckpt_find(ck, "fc.weight") != NULL;
    if (net->has_fc) {
        int want[2] = {0, c};
        rc = load_param(&l, "fc.weight", 2, want, &net->fc_w);
        int wb[1] = {rc ? 0 : net->fc_w.shape[0]};
        if (!rc) rc = load_param(&l, "fc.bias", 1, wb, &net->fc_b);
    }
    if (rc) oiqa_resnet_tape_free(net);
    return rc;
}

static void free_bn(oiqa_tape_bn *bn)
{
    oiqa_param_free(&bn->weight), oiqa_param_free(&bn->bias);
    oiqa_param_free(&bn->stats[0]), oiqa_param_free(&bn->stats[1]);
    bn->running_mean = bn->running_var = NULL;
}

static void free_conv_bn(oiqa_tape_conv_bn *cb)
{
    oiqa_param_free(&cb->w);
    free_bn(&cb->bn);
}

void oiqa_resnet_tape_free(oiqa_resnet_tape *net)
{
    free_conv_bn(&net->stem);
    for (int li = 0; li < 4; li++) {
        for (int bi = 0; net->layer[li] && bi < net->n_blocks[li]; bi++) {
            oiqa_tape_block *b = &net->layer[li][bi];
            for (int k = 0; k < 3; k++) free_conv_bn(&b->conv[k]);
            free_conv_bn(&b->down);
        }
        free(net->layer[li]);
    }
    oiqa_param_free(&net->fc_w), oiqa_param_free(&net->fc_b);
    memset(net, 0, sizeof *net);
}

oiqa_param *oiqa_resnet_tape_param(oiqa_resnet_tape *net, const char *name)
{
    return oiqa_tape_find_param(net->params, net->n_params, name);
}

oiqa_tape_bn *oiqa_resnet_tape_bn(oiqa_resnet_tape *net, const char *prefix)
{
    char name[160];
    snprintf(name, sizeof name, "%s.weight", prefix);
    oiqa_param *p = oiqa_resnet_tape_param(net, name);
    if (!p) return NULL;
    /* The BN whose gamma is p. */
    if (p == &net->stem.bn.weight) return &net->stem.bn;
    for (int li = 0; li < 4; li++)
        for (int bi = 0; bi < net->n_blocks[li]; bi++) {
            oiqa_tape_block *b = &net->layer[li][bi];
            for (int k = 0; k < b->n_conv; k++)
                if (p == &b->conv[k].bn.weight) return &b->conv[k].bn;
            if (b->has_down && p == &b->down.bn.weight) return &b->down.bn;
        }
    return NULL;
}

static oiqa_agv conv_bn(oiqa_ag *ag, oiqa_tape_conv_bn *cb, oiqa_agv x, int batch_stats, int relu)
{
    oiqa_agv y = oiqa_ag_conv2d(ag, x, oiqa_ag_param(ag, &cb->w), -1, cb->stride, cb->pad, 1);
    oiqa_tape_bn *bn = &cb->bn;
    y = oiqa_ag_batchnorm2d_act(ag, y, oiqa_ag_param(ag, &bn->weight), oiqa_ag_param(ag, &bn->bias),
                                bn->running_mean, bn->running_var, batch_stats, BN_MOMENTUM, BN_EPS, relu);
    if (batch_stats && y >= 0) bn->num_batches_tracked++;
    return y;
}

int oiqa_resnet_tape_forward(oiqa_ag *ag, oiqa_resnet_tape *net, oiqa_agv x, int batch_stats,
                             oiqa_resnet_tape_out *out)
{
    return oiqa_resnet_tape_forward_from(ag, net, 0, x, batch_stats, out);
}

int oiqa_resnet_tape_forward_from(oiqa_ag *ag, oiqa_resnet_tape *net, int after, oiqa_agv x, int batch_stats,
                                  oiqa_resnet_tape_out *out)
{
    if (after < 0 || after > 4) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "resnet cut after layer %d (0..4)", after);
    const int *xs = oiqa_ag_shape(ag, x);
    int want = after ? net->channels[after - 1] : 3;
    if (xs && (oiqa_ag_ndim(ag, x) != 4 || xs[3] != want))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "resnet cut after layer%d: the input has %d channels, not %d", after,
                         xs[3], want);
    for (int li = 0; li < 4; li++) out->layer[li] = -1;
    oiqa_agv h = x;
    if (after == 0) {
        h = conv_bn(ag, &net->stem, x, batch_stats, 1);
        h = oiqa_ag_maxpool2d(ag, h, 3, 2, 1);
    } else {
        out->layer[after - 1] = x;
    }
    for (int li = after; li < 4; li++) {
        for (int bi = 0; bi < net->n_blocks[li]; bi++) {
            oiqa_tape_block *b = &net->layer[li][bi];
            oiqa_agv y = h;
            for (int k = 0; k < b->n_conv; k++) y = conv_bn(ag, &b->conv[k], y, batch_stats, k < b->n_conv - 1);
            oiqa_agv skip = b->has_down ? conv_bn(ag, &b->down, h, batch_stats, 0) : h;
            h = oiqa_ag_add_relu(ag, y, skip);
        }
        out->layer[li] = h;
    }
    /* Global average pooling: [B, h, w, C] -> [B, h*w, C] -> mean over axis 1. */
    const int *s = oiqa_ag_shape(ag, h);
    int flat[3] = {s ? s[0] : 1, s ? s[1] * s[2] : 1, s ? s[3] : 1};
    out->pool = h < 0 ? -1 : oiqa_ag_mean_axis(ag, oiqa_ag_reshape(ag, h, 3, flat), 1);
    out->logits = -1;
    if (net->has_fc)
        out->logits = oiqa_ag_linear(ag, out->pool, oiqa_ag_param(ag, &net->fc_w), oiqa_ag_param(ag, &net->fc_b));
    return out->pool < 0 || (net->has_fc && out->logits < 0) ? OIQA_EXIT_DATA : OIQA_OK;
}
