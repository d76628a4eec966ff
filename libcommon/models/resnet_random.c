/* Random torchvision-style ResNet weights; see models/resnet_random.h. */
#include "models/resnet_random.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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

int oiqa_resnet_random_ckpt(const oiqa_resnet_depth *depth, uint64_t seed, oiqa_ckpt **out)
{
    char label[48];
    snprintf(label, sizeof label, "random:%llu", (unsigned long long)seed);
    oiqa_ckpt *ck;
    int rc = oiqa_ckpt_new(label, &ck);
    if (rc) return rc;
    oiqa_resnet_plan *plan = malloc(sizeof *plan);
    if (!plan) {
        oiqa_ckpt_close(ck);
        return oiqa_fail(OIQA_EXIT_DATA, label, "out of memory");
    }
    oiqa_resnet_plan_make(depth, 64, plan);
    oiqa_rng rng;
    oiqa_rng_seed(&rng, seed);
    for (int i = 0; i < plan->n_convs && !rc; i++) {
        const oiqa_resnet_conv_spec *c = &plan->conv[i];
        char name[96];
        snprintf(name, sizeof name, "%s.weight", c->conv);
        if (add_conv(ck, &rng, name, c->cout, c->cin, c->k) || add_bn(ck, c->bn, c->cout)) rc = OIQA_EXIT_DATA;
    }
    int features = plan->channels[3];
    free(plan);
    double bound = 1.0 / sqrt((double)features);
    int64_t fc_w[2] = {1000, features}, fc_b[1] = {1000};
    if (!rc && (add_uniform(ck, &rng, "fc.weight", 2, fc_w, bound) || add_uniform(ck, &rng, "fc.bias", 1, fc_b, bound)))
        rc = OIQA_EXIT_DATA;
    if (rc) {
        oiqa_ckpt_close(ck);
        return rc;
    }
    *out = ck;
    return OIQA_OK;
}
