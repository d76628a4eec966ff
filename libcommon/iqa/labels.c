/* labels.csv in memory, read and written (see labels.h). */
#include "iqa/labels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/csv.h"

int oiqa_labels_find(const oiqa_labels *l, const char *name)
{
    return (int)oiqa_name_index_find(&l->index, name);
}

/* "PATH:LINE: " (or "PATH: ", or nothing for labels built in memory). */
static const char *where(const oiqa_labels *l, char *buf, size_t cap, int line)
{
    if (l->path && line > 0) snprintf(buf, cap, "%s:%d: ", l->path, line);
    else if (l->path) snprintf(buf, cap, "%s: ", l->path);
    else buf[0] = '\0';
    return buf;
}

/* line: where the row is in l->path (0 when built in memory), for messages. */
static int add_row(oiqa_labels *l, int line, const char *name, double mos, const char *ref, const char *dist_type,
                   int dist_level)
{
    char w[600];
    if (!name || !*name) return oiqa_fail(OIQA_EXIT_DATA, NULL, "%sempty image name", where(l, w, sizeof w, line));
    int dup = oiqa_labels_find(l, name);
    if (dup >= 0) {
        if (l->row[dup].line)
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "%sduplicated name '%s' (first on line %d)",
                             where(l, w, sizeof w, line), name, l->row[dup].line);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "%sduplicated name '%s'", where(l, w, sizeof w, line), name);
    }
    if (!isfinite(mos))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s'%s': score is %s", where(l, w, sizeof w, line), name,
                         isnan(mos) ? "NaN" : "infinite");
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 256;
        l->row = oiqa_xrealloc(l->row, (size_t)l->cap * sizeof *l->row);
    }
    if (oiqa_name_index_add(&l->index, name)) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    l->row[l->n++] = (oiqa_label){
        .name = oiqa_strdup(name), .ref = oiqa_strdup(ref && *ref ? ref : name),
        .dist_type = oiqa_strdup(dist_type ? dist_type : ""), .mos = mos, .dist_level = dist_level, .alt = NAN,
        .line = line};
    return 0;
}

int oiqa_labels_add(oiqa_labels *l, const char *name, double mos, const char *ref, const char *dist_type,
                    int dist_level)
{
    return add_row(l, 0, name, mos, ref, dist_type, dist_level);
}

void oiqa_labels_free(oiqa_labels *l)
{
    for (int i = 0; i < l->n; i++) {
        free(l->row[i].name);
        free(l->row[i].ref);
        free(l->row[i].dist_type);
    }
    free(l->row);
    free(l->alt_name);
    free(l->path);
    oiqa_name_index_free(&l->index);
    memset(l, 0, sizeof *l);
}

static const char *const KNOWN[] = {"name", "mos", "ref", "dist_type", "dist_level", "lower_better", NULL};

static int is_known(const char *c)
{
    for (int i = 0; KNOWN[i]; i++)
        if (strcmp(KNOWN[i], c) == 0) return 1;
    return 0;
}

int oiqa_labels_read(const char *path, oiqa_labels *l)
{
    memset(l, 0, sizeof *l);
    oiqa_csv *t;
    int rc = oiqa_csv_read(path, ',', 1, &t);
    if (rc) return rc;
    l->path = oiqa_strdup(path);
    int cn, cm;
    if ((rc = oiqa_csv_need_col(t, "name", &cn)) || (rc = oiqa_csv_need_col(t, "mos", &cm))) goto out;
    int cr = oiqa_csv_col(t, "ref"), ct = oiqa_csv_col(t, "dist_type"), cl = oiqa_csv_col(t, "dist_level");
    int clb = oiqa_csv_col(t, "lower_better"), calt = -1;
    for (int c = 0; c < t->n_cols; c++)
        if (!is_known(t->header[c])) {
            if (calt >= 0) {
                rc = oiqa_fail(OIQA_EXIT_DATA, path, "more than one extra column ('%s', '%s'); labels.csv has %s",
                               t->header[calt], t->header[c], "name,mos,ref,dist_type,dist_level[,lower_better][,ONE]");
                goto out;
            }
            calt = c;
        }
    if (calt >= 0) l->alt_name = oiqa_strdup(t->header[calt]);
    if (t->n_rows == 0) { rc = oiqa_fail(OIQA_EXIT_DATA, path, "no rows"); goto out; }
    for (int r = 0; r < t->n_rows; r++) {
        double mos;
        long level = -1, lb = 0;
        if ((rc = oiqa_csv_double(t, r, cm, &mos))) goto out;
        if (cl >= 0 && *oiqa_csv_cell(t, r, cl) && (rc = oiqa_csv_long(t, r, cl, &level))) goto out;
        if (clb >= 0 && (rc = oiqa_csv_long(t, r, clb, &lb))) goto out;
        if (clb >= 0 && (lb != 0 && lb != 1)) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: column 'lower_better' must be 0 or 1", path, t->line[r]);
            goto out;
        }
        if (clb >= 0 && r > 0 && (int)lb != l->lower_better) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: column 'lower_better' changes value; it must be the same "
                           "on every row", path, t->line[r]);
            goto out;
        }
        l->lower_better = (int)lb;
        if (level < -1 || level > 1000000) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: dist_level %ld out of range", path, t->line[r], level);
            goto out;
        }
        rc = add_row(l, t->line[r], oiqa_csv_cell(t, r, cn), mos, cr >= 0 ? oiqa_csv_cell(t, r, cr) : NULL,
                     ct >= 0 ? oiqa_csv_cell(t, r, ct) : "", (int)level);
        if (rc) goto out;
        if (calt >= 0 && *oiqa_csv_cell(t, r, calt) && (rc = oiqa_csv_double(t, r, calt, &l->row[l->n - 1].alt)))
            goto out;
    }
out:
    oiqa_csv_free(t);
    if (rc) oiqa_labels_free(l);
    return rc;
}

static void put_double(FILE *f, double v)
{
    if (isnan(v)) return;
    char b[40];
    snprintf(b, sizeof b, "%.10g", v); /* shortest that keeps the databases' precision */
    if (strtod(b, NULL) != v) snprintf(b, sizeof b, "%.17g", v);
    fputs(b, f);
}

int oiqa_labels_write(const oiqa_labels *l, const char *path, int force)
{
    oiqa_atomic_file a;
    int rc = oiqa_atomic_open(&a, path, force);
    if (rc) return rc;
    FILE *f = a.f;
    fputs("name,mos,ref,dist_type,dist_level", f);
    if (l->lower_better) fputs(",lower_better", f);
    if (l->alt_name) { fputc(',', f); oiqa_csv_put(f, l->alt_name); }
    fputc('\n', f);
    for (int i = 0; i < l->n; i++) {
        const oiqa_label *r = &l->row[i];
        oiqa_csv_put(f, r->name);
        fputc(',', f);
        put_double(f, r->mos);
        fputc(',', f);
        oiqa_csv_put(f, r->ref);
        fputc(',', f);
        oiqa_csv_put(f, r->dist_type);
        fprintf(f, ",%d", r->dist_level);
        if (l->lower_better) fputs(",1", f);
        if (l->alt_name) { fputc(',', f); put_double(f, r->alt); }
        fputc('\n', f);
    }
    return oiqa_atomic_commit(&a);
}
