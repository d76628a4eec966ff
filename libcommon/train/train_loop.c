/* The training engine of every method; see train/train_loop.h. */
#include "train/train_loop.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strutil.h"
#include "io/h5util.h"
#include "iqa/labels.h"
#include "iqa/metrics.h"
#include "iqa/split.h"
#include "nn/activation.h"
#include "methods/predict.h"
#include "train/train_io.h"

#define MAX_PARAMS OIQA_METHOD_MAX_PARAMS

/* Everything one run holds. */
typedef struct {
    const oiqa_train_config *cfg;
    const oiqa_train_opts *o;
    char *yaml;
    char *model_path, *last_path, *log_path;
    oiqa_labels labels;
    oiqa_splits splits;
    const oiqa_method *m;
    oiqa_method_select sel;
    oiqa_method_shape shape;
    oiqa_feature_set data;           /* train rows first, then val rows */
    int n_train, n_val;
    double *mos;                     /* per data row */
    double *target;                  /* per data row: mos on the normalised scale */
    int *level, *type;               /* class index per data row (-1: none) */
    oiqa_train_classes classes;
    oiqa_feature_norm norm;
    void *model;
    oiqa_param *params[MAX_PARAMS];
    int n_params;
    oiqa_optimizer opt;
    oiqa_rng rng;
    long start_epoch;                /* 0-based first epoch to run */
    long best_epoch;
    double best_score, best_srcc, best_plcc;
    oiqa_ag *ag;
} run_state;

/* ---- data ------------------------------------------------------------------ */

static int repeat_index(const run_state *st)
{
    const char *r = st->cfg->repeat;
    char *end;
    long v = strtol(r[0] == 's' ? r + 1 : r, &end, 10);
    if (!*r || *end || end == (r[0] == 's' ? r + 1 : r) || v < 0)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'repeat': expected a column sN of the splits, got '%s'", r), -1;
    if (v >= st->splits.n_rep)
        return oiqa_fail(OIQA_EXIT_USAGE, st->splits.path, "has %d repeat column(s) (s0..s%d); key 'repeat' asks for s%ld",
                         st->splits.n_rep, st->splits.n_rep - 1, v), -1;
    return (int)v;
}

static int load_data(run_state *st)
{
    const oiqa_train_config *c = st->cfg;
    int rc = oiqa_labels_read(c->labels, &st->labels);
    if (!rc) rc = oiqa_splits_read(c->splits, &st->splits);
    if (!rc) rc = oiqa_splits_check(&st->splits, &st->labels);
    if (rc) return rc;
    int rep = repeat_index(st);
    if (rep < 0) return OIQA_EXIT_USAGE;
    int n = st->labels.n;
    int *rows = oiqa_xmalloc((size_t)n * sizeof *rows), *lines = oiqa_xmalloc((size_t)n * sizeof *lines);
    char **names = oiqa_xmalloc((size_t)n * sizeof *names);
    /* Train rows first, then val rows, each in labels order. */
    for (int want = OIQA_PART_TRAIN; want <= OIQA_PART_VAL; want++)
        for (int i = 0; i < n; i++)
            if (oiqa_splits_part(&st->splits, st->labels.row[i].name, rep) == want) {
                int j = st->n_train + st->n_val;
                rows[j] = i, names[j] = st->labels.row[i].name, lines[j] = st->labels.row[i].line;
                if (want == OIQA_PART_TRAIN) st->n_train++;
                else st->n_val++;
            }
    if (st->n_train < 2)
        rc = oiqa_fail(OIQA_EXIT_DATA, c->splits,
                       "column s%d has %d training image(s) among the labels; at least 2 are needed", rep, st->n_train);
    oiqa_feature_spec spec = {.method = st->m, .sel = &st->sel, .paths = (const char *const *)c->features, .hash = 1};
    int nd = st->n_train + st->n_val;
    if (!rc) rc = oiqa_feature_set_load(&spec, names, lines, nd, c->labels, &st->data);
    if (!rc) {
        oiqa_train_classes_build(&st->classes, &st->labels, rows, st->n_train);
        st->mos = oiqa_xmalloc((size_t)nd * sizeof *st->mos);
        st->level = oiqa_xmalloc((size_t)nd * sizeof *st->level);
        st->type = oiqa_xmalloc((size_t)nd * sizeof *st->type);
        for (int j = 0; j < nd; j++) {
            const oiqa_label *l = &st->labels.row[rows[j]];
            st->mos[j] = l->mos;
            st->level[j] = oiqa_train_classes_level(&st->classes, l->dist_level);
            st->type[j] = oiqa_train_classes_type(&st->classes, l->dist_type);
        }
        int *tr = oiqa_xmalloc((size_t)st->n_train * sizeof *tr);
        for (int j = 0; j < st->n_train; j++) tr[j] = j;
        rc = oiqa_feature_norm_fit(&st->norm, &st->data, tr, st->n_train, st->mos);
        if (!rc) oiqa_feature_norm_apply(&st->norm, &st->data);
        free(tr);
        st->target = oiqa_xmalloc((size_t)nd * sizeof *st->target);
        for (int j = 0; j < nd; j++) st->target[j] = (st->mos[j] - st->norm.target_mean) / st->norm.target_std;
        oiqa_feature_set_shape(&st->data, &st->classes, &st->shape);
    }
    free(rows), free(lines), free(names);
    return rc;
}

/* ---- outputs ------------------------------------------------------------- */

static int save(run_state *st, const char *path, long epoch, double srcc, double plcc, int with_state)
{
    oiqa_train_save_info in = {
        .config_yaml = st->yaml, .classes = &st->classes, .norm = &st->norm, .shape = &st->shape,
        .epoch = epoch, .val_srcc = srcc, .val_plcc = plcc, .command = st->o->command,
        .opt = with_state ? &st->opt : NULL, .rng = &st->rng, .best_epoch = st->best_epoch,
        .best_score = st->best_score,
    };
    for (int i = 0; i < st->data.n_inputs; i++)
        if (st->data.in[i].used) in.prov[in.n_prov++] = &st->data.in[i].prov;
    return oiqa_train_save(st->m, st->model, &in, path);
}

/* "epoch,lr,train_loss,train_<part>...,val_loss,val_plcc,val_srcc,seconds" */
static char *log_header(const oiqa_method *m)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "epoch,lr,train_loss");
    for (int i = 0; i < m->n_parts; i++) oiqa_sbuf_appendf(&b, ",train_%s", m->loss_parts[i]);
    oiqa_sbuf_append(&b, ",val_loss,val_plcc,val_srcc,seconds\n");
    return b.s;
}

/* Keeps the header and the first `epochs` rows of log.csv (a resumed run
 * continues after the checkpoint's epoch; rows written later are dropped). */
static int truncate_log(const char *path, const char *header, long epochs)
{
    FILE *f = fopen(path, "r");
    oiqa_sbuf keep = {0};
    oiqa_sbuf_append(&keep, header);
    if (f) {
        char line[1024];
        long row = -1;
        while (fgets(line, sizeof line, f))
            if (++row >= 1 && row <= epochs) oiqa_sbuf_append(&keep, line);
        fclose(f);
    }
    FILE *w = fopen(path, "w");
    int rc = OIQA_OK;
    if (!w || fputs(keep.s, w) < 0) rc = oiqa_fail(OIQA_EXIT_DATA, path, "cannot write: %s", oiqa_strerror(errno));
    if (w && fclose(w) && !rc) rc = oiqa_fail(OIQA_EXIT_DATA, path, "cannot write: %s", oiqa_strerror(errno));
    free(keep.s);
    return rc;
}

static int append_log(const char *path, const char *row)
{
    FILE *f = fopen(path, "a");
    if (!f || fputs(row, f) < 0 || fclose(f))
        return oiqa_fail(OIQA_EXIT_DATA, path, "cannot append: %s", oiqa_strerror(errno));
    return OIQA_OK;
}

/* ---- model and state ------------------------------------------------------ */

static int init_model(run_state *st)
{
    oiqa_rng_seed(&st->rng, (uint64_t)st->cfg->seed);
    int rc = st->m->build(&st->cfg->model, &st->shape, &st->rng, &st->model);
    if (rc) return rc;
    oiqa_train_optimizer_init(st->cfg, &st->opt);
    st->best_epoch = 0, st->best_score = -INFINITY;
    return OIQA_OK;
}

/* Takes over weights, optimiser and generator state of last.h5. */
static int resume_state(run_state *st)
{
    oiqa_train_model tm;
    int rc = oiqa_train_load(st->last_path, &tm);
    if (rc) return rc;
    char la[160], lb[160];
    int line = tm.m != st->m ? 1 : oiqa_first_differing_line(tm.config_yaml, st->yaml, la, lb, sizeof la);
    if (tm.m != st->m)
        rc = oiqa_fail(OIQA_EXIT_USAGE, st->last_path, "holds a %s model, the config trains %s", tm.m->name,
                       st->m->name);
    else if (line)
        rc = oiqa_fail(OIQA_EXIT_USAGE, st->last_path, "was trained with another config (line %d: '%s', now '%s'): "
                       "--resume needs the same config", line, la, lb);
    else if (!tm.has_state)
        rc = oiqa_fail(OIQA_EXIT_DATA, st->last_path, "holds no training state");
    oiqa_param *theirs[MAX_PARAMS];
    int n = rc ? 0 : tm.m->params(tm.model, theirs, MAX_PARAMS);
    if (!rc && n != st->n_params) rc = oiqa_fail(OIQA_EXIT_DATA, st->last_path, "holds another model's parameters");
    for (int i = 0; i < n && !rc; i++) {
        oiqa_param *p = st->params[i], *q = theirs[i];
        if (p->numel != q->numel || strcmp(p->name, q->name)) {
            rc = oiqa_fail(OIQA_EXIT_DATA, st->last_path, "parameter %s does not fit this model", q->name);
            break;
        }
        memcpy(p->w, q->w, p->numel * sizeof(float));
        /* The optimiser buffers move over as they are. */
        free(p->m), free(p->v);
        p->m = q->m, p->v = q->v, q->m = q->v = NULL;
    }
    if (!rc) {
        st->opt = tm.opt, st->rng = tm.rng;
        st->start_epoch = tm.epoch;
        st->best_epoch = tm.best_epoch, st->best_score = tm.best_score;
        oiqa_info("resuming after epoch %ld of %ld (%s)", tm.epoch, st->cfg->epochs, st->last_path);
    }
    oiqa_train_model_free(&tm);
    if (!rc && st->best_epoch > 0) {
        /* The best so far is model.h5: read its metrics back. */
        oiqa_train_model best;
        if (!oiqa_train_load(st->model_path, &best)) {
            st->best_srcc = best.val_srcc, st->best_plcc = best.val_plcc;
            oiqa_train_model_free(&best);
        }
    }
    return rc;
}

/* ---- one epoch ------------------------------------------------------------- */

typedef struct {
    double loss, part[OIQA_METHOD_MAX_PARTS]; /* means over the images */
} loss_parts;

/* The targets of rows[0..B) (copies into the caller's arrays). */
static void batch_targets(const run_state *st, const int *rows, int B, double *score, int *lv, int *ty,
                          oiqa_method_targets *t)
{
    for (int b = 0; b < B; b++) score[b] = st->target[rows[b]], lv[b] = st->level[rows[b]], ty[b] = st->type[rows[b]];
    t->score = score, t->level = lv, t->type = ty;
}

/* The parts' means: a part no image counts is 0, the first (the score's)
 * NaN when there are no images at all. */
static void finish_parts(const run_state *st, const double *sum, const long *count, loss_parts *lp)
{
    for (int i = 0; i < st->m->n_parts; i++)
        lp->part[i] = count[i] ? sum[i] / count[i] : i == 0 ? NAN : 0;
    lp->loss = st->m->log_total(st->model, lp->part);
}

static int train_epoch(run_state *st, double lr, long epoch, oiqa_progress *pg, loss_parts *lp)
{
    const oiqa_method *m = st->m;
    int n = st->n_train, bs = (int)st->cfg->batch_size;
    int *perm = oiqa_xmalloc((size_t)n * sizeof *perm);
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = (int)(oiqa_rng_uniform(&st->rng) * (i + 1));
        int t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    double sum[OIQA_METHOD_MAX_PARTS] = {0};
    long count[OIQA_METHOD_MAX_PARTS] = {0};
    double running = 0; /* the epoch's mean batch loss so far, for the progress bar */
    int seen = 0, rc = OIQA_OK;
    int *lv = oiqa_xmalloc((size_t)bs * sizeof *lv), *ty = oiqa_xmalloc((size_t)bs * sizeof *ty);
    float *target = oiqa_xmalloc((size_t)bs * sizeof *target);
    double *score = oiqa_xmalloc((size_t)bs * sizeof *score);
    for (int b0 = 0; b0 < n && !rc; b0 += bs) {
        int B = n - b0 < bs ? n - b0 : bs;
        const int *rows = perm + b0;
        oiqa_method_targets tg;
        batch_targets(st, rows, B, score, lv, ty, &tg);
        for (int b = 0; b < B; b++) target[b] = (float)score[b];
        oiqa_ag_reset(st->ag);
        oiqa_method_batch in;
        oiqa_agv out[OIQA_METHOD_MAX_OUTPUTS];
        rc = oiqa_feature_set_batch(st->ag, &st->data, rows, B, &in);
        if (!rc) rc = m->forward(st->model, st->ag, &in, &st->rng, out);
        if (rc) break;
        int tshape[2] = {B, 1};
        oiqa_agv t = oiqa_ag_input(st->ag, target, 2, tshape);
        oiqa_agv loss = m->loss(st->model, st->ag, out, t, lv, ty);
        for (int i = 0; i < st->n_params; i++) oiqa_param_zero_grad(st->params[i]);
        if (loss < 0 || oiqa_ag_backward(st->ag, loss)) {
            rc = OIQA_EXIT_DATA;
            break;
        }
        float lval = oiqa_ag_data(st->ag, loss)[0];
        if (!isfinite(lval)) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "the training loss became %s (lower optimizer.lr, or set clip)",
                           isnan(lval) ? "NaN" : "infinite");
            break;
        }
        oiqa_method_pred p = {.n = B};
        rc = oiqa_method_pred_take(st->ag, m, out, B, 0, &p);
        if (!rc) m->log_parts(st->model, &p, &tg, sum, count);
        oiqa_method_pred_free(&p);
        if (rc) break;
        if (st->cfg->clip > 0) oiqa_clip_grad_norm(st->params, st->n_params, st->cfg->clip);
        rc = oiqa_optimizer_step(&st->opt, st->params, st->n_params, lr);
        running += (double)lval * B, seen += B;
        if (pg) {
            char note[96];
            snprintf(note, sizeof note, "epoch %ld/%ld loss %.4f", epoch + 1, st->cfg->epochs, running / seen);
            oiqa_progress_note(pg, note);
        }
        oiqa_progress_add(pg, 1);
    }
    oiqa_ag_reset(st->ag);
    finish_parts(st, sum, count, lp);
    free(perm), free(lv), free(ty), free(target), free(score);
    return rc;
}

static int validate(run_state *st, loss_parts *lp, double *plcc, double *srcc)
{
    *plcc = *srcc = NAN;
    memset(lp, 0, sizeof *lp);
    lp->loss = lp->part[0] = NAN;
    if (!st->n_val) return OIQA_OK;
    int *rows = oiqa_xmalloc((size_t)st->n_val * sizeof *rows);
    for (int i = 0; i < st->n_val; i++) rows[i] = st->n_train + i;
    oiqa_method_pred p;
    int rc = oiqa_method_predict(st->ag, st->m, st->model, &st->data, rows, st->n_val, (int)st->cfg->batch_size, &p);
    if (!rc) {
        double sum[OIQA_METHOD_MAX_PARTS] = {0};
        long count[OIQA_METHOD_MAX_PARTS] = {0};
        double *score = oiqa_xmalloc((size_t)st->n_val * sizeof *score);
        int *lv = oiqa_xmalloc((size_t)st->n_val * sizeof *lv), *ty = oiqa_xmalloc((size_t)st->n_val * sizeof *ty);
        oiqa_method_targets tg;
        batch_targets(st, rows, st->n_val, score, lv, ty, &tg);
        st->m->log_parts(st->model, &p, &tg, sum, count);
        finish_parts(st, sum, count, lp);
        double *x = oiqa_xmalloc((size_t)st->n_val * sizeof *x), *y = oiqa_xmalloc((size_t)st->n_val * sizeof *y);
        for (int i = 0; i < st->n_val; i++) x[i] = p.v[0][i], y[i] = st->mos[rows[i]];
        if (st->n_val >= 2) *plcc = oiqa_pearson(x, y, st->n_val), *srcc = oiqa_spearman(x, y, st->n_val);
        free(x), free(y), free(score), free(lv), free(ty);
        oiqa_method_pred_free(&p);
    }
    free(rows);
    return rc;
}

/* ---- the run ------------------------------------------------------------------ */

static int prepare_outputs(run_state *st)
{
    const char *dir = st->o->out_dir;
    st->model_path = oiqa_asprintf("%s/model.h5", dir);
    st->last_path = oiqa_asprintf("%s/last.h5", dir);
    st->log_path = oiqa_asprintf("%s/log.csv", dir);
    if (st->o->resume) {
        if (access(st->last_path, F_OK))
            return oiqa_fail(OIQA_EXIT_USAGE, st->last_path, "no such file: nothing to resume (train without --resume)");
        return OIQA_OK;
    }
    const char *outs[3] = {st->model_path, st->last_path, st->log_path};
    for (int i = 0; i < 3; i++)
        if (!access(outs[i], F_OK)) {
            if (!st->o->force)
                return oiqa_fail(OIQA_EXIT_USAGE, outs[i], "exists (use --force to start over, or --resume to continue)");
            unlink(outs[i]);
        }
    return OIQA_OK;
}

static void free_state(run_state *st)
{
    if (st->ag) oiqa_ag_free(st->ag);
    if (st->model) st->m->free(st->model);
    oiqa_feature_norm_free(&st->norm);
    oiqa_train_classes_free(&st->classes);
    oiqa_feature_set_free(&st->data);
    oiqa_labels_free(&st->labels);
    oiqa_splits_free(&st->splits);
    free(st->mos), free(st->target), free(st->level), free(st->type);
    free(st->yaml), free(st->model_path), free(st->last_path), free(st->log_path);
}

static int run_epochs(run_state *st, oiqa_train_result *res)
{
    const oiqa_train_config *c = st->cfg;
    oiqa_schedule sched = {.kind = c->schedule.type == OIQA_TRAIN_STEP     ? OIQA_SCHED_STEP
                                   : c->schedule.type == OIQA_TRAIN_COSINE ? OIQA_SCHED_COSINE
                                                                           : OIQA_SCHED_CONSTANT,
                           .lr = c->optimizer.lr, .min_lr = c->schedule.min_lr, .warmup = c->schedule.warmup,
                           .step_size = c->schedule.step_size, .gamma = c->schedule.gamma, .total = c->epochs};
    long last = c->epochs;
    if (st->o->stop_after > 0 && st->o->stop_after < last) last = st->o->stop_after;
    long per_epoch = (st->n_train + c->batch_size - 1) / c->batch_size;
    oiqa_progress *pg = st->o->progress && last > st->start_epoch
                            ? oiqa_progress_start("train", "batch", per_epoch * (last - st->start_epoch))
                            : NULL;
    char *header = log_header(st->m);
    int rc = truncate_log(st->log_path, header, st->start_epoch);
    free(header);
    double total_s = 0;
    for (long e = st->start_epoch; e < last && !rc; e++) {
        double t0 = oiqa_now_seconds(), lr = oiqa_schedule_lr(&sched, e), plcc, srcc;
        loss_parts tr, va;
        rc = train_epoch(st, lr, e, pg, &tr);
        if (!rc) rc = validate(st, &va, &plcc, &srcc);
        if (rc) break;
        double secs = oiqa_now_seconds() - t0;
        total_s += secs;
        res->epochs_run++;
        /* Best by val SRCC + PLCC; without val images the latest is best. */
        double score = st->n_val ? srcc + plcc : (double)e;
        if (isnan(score)) score = -INFINITY;
        int best = st->best_epoch == 0 || score > st->best_score;
        if (best) st->best_epoch = e + 1, st->best_score = score, st->best_srcc = srcc, st->best_plcc = plcc;
        char note[160];
        snprintf(note, sizeof note, "epoch %ld/%ld loss %.4f val srcc %.4f", e + 1, c->epochs, tr.loss, srcc);
        oiqa_progress_note(pg, note);
        oiqa_sbuf row = {0};
        oiqa_sbuf_appendf(&row, "%ld,%.9g,%.9g", e + 1, lr, tr.loss);
        for (int i = 0; i < st->m->n_parts; i++) oiqa_sbuf_appendf(&row, ",%.9g", tr.part[i]);
        oiqa_sbuf_appendf(&row, ",%.9g,%.9g,%.9g,%.3f\n", va.loss, plcc, srcc, secs);
        rc = append_log(st->log_path, row.s);
        free(row.s);
        if (!rc && best) rc = save(st, st->model_path, e + 1, srcc, plcc, 0);
        if (!rc) rc = save(st, st->last_path, e + 1, srcc, plcc, 1);
    }
    if (rc) oiqa_progress_cancel(pg);
    else oiqa_progress_end(pg);
    res->seconds_per_epoch = res->epochs_run ? total_s / res->epochs_run : 0;
    return rc;
}

int oiqa_train_run(const oiqa_train_config *cfg, const oiqa_train_opts *o, oiqa_train_result *res)
{
    memset(res, 0, sizeof *res);
    run_state st = {.cfg = cfg, .o = o, .m = cfg->m};
    int rc = st.m ? oiqa_train_config_check(cfg) : oiqa_fail(OIQA_EXIT_USAGE, NULL, "no method: bind the config first");
    if (!rc) st.m->select(&cfg->model, &st.sel);
    if (!rc) rc = prepare_outputs(&st);
    if (!rc) st.yaml = oiqa_train_config_yaml(cfg);
    if (!rc) rc = load_data(&st);
    if (!rc) rc = init_model(&st);
    if (!rc) {
        st.n_params = st.m->params(st.model, st.params, MAX_PARAMS);
        if (st.n_params < 0) rc = OIQA_EXIT_DATA;
    }
    if (!rc && o->resume) rc = resume_state(&st);
    /* The folder is made only once the inputs are known to be good. */
    if (!rc) rc = oiqa_mkdir_p(o->out_dir);
    if (!rc && !(st.ag = oiqa_ag_new())) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    if (!rc) {
        oiqa_sbuf what = {0};
        oiqa_sbuf_append(&what, "");
        for (int i = 0; i < st.data.n_inputs; i++)
            if (st.data.in[i].used)
                oiqa_sbuf_appendf(&what, "%s%s: %d x %d block(s)", what.len ? ", " : "", st.m->inputs[i].role,
                                  st.data.in[i].V, st.data.in[i].n_blocks);
        oiqa_info("training %s on %d images, validating on %d (%s)", st.m->name, st.n_train, st.n_val, what.s);
        free(what.s);
        rc = run_epochs(&st, res);
    }
    res->best_epoch = st.best_epoch, res->best_srcc = st.best_srcc, res->best_plcc = st.best_plcc;
    res->n_train = st.n_train, res->n_val = st.n_val;
    free_state(&st);
    return rc;
}
