/* z-score statistics of the training split; see methods/feature_norm.h. */
#include "methods/feature_norm.h"

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

int oiqa_feature_norm_fit(oiqa_feature_norm *z, const oiqa_feature_set *fs, const int *idx, int n, const double *mos)
{
    memset(z, 0, sizeof *z);
    if (n < 2) return oiqa_fail(OIQA_EXIT_DATA, NULL, "the training part has %d image(s); at least 2 are needed", n);
    z->n_inputs = fs->n_inputs;
    for (int i = 0; i < fs->n_inputs; i++) {
        const oiqa_feature_input *in = &fs->in[i];
        if (!in->used || in->layout == OIQA_LAYOUT_MAPS || in->layout == OIQA_LAYOUT_IMAGES)
            continue; /* maps and pixels feed a network as they are */
        z->n_blocks[i] = in->n_blocks;
        size_t rows = (size_t)n * in->V;
        const float **rowp = oiqa_xmalloc((rows ? rows : 1) * sizeof *rowp);
        for (int k = 0; k < in->n_blocks; k++) {
            int dim = in->dim[k];
            z->dim[i][k] = dim;
            z->name[i][k] = oiqa_strdup(in->block[k]);
            z->mean[i][k] = oiqa_xmalloc((size_t)dim * sizeof(float));
            z->std[i][k] = oiqa_xmalloc((size_t)dim * sizeof(float));
            for (int r = 0; r < n; r++)
                for (int v = 0; v < in->V; v++)
                    rowp[(size_t)r * in->V + v] = in->x[0][k] + ((size_t)idx[r] * in->V + v) * dim;
            stats(rowp, rows, dim, z->mean[i][k], z->std[i][k]);
        }
        free(rowp);
    }
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

void oiqa_feature_norm_apply(const oiqa_feature_norm *z, oiqa_feature_set *fs)
{
    for (int i = 0; i < fs->n_inputs && i < z->n_inputs; i++) {
        oiqa_feature_input *in = &fs->in[i];
        if (!in->used || !z->mean[i][0]) continue;
        size_t rows = (size_t)fs->n * in->V;
        for (int k = 0; k < in->n_blocks && k < z->n_blocks[i]; k++)
            for (int s = 0; s < OIQA_METHOD_MAX_STREAMS; s++)
                scale_rows(in->x[s][k], rows, in->dim[k], z->mean[i][k], z->std[i][k]);
    }
}

void oiqa_feature_norm_free(oiqa_feature_norm *z)
{
    for (int i = 0; i < OIQA_METHOD_MAX_INPUTS; i++)
        for (int k = 0; k < OIQA_METHOD_MAX_BLOCKS; k++) free(z->mean[i][k]), free(z->std[i][k]), free(z->name[i][k]);
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

int oiqa_feature_norm_save(const oiqa_feature_norm *z, oiqa_ckpt *ck)
{
    char name[160];
    int rc = OIQA_OK;
    for (int i = 0; i < z->n_inputs && !rc; i++)
        for (int k = 0; k < z->n_blocks[i] && !rc; k++) {
            snprintf(name, sizeof name, "norm.%s.mean", z->name[i][k]);
            rc = put(ck, name, z->mean[i][k], z->dim[i][k]);
            snprintf(name, sizeof name, "norm.%s.std", z->name[i][k]);
            if (!rc) rc = put(ck, name, z->std[i][k], z->dim[i][k]);
        }
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

int oiqa_feature_norm_load(oiqa_feature_norm *z, const oiqa_method *m, const oiqa_method_select *sel,
                           const oiqa_method_shape *shape, const oiqa_ckpt *ck, const char *path)
{
    memset(z, 0, sizeof *z);
    z->n_inputs = m->n_inputs;
    char name[160];
    int rc = OIQA_OK;
    for (int i = 0; i < m->n_inputs && !rc; i++) {
        if (!shape->used[i] || m->inputs[i].layout == OIQA_LAYOUT_MAPS || m->inputs[i].layout == OIQA_LAYOUT_IMAGES)
            continue;
        z->n_blocks[i] = shape->n_blocks[i];
        for (int k = 0; k < shape->n_blocks[i] && !rc; k++) {
            int dim = shape->dim[i][k];
            z->dim[i][k] = dim;
            char bn[128];
            z->name[i][k] = oiqa_strdup(oiqa_feature_block_name(m, sel, i, k, bn, sizeof bn));
            snprintf(name, sizeof name, "norm.%s.mean", z->name[i][k]);
            z->mean[i][k] = get(ck, path, name, dim, &rc);
            snprintf(name, sizeof name, "norm.%s.std", z->name[i][k]);
            if (!rc) z->std[i][k] = get(ck, path, name, dim, &rc);
        }
    }
    float *t = rc ? NULL : get(ck, path, "norm.target", 2, &rc);
    if (t) z->target_mean = t[0], z->target_std = t[1];
    free(t);
    if (rc) oiqa_feature_norm_free(z);
    return rc;
}
