/* Random VMamba weights; see models/vmamba_random.h. */
#include "models/vmamba_random.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "models/vmamba_internal.h"

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcmp(s + n - k, suffix);
}

static int is_norm(const char *name)
{
    static const char *norms[] = {".norm.", ".norm2.", ".out_norm.", "patch_embed.2.", "patch_embed.7.",
                                  "downsample.3."};
    for (size_t i = 0; i < sizeof norms / sizeof norms[0]; i++)
        if (strstr(name, norms[i])) return 1;
    return !strncmp(name, "classifier.norm.", 16);
}

static void fill(const vmamba_key *k, float *v, int64_t n, oiqa_rng *rng)
{
    if (ends_with(k->name, ".A_logs")) {
        for (int64_t i = 0; i < n; i++) /* A_logs[c][n] = log(n + 1) + noise */
            v[i] = (float)(log((double)(i % k->shape[1]) + 1.0) + 0.2 * oiqa_rng_normal(rng));
    } else if (ends_with(k->name, ".Ds")) {
        for (int64_t i = 0; i < n; i++) v[i] = (float)(0.5 + oiqa_rng_uniform(rng));
    } else if (ends_with(k->name, ".dt_projs_bias")) {
        for (int64_t i = 0; i < n; i++) {
            double dt = exp(log(0.001) + oiqa_rng_uniform(rng) * (log(0.1) - log(0.001)));
            v[i] = (float)(dt + log(-expm1(-dt)) + 0.2 * oiqa_rng_normal(rng));
        }
    } else if (is_norm(k->name)) {
        int w = ends_with(k->name, ".weight");
        for (int64_t i = 0; i < n; i++) v[i] = (float)((w ? 1.0 : 0.0) + (w ? 0.1 : 0.05) * oiqa_rng_normal(rng));
    } else if (k->ndim >= 2) {
        int64_t fan_in = n / k->shape[0];
        if (ends_with(k->name, "_projs_weight") || ends_with(k->name, "x_proj_weight")) fan_in = k->shape[k->ndim - 1];
        double std = 1.0 / sqrt((double)fan_in);
        for (int64_t i = 0; i < n; i++) v[i] = (float)(std * oiqa_rng_normal(rng));
    } else {
        for (int64_t i = 0; i < n; i++) v[i] = (float)(0.02 * oiqa_rng_normal(rng));
    }
}

int oiqa_vmamba_random_ckpt(const oiqa_vmamba_config *cfg, uint64_t seed, oiqa_ckpt **out)
{
    *out = NULL;
    vmamba_key_list keys = {0};
    int rc = vmamba_expected_keys(&keys, cfg);
    oiqa_ckpt *ck = NULL;
    if (!rc) rc = oiqa_ckpt_new("random VMamba", &ck);
    oiqa_rng rng;
    oiqa_rng_seed(&rng, seed);
    for (int i = 0; i < keys.count && !rc; i++) {
        const vmamba_key *k = &keys.keys[i];
        float *v = oiqa_ckpt_add_f32(ck, k->name, k->ndim, k->shape);
        if (!v) {
            rc = OIQA_EXIT_DATA;
            break;
        }
        int64_t n = 1;
        for (int d = 0; d < k->ndim; d++) n *= k->shape[d];
        fill(k, v, n, &rng);
    }
    oiqa_key_list_free(&keys);
    if (rc) oiqa_ckpt_close(ck);
    else *out = ck;
    return rc;
}
