/* Loading a torchvision ResNet state dict (models/resnet.h): the expected
 * key list with shapes from the plan (models/resnet_desc.h), the
 * missing/unexpected/mis-shaped check, and BN folding. Key names follow
 * torchvision models/resnet.py (BACKBONES.md §1). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "models/keycheck.h"
#include "models/resnet.h"
#include "nn/batchnorm.h"


/* One expected key of up to 4 dimensions (unused trailing ones are 0). */
static int add_key(oiqa_key_list *l, const char *name, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3)
{
    int64_t d[4] = {d0, d1, d2, d3};
    return oiqa_key_list_add(l, name, ndim, d);
}

/* prefix.weight (cout, cin, k, k) and the BN at bn_prefix.{weight,bias,running_mean,running_var} (c). */
static int add_conv_bn(oiqa_key_list *l, const char *conv, const char *bn, int cout, int cin, int k)
{
    char name[64];
    int rc;
    snprintf(name, sizeof name, "%s.weight", conv);
    if ((rc = add_key(l, name, 4, cout, cin, k, k))) return rc;
    static const char *fields[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int f = 0; f < 4; f++) {
        snprintf(name, sizeof name, "%s.%s", bn, fields[f]);
        if ((rc = add_key(l, name, 1, cout, 0, 0, 0))) return rc;
    }
    return OIQA_OK;
}

/* Every float tensor of torchvision's state dict of the plan, in its order;
 * fc when the checkpoint has one. */
static int expected_keys(const oiqa_resnet_plan *p, int classes, oiqa_key_list *l)
{
    int rc = OIQA_OK;
    for (int i = 0; i < p->n_convs && !rc; i++) {
        const oiqa_resnet_conv_spec *c = &p->conv[i];
        rc = add_conv_bn(l, c->conv, c->bn, c->cout, c->cin, c->k);
    }
    if (!rc && classes) rc = add_key(l, "fc.weight", 2, classes, p->channels[3], 0, 0);
    if (!rc && classes) rc = add_key(l, "fc.bias", 1, classes, 0, 0, 0);
    return rc;
}

static int is_batches_tracked(const char *name)
{
    const char *suffix = ".num_batches_tracked";
    size_t n = strlen(name), s = strlen(suffix);
    return n > s && strcmp(name + n - s, suffix) == 0;
}

/* Compares the checkpoint's keys with the expected list (models/keycheck.h);
 * BatchNorm's num_batches_tracked counters are optional. */
static int check_keys(const oiqa_ckpt *ck, const char *path, const oiqa_resnet_depth *d, const oiqa_key_list *l)
{
    const oiqa_key_rules rules = {.ignored = is_batches_tracked};
    char what[64];
    snprintf(what, sizeof what, "a torchvision %s state dict", d->title);
    return oiqa_check_state_dict(ck, path, l, &rules, what);
}

static int read_key(const oiqa_ckpt *ck, const char *path, const char *name, float *dst)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, name);
    if (!t) return oiqa_fail(OIQA_EXIT_DATA, path, "missing %s", name);
    int rc = oiqa_ckpt_read_f32(ck, t, dst);
    if (rc) oiqa_fail_prefix("reading %s", name);
    return rc;
}

/* Reads conv `conv_key` (OIHW) and BN `bn_key`, converts to HWIO and folds. */
static int load_folded(const oiqa_ckpt *ck, const char *path, const char *conv_key, const char *bn_key,
                       int cout, int cin, int k, int stride, int pad, oiqa_folded_conv *fc)
{
    size_t wn = (size_t)cout * cin * k * k;
    float *oihw = malloc(sizeof(float) * wn);
    float *bn = malloc(sizeof(float) * 4 * cout); /* gamma, beta, mean, var */
    fc->weight = malloc(sizeof(float) * wn);
    fc->bias = malloc(sizeof(float) * cout);
    int rc = OIQA_OK;
    if (!oihw || !bn || !fc->weight || !fc->bias) rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    char name[80];
    snprintf(name, sizeof name, "%s.weight", conv_key);
    if (!rc) rc = read_key(ck, path, name, oihw);
    static const char *fields[4] = {"weight", "bias", "running_mean", "running_var"};
    for (int f = 0; f < 4 && !rc; f++) {
        snprintf(name, sizeof name, "%s.%s", bn_key, fields[f]);
        rc = read_key(ck, path, name, bn + (size_t)f * cout);
    }
    if (!rc) {
        oiqa_conv2d_weight_from_oihw(oihw, cout, cin, k, k, fc->weight);
        oiqa_bn_fold(k, k, cin, cout, fc->weight, NULL, bn, bn + cout, bn + 2 * cout, bn + 3 * cout,
                     OIQA_BN_EPS, fc->bias);
        fc->conv = (oiqa_conv2d){k, k, cin, cout, stride, pad, fc->weight, fc->bias, NULL};
        rc = oiqa_conv2d_prepare(&fc->conv, &fc->prepared);
    }
    free(oihw);
    free(bn);
    return rc;
}

static int load_weights(const oiqa_ckpt *ck, const char *path, oiqa_resnet *net)
{
    int rc = OIQA_OK;
    for (int i = 0; i < net->plan.n_convs && !rc; i++) {
        const oiqa_resnet_conv_spec *c = &net->plan.conv[i];
        oiqa_folded_conv *fc = c->role == OIQA_RESNET_ROLE_STEM   ? &net->stem
                               : c->role == OIQA_RESNET_ROLE_DOWN ? &net->blocks[c->block].downsample
                                                                  : &net->blocks[c->block].conv[c->role];
        if (c->role == OIQA_RESNET_ROLE_DOWN) net->blocks[c->block].has_downsample = 1;
        rc = load_folded(ck, path, c->conv, c->bn, c->cout, c->cin, c->k, c->stride, c->pad, fc);
    }
    if (rc || !net->classes) return rc;
    net->fc_weight = malloc(sizeof(float) * (size_t)net->classes * net->plan.channels[3]);
    net->fc_bias = malloc(sizeof(float) * (size_t)net->classes);
    if (!net->fc_weight || !net->fc_bias) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    rc = read_key(ck, path, "fc.weight", net->fc_weight);
    if (!rc) rc = read_key(ck, path, "fc.bias", net->fc_bias);
    return rc;
}

/* The stem width (conv1's outputs) and fc's classes (0: none) as the
 * checkpoint has them; the key check then holds every other shape to them. */
static void sizes_of(const oiqa_ckpt *ck, int *width, int *classes)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, "conv1.weight");
    *width = t && t->ndim == 4 && t->shape[0] > 0 && t->shape[0] <= 4096 ? (int)t->shape[0] : 64;
    t = oiqa_ckpt_find(ck, "fc.weight");
    *classes = t && t->ndim == 2 && t->shape[0] > 0 && t->shape[0] <= 1 << 20 ? (int)t->shape[0] : 0;
    if (!t && oiqa_ckpt_find(ck, "fc.bias")) *classes = 1000; /* a lone bias: report fc.weight missing */
}

int oiqa_resnet_load(const oiqa_ckpt *ck, const char *path, const oiqa_resnet_depth *depth, oiqa_resnet *net)
{
    memset(net, 0, sizeof *net);
    int width, classes;
    sizes_of(ck, &width, &classes);
    oiqa_resnet_plan_make(depth, width, &net->plan);
    net->classes = classes;
    oiqa_key_list keys = {0};
    int rc = expected_keys(&net->plan, classes, &keys);
    if (!rc) rc = check_keys(ck, path, depth, &keys);
    oiqa_key_list_free(&keys);
    if (!rc) rc = load_weights(ck, path, net);
    if (rc) oiqa_resnet_free(net);
    return rc;
}

int oiqa_resnet_load_file(const char *path, const oiqa_resnet_depth *depth, oiqa_resnet *net)
{
    memset(net, 0, sizeof *net);
    oiqa_ckpt *ck = NULL;
    int rc = oiqa_ckpt_open(path, &ck);
    if (rc) return rc;
    rc = oiqa_resnet_load(ck, path, depth, net);
    oiqa_ckpt_close(ck);
    return rc;
}

static void free_folded(oiqa_folded_conv *fc)
{
    free(fc->weight);
    free(fc->bias);
    oiqa_nn_free(fc->prepared);
    memset(fc, 0, sizeof *fc);
}

void oiqa_resnet_free(oiqa_resnet *net)
{
    free_folded(&net->stem);
    for (int b = 0; b < OIQA_RESNET_MAX_BLOCKS; b++) {
        for (int j = 0; j < 3; j++) free_folded(&net->blocks[b].conv[j]);
        free_folded(&net->blocks[b].downsample);
        net->blocks[b].has_downsample = 0;
    }
    free(net->fc_weight);
    free(net->fc_bias);
    net->fc_weight = net->fc_bias = NULL;
    net->classes = 0;
}
