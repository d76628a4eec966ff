/* Random torchvision-style ResNet-50 weights; see models/resnet_random.h. */
#include "models/resnet_random.h"

#include <math.h>
#include <stdio.h>

#include "base/error.h"
#include "base/rng.h"
#include "models/resnet.h"

static int add_conv(oiqa_ckpt *ck, oiqa_rng *rng, const char *name, int cout, int cin, int k)
{
    int64_t shape[4] = {cout, cin, k, k};
    float *w = oiqa_ckpt_add_f32(ck, name, 4, shape);
    if (!w) return OIQA_EXIT_DATA;
    double std = sqrt(2.0 / ((double)cout * k * k));
    for (int64_t i = 0, n = (int64_t)cout * cin * k * k; i < n; i++) w[i] = (float)(std * oiqa_rng_normal(rng));
    return OIQA_OK;
}

/* BatchNorm at its construction values: y = x (up to eps). */
static int add_bn(oiqa_ckpt *ck, const char *prefix, int c)
{
    static const char *const fields[] = {"weight", "bias", "running_mean", "running_var"};
    static const float values[] = {1, 0, 0, 1};
    int64_t shape[1] = {c};
    for (int f = 0; f < 4; f++) {
        char name[96];
        snprintf(name, sizeof name, "%s.%s", prefix, fields[f]);
        float *v = oiqa_ckpt_add_f32(ck, name, 1, shape);
        if (!v) return OIQA_EXIT_DATA;
        for (int i = 0; i < c; i++) v[i] = values[f];
    }
    return OIQA_OK;
}

static int add_uniform(oiqa_ckpt *ck, oiqa_rng *rng, const char *name, int ndim, const int64_t *shape, double bound)
{
    float *v = oiqa_ckpt_add_f32(ck, name, ndim, shape);
    if (!v) return OIQA_EXIT_DATA;
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    for (int64_t i = 0; i < n; i++) v[i] = (float)(bound * (2.0 * oiqa_rng_uniform(rng) - 1.0));
    return OIQA_OK;
}

static int add_bottleneck(oiqa_ckpt *ck, oiqa_rng *rng, int stage, int block, int cin, int planes)
{
    char p[64], name[96];
    snprintf(p, sizeof p, "layer%d.%d", stage + 1, block);
    const int convs[3][3] = {{planes, cin, 1}, {planes, planes, 3}, {4 * planes, planes, 1}};
    for (int k = 0; k < 3; k++) {
        snprintf(name, sizeof name, "%s.conv%d.weight", p, k + 1);
        if (add_conv(ck, rng, name, convs[k][0], convs[k][1], convs[k][2])) return OIQA_EXIT_DATA;
        snprintf(name, sizeof name, "%s.bn%d", p, k + 1);
        if (add_bn(ck, name, convs[k][0])) return OIQA_EXIT_DATA;
    }
    if (block == 0) {
        snprintf(name, sizeof name, "%s.downsample.0.weight", p);
        if (add_conv(ck, rng, name, 4 * planes, cin, 1)) return OIQA_EXIT_DATA;
        snprintf(name, sizeof name, "%s.downsample.1", p);
        if (add_bn(ck, name, 4 * planes)) return OIQA_EXIT_DATA;
    }
    return OIQA_OK;
}

int oiqa_resnet50_random_ckpt(uint64_t seed, oiqa_ckpt **out)
{
    char label[48];
    snprintf(label, sizeof label, "random:%llu", (unsigned long long)seed);
    oiqa_ckpt *ck;
    int rc = oiqa_ckpt_new(label, &ck);
    if (rc) return rc;
    oiqa_rng rng;
    oiqa_rng_seed(&rng, seed);
    rc = add_conv(ck, &rng, "conv1.weight", 64, 3, 7) || add_bn(ck, "bn1", 64) ? OIQA_EXIT_DATA : OIQA_OK;
    int cin = 64;
    for (int s = 0; s < OIQA_RESNET50_STAGES && !rc; s++)
        for (int b = 0; b < OIQA_RESNET50_STAGE_BLOCKS[s] && !rc; b++) {
            rc = add_bottleneck(ck, &rng, s, b, cin, OIQA_RESNET50_STAGE_PLANES[s]);
            cin = 4 * OIQA_RESNET50_STAGE_PLANES[s];
        }
    double bound = 1.0 / sqrt((double)OIQA_RESNET50_FEATURES);
    int64_t fc_w[2] = {OIQA_RESNET50_CLASSES, OIQA_RESNET50_FEATURES}, fc_b[1] = {OIQA_RESNET50_CLASSES};
    if (!rc && (add_uniform(ck, &rng, "fc.weight", 2, fc_w, bound) || add_uniform(ck, &rng, "fc.bias", 1, fc_b, bound)))
        rc = OIQA_EXIT_DATA;
    if (rc) {
        oiqa_ckpt_close(ck);
        return rc;
    }
    *out = ck;
    return OIQA_OK;
}
