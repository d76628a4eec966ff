/* Assembling the MTFI inputs from the feature files; see train/train_data.h. */
#include "train/train_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "io/h5store.h"
#include "io/json_mini.h"

const char *const oiqa_prov_field_names[OIQA_PROV_FIELDS] = {
    "path", "sha256", "stage", "backbone", "weights", "weights_sha256",
    "blocks", "streams", "config", "normalisation", "input_size", "resize",
    "viewports_config", "pseudoref_config",
};

void oiqa_feature_prov_free(oiqa_feature_prov *p)
{
    for (int i = 0; i < OIQA_PROV_FIELDS; i++) free(p->v[i]), p->v[i] = NULL;
}

static int read_prov(const oiqa_store_reader *r, const char *path, int hash, oiqa_feature_prov *p)
{
    memset(p, 0, sizeof *p);
    p->v[0] = oiqa_strdup(path);
    char sha[65] = "";
    if (hash) {
        int rc = oiqa_sha256_file(path, sha);
        if (rc) return rc;
    }
    p->v[1] = oiqa_strdup(sha);
    for (int i = 2; i < OIQA_PROV_FIELDS; i++) {
        char *s = oiqa_store_reader_attr_string(r, "/", oiqa_prov_field_names[i]);
        p->v[i] = s ? s : oiqa_strdup("");
    }
    return OIQA_OK;
}

int oiqa_feature_prov_read(const char *path, const char *stage, oiqa_feature_prov *p)
{
    memset(p, 0, sizeof *p);
    oiqa_store_reader *r;
    int rc = oiqa_store_open_read(path, stage, 0, &r);
    if (rc) return rc;
    rc = read_prov(r, path, 0, p);
    oiqa_store_close(r);
    return rc;
}

void oiqa_train_data_free(oiqa_train_data *d)
{
    for (int k = 0; k < OIQA_MTFI_MAX_SCALES; k++) free(d->orig[k]), free(d->rest[k]), free(d->degr[k]);
    free(d->global);
    if (d->names)
        for (int i = 0; i < d->n; i++) free(d->names[i]);
    free(d->names);
    oiqa_feature_prov_free(&d->local_prov), oiqa_feature_prov_free(&d->global_prov);
    memset(d, 0, sizeof *d);
}

/* The shape [N, V, C] of /<stream>/<block>/mean, or an error naming the fix. */
static int local_shape(const oiqa_store_reader *r, const char *path, const char *stream, const char *block, int *V,
                       int *C)
{
    char ds[256];
    snprintf(ds, sizeof ds, "/%s/%s/mean", stream, block);
    oiqa_dtype t;
    int nd;
    uint64_t dims[OIQA_MAX_DIMS];
    if (oiqa_store_reader_shape(r, ds, &t, &nd, dims)) {
        if (!strcmp(stream, "original")) {
            char *have = oiqa_store_reader_attr_string(r, "/", "blocks");
            int rc = oiqa_fail(OIQA_EXIT_DATA, path, "no dataset %s (the file has blocks '%s': compute %s with "
                               "oiqa-resnet --blocks, or change model.scales)", ds, have ? have : "", block);
            free(have);
            return rc;
        }
        return oiqa_fail(OIQA_EXIT_DATA, path,
                         "no dataset %s (features without pseudo-references: run oiqa-resnet --pseudoref, or set "
                         "model.use_%s: false)", ds, stream);
    }
    if (nd != 3) return oiqa_fail(OIQA_EXIT_DATA, path, "%s has %d axes, expected [N,V,C]", ds, nd);
    *V = (int)dims[1], *C = (int)dims[2];
    int64_t want[3] = {-1, *V, *C};
    snprintf(ds, sizeof ds, "/%s/%s/std", stream, block);
    return oiqa_store_reader_expect(r, ds, OIQA_F32, 3, want);
}

/* Reads mean and std rows of a per-image dataset pair into dst as
 * [rows, 2C] (mean || std per row), checking finiteness. */
static int read_pair(const oiqa_store_reader *r, const char *path, const char *prefix, int64_t row, int rows, int C,
                     float *scratch, float *dst, const char *name)
{
    static const char *const part[2] = {"mean", "std"};
    for (int p = 0; p < 2; p++) {
        char ds[256];
        snprintf(ds, sizeof ds, "%s/%s", prefix, part[p]);
        int rc = oiqa_store_reader_read_row(r, ds, row, OIQA_F32, scratch);
        if (rc) return rc;
        for (int v = 0; v < rows; v++) {
            for (int c = 0; c < C; c++) {
                float x = scratch[(size_t)v * C + c];
                if (!isfinite(x))
                    return oiqa_fail(OIQA_EXIT_DATA, path, "row %lld ('%s'): %s in %s", (long long)row, name,
                                     isnan(x) ? "NaN" : "Inf", ds);
                dst[(size_t)v * 2 * C + (size_t)p * C + c] = x;
            }
        }
    }
    return OIQA_OK;
}

/* The row of each name in r; error naming the first absent one. */
static int find_rows(const oiqa_store_reader *r, const char *path, char *const *names, const int *lines, int n,
                     const char *what, int64_t *rows)
{
    for (int i = 0; i < n; i++) {
        rows[i] = oiqa_store_reader_find(r, names[i]);
        if (rows[i] < 0) {
            if (lines && lines[i] > 0)
                return oiqa_fail(OIQA_EXIT_DATA, path, "no row for '%s' (%s:%d); its features must be computed first",
                                 names[i], what, lines[i]);
            return oiqa_fail(OIQA_EXIT_DATA, path, "no row for '%s' (named in %s); its features must be computed first",
                             names[i], what);
        }
    }
    return OIQA_OK;
}

static int load_local(const oiqa_train_data_spec *s, const oiqa_store_reader *r, const int64_t *rows,
                      oiqa_train_data *d)
{
    const char *streams[3] = {"original", s->need_restored ? "restored" : NULL, s->need_degraded ? "degraded" : NULL};
    int C[OIQA_MTFI_MAX_SCALES], rc = OIQA_OK, maxc = 0;
    for (int k = 0; k < s->n_scales && !rc; k++) {
        for (int st = 0; st < 3 && !rc; st++) {
            if (!streams[st]) continue;
            int V = 0, c = 0;
            rc = local_shape(r, s->local, streams[st], s->scales[k], &V, &c);
            if (!rc && ((k || st) && (V != d->V || (st && c != C[k]))))
                rc = oiqa_fail(OIQA_EXIT_DATA, s->local, "/%s/%s: %d viewports x %d channels, unlike the other datasets",
                               streams[st], s->scales[k], V, c);
            if (!rc && !st) d->V = V, C[k] = c, d->dim[k] = 2 * c, maxc = c > maxc ? c : maxc;
        }
    }
    if (rc) return rc;
    d->n_scales = s->n_scales;
    float *scratch = oiqa_xmalloc((size_t)d->V * maxc * sizeof(float));
    for (int k = 0; k < s->n_scales; k++) {
        size_t per = (size_t)d->V * d->dim[k];
        d->orig[k] = oiqa_xmalloc(per * d->n * sizeof(float));
        if (s->need_restored) d->rest[k] = oiqa_xmalloc(per * d->n * sizeof(float));
        if (s->need_degraded) d->degr[k] = oiqa_xmalloc(per * d->n * sizeof(float));
    }
    for (int i = 0; i < d->n && !rc; i++) {
        for (int k = 0; k < s->n_scales && !rc; k++) {
            size_t per = (size_t)d->V * d->dim[k];
            float *dst[3] = {d->orig[k] + per * i, d->rest[k] ? d->rest[k] + per * i : NULL,
                             d->degr[k] ? d->degr[k] + per * i : NULL};
            for (int st = 0; st < 3 && !rc; st++) {
                if (!streams[st]) continue;
                char prefix[200];
                snprintf(prefix, sizeof prefix, "/%s/%s", streams[st], s->scales[k]);
                rc = read_pair(r, s->local, prefix, rows[i], d->V, C[k], scratch, dst[st], d->names[i]);
            }
        }
    }
    free(scratch);
    return rc;
}

static int load_global(const oiqa_train_data_spec *s, const oiqa_store_reader *r, const int64_t *rows,
                       oiqa_train_data *d)
{
    char *blocks = oiqa_store_reader_attr_string(r, "/", "blocks");
    if (!blocks || !*blocks) {
        free(blocks);
        return oiqa_fail(OIQA_EXIT_DATA, s->global, "no 'blocks' attribute: not a file of oiqa-vmamba");
    }
    /* The stages, in the order the file lists them. */
    char *stage[16];
    int n_stage = 0, rc = OIQA_OK, C[16], maxc = 0;
    for (char *tok = strtok(blocks, ","); tok && n_stage < 16; tok = strtok(NULL, ",")) stage[n_stage++] = tok;
    d->G = 0;
    for (int j = 0; j < n_stage && !rc; j++) {
        char ds[256];
        snprintf(ds, sizeof ds, "/global/%s/mean", stage[j]);
        oiqa_dtype t;
        int nd;
        uint64_t dims[OIQA_MAX_DIMS];
        if (oiqa_store_reader_shape(r, ds, &t, &nd, dims) || nd != 2)
            rc = oiqa_fail(OIQA_EXIT_DATA, s->global,
                           "no dataset %s [N,C]: not a global feature file (oiqa-vmamba on ERP images)", ds);
        else {
            C[j] = (int)dims[1], d->G += 2 * C[j], maxc = C[j] > maxc ? C[j] : maxc;
            int64_t want[2] = {-1, C[j]};
            snprintf(ds, sizeof ds, "/global/%s/std", stage[j]);
            rc = oiqa_store_reader_expect(r, ds, OIQA_F32, 2, want);
        }
    }
    if (!rc) {
        float *scratch = oiqa_xmalloc((size_t)maxc * sizeof(float));
        d->global = oiqa_xmalloc((size_t)d->n * d->G * sizeof(float));
        for (int i = 0; i < d->n && !rc; i++) {
            float *dst = d->global + (size_t)i * d->G;
            for (int j = 0; j < n_stage && !rc; j++) {
                char prefix[200];
                snprintf(prefix, sizeof prefix, "/global/%s", stage[j]);
                rc = read_pair(r, s->global, prefix, rows[i], 1, C[j], scratch, dst, d->names[i]);
                dst += 2 * C[j];
            }
        }
        free(scratch);
    }
    free(blocks);
    return rc;
}

int oiqa_train_data_load(const oiqa_train_data_spec *s, char *const *names, const int *lines, int n,
                         const char *what, oiqa_train_data *d)
{
    memset(d, 0, sizeof *d);
    oiqa_store_reader *lr = NULL, *gr = NULL;
    int rc = oiqa_store_open_read(s->local, "backbone", 0, &lr);
    if (!rc && s->global) rc = oiqa_store_open_read(s->global, "global", 0, &gr);
    if (rc) goto done;
    if (!names) n = (int)oiqa_store_reader_rows(lr);
    if (n < 1) {
        rc = oiqa_fail(OIQA_EXIT_DATA, s->local, "no rows to read");
        goto done;
    }
    d->n = n;
    d->names = oiqa_xcalloc((size_t)n, sizeof *d->names);
    for (int i = 0; i < n; i++) d->names[i] = oiqa_strdup(names ? names[i] : oiqa_store_reader_name(lr, i));
    int64_t *rows = oiqa_xmalloc((size_t)n * sizeof *rows);
    rc = find_rows(lr, s->local, d->names, lines, n, what, rows);
    if (!rc) rc = read_prov(lr, s->local, s->hash, &d->local_prov);
    if (!rc) rc = load_local(s, lr, rows, d);
    if (!rc && gr) {
        d->has_global = 1;
        rc = find_rows(gr, s->global, d->names, lines, n, what, rows);
        if (!rc) rc = read_prov(gr, s->global, s->hash, &d->global_prov);
        if (!rc) rc = load_global(s, gr, rows, d);
    }
    free(rows);
done:
    if (lr) oiqa_store_close(lr);
    if (gr) oiqa_store_close(gr);
    if (rc) oiqa_train_data_free(d);
    return rc;
}

/* ---- provenance as JSON ------------------------------------------------------ */

char *oiqa_feature_prov_json(const oiqa_feature_prov *const *provs, int n)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "[");
    for (int i = 0; i < n; i++) {
        oiqa_sbuf_append(&b, i ? ", {" : "{");
        for (int f = 0; f < OIQA_PROV_FIELDS; f++) {
            oiqa_sbuf_append_json_string(&b, oiqa_prov_field_names[f]);
            oiqa_sbuf_append(&b, ": ");
            oiqa_sbuf_append_json_string(&b, provs[i]->v[f] ? provs[i]->v[f] : "");
            if (f + 1 < OIQA_PROV_FIELDS) oiqa_sbuf_append(&b, ", ");
        }
        oiqa_sbuf_append(&b, "}");
    }
    oiqa_sbuf_append(&b, "]");
    return b.s;
}

int oiqa_feature_prov_parse(const char *json, const char *path, oiqa_feature_prov *provs, int max, int *n)
{
    char err[128];
    *n = 0;
    oiqa_json *j = json ? oiqa_json_parse(json, strlen(json), err, sizeof err) : NULL;
    if (!j || j->type != OIQA_JSON_ARRAY || j->n > max) {
        oiqa_json_free(j);
        return oiqa_fail(OIQA_EXIT_DATA, path, "attribute 'features' is not a list of feature-file records");
    }
    for (int i = 0; i < j->n; i++) {
        memset(&provs[i], 0, sizeof provs[i]);
        for (int f = 0; f < OIQA_PROV_FIELDS; f++) {
            const oiqa_json *v = oiqa_json_get(&j->kids[i], oiqa_prov_field_names[f]);
            provs[i].v[f] = oiqa_strdup(v && v->type == OIQA_JSON_STRING ? v->str : "");
        }
    }
    *n = j->n;
    oiqa_json_free(j);
    return OIQA_OK;
}

int oiqa_feature_prov_compare(const oiqa_feature_prov *a, const oiqa_feature_prov *b, const char *model)
{
    /* Fields that fix what the numbers mean (not the file's name, not its
     * hash: other images computed the same way are what scoring is for). */
    static const int fields[] = {2, 3, 5, 9, 10, 11};
    for (size_t i = 0; i < sizeof fields / sizeof *fields; i++) {
        int f = fields[i];
        if (strcmp(a->v[f], b->v[f]))
            return oiqa_fail(OIQA_EXIT_DATA, b->v[0], "%s '%s' differs from the training features' '%s' (%s, %s): "
                             "features must be computed as for training", oiqa_prov_field_names[f], b->v[f], a->v[f],
                             model, a->v[0]);
    }
    /* Random weights share an empty hash; their seed is in `weights`. */
    if (!strncmp(a->v[4], "random:", 7) && strcmp(a->v[4], b->v[4]))
        return oiqa_fail(OIQA_EXIT_DATA, b->v[0], "weights '%s' differ from the training features' '%s' (%s, %s): "
                         "features must be computed as for training", b->v[4], a->v[4], model, a->v[0]);
    if (!strcmp(a->v[2], "global") && strcmp(a->v[6], b->v[6]))
        return oiqa_fail(OIQA_EXIT_DATA, b->v[0], "blocks '%s' differ from the training features' '%s' (%s, %s)",
                         b->v[6], a->v[6], model, a->v[0]);
    return OIQA_OK;
}
