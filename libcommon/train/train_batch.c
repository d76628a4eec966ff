/* Batches on the tape and batched prediction; see train/train_batch.h. */
#include "train/train_batch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "nn/activation.h"

/* Gathers rows of a [n, per] array into one [B, per] input. */
static oiqa_agv gather(oiqa_ag *ag, const float *src, size_t per, const int *idx, int B, int ndim, const int *shape)
{
    float *buf = oiqa_xmalloc((size_t)B * per * sizeof(float));
    for (int b = 0; b < B; b++) memcpy(buf + (size_t)b * per, src + (size_t)idx[b] * per, per * sizeof(float));
    oiqa_agv v = oiqa_ag_input(ag, buf, ndim, shape);
    free(buf);
    return v;
}

int oiqa_train_batch_inputs(oiqa_ag *ag, const oiqa_mtfi *m, const oiqa_train_data *d, const int *idx, int B,
                            oiqa_mtfi_inputs *in)
{
    memset(in, 0, sizeof *in);
    int rc = OIQA_OK;
    for (int k = 0; k < d->n_scales; k++) {
        int shape[3] = {B, d->V, d->dim[k]};
        size_t per = (size_t)d->V * d->dim[k];
        in->orig[k] = gather(ag, d->orig[k], per, idx, B, 3, shape);
        in->rest[k] = m->cfg.use_restored && d->rest[k] ? gather(ag, d->rest[k], per, idx, B, 3, shape) : -1;
        in->degr[k] = m->cfg.use_degraded && d->degr[k] ? gather(ag, d->degr[k], per, idx, B, 3, shape) : -1;
        if (in->orig[k] < 0 || (m->cfg.use_restored && in->rest[k] < 0) || (m->cfg.use_degraded && in->degr[k] < 0))
            rc = OIQA_EXIT_DATA;
    }
    in->global = -1;
    if (m->cfg.use_global) {
        int shape[2] = {B, d->G};
        in->global = d->global ? gather(ag, d->global, (size_t)d->G, idx, B, 2, shape) : -1;
        if (in->global < 0) rc = OIQA_EXIT_DATA;
    }
    if (rc && !*oiqa_errmsg()) oiqa_fail(rc, NULL, "mtfi: inputs missing for the configured streams");
    return rc;
}

void oiqa_train_pred_free(oiqa_train_pred *p)
{
    free(p->quality), free(p->p_level), free(p->p_type);
    memset(p, 0, sizeof *p);
}

int oiqa_train_predict(oiqa_ag *ag, oiqa_mtfi *m, const oiqa_train_data *d, const int *idx, int n, int batch,
                       oiqa_train_pred *out)
{
    memset(out, 0, sizeof *out);
    int aux = m->cfg.aux_heads, L = m->cfg.n_levels, T = m->cfg.n_types;
    out->quality = oiqa_xmalloc((size_t)(n ? n : 1) * sizeof(float));
    if (aux) {
        out->p_level = oiqa_xmalloc((size_t)(n ? n : 1) * L * sizeof(float));
        out->p_type = oiqa_xmalloc((size_t)(n ? n : 1) * T * sizeof(float));
    }
    int *all = NULL;
    if (!idx) {
        all = oiqa_xmalloc((size_t)(n ? n : 1) * sizeof *all);
        for (int i = 0; i < n; i++) all[i] = i;
        idx = all;
    }
    int rc = OIQA_OK;
    oiqa_ag_set_training(ag, 0);
    for (int b0 = 0; b0 < n && !rc; b0 += batch) {
        int B = n - b0 < batch ? n - b0 : batch;
        oiqa_ag_reset(ag);
        oiqa_mtfi_inputs in;
        oiqa_mtfi_outputs o;
        rc = oiqa_train_batch_inputs(ag, m, d, idx + b0, B, &in);
        if (!rc) rc = oiqa_mtfi_forward(ag, m, &in, NULL, &o);
        if (rc) break;
        memcpy(out->quality + b0, oiqa_ag_data(ag, o.quality), (size_t)B * sizeof(float));
        if (aux) {
            oiqa_softmax_rows(oiqa_ag_data(ag, o.level), B, L, out->p_level + (size_t)b0 * L);
            oiqa_softmax_rows(oiqa_ag_data(ag, o.type), B, T, out->p_type + (size_t)b0 * T);
        }
    }
    oiqa_ag_reset(ag);
    oiqa_ag_set_training(ag, 1);
    free(all);
    if (rc) oiqa_train_pred_free(out);
    return rc;
}
