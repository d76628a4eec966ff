/* Loading a torchvision ResNet-50 state dict (models/resnet.h): the expected
 * key list with shapes, the missing/unexpected/mis-shaped check, and BN
 * folding. Key names follow torchvision models/resnet.py (BACKBONES.md §1). */
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

/* Every float tensor of torchvision's resnet50() state dict, in its order. */
static int expected_keys(oiqa_key_list *l)
{
    int rc = add_conv_bn(l, "conv1", "bn1", 64, 3, 7);
    int cin = 64;
    for (int s = 0; s < OIQA_RESNET50_STAGES && !rc; s++) {
        int planes = OIQA_RESNET50_STAGE_PLANES[s];
        for (int b = 0; b < OIQA_RESNET50_STAGE_BLOCKS[s] && !rc; b++) {
            char conv[48], bn[48];
            int widths[3][3] = {{planes, cin, 1}, {planes, planes, 3}, {4 * planes, planes, 1}};
            for (int j = 0; j < 3 && !rc; j++) {
                snprintf(conv, sizeof conv, "layer%d.%d.conv%d", s + 1, b, j + 1);
                snprintf(bn, sizeof bn, "layer%d.%d.bn%d", s + 1, b, j + 1);
                rc = add_conv_bn(l, conv, bn, widths[j][0], widths[j][1], widths[j][2]);
            }
            if (b == 0 && !rc) {
                snprintf(conv, sizeof conv, "layer%d.0.downsample.0", s + 1);
                snprintf(bn, sizeof bn, "layer%d.0.downsample.1", s + 1);
                rc = add_conv_bn(l, conv, bn, 4 * planes, cin, 1);
            }
            cin = 4 * planes;
        }
    }
    if (!rc) rc = add_key(l, "fc.weight", 2, OIQA_RESNET50_CLASSES, OIQA_RESNET50_FEATURES, 0, 0);
    if (!rc) rc = add_key(l, "fc.bias", 1, OIQA_RESNET50_CLASSES, 0, 0, 0);
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
static int check_keys(const oiqa_ckpt *ck, const char *path, const oiqa_key_list *l)
{
    const oiqa_key_rules rules = {.ignored = is_batches_tracked};
    return oiqa_check_state_dict(ck, path, l, &rules, "a torchvision ResNet-50 state dict");
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

static int load_weights(const oiqa_ckpt *ck, const char *path, oiqa_resnet50 *net)
{
    int rc = load_folded(ck, path, "conv1", "bn1", 64, 3, 7, 2, 3, &net->stem);
    int cin = 64, block = 0;
    for (int s = 0; s < OIQA_RESNET50_STAGES && !rc; s++) {
        int planes = OIQA_RESNET50_STAGE_PLANES[s], stride = s == 0 ? 1 : 2;
        for (int b = 0; b < OIQA_RESNET50_STAGE_BLOCKS[s] && !rc; b++, block++) {
            oiqa_bottleneck *bk = &net->blocks[block];
            char conv[48], bn[48];
            int st = b == 0 ? stride : 1; /* v1.5: the stride is on the 3x3 */
            snprintf(conv, sizeof conv, "layer%d.%d.conv1", s + 1, b);
            snprintf(bn, sizeof bn, "layer%d.%d.bn1", s + 1, b);
            rc = load_folded(ck, path, conv, bn, planes, cin, 1, 1, 0, &bk->conv1);
            snprintf(conv, sizeof conv, "layer%d.%d.conv2", s + 1, b);
            snprintf(bn, sizeof bn, "layer%d.%d.bn2", s + 1, b);
            if (!rc) rc = load_folded(ck, path, conv, bn, planes, planes, 3, st, 1, &bk->conv2);
            snprintf(conv, sizeof conv, "layer%d.%d.conv3", s + 1, b);
            snprintf(bn, sizeof bn, "layer%d.%d.bn3", s + 1, b);
            if (!rc) rc = load_folded(ck, path, conv, bn, 4 * planes, planes, 1, 1, 0, &bk->conv3);
            if (b == 0 && !rc) {
                snprintf(conv, sizeof conv, "layer%d.0.downsample.0", s + 1);
                snprintf(bn, sizeof bn, "layer%d.0.downsample.1", s + 1);
                rc = load_folded(ck, path, conv, bn, 4 * planes, cin, 1, st, 0, &bk->downsample);
                bk->has_downsample = 1;
            }
            cin = 4 * planes;
        }
    }
    if (rc) return rc;
    net->fc_weight = malloc(sizeof(float) * OIQA_RESNET50_CLASSES * OIQA_RESNET50_FEATURES);
    net->fc_bias = malloc(sizeof(float) * OIQA_RESNET50_CLASSES);
    if (!net->fc_weight || !net->fc_bias) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    rc = read_key(ck, path, "fc.weight", net->fc_weight);
    if (!rc) rc = read_key(ck, path, "fc.bias", net->fc_bias);
    return rc;
}

int oiqa_resnet50_load(const oiqa_ckpt *ck, const char *path, oiqa_resnet50 *net)
{
    memset(net, 0, sizeof *net);
    oiqa_key_list keys = {0};
    int rc = expected_keys(&keys);
    if (!rc) rc = check_keys(ck, path, &keys);
    oiqa_key_list_free(&keys);
    if (!rc) rc = load_weights(ck, path, net);
    if (rc) oiqa_resnet50_free(net);
    return rc;
}

int oiqa_resnet50_load_file(const char *path, oiqa_resnet50 *net)
{
    memset(net, 0, sizeof *net);
    oiqa_ckpt *ck = NULL;
    int rc = oiqa_ckpt_open(path, &ck);
    if (rc) return rc;
    rc = oiqa_resnet50_load(ck, path, net);
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

void oiqa_resnet50_free(oiqa_resnet50 *net)
{
    free_folded(&net->stem);
    for (int b = 0; b < OIQA_RESNET50_BLOCKS; b++) {
        free_folded(&net->blocks[b].conv1);
        free_folded(&net->blocks[b].conv2);
        free_folded(&net->blocks[b].conv3);
        free_folded(&net->blocks[b].downsample);
        net->blocks[b].has_downsample = 0;
    }
    free(net->fc_weight);
    free(net->fc_bias);
    net->fc_weight = net->fc_bias = NULL;
}
