/* The extractor table and the weight-loading front end; see extractor.h. */
#include "models/extractor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sha256.h"
#include "base/strutil.h"

extern const oiqa_extractor_kind oiqa_resnet50_extractor, oiqa_vmamba_t_v0_extractor, oiqa_vmamba_t_s2l5_extractor,
    oiqa_vmamba_t_s1l8_extractor;

static const oiqa_extractor_kind *const EXTRACTORS[] = {
    &oiqa_resnet50_extractor,
    &oiqa_vmamba_t_v0_extractor,
    &oiqa_vmamba_t_s2l5_extractor,
    &oiqa_vmamba_t_s1l8_extractor,
};
#define N_EXTRACTORS (int)(sizeof EXTRACTORS / sizeof EXTRACTORS[0])

const oiqa_extractor_kind *oiqa_extractor_find(const char *name)
{
    for (int i = 0; name && i < N_EXTRACTORS; i++)
        if (!strcmp(EXTRACTORS[i]->name, name)) return EXTRACTORS[i];
    return NULL;
}

const char *oiqa_extractor_names(void)
{
    static char names[256];
    if (!names[0])
        for (int i = 0; i < N_EXTRACTORS; i++) {
            size_t len = strlen(names);
            snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", EXTRACTORS[i]->name);
        }
    return names;
}

int oiqa_weights_spec_random(const char *spec, uint64_t *seed)
{
    static const char prefix[] = "random:";
    if (strncmp(spec, prefix, sizeof prefix - 1)) return 0;
    const char *digits = spec + sizeof prefix - 1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(digits, &end, 10);
    if (!*digits || *end || errno || *digits == '-' || *digits == '+')
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "weights '%s': expected random:SEED with SEED an integer >= 0", spec),
               -1;
    *seed = v;
    return 1;
}

int oiqa_extractor_open(const char *name, const char *weights, oiqa_extractor *ex)
{
    memset(ex, 0, sizeof *ex);
    const oiqa_extractor_kind *k = oiqa_extractor_find(name);
    if (!k) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown extractor '%s' (known: %s)", name, oiqa_extractor_names());
    if (!weights || !*weights)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL,
                         "no weights: give --weights FILE (.pth, .safetensors or an oiqa .h5) or --weights random:SEED");
    uint64_t seed = 0;
    int is_random = oiqa_weights_spec_random(weights, &seed);
    if (is_random < 0) return OIQA_EXIT_USAGE;
    oiqa_ckpt *ck = NULL;
    int rc;
    if (is_random) {
        rc = k->random_ckpt(seed, &ck);
    } else {
        rc = oiqa_sha256_file(weights, ex->weights_sha256);
        if (!rc) rc = oiqa_ckpt_open(weights, &ck);
    }
    if (!rc) rc = k->open(ck, weights, &ex->state);
    oiqa_ckpt_close(ck);
    if (rc) return rc;
    ex->kind = k;
    ex->weights = oiqa_strdup(weights);
    ex->random = is_random;
    ex->seed = seed;
    return OIQA_OK;
}

int oiqa_extractor_forward(oiqa_extractor *ex, const float *rgb, int n, int h, int w, const oiqa_tensor **maps)
{
    return ex->kind->forward(ex->state, rgb, n, h, w, maps);
}

void oiqa_extractor_close(oiqa_extractor *ex)
{
    if (ex->kind && ex->state) ex->kind->close(ex->state);
    free(ex->weights);
    memset(ex, 0, sizeof *ex);
}

int oiqa_extractor_block_index(const oiqa_extractor_kind *k, const char *name)
{
    for (int b = 0; b < k->n_blocks; b++)
        if (!strcmp(k->blocks[b].name, name)) return b;
    return -1;
}

int oiqa_extractor_parse_blocks(const oiqa_extractor_kind *k, const char *list, int *idx, int *n)
{
    *n = 0;
    if (!list || !*list) list = k->default_blocks;
    int chosen[OIQA_EXTRACTOR_MAX_BLOCKS] = {0};
    char *copy = oiqa_strdup(list), *save = NULL;
    int rc = OIQA_OK;
    for (char *tok = strtok_r(copy, ", ", &save); tok && !rc; tok = strtok_r(NULL, ", ", &save)) {
        int b = oiqa_extractor_block_index(k, tok);
        if (b < 0) {
            char valid[256] = "";
            for (int i = 0; i < k->n_blocks; i++) {
                size_t len = strlen(valid);
                snprintf(valid + len, sizeof valid - len, "%s%s", i ? ", " : "", k->blocks[i].name);
            }
            rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'blocks': %s has no block '%s' (valid: %s)", k->name, tok, valid);
        } else {
            chosen[b] = 1;
        }
    }
    free(copy);
    if (rc) return rc;
    for (int b = 0; b < k->n_blocks; b++)
        if (chosen[b]) idx[(*n)++] = b;
    if (*n == 0) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'blocks': no block named (valid: see --help)");
    return OIQA_OK;
}
