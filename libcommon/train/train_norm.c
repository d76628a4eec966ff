/* z-score statistics of the training split; see train/train_norm.h. */
#include "train/train_norm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"

/* Mean and std over `rows` vectors of length dim (row r at base[r * dim]). */
static void stats(const float *const *rowp, size_t rows, int dim, float *mean, float *std)
{
    double *s = oiqa_xcalloc((size_t)dim, sizeof *s), *q = oiqa_xcalloc((size_t)dim, sizeof *q);
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < dim; c++) s[c] += rowp[r][c];
    for (int c = 0; c < dim; c++) s[c] /= (double)rows;
    /* Two passes: no cancellation for features with a large offset. */
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < dim; c++) {
            double e = rowp[r][c] - s[c];
            q[c] += e * e;
        }
    for (int c = 0; c < dim; c++) {
        double sd = sqrt(q[c] / (double)rows);
        mean[c] = (float)s[c];
        std[c] = sd > 1e-6 * (1 + fabs(s[c])) ? (float)sd : 1.0f;
    }
    free(s), free(q);
}

int oiqa_train_norm_fit(oiqa_train_norm *z, const oiqa_train_data *d, const int *idx, int n, const double *mos)
{
    memset(z, 0, sizeof *z);
    if (n < 2) return oiqa_fail(OIQA_EXIT_DATA, NULL, "the training part has %d image(s); at least 2 are needed", n);
    z->n_scales = d->n_scales, z->G = d->G;
    size_t rows = (size_t)n * d->V;
    const float **rowp = oiqa_xmalloc((rows > (size_t)n ? rows : (size_t)n) * sizeof *rowp);
    for (int k = 0; k < d->n_scales; k++) {
        z->dim[k] = d->dim[k];
        z->mean[k] = oiqa_xmalloc((size_t)d->dim[k] * sizeof(float));
        z->std[k] = oiqa_xmalloc((size_t)d->dim[k] * sizeof(float));
        for (int i = 0; i < n; i++)
            for (int v = 0; v < d->V; v++)
                rowp[(size_t)i * d->V + v] = d->orig[k] + ((size_t)idx[i] * d->V + v) * d->dim[k];
        stats(rowp, rows, d->dim[k], z->mean[k], z->std[k]);
    }
    if (d->global) {
        z->gmean = oiqa_xmalloc((size_t)d->G * sizeof(float));
        z->gstd = oiqa_xmalloc((size_t)d->G * sizeof(float));
        for (int i = 0; i < n; i++) rowp[i] = d->global + (size_t)idx[i] * d->G;
        stats(rowp, (size_t)n, d->G, z->gmean, z->gstd);
    }
    free(rowp);
    double s = 0, q = 0;
    for (int i = 0; i < n; i++) s += mos[idx[i]];
    s /= n;
    for (int i = 0; i < n; i++) q += (mos[idx[i]] - s) * (mos[idx[i]] - s);
    z->target_mean = s;
    z->target_std = sqrt(q / n) > 1e-12 ? sqrt(q / n) : 1.0;
    return OIQA_OK;
}

static void scale_rows(float *x, size_t rows, int dim, const float *mean, const float *std)
{
    if (!x) return;
    for (size_t r = 0; r < rows; r++)
        for (int c = 0; c < dim; c++) x[r * dim + c] = (x[r * dim + c] - mean[c]) / std[c];
}

void oiqa_train_norm_apply(const oiqa_train_norm *z, oiqa_train_data *d)
{
    size_t rows = (size_t)d->n * d->V;
    for (int k = 0; k < d->n_scales; k++) {
        scale_rows(d->orig[k], rows, d->dim[k], z->mean[k], z->std[k]);
        scale_rows(d->rest[k], rows, d->dim[k], z->mean[k], z->std[k]);
        scale_rows(d->degr[k], rows, d->dim[k], z->mean[k], z->std[k]);
    }
    if (d->global && z->gmean) scale_rows(d->global, (size_t)d->n, d->G, z->gmean, z->gstd);
}

void oiqa_train_norm_free(oiqa_train_norm *z)
{
    for (int k = 0; k < OIQA_MTFI_MAX_SCALES; k++) free(z->mean[k]), free(z->std[k]);
    free(z->gmean), free(z->gstd);
    memset(z, 0, sizeof *z);
}

static int put(oiqa_ckpt *ck, const char *name, const float *v, int n)
{
    int64_t shape[1] = {n};
    float *dst = oiqa_ckpt_add_f32(ck, name, 1, shape);
    if (!dst) return OIQA_EXIT_DATA;
    memcpy(dst, v, (size_t)n * sizeof *v);
    return OIQA_OK;
}

int oiqa_train_norm_save(const oiqa_train_norm *z, char *const *scales, oiqa_ckpt *ck)
{
    char name[128];
    int rc = OIQA_OK;
    for (int k = 0; k < z->n_scales && !rc; k++) {
        snprintf(name, sizeof name, "norm.%s.mean", scales[k]);
        rc = put(ck, name, z->mean[k], z->dim[k]);
        snprintf(name, sizeof name, "norm.%s.std", scales[k]);
        if (!rc) rc = put(ck, name, z->std[k], z->dim[k]);
    }
    if (!rc && z->gmean) rc = put(ck, "norm.global.mean", z->gmean, z->G);
    if (!rc && z->gmean) rc = put(ck, "norm.global.std", z->gstd, z->G);
    float t[2] = {(float)z->target_mean, (float)z->target_std};
    if (!rc) rc = put(ck, "norm.target", t, 2);
    return rc;
}

static float *get(const oiqa_ckpt *ck, const char *path, const char *name, int n, int *rc)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, name);
    if (!t || t->numel != n) {
        *rc = oiqa_fail(OIQA_EXIT_DATA, path, "tensor %s: %s (expected %d values for these features)", name,
                        t ? "wrong size" : "missing", n);
        return NULL;
    }
    float *v = oiqa_xmalloc((size_t)n * sizeof *v);
    if ((*rc = oiqa_ckpt_read_f32(ck, t, v))) free(v), v = NULL;
    return v;
}

int oiqa_train_norm_load(oiqa_train_norm *z, char *const *scales, int n_scales, const int *dim, int G,
                         const oiqa_ckpt *ck, const char *path)
{
    memset(z, 0, sizeof *z);
    z->n_scales = n_scales, z->G = G;
    char name[128];
    int rc = OIQA_OK;
    for (int k = 0; k < n_scales && !rc; k++) {
        z->dim[k] = dim[k];
        snprintf(name, sizeof name, "norm.%s.mean", scales[k]);
        z->mean[k] = get(ck, path, name, dim[k], &rc);
        snprintf(name, sizeof name, "norm.%s.std", scales[k]);
        if (!rc) z->std[k] = get(ck, path, name, dim[k], &rc);
    }
    if (!rc && G) z->gmean = get(ck, path, "norm.global.mean", G, &rc);
    if (!rc && G) z->gstd = get(ck, path, "norm.global.std", G, &rc);
    float *t = rc ? NULL : get(ck, path, "norm.target", 2, &rc);
    if (t) z->target_mean = t[0], z->target_std = t[1];
    free(t);
    if (rc) oiqa_train_norm_free(z);
    return rc;
}
