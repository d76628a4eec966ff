/* Shared pieces of the feature stages; see stage/features.h. */
#include "stage/features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "nn/pool.h"

int oiqa_block_features(const oiqa_tensor *m, float *mean, float *std, uint16_t *map, int map_size,
                        oiqa_tensor *pooled)
{
    oiqa_channel_mean_std(m, mean, std, 1);
    if (!map) return OIQA_OK;
    const oiqa_tensor *src = m;
    if (map_size > 0) {
        oiqa_tensor want = {m->n, map_size, map_size, m->c, NULL};
        if (!oiqa_tensor_same_shape(pooled, &want)) {
            oiqa_tensor_free(pooled);
            int rc = oiqa_tensor_create(pooled, m->n, map_size, map_size, m->c);
            if (rc) return rc;
        }
        int rc = oiqa_adaptive_avgpool2d(m, pooled);
        if (rc) return rc;
        src = pooled;
    }
    size_t n = oiqa_tensor_numel(src);
#pragma omp parallel for schedule(static)
    for (size_t k = 0; k < n; k++) map[k] = oiqa_f32_to_f16(src->data[k]);
    return OIQA_OK;
}

int oiqa_block_extras(oiqa_extractor *ex, const int *blocks, int n_blocks, int n, float *const *cls,
                      float *embedding)
{
    oiqa_extractor_extras x;
    int rc = oiqa_extractor_extras_of(ex, &x);
    if (rc) return rc;
    const oiqa_extractor_kind *k = ex->kind;
    for (int i = 0; i < n_blocks; i++) {
        const oiqa_tensor *t = x.cls[blocks[i]];
        int c = k->blocks[blocks[i]].channels;
        if (!t || t->n != n || (size_t)oiqa_tensor_numel(t) != (size_t)n * c)
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: no class token of %d x %d for block %s", k->name, n, c,
                             k->blocks[blocks[i]].name);
        memcpy(cls[i], t->data, (size_t)n * c * sizeof(float));
    }
    if (!embedding) return OIQA_OK;
    if (!x.embedding || (size_t)oiqa_tensor_numel(x.embedding) != (size_t)n * k->embed_dim)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: no embedding of %d x %d", k->name, n, k->embed_dim);
    memcpy(embedding, x.embedding->data, (size_t)n * k->embed_dim * sizeof(float));
    return OIQA_OK;
}

size_t oiqa_first_nonfinite(const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i])) return i;
    return n;
}

int oiqa_features_set_attrs(oiqa_store *store, const oiqa_extractor *ex, const int *blocks, int n_blocks)
{
    const oiqa_extractor_kind *k = ex->kind;
    oiqa_sbuf names = {0};
    for (int i = 0; i < n_blocks; i++) {
        if (i) oiqa_sbuf_append(&names, ",");
        oiqa_sbuf_append(&names, k->blocks[blocks[i]].name);
    }
    const char *base = strrchr(ex->weights, '/');
    int rc = oiqa_store_set_attr_string(store, "/", "backbone", k->name);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "weights", base && !ex->random ? base + 1 : ex->weights);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "weights_sha256", ex->weights_sha256);
    if (!rc) rc = oiqa_store_set_attr_int(store, "/", "weights_random", ex->random);
    if (!rc && ex->random) rc = oiqa_store_set_attr_string(store, "/", "weights_init", k->init);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "normalisation", k->normalisation);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "blocks", names.s);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "std", "Bessel-corrected (N-1) over the map positions");
    /* Written for token extractors only: a file without it holds maps. */
    if (!rc && k->output == OIQA_OUTPUT_TOKENS) {
        rc = oiqa_store_set_attr_string(store, "/", "output", "tokens");
        if (!rc) rc = oiqa_store_set_attr_string(store, "/", "tokens", "mean, std and map: the patch tokens (class "
                                                 "token excluded, on the patch grid); cls: the class token");
        if (!rc) rc = oiqa_store_set_attr_int(store, "/", "embed_dim", k->embed_dim);
    }
    free(names.s);
    return rc;
}

int oiqa_stage_close(oiqa_store *store, int rc, const char *out)
{
    if (!rc) return oiqa_store_finish(store);
    int64_t rows = oiqa_store_rows(store);
    if (rows == 0) {
        oiqa_store_discard(store);
        return rc;
    }
    char msg[OIQA_ERRMSG_MAX];
    snprintf(msg, sizeof msg, "%s", oiqa_errmsg());
    oiqa_store_abandon(store);
    return oiqa_fail(rc, NULL, "%s (the %lld finished images are kept in %s.partial: --resume continues)", msg,
                     (long long)rows, out);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

int oiqa_check_unique_names(char *const *names, int n)
{
    const char **sorted = malloc((size_t)(n > 0 ? n : 1) * sizeof *sorted);
    if (!sorted) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    memcpy(sorted, names, (size_t)n * sizeof *sorted);
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_str);
    int rc = OIQA_OK;
    for (int i = 1; i < n && !rc; i++)
        if (!strcmp(sorted[i], sorted[i - 1]))
            rc = oiqa_fail(OIQA_EXIT_USAGE, sorted[i], "given twice in the inputs (names must be unique)");
    free(sorted);
    return rc;
}
