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
    oiqa_param *grouped[MAX_PARAMS]; /* the parameters by lr_scale group */
    oiqa_param_group groups[MAX_PARAMS];
    int n_groups;
    oiqa_optimizer opt;
    oiqa_schedule sched;
    oiqa_ema ema;                    /* n 0: off */
    oiqa_rng rng;
    oiqa_rng epoch_rng;              /* the generator before this epoch's shuffle */
    long start_epoch;                /* 0-based first epoch to run */
    long start_batch;                /* batches of start_epoch already done (a mid-epoch resume) */
    char *start_sums;                /* their loss sums (epoch_sums of last.h5) */
    long per_epoch;                  /* batches per epoch */
    long batches_run;                /* in this invocation */
    long best_epoch;
    double best_score, best_srcc, best_plcc;
    double last_srcc, last_plcc;     /* of the last completed epoch */
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

/* with_state: last.h5 (mid-epoch when sums is not NULL: batches of epoch
 * `epoch` + 1 done); else model.h5. */
static int save(run_state *st, const char *path, long epoch, double srcc, double plcc, int with_state, long batches,
                const char *sums)
{
    oiqa_train_save_info in = {
        .config_yaml = st->yaml, .classes = &st->classes, .norm = &st->norm, .shape = &st->shape,
        .epoch = epoch, .val_srcc = srcc, .val_plcc = plcc, .command = st->o->command,
        .opt = with_state ? &st->opt : NULL, .rng = &st->rng, .best_epoch = st->best_epoch,
        .best_score = st->best_score, .ema = st->ema.n ? &st->ema : NULL, .epoch_batches = sums ? batches : 0,
        .epoch_rng = &st->epoch_rng, .epoch_sums = sums,
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

/* The distinct first name parts of the parameters, for an error message. */
static char *param_roots(const run_state *st)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "");
    for (int i = 0; i < st->n_params; i++) {
        const char *name = st->params[i]->name, *dot = strchr(name, '.');
        int len = dot ? (int)(dot - name) : (int)strlen(name), seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = !strncmp(st->params[j]->name, name, (size_t)len) &&
                   (st->params[j]->name[len] == '.' || !st->params[j]->name[len]);
        if (!seen) oiqa_sbuf_appendf(&b, "%s%.*s", b.len ? ", " : "", len, name);
    }
    return b.s;
}

static int no_such_prefix(const run_state *st, const char *key, const char *prefix, int len)
{
    char *roots = param_roots(st);
    int rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "key '%s': '%.*s' names no parameter of this %s model (its names start %s)",
                       key, len, prefix, st->m->name, roots);
    free(roots);
    return rc;
}

/* freeze: the named parameters become constants of the tape. */
static int apply_freeze(run_state *st)
{
    const oiqa_opt_strings *f = &st->cfg->freeze;
    for (int k = 0; k < f->n; k++) {
        int hits = 0;
        for (int i = 0; i < st->n_params; i++)
            if (oiqa_train_prefix_names(f->v[k], st->params[i]->name)) st->params[i]->frozen = 1, hits++;
        if (!hits) return no_such_prefix(st, "freeze", f->v[k], (int)strlen(f->v[k]));
    }
    return OIQA_OK;
}

/* optimizer.lr_scale: one group per distinct scale, in order of first use. */
static int make_groups(run_state *st)
{
    const oiqa_opt_strings *ls = &st->cfg->optimizer.lr_scale;
    double scale[MAX_PARAMS];
    for (int i = 0; i < st->n_params; i++) scale[i] = 1;
    for (int k = ls->n - 1; k >= 0; k--) { /* the first entry that names a parameter wins */
        const char *eq = strchr(ls->v[k], '=');
        char prefix[256];
        snprintf(prefix, sizeof prefix, "%.*s", (int)(eq - ls->v[k]), ls->v[k]);
        int hits = 0;
        for (int i = 0; i < st->n_params; i++)
            if (oiqa_train_prefix_names(prefix, st->params[i]->name)) scale[i] = strtod(eq + 1, NULL), hits++;
        if (!hits) return no_such_prefix(st, "optimizer.lr_scale", prefix, (int)strlen(prefix));
    }
    int done[MAX_PARAMS] = {0}, n = 0;
    st->n_groups = 0;
    for (int i = 0; i < st->n_params; i++) {
        if (done[i]) continue;
        oiqa_param_group *g = &st->groups[st->n_groups++];
        g->params = st->grouped + n, g->lr_scale = scale[i], g->n = 0;
        for (int j = i; j < st->n_params; j++)
            if (!done[j] && scale[j] == scale[i]) done[j] = 1, st->grouped[n++] = st->params[j], g->n++;
    }
    return OIQA_OK;
}

static int init_model(run_state *st)
{
    const oiqa_train_config *c = st->cfg;
    oiqa_rng_seed(&st->rng, (uint64_t)c->seed);
    int rc = st->m->build(&c->model, &st->shape, &st->rng, &st->model);
    if (rc) return rc;
    st->n_params = st->m->params(st->model, st->params, MAX_PARAMS);
    if (st->n_params < 0) return OIQA_EXIT_DATA;
    rc = apply_freeze(st);
    if (!rc) rc = make_groups(st);
    if (!rc && c->ema > 0) {
        /* The average is over what learns (torch_ema takes parameters(), not
         * buffers): not BatchNorm's statistics, not frozen layers. */
        oiqa_param *learn[MAX_PARAMS];
        int n = 0;
        for (int i = 0; i < st->n_params; i++)
            if (!st->params[i]->frozen) learn[n++] = st->params[i];
        rc = oiqa_ema_init(&st->ema, learn, n, c->ema);
        st->ema.warmup = c->ema_warmup;
    }
    if (rc) return rc;
    oiqa_train_optimizer_init(c, &st->opt);
    st->per_epoch = (st->n_train + c->batch_size - 1) / c->batch_size;
    int per_batch = c->schedule.per == OIQA_TRAIN_PER_BATCH;
    st->sched = (oiqa_schedule){.kind = c->schedule.type == OIQA_TRAIN_STEP     ? OIQA_SCHED_STEP
                                        : c->schedule.type == OIQA_TRAIN_COSINE ? OIQA_SCHED_COSINE
                                                                                : OIQA_SCHED_CONSTANT,
                                .lr = c->optimizer.lr, .min_lr = c->schedule.min_lr, .warmup = c->schedule.warmup,
                                .step_size = c->schedule.step_size, .gamma = c->schedule.gamma,
                                .period = c->schedule.period,
                                .warmup_kind = c->schedule.warmup_rule == 1 ? OIQA_WARMUP_FROM_INIT : OIQA_WARMUP_TO_LR,
                                .warmup_init = c->schedule.warmup_init,
                                .total = per_batch ? c->epochs * st->per_epoch : c->epochs};
    if (per_batch && c->schedule.in_epochs)
        st->sched.warmup *= st->per_epoch, st->sched.step_size *= st->per_epoch, st->sched.period *= st->per_epoch;
    st->best_epoch = 0, st->best_score = -INFINITY;
    st->last_srcc = st->last_plcc = NAN;
    return OIQA_OK;
}

/* The learning rate of batch b of epoch e. */
static double batch_lr(const run_state *st, long e, long b)
{
    return oiqa_schedule_lr(&st->sched, st->cfg->schedule.per == OIQA_TRAIN_PER_BATCH ? e * st->per_epoch + b : e);
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
    for (int j = 0, i = 0; !rc && j < st->ema.n; j++) {
        while (st->params[i] != st->ema.params[j]) i++; /* the average's are a subsequence */
        if (!tm.ema || !tm.ema[i])
            rc = oiqa_fail(OIQA_EXIT_DATA, st->last_path, "holds no weight average (ema) of %s", st->params[i]->name);
        else memcpy(st->ema.shadow[j], tm.ema[i], st->params[i]->numel * sizeof(float));
    }
    if (!rc && st->ema.n) st->ema.updates = tm.ema_updates;
    if (!rc && tm.epoch_batches >= st->per_epoch)
        rc = oiqa_fail(OIQA_EXIT_DATA, st->last_path, "stopped after batch %ld of an epoch of %ld", tm.epoch_batches,
                       st->per_epoch);
    if (!rc) {
        st->opt = tm.opt, st->rng = tm.rng;
        st->start_epoch = tm.epoch;
        st->best_epoch = tm.best_epoch, st->best_score = tm.best_score;
        st->last_srcc = tm.val_srcc, st->last_plcc = tm.val_plcc;
        if (tm.epoch_batches > 0) {
            st->start_batch = tm.epoch_batches, st->epoch_rng = tm.epoch_rng;
            st->start_sums = tm.epoch_sums, tm.epoch_sums = NULL;
            oiqa_info("resuming in epoch %ld of %ld after batch %ld of %ld (%s)", tm.epoch + 1, st->cfg->epochs,
                      tm.epoch_batches, st->per_epoch, st->last_path);
        } else
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

/* The loss sums of an epoch so far (mid-epoch state of last.h5). */
typedef struct {
    double sum[OIQA_METHOD_MAX_PARTS];
    long count[OIQA_METHOD_MAX_PARTS];
    double running; /* the sum of batch loss x batch size, for the progress bar */
    long seen;
} epoch_sums;

/* Exact text (hex floats) of the sums; malloc'ed. */
static char *sums_text(const run_state *st, const epoch_sums *es)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_appendf(&b, "%a %ld", es->running, es->seen);
    for (int i = 0; i < st->m->n_parts; i++) oiqa_sbuf_appendf(&b, " %a %ld", es->sum[i], es->count[i]);
    return b.s;
}

static int sums_parse(const run_state *st, const char *text, epoch_sums *es)
{
    const char *p = text;
    int used, ok = sscanf(p, "%la %ld%n", &es->running, &es->seen, &used) == 2;
    for (int i = 0; ok && i < st->m->n_parts; i++) {
        p += used;
        ok = sscanf(p, " %la %ld%n", &es->sum[i], &es->count[i], &used) == 2;
    }
    return ok ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, st->last_path, "attribute 'epoch_sums' is not %s's loss sums",
                                    st->m->name);
}

static void shuffle(oiqa_rng *rng, int *perm, int n)
{
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) { /* Fisher-Yates */
        int j = oiqa_rng_below(rng, i + 1);
        int t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
}

/* Whether the run stops at this batch boundary (saving first). */
static int stop_now(const run_state *st)
{
    const oiqa_train_opts *o = st->o;
    return (o->interrupt && *o->interrupt) || (o->stop_after_batches > 0 && st->batches_run >= o->stop_after_batches);
}

/* One epoch (from batch start_batch when it resumes one); *stopped when it
 * ended early at a batch boundary, its state in last.h5. */
static int train_epoch(run_state *st, long epoch, oiqa_progress *pg, loss_parts *lp, int *stopped)
{
    const oiqa_method *m = st->m;
    int n = st->n_train, bs = (int)st->cfg->batch_size;
    int *perm = oiqa_xmalloc((size_t)n * sizeof *perm);
    epoch_sums es = {0};
    long first = 0;
    int rc = OIQA_OK;
    if (epoch == st->start_epoch && st->start_batch > 0) {
        /* The interrupted epoch's order, then the generator as it was. */
        oiqa_rng now = st->rng;
        st->rng = st->epoch_rng;
        shuffle(&st->rng, perm, n);
        st->rng = now;
        first = st->start_batch;
        rc = sums_parse(st, st->start_sums ? st->start_sums : "", &es);
    } else {
        st->epoch_rng = st->rng;
        shuffle(&st->rng, perm, n);
    }
    int *lv = oiqa_xmalloc((size_t)bs * sizeof *lv), *ty = oiqa_xmalloc((size_t)bs * sizeof *ty);
    float *target = oiqa_xmalloc((size_t)bs * sizeof *target);
    double *score = oiqa_xmalloc((size_t)bs * sizeof *score);
    for (long bi = first; bi < st->per_epoch && !rc; bi++) {
        int b0 = (int)(bi * bs), B = n - b0 < bs ? n - b0 : bs;
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
        if (!rc) m->log_parts(st->model, &p, &tg, es.sum, es.count);
        oiqa_method_pred_free(&p);
        if (rc) break;
        if (st->cfg->clip > 0) oiqa_clip_grad_norm(st->params, st->n_params, st->cfg->clip);
        rc = oiqa_optimizer_step_groups(&st->opt, st->groups, st->n_groups, batch_lr(st, epoch, bi));
        if (!rc && st->ema.n) oiqa_ema_update(&st->ema);
        es.running += (double)lval * B, es.seen += B;
        st->batches_run++;
        if (pg) {
            char note[96];
            snprintf(note, sizeof note, "epoch %ld/%ld loss %.4f", epoch + 1, st->cfg->epochs,
                     es.running / (double)es.seen);
            oiqa_progress_note(pg, note);
        }
        oiqa_progress_add(pg, 1);
        /* Inside the epoch: the state so far to last.h5 when asked (the
         * epoch's end saves anyway). */
        int stop = stop_now(st);
        if (!rc && bi + 1 < st->per_epoch &&
            (stop || (st->o->save_every > 0 && st->batches_run % st->o->save_every == 0))) {
            char *text = sums_text(st, &es);
            rc = save(st, st->last_path, epoch, st->last_srcc, st->last_plcc, 1, bi + 1, text);
            free(text);
            if (!rc && stop) {
                *stopped = 1;
                break;
            }
        }
    }
    oiqa_ag_reset(st->ag);
    finish_parts(st, es.sum, es.count, lp);
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
    oiqa_ema_free(&st->ema);
    free(st->start_sums);
    free(st->mos), free(st->target), free(st->level), free(st->type);
    free(st->yaml), free(st->model_path), free(st->last_path), free(st->log_path);
}

static int run_epochs(run_state *st, oiqa_train_result *res)
{
    const oiqa_train_config *c = st->cfg;
    long last = c->epochs;
    if (st->o->stop_after > 0 && st->o->stop_after < last) last = st->o->stop_after;
    long todo = st->per_epoch * (last - st->start_epoch) - st->start_batch;
    oiqa_progress *pg = st->o->progress && todo > 0 ? oiqa_progress_start("train", "batch", todo) : NULL;
    char *header = log_header(st->m);
    int rc = truncate_log(st->log_path, header, st->start_epoch);
    free(header);
    double total_s = 0;
    int stopped = 0;
    for (long e = st->start_epoch; e < last && !rc && !stopped; e++) {
        double t0 = oiqa_now_seconds(), lr = batch_lr(st, e, 0), plcc, srcc;
        loss_parts tr, va;
        rc = train_epoch(st, e, pg, &tr, &stopped);
        if (rc || stopped) break;
        /* Validation sees the weights' average when there is one. */
        if (st->ema.n) oiqa_ema_swap(&st->ema);
        rc = validate(st, &va, &plcc, &srcc);
        if (st->ema.n) oiqa_ema_swap(&st->ema);
        if (rc) break;
        double secs = oiqa_now_seconds() - t0;
        total_s += secs;
        res->epochs_run++;
        st->last_srcc = srcc, st->last_plcc = plcc;
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
        if (!rc && best) rc = save(st, st->model_path, e + 1, srcc, plcc, 0, 0, NULL);
        if (!rc) rc = save(st, st->last_path, e + 1, srcc, plcc, 1, 0, NULL);
        if (!rc && e + 1 < last && stop_now(st)) stopped = 1;
    }
    if (rc || stopped) oiqa_progress_cancel(pg);
    else oiqa_progress_end(pg);
    res->seconds_per_epoch = res->epochs_run ? total_s / res->epochs_run : 0;
    res->batches_run = st->batches_run;
    if (!rc && stopped && st->o->interrupt && *st->o->interrupt) {
        oiqa_warn("interrupted: the state is in %s; --resume continues", st->last_path);
        rc = OIQA_TRAIN_INTERRUPTED;
    }
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
