/* Matching predictions with labels (and splits) and computing the metrics
 * of every run (see eval.h). */
#include "iqa/eval.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "io/csv.h"

/* A predictions file with its columns located and its rows validated. */
typedef struct {
    oiqa_csv *t;
    int c_name, c_score, c_level, c_type;
    int *pl_col, *pl_val, n_pl; /* p_level_<L> columns and their L */
    int *pt_col, n_pt;          /* p_type_<T> columns */
    double *score;
} preds;

static void preds_free(preds *p)
{
    oiqa_csv_free(p->t);
    free(p->pl_col);
    free(p->pl_val);
    free(p->pt_col);
    free(p->score);
    memset(p, 0, sizeof *p);
}

static int preds_read(const char *path, preds *p)
{
    memset(p, 0, sizeof *p);
    int rc = oiqa_csv_read(path, ',', 1, &p->t);
    if (rc) return rc;
    oiqa_csv *t = p->t;
    if ((rc = oiqa_csv_need_col(t, "name", &p->c_name)) || (rc = oiqa_csv_need_col(t, "score", &p->c_score))) {
        preds_free(p);
        return rc;
    }
    p->c_level = oiqa_csv_col(t, "level");
    p->c_type = oiqa_csv_col(t, "type");
    p->pl_col = oiqa_xmalloc((size_t)t->n_cols * sizeof(int));
    p->pl_val = oiqa_xmalloc((size_t)t->n_cols * sizeof(int));
    p->pt_col = oiqa_xmalloc((size_t)t->n_cols * sizeof(int));
    for (int c = 0; c < t->n_cols; c++) {
        const char *h = t->header[c];
        char *end;
        if (strncmp(h, "p_level_", 8) == 0) {
            long v = strtol(h + 8, &end, 10);
            if (end == h + 8 || *end) {
                preds_free(p);
                return oiqa_fail(OIQA_EXIT_DATA, path, "column '%s': expected p_level_<integer level>", h);
            }
            p->pl_col[p->n_pl] = c;
            p->pl_val[p->n_pl++] = (int)v;
        } else if (strncmp(h, "p_type_", 7) == 0 && h[7]) {
            p->pt_col[p->n_pt++] = c;
        }
    }
    p->score = oiqa_xmalloc((size_t)(t->n_rows ? t->n_rows : 1) * sizeof *p->score);
    oiqa_name_index seen = {0};
    for (int r = 0; r < t->n_rows && !rc; r++) {
        const char *name = oiqa_csv_cell(t, r, p->c_name);
        int64_t d = oiqa_name_index_find(&seen, name);
        if (d >= 0)
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: duplicated name '%s' (first on line %d)", path, t->line[r],
                           name, t->line[d]);
        else if (!*name)
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: empty name", path, t->line[r]);
        else if (!(rc = oiqa_csv_double(t, r, p->c_score, &p->score[r])) && !isfinite(p->score[r]))
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: '%s': score is %s", path, t->line[r], name,
                           isnan(p->score[r]) ? "NaN" : "infinite");
        if (!rc) oiqa_name_index_add(&seen, name);
    }
    oiqa_name_index_free(&seen);
    if (!rc && t->n_rows == 0) rc = oiqa_fail(OIQA_EXIT_DATA, path, "no rows");
    if (rc) preds_free(p);
    return rc;
}

/* The predicted level of row r (argmax of the p_level columns when there is
 * no level column); 0 with *ok = 0 when the file has no level head. */
static int pred_level(const preds *p, int r, int *ok, int *rc)
{
    *ok = 1;
    if (p->c_level >= 0) {
        long v = 0;
        *rc = oiqa_csv_long(p->t, r, p->c_level, &v);
        return (int)v;
    }
    if (!p->n_pl) { *ok = 0; return 0; }
    int best = 0;
    double bv = -INFINITY;
    for (int k = 0; k < p->n_pl; k++) {
        double v;
        if ((*rc = oiqa_csv_double(p->t, r, p->pl_col[k], &v))) return 0;
        if (v > bv) { bv = v; best = k; }
    }
    return p->pl_val[best];
}

static const char *pred_type(const preds *p, int r, int *rc)
{
    if (p->c_type >= 0) return oiqa_csv_cell(p->t, r, p->c_type);
    if (!p->n_pt) return NULL;
    int best = 0;
    double bv = -INFINITY;
    for (int k = 0; k < p->n_pt; k++) {
        double v;
        if ((*rc = oiqa_csv_double(p->t, r, p->pt_col[k], &v))) return NULL;
        if (v > bv) { bv = v; best = k; }
    }
    return p->t->header[p->pt_col[best]] + 7;
}

static void run_free(oiqa_eval_run *r)
{
    free(r->pred_path);
    free(r->x);
    free(r->y);
    for (int g = 0; g < r->n_group; g++) free(r->group[g].type);
    free(r->group);
}

void oiqa_eval_free(oiqa_eval_result *res)
{
    for (int i = 0; i < res->n_run; i++) run_free(&res->run[i]);
    free(res->run);
    memset(res, 0, sizeof *res);
}

/* Per-distortion-type metrics of a run (types in order of first appearance). */
static void per_type(oiqa_eval_run *run, const oiqa_labels *l, const int *lab_row, int with5)
{
    int n = run->m.n;
    double *gx = oiqa_xmalloc((size_t)n * sizeof *gx), *gy = oiqa_xmalloc((size_t)n * sizeof *gy);
    for (int i = 0; i < n; i++) {
        const char *type = l->row[lab_row[i]].dist_type;
        int seen = !*type;
        for (int g = 0; g < run->n_group && !seen; g++) seen = strcmp(run->group[g].type, type) == 0;
        if (seen) continue;
        int k = 0;
        for (int j = i; j < n; j++)
            if (strcmp(l->row[lab_row[j]].dist_type, type) == 0) { gx[k] = run->x[j]; gy[k] = run->y[j]; k++; }
        run->group = oiqa_xrealloc(run->group, (size_t)(run->n_group + 1) * sizeof *run->group);
        oiqa_eval_group *g = &run->group[run->n_group++];
        g->type = oiqa_strdup(type);
        oiqa_iqa_metrics_compute(gx, gy, k, with5, &g->m);
        g->m.n = k;
    }
    free(gx);
    free(gy);
}

static int pick_column(const oiqa_eval_opts *o, const oiqa_splits *s, int i, int *col)
{
    int c = o->n_pred > 1 ? (o->repeat >= 0 ? o->repeat : 0) + i : (o->repeat >= 0 ? o->repeat : 0);
    if (o->n_pred == 1 && o->repeat < 0 && s->n_rep > 1)
        return oiqa_fail(OIQA_EXIT_USAGE, s->path,
                         "has %d repeats: give --repeat R, or one predictions file per repeat", s->n_rep);
    if (c >= s->n_rep)
        return oiqa_fail(OIQA_EXIT_USAGE, s->path, "has %d repeat columns; predictions file %d needs s%d", s->n_rep,
                         i + 1, c);
    *col = c;
    return 0;
}

static int eval_one(const oiqa_labels *l, const oiqa_eval_opts *o, const oiqa_splits *s, int i, oiqa_eval_run *run)
{
    const char *path = o->pred_paths[i];
    memset(run, 0, sizeof *run);
    run->pred_path = oiqa_strdup(path);
    run->split_col = -1;
    run->level_acc = run->type_acc = NAN;
    int rc = 0;
    if (s && (rc = pick_column(o, s, i, &run->split_col))) return rc;
    preds p;
    if ((rc = preds_read(path, &p))) return rc;
    int n = p.t->n_rows, k = 0, unlabelled = 0, other_part = 0;
    int *lab_row = oiqa_xmalloc((size_t)n * sizeof *lab_row);
    int *lv_p = oiqa_xmalloc((size_t)n * sizeof *lv_p), *lv_t = oiqa_xmalloc((size_t)n * sizeof *lv_t);
    int *ty_p = oiqa_xmalloc((size_t)n * sizeof *ty_p), *ty_t = oiqa_xmalloc((size_t)n * sizeof *ty_t);
    run->x = oiqa_xmalloc((size_t)n * sizeof *run->x);
    run->y = oiqa_xmalloc((size_t)n * sizeof *run->y);
    double sx = o->scores_lower_better ? -1 : 1, sy = (o->lower_better || l->lower_better) ? -1 : 1;
    for (int r = 0; r < n && !rc; r++) {
        const char *name = oiqa_csv_cell(p.t, r, p.c_name);
        int lr = oiqa_labels_find(l, name);
        if (lr < 0) { unlabelled++; continue; }
        if (s && oiqa_splits_part(s, name, run->split_col) != o->part) { other_part++; continue; }
        lab_row[k] = lr;
        run->x[k] = sx * p.score[r];
        run->y[k] = sy * l->row[lr].mos;
        int ok;
        int lv = pred_level(&p, r, &ok, &rc);
        if (ok && l->row[lr].dist_level >= 0) { lv_p[run->n_level] = lv; lv_t[run->n_level++] = l->row[lr].dist_level; }
        const char *ty = pred_type(&p, r, &rc);
        if (ty && *l->row[lr].dist_type) {
            ty_p[run->n_type] = strcmp(ty, l->row[lr].dist_type) == 0;
            ty_t[run->n_type++] = 1;
        }
        k++;
    }
    if (!rc && k == 0)
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "no image in common with %s%s (first prediction '%s', first label '%s')",
                       l->path ? l->path : "the labels", s ? " in the chosen split part" : "",
                       oiqa_csv_cell(p.t, 0, p.c_name), l->row[0].name);
    else if (!rc && k < 4)
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "only %d images to evaluate; the logistic fit needs at least 4", k);
    if (!rc) {
        if (unlabelled) oiqa_warn("%s: %d predicted images have no label (ignored)", path, unlabelled);
        if (s) {
            int want = 0;
            for (int j = 0; j < s->n; j++) want += s->part[(size_t)j * s->n_rep + run->split_col] == o->part;
            if (want > k)
                oiqa_warn("%s: %d of the %d %s images of s%d have no prediction", path, want - k, want,
                          oiqa_part_names[o->part], run->split_col);
        }
        oiqa_iqa_metrics_compute(run->x, run->y, k, o->with5, &run->m);
        run->srcc_p = oiqa_spearman_p(run->m.srcc, k);
        run->plcc_p = oiqa_pearson_p(run->m.plcc_raw, k);
        run->krcc_p = oiqa_kendall_p(run->x, run->y, k);
        if (run->n_level) run->level_acc = oiqa_accuracy(lv_p, lv_t, run->n_level);
        if (run->n_type) run->type_acc = oiqa_accuracy(ty_p, ty_t, run->n_type);
        if (o->per_type) per_type(run, l, lab_row, o->with5);
        oiqa_debug("%s: %d evaluated, %d in other parts", path, k, other_part);
    }
    free(lab_row);
    free(lv_p);
    free(lv_t);
    free(ty_p);
    free(ty_t);
    preds_free(&p);
    return rc;
}

int oiqa_eval(const oiqa_labels *l, const oiqa_eval_opts *o, oiqa_eval_result *res)
{
    memset(res, 0, sizeof *res);
    if (o->n_pred < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no predictions file");
    oiqa_splits s, *sp = NULL;
    int rc = 0;
    if (o->splits_path) {
        if ((rc = oiqa_splits_read(o->splits_path, &s))) return rc;
        sp = &s;
        /* a leaking split would make every number meaningless: refuse it */
        if ((rc = oiqa_splits_check(sp, l))) { oiqa_splits_free(sp); return rc; }
    }
    res->run = oiqa_xcalloc((size_t)o->n_pred, sizeof *res->run);
    res->lower_better = o->lower_better || l->lower_better;
    for (int i = 0; i < o->n_pred && !rc; i++) {
        rc = eval_one(l, o, sp, i, &res->run[i]);
        res->n_run = i + 1;
    }
    if (sp) oiqa_splits_free(sp);
    if (rc) {
        oiqa_eval_free(res);
        return rc;
    }
    /* the run whose SRCC is the (lower) median, for the plot */
    int best = 0;
    double *v = oiqa_xmalloc((size_t)res->n_run * sizeof *v);
    for (int i = 0; i < res->n_run; i++) v[i] = res->run[i].m.srcc;
    double med = oiqa_median(v, res->n_run);
    for (int i = 1; i < res->n_run; i++)
        if (fabs(v[i] - med) < fabs(v[best] - med)) best = i;
    free(v);
    res->median_run = best;
    return 0;
}
