/* Content-disjoint splits: making, reading, writing, checking (see split.h). */
#include "iqa/split.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/rng.h"
#include "base/strutil.h"
#include "io/csv.h"

const char *const oiqa_part_names[] = {"train", "val", "test", NULL};

void oiqa_splits_free(oiqa_splits *s)
{
    for (int i = 0; i < s->n; i++) free(s->name[i]);
    free(s->name);
    free(s->part);
    free(s->line);
    free(s->path);
    oiqa_name_index_free(&s->index);
    memset(s, 0, sizeof *s);
}

int oiqa_splits_part(const oiqa_splits *s, const char *name, int rep)
{
    int64_t i = oiqa_name_index_find(&s->index, name);
    if (i < 0 || rep < 0 || rep >= s->n_rep) return OIQA_PART_NONE;
    return s->part[i * s->n_rep + rep];
}

/* The distinct refs of l in order of first appearance, and each row's ref id. */
static int collect_refs(const oiqa_labels *l, oiqa_name_index *refs, int *row_ref)
{
    for (int i = 0; i < l->n; i++) {
        int64_t k = oiqa_name_index_find(refs, l->row[i].ref);
        if (k < 0) {
            if (oiqa_name_index_add(refs, l->row[i].ref)) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
            k = refs->n - 1;
        }
        row_ref[i] = (int)k;
    }
    return 0;
}

static void shuffle(int *v, int n, uint64_t seed)
{
    oiqa_rng g;
    oiqa_rng_seed(&g, seed);
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(oiqa_rng_u64(&g) % (uint64_t)(i + 1)); /* bias < 2^-40 for these sizes */
        int t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

int oiqa_split_make(const oiqa_labels *l, const oiqa_split_opts *o, oiqa_splits *out)
{
    memset(out, 0, sizeof *out);
    double sum = o->train + o->val + o->test;
    if (!(o->train >= 0 && o->val >= 0 && o->test >= 0 && sum > 0))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "split ratios must be >= 0 with a positive sum");
    int folds = o->folds > 1 ? o->folds : 0, reps = folds ? folds : o->repeats;
    if (reps < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "need at least one repeat");
    oiqa_name_index refs = {0};
    int *row_ref = oiqa_xmalloc((size_t)(l->n ? l->n : 1) * sizeof *row_ref);
    int rc = collect_refs(l, &refs, row_ref);
    int R = (int)refs.n;
    if (!rc && R < 2) rc = oiqa_fail(OIQA_EXIT_DATA, l->path, "only %d reference content; cannot split", R);
    if (!rc && folds > R) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "%d folds but only %d references", folds, R);
    if (rc) {
        free(row_ref);
        oiqa_name_index_free(&refs);
        return rc;
    }
    unsigned char *ref_part = oiqa_xmalloc((size_t)R * reps);
    int *order = oiqa_xmalloc((size_t)R * sizeof *order), *tr = oiqa_xmalloc((size_t)R * sizeof *tr);
    if (folds) {
        for (int j = 0; j < R; j++) order[j] = j;
        shuffle(order, R, o->seed);
    }
    for (int r = 0; r < reps; r++) {
        if (folds) {
            int nt = 0;
            for (int j = 0; j < R; j++) {
                int test = (int)((int64_t)j * folds / R) == r;
                ref_part[order[j] * reps + r] = test ? OIQA_PART_TEST : OIQA_PART_TRAIN;
                if (!test) tr[nt++] = order[j];
            }
            /* validation references come out of this fold's training ones */
            double vfrac = o->val / (o->train + o->val > 0 ? o->train + o->val : 1);
            int nv = (int)lround(nt * vfrac);
            if (nv >= nt) nv = nt - 1;
            shuffle(tr, nt, o->seed + 1 + (uint64_t)r);
            for (int j = 0; j < nv; j++) ref_part[tr[j] * reps + r] = OIQA_PART_VAL;
        } else {
            for (int j = 0; j < R; j++) order[j] = j;
            shuffle(order, R, o->seed + (uint64_t)r);
            int nt = (int)lround(R * o->test / sum), nv = (int)lround(R * o->val / sum);
            if (o->test > 0 && nt < 1) nt = 1;
            if (nt > R - 1) nt = R - 1;
            if (nv > R - 1 - nt) nv = R - 1 - nt;
            for (int j = 0; j < R; j++)
                ref_part[order[j] * reps + r] = j < nt ? OIQA_PART_TEST : j < nt + nv ? OIQA_PART_VAL : OIQA_PART_TRAIN;
        }
    }
    out->n = l->n;
    out->n_rep = reps;
    out->name = oiqa_xmalloc((size_t)(l->n ? l->n : 1) * sizeof *out->name);
    out->part = oiqa_xmalloc((size_t)(l->n ? l->n : 1) * reps);
    for (int i = 0; i < l->n; i++) {
        out->name[i] = oiqa_strdup(l->row[i].name);
        oiqa_name_index_add(&out->index, l->row[i].name);
        memcpy(out->part + (size_t)i * reps, ref_part + (size_t)row_ref[i] * reps, (size_t)reps);
    }
    free(ref_part);
    free(order);
    free(tr);
    free(row_ref);
    oiqa_name_index_free(&refs);
    return 0;
}

int oiqa_splits_read(const char *path, oiqa_splits *s)
{
    memset(s, 0, sizeof *s);
    oiqa_csv *t;
    int rc = oiqa_csv_read(path, ',', 1, &t);
    if (rc) return rc;
    int cn;
    if ((rc = oiqa_csv_need_col(t, "name", &cn))) goto out;
    int cols[1024], nr = 0;
    for (int r = 0; r < 1024; r++) {
        char key[16];
        snprintf(key, sizeof key, "s%d", r);
        int c = oiqa_csv_col(t, key);
        if (c < 0) break;
        cols[nr++] = c;
    }
    if (nr == 0) { rc = oiqa_fail(OIQA_EXIT_DATA, path, "no repeat columns (expected s0, s1, ...)"); goto out; }
    s->path = oiqa_strdup(path);
    s->n_rep = nr;
    s->name = oiqa_xcalloc((size_t)(t->n_rows ? t->n_rows : 1), sizeof *s->name);
    s->line = oiqa_xcalloc((size_t)(t->n_rows ? t->n_rows : 1), sizeof *s->line);
    s->part = oiqa_xmalloc((size_t)(t->n_rows ? t->n_rows : 1) * nr);
    for (int i = 0; i < t->n_rows; i++) {
        const char *name = oiqa_csv_cell(t, i, cn);
        int64_t dup = oiqa_name_index_find(&s->index, name);
        if (dup >= 0) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: duplicated name '%s' (first on line %d)", path, t->line[i],
                           name, s->line[dup]);
            goto out;
        }
        for (int r = 0; r < nr; r++) {
            const char *v = oiqa_csv_cell(t, i, cols[r]);
            int p = 0;
            while (oiqa_part_names[p] && strcmp(oiqa_part_names[p], v)) p++;
            if (!oiqa_part_names[p]) {
                rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: column 's%d': '%s' is not train, val or test", path,
                               t->line[i], r, v);
                goto out;
            }
            s->part[(size_t)i * nr + r] = (unsigned char)p;
        }
        s->name[i] = oiqa_strdup(name);
        s->line[i] = t->line[i];
        oiqa_name_index_add(&s->index, name);
        s->n++;
    }
out:
    oiqa_csv_free(t);
    if (rc) oiqa_splits_free(s);
    return rc;
}

int oiqa_splits_write(const oiqa_splits *s, const char *path, int force)
{
    oiqa_atomic_file a;
    int rc = oiqa_atomic_open(&a, path, force);
    if (rc) return rc;
    FILE *f = a.f;
    fputs("name", f);
    for (int r = 0; r < s->n_rep; r++) fprintf(f, ",s%d", r);
    fputc('\n', f);
    for (int i = 0; i < s->n; i++) {
        oiqa_csv_put(f, s->name[i]);
        for (int r = 0; r < s->n_rep; r++) fprintf(f, ",%s", oiqa_part_names[s->part[(size_t)i * s->n_rep + r]]);
        fputc('\n', f);
    }
    return oiqa_atomic_commit(&a);
}

static const char *where(const oiqa_splits *s, int i, char *buf, size_t cap)
{
    if (s->path && s->line) snprintf(buf, cap, "%s:%d", s->path, s->line[i]);
    else snprintf(buf, cap, "%s", s->path ? s->path : "splits");
    return buf;
}

int oiqa_splits_check(const oiqa_splits *s, const oiqa_labels *l)
{
    char w[600];
    int *row_of = oiqa_xmalloc((size_t)(s->n ? s->n : 1) * sizeof *row_of);
    for (int i = 0; i < s->n; i++) {
        row_of[i] = oiqa_labels_find(l, s->name[i]);
        if (row_of[i] < 0) {
            free(row_of);
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: '%s' is not in %s", where(s, i, w, sizeof w), s->name[i],
                             l->path ? l->path : "the labels");
        }
    }
    /* per repeat: the first image of each ref in test, and in train/val */
    oiqa_name_index refs = {0};
    int *test_at = NULL, *fit_at = NULL, rc = 0;
    for (int i = 0; i < s->n; i++)
        if (oiqa_name_index_find(&refs, l->row[row_of[i]].ref) < 0) oiqa_name_index_add(&refs, l->row[row_of[i]].ref);
    test_at = oiqa_xmalloc((size_t)(refs.n ? refs.n : 1) * sizeof *test_at);
    fit_at = oiqa_xmalloc((size_t)(refs.n ? refs.n : 1) * sizeof *fit_at);
    for (int r = 0; r < s->n_rep && !rc; r++) {
        for (int64_t k = 0; k < refs.n; k++) test_at[k] = fit_at[k] = -1;
        for (int i = 0; i < s->n && !rc; i++) {
            int64_t k = oiqa_name_index_find(&refs, l->row[row_of[i]].ref);
            int p = s->part[(size_t)i * s->n_rep + r];
            int *mine = p == OIQA_PART_TEST ? test_at : fit_at, *other = p == OIQA_PART_TEST ? fit_at : test_at;
            if (mine[k] < 0) mine[k] = i;
            if (other[k] >= 0) {
                int ti = test_at[k], fi = fit_at[k];
                rc = oiqa_fail(OIQA_EXIT_DATA, NULL,
                               "%s: s%d puts reference '%s' in %s ('%s') and in test ('%s'): splits must be "
                               "content-disjoint",
                               s->path ? s->path : "splits", r, l->row[row_of[i]].ref,
                               oiqa_part_names[s->part[(size_t)fi * s->n_rep + r]], s->name[fi], s->name[ti]);
            }
        }
    }
    free(test_at);
    free(fit_at);
    free(row_of);
    oiqa_name_index_free(&refs);
    return rc;
}
