/* metrics.json and table.md of oiqa-eval (docs/eval.md). */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "iqa/eval.h"

/* The scalar metrics of a run, in report order; summarised over runs. */
enum { K_N, K_SRCC, K_KRCC, K_PLCC, K_RMSE, K_PLCC_RAW, K_RMSE_RAW, K_SRCC_FIT, K_PLCC5, K_RMSE5, K_LEVEL, K_TYPE, K_COUNT };
static const char *const KEY[K_COUNT] = {"n",        "srcc",     "krcc", "plcc",  "rmse",           "plcc_raw",
                                         "rmse_raw", "srcc_fit", "plcc5", "rmse5", "level_accuracy", "type_accuracy"};

static double metric(const oiqa_eval_run *r, int k)
{
    const oiqa_iqa_metrics *m = &r->m;
    switch (k) {
    case K_N: return m->n;
    case K_SRCC: return m->srcc;
    case K_KRCC: return m->krcc;
    case K_PLCC: return m->plcc4;
    case K_RMSE: return m->rmse4;
    case K_PLCC_RAW: return m->plcc_raw;
    case K_RMSE_RAW: return m->rmse_raw;
    case K_SRCC_FIT: return m->srcc4;
    case K_PLCC5: return m->with5 ? m->plcc5 : NAN;
    case K_RMSE5: return m->with5 ? m->rmse5 : NAN;
    case K_LEVEL: return r->level_acc;
    case K_TYPE: return r->type_acc;
    }
    return NAN;
}

/* Whether a key is reported at all (5PL only on request, heads when present). */
static int shown(const oiqa_eval_result *r, const oiqa_eval_opts *o, int k)
{
    if (k == K_PLCC5 || k == K_RMSE5) return o->with5;
    if (k == K_LEVEL || k == K_TYPE) {
        for (int i = 0; i < r->n_run; i++)
            if (!isnan(metric(&r->run[i], k))) return 1;
        return 0;
    }
    return 1;
}

static double summary(const oiqa_eval_result *r, int k, int median)
{
    double *v = oiqa_xmalloc((size_t)r->n_run * sizeof *v);
    for (int i = 0; i < r->n_run; i++) v[i] = metric(&r->run[i], k);
    double s = median ? oiqa_median(v, r->n_run) : oiqa_mean(v, r->n_run);
    free(v);
    return s;
}

static void jnum(oiqa_sbuf *b, double v)
{
    if (isfinite(v)) oiqa_sbuf_appendf(b, "%.15g", v);
    else oiqa_sbuf_append(b, "null");
}


/* ", \"NAME\": {\"beta\": [...], \"plcc\": x, \"srcc\": x, \"rmse\": x}" for one
 * logistic fit (its parameters null when the fit failed). */
static void json_fit(oiqa_sbuf *b, const char *name, const double *beta, int n, int ok, double plcc, double srcc,
                     double rmse)
{
    oiqa_sbuf_appendf(b, ", \"%s\": {\"beta\": [", name);
    for (int k = 0; k < n; k++) {
        if (k) oiqa_sbuf_append(b, ", ");
        jnum(b, ok ? beta[k] : NAN);
    }
    oiqa_sbuf_append(b, "], \"plcc\": ");
    jnum(b, plcc);
    oiqa_sbuf_append(b, ", \"srcc\": ");
    jnum(b, srcc);
    oiqa_sbuf_append(b, ", \"rmse\": ");
    jnum(b, rmse);
    oiqa_sbuf_append(b, "}");
}

static void jmetrics(oiqa_sbuf *b, const oiqa_iqa_metrics *m, int with5)
{
    oiqa_sbuf_appendf(b, "{\"n\": %d, \"srcc\": ", m->n);
    jnum(b, m->srcc);
    oiqa_sbuf_append(b, ", \"krcc\": ");
    jnum(b, m->krcc);
    oiqa_sbuf_append(b, ", \"plcc\": ");
    jnum(b, m->plcc4);
    oiqa_sbuf_append(b, ", \"rmse\": ");
    jnum(b, m->rmse4);
    oiqa_sbuf_append(b, ", \"plcc_raw\": ");
    jnum(b, m->plcc_raw);
    oiqa_sbuf_append(b, ", \"rmse_raw\": ");
    jnum(b, m->rmse_raw);
    json_fit(b, "logistic4", m->beta4, 4, m->fit4_ok, m->plcc4, m->srcc4, m->rmse4);
    if (with5) json_fit(b, "logistic5", m->beta5, 5, m->fit5_ok, m->plcc5, m->srcc5, m->rmse5);
    oiqa_sbuf_append(b, "}");
}

char *oiqa_eval_json(const oiqa_eval_result *r, const oiqa_eval_opts *o, const char *labels_path, const char *tool)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "{\n  \"tool\": ");
    oiqa_sbuf_append_json_string(&b, tool);
    oiqa_sbuf_append(&b, ",\n  \"labels\": ");
    oiqa_sbuf_append_json_string(&b, labels_path);
    oiqa_sbuf_append(&b, ",\n  \"splits\": ");
    oiqa_sbuf_append_json_string(&b, o->splits_path);
    oiqa_sbuf_appendf(&b, ",\n  \"part\": \"%s\",\n  \"lower_better\": %s,\n  \"scores_lower_better\": %s,\n",
                      oiqa_part_names[o->part], r->lower_better ? "true" : "false",
                      o->scores_lower_better ? "true" : "false");
    oiqa_sbuf_appendf(&b, "  \"n_repeats\": %d,\n  \"plotted_repeat\": %d,\n", r->n_run, r->median_run);
    for (int med = 1; med >= 0; med--) {
        oiqa_sbuf_appendf(&b, "  \"%s\": {", med ? "median" : "mean");
        int first = 1;
        for (int k = 0; k < K_COUNT; k++) {
            if (!shown(r, o, k)) continue;
            oiqa_sbuf_appendf(&b, "%s\"%s\": ", first ? "" : ", ", KEY[k]);
            jnum(&b, summary(r, k, med));
            first = 0;
        }
        oiqa_sbuf_append(&b, "},\n");
    }
    oiqa_sbuf_append(&b, "  \"repeats\": [\n");
    for (int i = 0; i < r->n_run; i++) {
        const oiqa_eval_run *u = &r->run[i];
        oiqa_sbuf_append(&b, "    {\"predictions\": ");
        oiqa_sbuf_append_json_string(&b, u->pred_path);
        if (u->split_col >= 0) oiqa_sbuf_appendf(&b, ", \"split\": \"s%d\"", u->split_col);
        oiqa_sbuf_append(&b, ",\n     \"metrics\": ");
        jmetrics(&b, &u->m, o->with5);
        oiqa_sbuf_append(&b, ",\n     \"p_values\": {\"srcc\": ");
        jnum(&b, u->srcc_p);
        oiqa_sbuf_append(&b, ", \"krcc\": ");
        jnum(&b, u->krcc_p);
        oiqa_sbuf_append(&b, ", \"plcc_raw\": ");
        jnum(&b, u->plcc_p);
        oiqa_sbuf_append(&b, "}");
        if (u->n_level) {
            oiqa_sbuf_appendf(&b, ",\n     \"level_accuracy\": ");
            jnum(&b, u->level_acc);
            oiqa_sbuf_appendf(&b, ", \"level_n\": %d", u->n_level);
        }
        if (u->n_type) {
            oiqa_sbuf_appendf(&b, ",\n     \"type_accuracy\": ");
            jnum(&b, u->type_acc);
            oiqa_sbuf_appendf(&b, ", \"type_n\": %d", u->n_type);
        }
        if (o->per_type) {
            oiqa_sbuf_append(&b, ",\n     \"by_type\": {");
            for (int g = 0; g < u->n_group; g++) {
                oiqa_sbuf_append(&b, g ? ",\n       " : "\n       ");
                oiqa_sbuf_append_json_string(&b, u->group[g].type);
                oiqa_sbuf_append(&b, ": ");
                jmetrics(&b, &u->group[g].m, o->with5);
            }
            oiqa_sbuf_append(&b, "}");
        }
        oiqa_sbuf_appendf(&b, "}%s\n", i + 1 < r->n_run ? "," : "");
    }
    oiqa_sbuf_append(&b, "  ]\n}\n");
    return b.s;
}

static void cell(oiqa_sbuf *b, double v, int k)
{
    if (isnan(v)) oiqa_sbuf_append(b, " - |");
    else if (k == K_N) oiqa_sbuf_appendf(b, " %.0f |", v);
    else oiqa_sbuf_appendf(b, " %.4f |", v);
}

char *oiqa_eval_table(const oiqa_eval_result *r, const oiqa_eval_opts *o)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "| run |");
    for (int k = 0; k < K_COUNT; k++)
        if (shown(r, o, k) && k != K_SRCC_FIT) oiqa_sbuf_appendf(&b, " %s |", KEY[k]);
    oiqa_sbuf_append(&b, "\n|---|");
    for (int k = 0; k < K_COUNT; k++)
        if (shown(r, o, k) && k != K_SRCC_FIT) oiqa_sbuf_append(&b, "---:|");
    oiqa_sbuf_append(&b, "\n");
    for (int i = 0; i < r->n_run; i++) {
        if (r->run[i].split_col >= 0) oiqa_sbuf_appendf(&b, "| s%d |", r->run[i].split_col);
        else oiqa_sbuf_appendf(&b, "| %d |", i);
        for (int k = 0; k < K_COUNT; k++)
            if (shown(r, o, k) && k != K_SRCC_FIT) cell(&b, metric(&r->run[i], k), k);
        oiqa_sbuf_append(&b, "\n");
    }
    if (r->n_run > 1)
        for (int med = 1; med >= 0; med--) {
            oiqa_sbuf_appendf(&b, "| **%s** |", med ? "median" : "mean");
            for (int k = 0; k < K_COUNT; k++)
                if (shown(r, o, k) && k != K_SRCC_FIT) cell(&b, summary(r, k, med), k);
            oiqa_sbuf_append(&b, "\n");
        }
    /* per type: the median over runs of each type's numbers */
    const oiqa_eval_run *u0 = &r->run[0];
    if (o->per_type && u0->n_group) {
        oiqa_sbuf_appendf(&b, "\n| dist_type | n | srcc | krcc | plcc | rmse |\n|---|---:|---:|---:|---:|---:|\n");
        double *v = oiqa_xmalloc((size_t)r->n_run * sizeof *v);
        for (int g = 0; g < u0->n_group; g++) {
            oiqa_sbuf_appendf(&b, "| %s |", u0->group[g].type);
            for (int q = 0; q < 5; q++) {
                int nv = 0;
                for (int i = 0; i < r->n_run; i++)
                    for (int h = 0; h < r->run[i].n_group; h++)
                        if (strcmp(r->run[i].group[h].type, u0->group[g].type) == 0) {
                            const oiqa_iqa_metrics *m = &r->run[i].group[h].m;
                            v[nv++] = q == 0 ? m->n : q == 1 ? m->srcc : q == 2 ? m->krcc : q == 3 ? m->plcc4 : m->rmse4;
                        }
                cell(&b, oiqa_median(v, nv), q == 0 ? K_N : K_SRCC);
            }
            oiqa_sbuf_append(&b, "\n");
        }
        free(v);
        if (r->n_run > 1) oiqa_sbuf_append(&b, "\n(per-type values: median over the runs)\n");
    }
    return b.s;
}
