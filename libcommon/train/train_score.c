/* oiqa-score's work: provenance check, prediction, predictions.csv; see
 * train/train_score.h. */
#include "train/train_score.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/csv.h"
#include "train/train_batch.h"
#include "train/train_io.h"

static int check_provenance(const oiqa_train_model *tm, const oiqa_score_opts *o)
{
    const char *given[2] = {o->local, o->global};
    const char *stage[2] = {"backbone", "global"};
    int need = tm->cfg.use_global ? 2 : 1, rc = OIQA_OK;
    if (need == 2 && !o->global)
        return oiqa_fail(OIQA_EXIT_USAGE, o->model, "uses global features: give --global FILE (trained with %s)",
                         tm->n_prov > 1 ? tm->prov[1].v[0] : "an oiqa-vmamba file");
    for (int i = 0; i < need && !rc; i++) {
        if (i >= tm->n_prov) return oiqa_fail(OIQA_EXIT_DATA, o->model, "has no provenance for its %s features", stage[i]);
        oiqa_feature_prov p;
        rc = oiqa_feature_prov_read(given[i], stage[i], &p);
        if (!rc) rc = oiqa_feature_prov_compare(&tm->prov[i], &p, o->model);
        oiqa_feature_prov_free(&p);
    }
    return rc;
}

void oiqa_score_csv_header(const oiqa_train_model *tm, FILE *f)
{
    const oiqa_train_classes *c = &tm->classes;
    fputs("name,score", f);
    if (tm->model.cfg.aux_heads) {
        fputs(",level,type", f);
        for (int j = 0; j < c->n_levels; j++) fprintf(f, ",p_level_%d", c->levels[j]);
        for (int j = 0; j < c->n_types; j++) {
            char *h = oiqa_asprintf("p_type_%s", c->types[j]);
            fputc(',', f);
            oiqa_csv_put(f, h);
            free(h);
        }
    }
    fputc('\n', f);
}

void oiqa_score_csv_rows(const oiqa_train_model *tm, const oiqa_train_data *d, const oiqa_train_pred *p, FILE *f)
{
    const oiqa_train_classes *c = &tm->classes;
    int aux = tm->model.cfg.aux_heads;
    for (int i = 0; i < d->n; i++) {
        oiqa_csv_put(f, d->names[i]);
        fprintf(f, ",%.6f", p->quality[i] * tm->norm.target_std + tm->norm.target_mean);
        if (aux) {
            const float *pl = p->p_level + (size_t)i * c->n_levels, *pt = p->p_type + (size_t)i * c->n_types;
            int bl = 0, bt = 0;
            for (int j = 1; j < c->n_levels; j++) bl = pl[j] > pl[bl] ? j : bl;
            for (int j = 1; j < c->n_types; j++) bt = pt[j] > pt[bt] ? j : bt;
            fprintf(f, ",%d,", c->levels[bl]);
            oiqa_csv_put(f, c->types[bt]);
            for (int j = 0; j < c->n_levels; j++) fprintf(f, ",%.6f", pl[j]);
            for (int j = 0; j < c->n_types; j++) fprintf(f, ",%.6f", pt[j]);
        }
        fputc('\n', f);
    }
}

static int write_csv(const oiqa_train_model *tm, const oiqa_train_data *d, const oiqa_train_pred *p, FILE *f)
{
    oiqa_score_csv_header(tm, f);
    oiqa_score_csv_rows(tm, d, p, f);
    return ferror(f) ? -1 : 0;
}

int oiqa_score_run(const oiqa_score_opts *o)
{
    if (!o->force && !access(o->out, F_OK))
        return oiqa_fail(OIQA_EXIT_USAGE, o->out, "exists (use --force to replace it)");
    oiqa_train_model tm;
    int rc = oiqa_train_load(o->model, &tm);
    if (rc) return rc;
    rc = check_provenance(&tm, o);
    oiqa_train_data d = {0};
    const oiqa_train_config *c = &tm.cfg;
    oiqa_train_data_spec spec = {.local = o->local, .global = c->use_global ? o->global : NULL, .scales = c->scales,
                                 .n_scales = c->n_scales, .need_restored = c->use_restored,
                                 .need_degraded = c->use_degraded};
    if (!rc) rc = oiqa_train_data_load(&spec, o->names, NULL, o->names ? o->n_names : 0, "the name list", &d);
    for (int k = 0; !rc && k < d.n_scales; k++)
        if (d.dim[k] != tm.model.cfg.local_dim[k])
            rc = oiqa_fail(OIQA_EXIT_DATA, o->local, "%s has %d features per viewport, the model was trained on %d",
                           c->scales[k], d.dim[k], tm.model.cfg.local_dim[k]);
    if (!rc && c->use_global && d.G != tm.model.cfg.global_dim)
        rc = oiqa_fail(OIQA_EXIT_DATA, o->global, "%d global features, the model was trained on %d", d.G,
                       tm.model.cfg.global_dim);
    oiqa_ag *ag = NULL;
    oiqa_train_pred p = {0};
    if (!rc) {
        oiqa_train_norm_apply(&tm.norm, &d);
        if (!(ag = oiqa_ag_new())) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    }
    if (!rc) rc = oiqa_train_predict(ag, &tm.model, &d, NULL, d.n, o->batch > 0 ? o->batch : 16, &p);
    if (!rc) {
        oiqa_atomic_file a;
        if (!(rc = oiqa_atomic_open(&a, o->out, 1))) {
            if (write_csv(&tm, &d, &p, a.f)) {
                oiqa_atomic_abort(&a);
                rc = oiqa_fail(OIQA_EXIT_DATA, o->out, "cannot write: %s", oiqa_strerror(errno));
            } else {
                rc = oiqa_atomic_commit(&a);
            }
        }
    }
    oiqa_train_pred_free(&p);
    if (ag) oiqa_ag_free(ag);
    oiqa_train_data_free(&d);
    oiqa_train_model_free(&tm);
    return rc;
}
