/* Batched prediction; see methods/predict.h. */
#include "methods/predict.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "nn/activation.h"

void oiqa_method_pred_free(oiqa_method_pred *p)
{
    for (int j = 0; j < OIQA_METHOD_MAX_OUTPUTS; j++) free(p->v[j]);
    memset(p, 0, sizeof *p);
}

int oiqa_method_pred_take(oiqa_ag *ag, const oiqa_method *m, const oiqa_agv *out, int B, int at, oiqa_method_pred *p)
{
    for (int j = 0; j < m->n_outputs; j++) {
        if (out[j] < 0) continue;
        int w = (int)(oiqa_ag_numel(ag, out[j]) / (size_t)(B ? B : 1));
        if (!p->v[j]) p->width[j] = w, p->v[j] = oiqa_xmalloc((size_t)(p->n ? p->n : 1) * (w ? w : 1) * sizeof(float));
        if (w != p->width[j] || at + B > p->n)
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "method %s: output %s changed its width", m->name, m->outputs[j].name);
        const float *src = oiqa_ag_data(ag, out[j]);
        float *dst = p->v[j] + (size_t)at * w;
        if (m->outputs[j].kind == OIQA_OUT_CLASSES) oiqa_softmax_rows(src, B, w, dst);
        else memcpy(dst, src, (size_t)B * w * sizeof(float));
    }
    return OIQA_OK;
}

int oiqa_method_predict(oiqa_ag *ag, const oiqa_method *m, void *model, const oiqa_feature_set *fs, const int *idx,
                        int n, int batch, oiqa_method_pred *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
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
        oiqa_method_batch in;
        oiqa_agv o[OIQA_METHOD_MAX_OUTPUTS];
        rc = oiqa_feature_set_batch(ag, fs, idx + b0, B, &in);
        if (!rc) rc = m->forward(model, ag, &in, NULL, o);
        if (!rc) rc = oiqa_method_pred_take(ag, m, o, B, b0, out);
    }
    /* Outputs never produced (n = 0) still have their arrays. */
    if (!rc && !out->v[0]) out->v[0] = oiqa_xmalloc(sizeof(float));
    oiqa_ag_reset(ag);
    oiqa_ag_set_training(ag, 1);
    free(all);
    if (rc) oiqa_method_pred_free(out);
    return rc;
}
