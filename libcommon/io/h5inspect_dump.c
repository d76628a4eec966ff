/* oiqa-h5 dump: a slice of a dataset as CSV. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/h5inspect.h"
#include "io/h5inspect_internal.h"
#include "io/h5util.h"

typedef struct {
    int rank;
    hsize_t start[H5S_MAX_RANK], count[H5S_MAX_RANK];
    int kept[H5S_MAX_RANK]; /* 0: fixed by an integer index (the axis is dropped) */
} slice_spec;

/* Fills spec from --rows and --index. */
static int parse_selection(const oiqa_h5_dset *d, const char *rows, const char *index, slice_spec *s)
{
    s->rank = d->rank;
    for (int k = 0; k < d->rank; k++) s->start[k] = 0, s->count[k] = d->dims[k], s->kept[k] = 1;
    int axis = 0, row_axis_given = 0;
    for (const char *p = index; p && *p; axis++) {
        size_t len = strcspn(p, ",");
        if (axis >= d->rank)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--index '%s' has more entries than %s has axes (%d)", index,
                             d->path, d->rank);
        int single = 0;
        if (oiqa_h5_parse_slice(p, len, d->dims[axis], &s->start[axis], &s->count[axis], &single))
            return oiqa_fail(OIQA_EXIT_USAGE, NULL,
                             "--index '%s': axis %d: '%.*s' is not an index in [0, %llu) or a range A:B", index, axis,
                             (int)len, p, (unsigned long long)d->dims[axis]);
        s->kept[axis] = !single;
        if (axis == 0 && (single || s->count[0] != d->dims[0])) row_axis_given = 1;
        p += len + (p[len] == ',');
    }
    if (rows) {
        if (d->rank == 0) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s is a scalar: it has no rows", d->path);
        if (row_axis_given)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "give the rows in --rows or in --index, not in both");
        int single = 0;
        if (oiqa_h5_parse_slice(rows, strlen(rows), d->dims[0], &s->start[0], &s->count[0], &single))
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--rows '%s' is not a row in [0, %llu) or a range A:B", rows,
                             (unsigned long long)d->dims[0]);
        s->kept[0] = 1; /* a single row keeps its name column */
    }
    return OIQA_OK;
}

static void put_csv_field(FILE *out, const char *text)
{
    if (!strpbrk(text, ",\"\n\r") && text[0] != ' ' && (!*text || text[strlen(text) - 1] != ' ')) {
        fputs(text, out);
        return;
    }
    fputc('"', out);
    for (const char *p = text; *p; p++) {
        if (*p == '"') fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

/* Column names of the last sliced axis from a `columns` attribute such as
 * "lon_deg,lat_deg,fov_deg", when it names every entry of that axis. */
static char **column_names(const oiqa_h5_dset *d, int axis, size_t *n)
{
    *n = 0;
    char *text = oiqa_h5_attr_read_string(d->dset, "columns");
    if (!text) return NULL;
    size_t count = 1;
    for (const char *p = text; *p; p++) count += *p == ',';
    char **names = NULL;
    if (count == d->dims[axis]) {
        names = oiqa_xcalloc(count, sizeof *names);
        const char *p = text;
        for (size_t i = 0; i < count; i++) {
            size_t len = strcspn(p, ",");
            names[i] = oiqa_strndup(p, len);
            p += len + (p[len] == ',');
        }
        *n = count;
    }
    free(text);
    return names;
}

/* Whether axis k gets an index column: it is one of two or more axes the
 * lines run along (along one axis the line number is the index), and not
 * the row axis of a named dataset (the name stands for it). */
static int index_column(const slice_spec *s, int k, int named, int last, int wide)
{
    int line_axes = 0;
    for (int a = 0; a < s->rank; a++) line_axes += s->kept[a] && !(wide && a == last);
    return line_axes >= 2 && s->kept[k] && !(wide && k == last) && !(k == 0 && named);
}

static void print_header(FILE *out, const oiqa_h5_dset *d, const slice_spec *s, int named, int last, int wide)
{
    int first = 1;
    if (named) fputs("name", out), first = 0;
    for (int k = 0; k < s->rank; k++) {
        if (!index_column(s, k, named, last, wide)) continue;
        fprintf(out, "%si%d", first ? "" : ",", k);
        first = 0;
    }
    if (!wide) {
        fprintf(out, "%svalue\n", first ? "" : ",");
        return;
    }
    size_t n_cols = 0;
    char **cols = column_names(d, last, &n_cols);
    for (hsize_t j = s->start[last]; j < s->start[last] + s->count[last]; j++) {
        fputs(first ? "" : ",", out);
        first = 0;
        if (cols) put_csv_field(out, cols[j]);
        else fprintf(out, "v%llu", (unsigned long long)j);
    }
    fputc('\n', out);
    oiqa_h5_strings_free(cols, n_cols);
}

typedef enum { VAL_DOUBLE, VAL_LLONG, VAL_ULLONG, VAL_STRING } value_kind;

static void put_value(FILE *out, value_kind kind, const void *buf, char **strs, size_t i, int digits)
{
    switch (kind) {
    case VAL_STRING: put_csv_field(out, strs[i]); break;
    case VAL_LLONG: fprintf(out, "%lld", ((const long long *)buf)[i]); break;
    case VAL_ULLONG: fprintf(out, "%llu", ((const unsigned long long *)buf)[i]); break;
    case VAL_DOUBLE: {
        double v = ((const double *)buf)[i];
        if (isnan(v)) fputs("nan", out);
        else if (isinf(v)) fputs(v > 0 ? "inf" : "-inf", out);
        else fprintf(out, "%.*g", digits, v);
        break;
    }
    }
}

/* Starts a line: the name and index columns of the element at flat
 * position e of the box. */
static void start_line(FILE *out, const slice_spec *s, size_t e, char **names, int named, int last, int wide)
{
    hsize_t idx[H5S_MAX_RANK];
    for (int k = s->rank - 1; k >= 0; k--) {
        idx[k] = s->start[k] + (s->count[k] ? e % s->count[k] : 0);
        e = s->count[k] ? e / s->count[k] : 0;
    }
    int first = 1;
    if (named) put_csv_field(out, names[idx[0]]), first = 0;
    for (int k = 0; k < s->rank; k++) {
        if (!index_column(s, k, named, last, wide)) continue;
        fprintf(out, "%s%llu", first ? "" : ",", (unsigned long long)idx[k]);
        first = 0;
    }
    if (!first) fputc(',', out);
}

static int dump_values(FILE *out, const char *fname, const oiqa_h5_dset *d, const slice_spec *s, char **names,
                       int named)
{
    H5T_class_t cls = H5Tget_class(d->type);
    value_kind kind = cls == H5T_STRING ? VAL_STRING
                      : cls == H5T_FLOAT ? VAL_DOUBLE
                      : H5Tget_sign(d->type) == H5T_SGN_NONE ? VAL_ULLONG : VAL_LLONG;
    hid_t mem = kind == VAL_DOUBLE ? H5T_NATIVE_DOUBLE : kind == VAL_LLONG ? H5T_NATIVE_LLONG : H5T_NATIVE_ULLONG;
    int digits = H5Tget_size(d->type) <= 4 ? 9 : 17;
    int last = -1, n_kept = 0;
    for (int k = 0; k < s->rank; k++)
        if (s->kept[k]) last = k, n_kept++;
    int wide = n_kept >= 2;
    size_t per_line = wide ? (size_t)s->count[last] : 1;
    print_header(out, d, s, named, last, wide);

    void *buf = kind == VAL_STRING ? NULL : malloc(OIQA_H5_BLOCK_ELEMS * 8);
    if (kind != VAL_STRING && !buf) return oiqa_fail(OIQA_EXIT_DATA, fname, "out of memory");
    oiqa_h5_blocks it;
    oiqa_h5_blocks_init(&it, s->rank, s->start, s->count, OIQA_H5_BLOCK_ELEMS);
    size_t e = 0;
    int rc = OIQA_OK;
    while (!rc && oiqa_h5_blocks_next(&it)) {
        char **strs = NULL;
        if (kind == VAL_STRING) {
            hid_t space = H5Dget_space(d->dset);
            int ok = space >= 0 && (s->rank == 0 || H5Sselect_hyperslab(space, H5S_SELECT_SET, it.bstart, NULL,
                                                                         it.bcount, NULL) >= 0) &&
                     oiqa_h5_read_strings(d->dset, space, it.belems, &strs) == 0;
            if (space >= 0) H5Sclose(space);
            if (!ok) rc = oiqa_h5_fail(OIQA_EXIT_DATA, fname, "cannot read %s", d->path);
        } else if (oiqa_h5_blocks_read(&it, d->dset, mem, buf) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, fname, "cannot read %s", d->path);
        for (size_t i = 0; !rc && i < it.belems; i++, e++) {
            if (e % per_line == 0) start_line(out, s, e, names, named, last, wide);
            else fputc(',', out);
            put_value(out, kind, buf, strs, i, digits);
            if ((e + 1) % per_line == 0) fputc('\n', out);
        }
        oiqa_h5_strings_free(strs, it.belems);
    }
    free(buf);
    return rc;
}

int oiqa_h5_dump(const char *path, const char *dset, const char *rows, const char *index, FILE *out)
{
    hid_t file;
    int rc = oiqa_h5_open_file(path, &file);
    if (rc) return rc;
    oiqa_h5_dset d = {.dset = -1, .type = -1, .space = -1};
    char **names = NULL;
    size_t n_names = 0;
    slice_spec s;
    if ((rc = oiqa_h5_dset_open(file, path, dset, &d))) goto done;
    H5T_class_t cls = H5Tget_class(d.type);
    if (cls != H5T_STRING && !oiqa_h5_is_numeric(d.type)) {
        char tname[256];
        oiqa_h5_type_name(d.type, tname, sizeof tname);
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "%s is %s: dump writes numbers and strings", dset, tname);
        goto done;
    }
    if ((rc = parse_selection(&d, rows, index, &s))) goto done;
    if ((rc = oiqa_h5_read_names(file, path, &names, &n_names))) goto done;
    int named = d.per_image && names && n_names == d.dims[0];
    rc = dump_values(out, path, &d, &s, names, named);
done:
    oiqa_h5_strings_free(names, n_names);
    oiqa_h5_dset_close(&d);
    H5Fclose(file);
    return rc;
}
