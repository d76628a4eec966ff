/* oiqa-h5 stats: summary statistics of numeric datasets, read in blocks. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/h5inspect.h"
#include "io/h5inspect_internal.h"
#include "io/h5util.h"

/* Finite values: count, extremes, mean and sum of squared deviations
 * (combined across blocks with Chan et al.'s pairwise update); NaN and Inf
 * are counted apart. */
typedef struct {
    uint64_t n, nan, inf;
    double min, max, mean, m2;
} moments;

static void moments_merge(moments *a, const moments *b)
{
    a->nan += b->nan, a->inf += b->inf;
    if (b->n == 0) return;
    if (a->n == 0) {
        uint64_t nan = a->nan, inf = a->inf;
        *a = *b;
        a->nan = nan, a->inf = inf;
        return;
    }
    double n = (double)(a->n + b->n), delta = b->mean - a->mean;
    a->mean += delta * (double)b->n / n;
    a->m2 += b->m2 + delta * delta * (double)a->n * (double)b->n / n;
    a->n += b->n;
    if (b->min < a->min) a->min = b->min;
    if (b->max > a->max) a->max = b->max;
}

/* One block in two passes (mean, then deviations): accurate and fast. */
static void moments_add_block(moments *m, const double *v, size_t n)
{
    moments b = {0};
    double sum = 0;
    b.min = INFINITY, b.max = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];
        if (isnan(x)) b.nan++;
        else if (isinf(x)) b.inf++;
        else {
            b.n++;
            sum += x;
            if (x < b.min) b.min = x;
            if (x > b.max) b.max = x;
        }
    }
    if (b.n) {
        b.mean = sum / (double)b.n;
        for (size_t i = 0; i < n; i++)
            if (isfinite(v[i])) b.m2 += (v[i] - b.mean) * (v[i] - b.mean);
    }
    moments_merge(m, &b);
}

static int box_moments(const oiqa_h5_dset *d, const char *fname, const hsize_t *start, const hsize_t *count,
                       double *buf, moments *m)
{
    oiqa_h5_blocks it;
    oiqa_h5_blocks_init(&it, d->rank, start, count, OIQA_H5_BLOCK_ELEMS);
    while (oiqa_h5_blocks_next(&it)) {
        if (oiqa_h5_blocks_read(&it, d->dset, H5T_NATIVE_DOUBLE, buf) < 0)
            return oiqa_h5_fail(OIQA_EXIT_DATA, fname, "cannot read %s", d->path);
        moments_add_block(m, buf, it.belems);
    }
    return OIQA_OK;
}

static void format_moments(oiqa_sbuf *b, const moments *m)
{
    if (m->n == 0) oiqa_sbuf_appendf(b, "%13s %13s %13s %13s", "-", "-", "-", "-");
    else
        oiqa_sbuf_appendf(b, "%13.6g %13.6g %13.6g %13.6g", m->min, m->max, m->mean, sqrt(m->m2 / (double)m->n));
    oiqa_sbuf_appendf(b, " %9llu %9llu", (unsigned long long)m->nan, (unsigned long long)m->inf);
}

static int stats_one(hid_t file, const char *fname, const char *path, char **names, size_t n_names, int per_row,
                     int explicit, FILE *out)
{
    oiqa_h5_dset d;
    int rc = oiqa_h5_dset_open(file, fname, path, &d);
    if (rc) return rc;
    char tname[256], shape[256];
    oiqa_h5_type_name(d.type, tname, sizeof tname);
    if (!oiqa_h5_is_numeric(d.type)) {
        rc = explicit ? oiqa_fail(OIQA_EXIT_DATA, fname, "%s is not numeric (%s)", path, tname) : OIQA_OK;
        oiqa_h5_dset_close(&d);
        return rc;
    }
    oiqa_h5_shape_name(d.rank, d.dims, shape, sizeof shape);
    double *buf = malloc(OIQA_H5_BLOCK_ELEMS * sizeof *buf);
    moments total = {0};
    oiqa_sbuf rows = {0};
    hsize_t start[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    for (int k = 0; k < d.rank; k++) count[k] = d.dims[k];
    if (!buf) rc = oiqa_fail(OIQA_EXIT_DATA, fname, "out of memory");
    else if (!per_row || d.rank == 0) rc = box_moments(&d, fname, start, count, buf, &total);
    else {
        /* Names label rows only where the rows are the images. */
        int named = d.per_image && names && n_names == d.dims[0];
        count[0] = 1;
        for (hsize_t r = 0; r < d.dims[0] && !rc; r++) {
            moments m = {0};
            start[0] = r;
            if ((rc = box_moments(&d, fname, start, count, buf, &m))) break;
            moments_merge(&total, &m);
            oiqa_sbuf_appendf(&rows, "    %-6llu %-42s ", (unsigned long long)r, named ? names[r] : "");
            format_moments(&rows, &m);
            oiqa_sbuf_append(&rows, "\n");
        }
    }
    if (!rc) {
        oiqa_sbuf line = {0};
        oiqa_sbuf_appendf(&line, "%-32s %-20s %-8s ", path, shape, tname);
        format_moments(&line, &total);
        fprintf(out, "%s\n%s", line.s, rows.s ? rows.s : "");
        free(line.s);
    }
    free(rows.s);
    free(buf);
    oiqa_h5_dset_close(&d);
    return rc;
}

int oiqa_h5_stats(const char *path, char *const *dsets, int n, int per_row, FILE *out)
{
    hid_t file;
    int rc = oiqa_h5_open_file(path, &file);
    if (rc) return rc;
    char **names = NULL, **all = NULL;
    size_t n_names = 0, n_all = 0;
    if ((rc = oiqa_h5_read_names(file, path, &names, &n_names))) goto done;
    if (n == 0 && (rc = oiqa_h5_list_datasets(file, path, &all, &n_all))) goto done;
    /* Named datasets are checked before anything is printed. */
    for (int i = 0; i < n && !rc; i++) {
        oiqa_h5_dset d;
        if ((rc = oiqa_h5_dset_open(file, path, dsets[i], &d))) break;
        if (!oiqa_h5_is_numeric(d.type)) {
            char tname[256];
            oiqa_h5_type_name(d.type, tname, sizeof tname);
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "%s is not numeric (%s)", dsets[i], tname);
        }
        oiqa_h5_dset_close(&d);
    }
    if (rc) goto done;
    fprintf(out, "%-32s %-20s %-8s %13s %13s %13s %13s %9s %9s\n", "dataset", "shape", "dtype", "min", "max", "mean",
            "std", "nan", "inf");
    if (n > 0)
        for (int i = 0; i < n && !rc; i++) rc = stats_one(file, path, dsets[i], names, n_names, per_row, 1, out);
    else
        for (size_t i = 0; i < n_all && !rc; i++) rc = stats_one(file, path, all[i], names, n_names, per_row, 0, out);
done:
    oiqa_h5_strings_free(names, n_names);
    oiqa_h5_strings_free(all, n_all);
    H5Fclose(file);
    return rc;
}
