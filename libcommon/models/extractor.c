/* The extractor table and the weight-loading front end; see extractor.h. */
#include "models/extractor.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "models/imagenet.h"
#include "nn/pool.h"

extern const oiqa_extractor_kind oiqa_resnet18_extractor, oiqa_resnet34_extractor, oiqa_resnet50_extractor,
    oiqa_resnet101_extractor, oiqa_resnet152_extractor, oiqa_vmamba_t_v0_extractor, oiqa_vmamba_t_s2l5_extractor,
    oiqa_vmamba_t_s1l8_extractor;

static const oiqa_extractor_kind *const EXTRACTORS[] = {
    &oiqa_resnet18_extractor,
    &oiqa_resnet34_extractor,
    &oiqa_resnet50_extractor,
    &oiqa_resnet101_extractor,
    &oiqa_resnet152_extractor,
    &oiqa_vmamba_t_v0_extractor,
    &oiqa_vmamba_t_s2l5_extractor,
    &oiqa_vmamba_t_s1l8_extractor,
};
#define N_EXTRACTORS (int)(sizeof EXTRACTORS / sizeof EXTRACTORS[0])
#define MAX_ADDED 8

/* Rows added at run time (oiqa_extractor_register), after the built-in ones. */
static const oiqa_extractor_kind *added[MAX_ADDED];
static int n_added;

int oiqa_extractor_count(void) { return N_EXTRACTORS + n_added; }

const oiqa_extractor_kind *oiqa_extractor_at(int i)
{
    if (i < 0 || i >= oiqa_extractor_count()) return NULL;
    return i < N_EXTRACTORS ? EXTRACTORS[i] : added[i - N_EXTRACTORS];
}

const oiqa_extractor_kind *oiqa_extractor_find(const char *name)
{
    for (int i = 0; name && i < oiqa_extractor_count(); i++)
        if (!strcmp(oiqa_extractor_at(i)->name, name)) return oiqa_extractor_at(i);
    return NULL;
}

int oiqa_extractor_register(const oiqa_extractor_kind *k)
{
    const char *name = k && k->name ? k->name : "(unnamed)";
    if (!k || !k->name || !k->blocks || k->n_blocks < 1 || k->n_blocks > OIQA_EXTRACTOR_MAX_BLOCKS || !k->map_shape ||
        !k->random_ckpt || !k->open || !k->forward || !k->close)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: a row needs a name, 1 to %d blocks, map_shape, "
                         "random_ckpt, open, forward and close", name, OIQA_EXTRACTOR_MAX_BLOCKS);
    if ((k->output == OIQA_OUTPUT_TOKENS) != (k->extras != NULL) || (k->embed_dim && k->output != OIQA_OUTPUT_TOKENS))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: a token extractor has an extras hook (and only it an "
                         "embed_dim)", name);
    if (k->opts_size > OIQA_EXTRACTOR_OPTS_MAX || (k->opts && !k->opts_size))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: options struct of %zu bytes (1 to %d)", name,
                         k->opts_size, OIQA_EXTRACTOR_OPTS_MAX);
    if (k->family && !k->family_check)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: family %s without its check", name, k->family);
    if (oiqa_extractor_find(k->name)) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: registered twice", name);
    if (n_added == MAX_ADDED) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "extractor %s: the registry is full", name);
    added[n_added++] = k;
    return OIQA_OK;
}

int oiqa_extractor_default_opts(const oiqa_extractor_kind *k, oiqa_extractor_opts *opts, oiqa_cli *cli)
{
    memset(opts, 0, sizeof *opts);
    memset(cli, 0, sizeof *cli);
    if (!k->opts) return OIQA_OK;
    oiqa_tool tool = {.name = k->name, .opts = k->opts};
    return oiqa_cli_parse_config_text(&tool, "", k->name, opts, cli);
}

int oiqa_extractor_check(const oiqa_extractor_kind *k, const oiqa_ckpt *ck, const char *path)
{
    oiqa_extractor_opts opts;
    oiqa_cli cli;
    int rc = oiqa_extractor_default_opts(k, &opts, &cli);
    void *state = NULL;
    if (!rc) rc = k->open(ck, path, k->opts ? &opts : NULL, &state);
    if (!rc) k->close(state);
    oiqa_cli_free(&cli);
    return rc;
}

const char *oiqa_extractor_names(void)
{
    static char names[512];
    names[0] = '\0';
    for (int i = 0; i < oiqa_extractor_count(); i++) {
        size_t len = strlen(names);
        snprintf(names + len, sizeof names - len, "%s%s", i ? ", " : "", oiqa_extractor_at(i)->name);
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
    return oiqa_extractor_open_on(name, weights, OIQA_DEVICE_CPU, ex);
}

int oiqa_extractor_open_on(const char *name, const char *weights, oiqa_device device, oiqa_extractor *ex)
{
    return oiqa_extractor_open_with(name, weights, NULL, device, ex);
}

int oiqa_extractor_open_with(const char *name, const char *weights, const void *opts, oiqa_device device,
                             oiqa_extractor *ex)
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
    if (!rc && k->opts && opts) memcpy(&ex->opts, opts, k->opts_size); /* strings stay the caller's */
    else if (!rc && k->opts) rc = oiqa_extractor_default_opts(k, &ex->opts, &ex->opts_cli);
    if (!rc) rc = k->open(ck, weights, k->opts ? &ex->opts : NULL, &ex->state);
    oiqa_ckpt_close(ck);
    if (rc) {
        oiqa_cli_free(&ex->opts_cli);
        memset(ex, 0, sizeof *ex);
        return rc;
    }
    ex->kind = k;
    ex->be = oiqa_backend_open(oiqa_device_resolve(device));
    ex->weights = oiqa_strdup(weights);
    ex->random = is_random;
    ex->seed = seed;
    return OIQA_OK;
}

/* Device memory one image of h x w needs, generously: 16 floats per value
 * of the block maps (the networks' intermediates are a few times the block
 * maps; VMamba's SS2D holds about 9 Di-wide maps at stage 0) plus the input. */
static size_t bytes_per_image(const oiqa_extractor_kind *k, int h, int w)
{
    size_t floats = (size_t)h * w * 3 * 2;
    for (int b = 0; b < k->n_blocks; b++) {
        int mh, mw;
        k->map_shape(b, h, w, &mh, &mw);
        floats += (size_t)16 * mh * mw * k->blocks[b].channels;
    }
    return floats * sizeof(float);
}

/* GPU forward: sub-batches of what fits in 70% of the free device memory,
 * each normalised on the device and run; then either every block's maps are
 * downloaded into the host tensors at the sub-batch's offset (maps set), or
 * only the statistics of the chosen blocks are (stats: mean/std set). */
typedef struct {
    const int *blocks;
    int n_blocks;
    float *const *mean, *const *std;
} stats_request;

/* A row's maps must have the channels it declares: the stages size their
 * datasets and buffers from the row. */
static int check_channels(const oiqa_extractor_kind *k, const oiqa_tensor *const *maps)
{
    for (int b = 0; b < k->n_blocks; b++)
        if (maps[b] && maps[b]->c != k->blocks[b].channels)
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: block %s has %d channels, the backbone declares %d", k->name,
                             k->blocks[b].name, maps[b]->c, k->blocks[b].channels);
    return OIQA_OK;
}

static int forward_on_device(oiqa_extractor *ex, const float *rgb, int n, int h, int w, const oiqa_tensor **maps,
                             const stats_request *stats)
{
    oiqa_backend *be = ex->be;
    oiqa_device_announce();
    size_t per = bytes_per_image(ex->kind, h, w), avail = be->ops->free_memory(be) / 10 * 7;
    int sub = per && avail / per < (size_t)n ? (int)(avail / per) : n;
    if (sub < 1) sub = 1;
    int rc = OIQA_OK;
    for (int i0 = 0; i0 < n && !rc; i0 += sub) {
        int m = n - i0 < sub ? n - i0 : sub;
        const oiqa_tensor *dev[OIQA_EXTRACTOR_MAX_BLOCKS] = {0};
        rc = oiqa_be_tensor_ensure(be, &ex->x_dev, m, h, w, 3);
        if (!rc) rc = be->ops->normalize(be, rgb + (size_t)i0 * h * w * 3, OIQA_IMAGENET_MEAN, OIQA_IMAGENET_STD,
                                         &ex->x_dev);
        if (!rc) rc = ex->kind->forward_on(ex->state, be, &ex->x_dev, dev);
        if (!rc) rc = check_channels(ex->kind, dev);
        for (int b = 0; maps && b < ex->kind->n_blocks && !rc; b++) {
            const oiqa_tensor *d = dev[b];
            rc = oiqa_be_tensor_ensure(oiqa_backend_cpu(), &ex->host[b], n, d->h, d->w, d->c);
            if (!rc) rc = be->ops->download(be, d, ex->host[b].data + (size_t)i0 * d->h * d->w * d->c);
        }
        for (int i = 0; stats && i < stats->n_blocks && !rc; i++) {
            const oiqa_tensor *d = dev[stats->blocks[i]];
            size_t at = (size_t)i0 * d->c;
            rc = be->ops->channel_mean_std(be, d, stats->mean[i] + at, stats->std[i] + at);
        }
    }
    for (int b = 0; maps && b < ex->kind->n_blocks && !rc; b++) maps[b] = &ex->host[b];
    return rc;
}

int oiqa_extractor_forward(oiqa_extractor *ex, const float *rgb, int n, int h, int w, const oiqa_tensor **maps)
{
    if (ex->be && ex->be->device == OIQA_DEVICE_CUDA) return forward_on_device(ex, rgb, n, h, w, maps, NULL);
    int rc = ex->kind->forward(ex->state, rgb, n, h, w, maps);
    return rc ? rc : check_channels(ex->kind, maps);
}

int oiqa_extractor_forward_stats(oiqa_extractor *ex, const float *rgb, int n, int h, int w, const int *blocks,
                                 int n_blocks, float *const *mean, float *const *std)
{
    stats_request req = {blocks, n_blocks, mean, std};
    if (ex->be && ex->be->device == OIQA_DEVICE_CUDA) return forward_on_device(ex, rgb, n, h, w, NULL, &req);
    const oiqa_tensor *maps[OIQA_EXTRACTOR_MAX_BLOCKS] = {0};
    int rc = ex->kind->forward(ex->state, rgb, n, h, w, maps);
    if (!rc) rc = check_channels(ex->kind, maps);
    for (int i = 0; i < n_blocks && !rc; i++) oiqa_channel_mean_std(maps[blocks[i]], mean[i], std[i], 1);
    return rc;
}

int oiqa_extractor_extras_of(oiqa_extractor *ex, oiqa_extractor_extras *out)
{
    memset(out, 0, sizeof *out);
    if (ex->kind->output != OIQA_OUTPUT_TOKENS) return OIQA_OK;
    if (ex->be && ex->be->device == OIQA_DEVICE_CUDA)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s: class tokens and embeddings on the GPU are not implemented yet; "
                         "give --device cpu", ex->kind->name);
    return ex->kind->extras(ex->state, out);
}

void oiqa_extractor_close(oiqa_extractor *ex)
{
    if (ex->kind && ex->state) ex->kind->close(ex->state);
    if (ex->be) oiqa_be_tensor_free(ex->be, &ex->x_dev);
    for (int b = 0; b < OIQA_EXTRACTOR_MAX_BLOCKS; b++) oiqa_tensor_free(&ex->host[b]);
    oiqa_backend_close(ex->be);
    oiqa_cli_free(&ex->opts_cli);
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
