/* oiqa-score on cached features: provenance check, prediction,
 * predictions.csv; see score/score.h. */
#include "score/score.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/csv.h"

/* The file given for input i of the model's method (NULL: none); the
 * option that gives it in *option. A file given without a role goes to the
 * first input the model reads. */
static const char *given_path(const oiqa_train_model *tm, const oiqa_score_opts *o, int i, const char **option)
{
    *option = NULL;
    int first = 0;
    while (first < tm->m->n_inputs - 1 && !tm->sel.use[first]) first++;
    for (int j = 0; j < o->n_inputs; j++) {
        const oiqa_score_input *in = &o->inputs[j];
        int match = in->role ? !strcmp(in->role, tm->m->inputs[i].role) : i == first;
        if (match) {
            *option = in->option;
            if (in->path) return in->path;
        }
    }
    return NULL;
}

/* The paths per input, each used input's provenance checked. */
static int check_inputs(const oiqa_train_model *tm, const oiqa_score_opts *o, const char **paths)
{
    const oiqa_method *m = tm->m;
    int rc = OIQA_OK;
    for (int i = 0; i < m->n_inputs && !rc; i++) {
        const char *option;
        paths[i] = given_path(tm, o, i, &option);
        if (!tm->sel.use[i]) {
            paths[i] = NULL;
            continue;
        }
        const oiqa_feature_prov *trained = oiqa_train_model_prov(tm, i);
        if (!paths[i])
            return oiqa_fail(OIQA_EXIT_USAGE, o->model, "uses %s features: give %s FILE (trained with %s)",
                             m->inputs[i].role, option ? option : "their",
                             trained && *trained->v[OIQA_PROV_PATH] ? trained->v[OIQA_PROV_PATH] : "a feature file");
        if (!trained)
            return oiqa_fail(OIQA_EXIT_DATA, o->model, "has no provenance for its %s features", m->inputs[i].role);
        oiqa_feature_prov p;
        rc = oiqa_feature_prov_read(paths[i], m->inputs[i].stage, &p);
        if (!rc) rc = oiqa_feature_prov_compare(trained, &p, o->model);
        oiqa_feature_prov_free(&p);
    }
    return rc;
}

void oiqa_score_csv_header(const oiqa_train_model *tm, FILE *f)
{
    fputs("name,score", f);
    if (tm->m->csv_header) tm->m->csv_header(tm->model, &tm->classes, f);
    fputc('\n', f);
}

void oiqa_score_csv_rows(const oiqa_train_model *tm, const oiqa_feature_set *fs, const oiqa_method_pred *p, FILE *f)
{
    for (int i = 0; i < fs->n; i++) {
        oiqa_csv_put(f, fs->names[i]);
        fprintf(f, ",%.6f", p->v[0][i] * tm->norm.target_std + tm->norm.target_mean);
        if (tm->m->csv_row) tm->m->csv_row(tm->model, &tm->classes, p, i, f);
        fputc('\n', f);
    }
}

/* The loaded features' sizes against the model's. */
static int check_sizes(const oiqa_train_model *tm, const oiqa_feature_set *fs, const char *const *paths)
{
    for (int i = 0; i < tm->m->n_inputs; i++) {
        if (!tm->shape.used[i]) continue;
        for (int k = 0; k < tm->shape.n_blocks[i]; k++)
            if (fs->in[i].dim[k] != tm->shape.dim[i][k])
                return oiqa_fail(OIQA_EXIT_DATA, paths[i], "%s has %d features%s, the model was trained on %d",
                                 fs->in[i].block[k], fs->in[i].dim[k],
                                 tm->m->inputs[i].layout == OIQA_LAYOUT_VIEW_BLOCKS ? " per viewport" : "",
                                 tm->shape.dim[i][k]);
    }
    return OIQA_OK;
}

static int write_csv(const oiqa_train_model *tm, const oiqa_feature_set *fs, const oiqa_method_pred *p, FILE *f)
{
    oiqa_score_csv_header(tm, f);
    oiqa_score_csv_rows(tm, fs, p, f);
    return ferror(f) ? -1 : 0;
}

int oiqa_score_run(const oiqa_score_opts *o)
{
    if (!o->force && !access(o->out, F_OK))
        return oiqa_fail(OIQA_EXIT_USAGE, o->out, "exists (use --force to replace it)");
    oiqa_train_model tm;
    int rc = oiqa_train_load(o->model, &tm);
    if (rc) return rc;
    const char *paths[OIQA_METHOD_MAX_INPUTS] = {0};
    rc = check_inputs(&tm, o, paths);
    oiqa_feature_set fs = {0};
    oiqa_feature_spec spec = {.method = tm.m, .sel = &tm.sel, .paths = paths};
    if (!rc) rc = oiqa_feature_set_load(&spec, o->names, NULL, o->names ? o->n_names : 0, "the name list", &fs);
    if (!rc) rc = check_sizes(&tm, &fs, paths);
    oiqa_ag *ag = NULL;
    oiqa_method_pred p = {0};
    if (!rc) {
        oiqa_feature_norm_apply(&tm.norm, &fs);
        if (!(ag = oiqa_ag_new())) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    }
    if (!rc) rc = oiqa_method_predict(ag, tm.m, tm.model, &fs, NULL, fs.n, o->batch > 0 ? o->batch : 16, &p);
    if (!rc) {
        oiqa_atomic_file a;
        if (!(rc = oiqa_atomic_open(&a, o->out, 1))) {
            if (write_csv(&tm, &fs, &p, a.f)) {
                oiqa_atomic_abort(&a);
                rc = oiqa_fail(OIQA_EXIT_DATA, o->out, "cannot write: %s", oiqa_strerror(errno));
            } else {
                rc = oiqa_atomic_commit(&a);
            }
        }
    }
    oiqa_method_pred_free(&p);
    if (ag) oiqa_ag_free(ag);
    oiqa_feature_set_free(&fs);
    oiqa_train_model_free(&tm);
    return rc;
}
