/* oiqa-h5 diff: dataset by dataset comparison of two HDF5 files, rows
 * matched by /names when both files have it. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/h5inspect.h"
#include "io/h5inspect_internal.h"
#include "io/h5util.h"
#include "io/nameindex.h"

typedef struct {
    const char *a, *b; /* file names */
    hid_t fa, fb;
    char **names_a, **names_b;
    size_t na, nb;
    int64_t *map; /* row of A -> row of B with the same name, -1 if none; NULL without names */
    const oiqa_h5_diff_opts *o;
    FILE *out;
    int differences;
} diff_ctx;

/* Differences found in one dataset. */
typedef struct {
    uint64_t n_diff, n_total;
    double max_abs, max_rel;
    int have_first;
    hsize_t first[H5S_MAX_RANK];
    char *first_a, *first_b; /* strings: the first differing pair */
} diff_tally;

static void report(diff_ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void report(diff_ctx *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(c->out, fmt, ap);
    va_end(ap);
    fputc('\n', c->out);
    c->differences++;
}

static int values_equal(double a, double b, double atol, double rtol)
{
    if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
    if (a == b) return 1; /* also equal infinities */
    if (isinf(a) || isinf(b)) return 0;
    return fabs(a - b) <= atol + rtol * fabs(b);
}

/* Absolute index of element i of the current block of `it`. */
static void block_index(const oiqa_h5_blocks *it, size_t i, hsize_t *idx)
{
    for (int k = it->rank - 1; k >= 0; k--) {
        idx[k] = it->bstart[k] + (it->bcount[k] ? i % it->bcount[k] : 0);
        i = it->bcount[k] ? i / it->bcount[k] : 0;
    }
}

typedef enum { CMP_NUMBERS, CMP_STRINGS, CMP_BYTES } compare_kind;

static int read_block_strings(const oiqa_h5_blocks *it, hid_t dset, char ***out)
{
    hid_t space = H5Dget_space(dset);
    int ok = space >= 0 &&
             (it->rank == 0 || H5Sselect_hyperslab(space, H5S_SELECT_SET, it->bstart, NULL, it->bcount, NULL) >= 0) &&
             oiqa_h5_read_strings(dset, space, it->belems, out) == 0;
    if (space >= 0) H5Sclose(space);
    return ok ? 0 : -1;
}

/* Compares a box of A with a box of the same counts in B. */
static int compare_box(diff_ctx *c, compare_kind kind, hid_t mem, size_t esize, const oiqa_h5_dset *da,
                       const hsize_t *start_a, const oiqa_h5_dset *db, const hsize_t *start_b, const hsize_t *count,
                       diff_tally *t)
{
    oiqa_h5_blocks ia, ib;
    size_t budget = OIQA_H5_BLOCK_ELEMS;
    oiqa_h5_blocks_init(&ia, da->rank, start_a, count, budget);
    oiqa_h5_blocks_init(&ib, db->rank, start_b, count, budget);
    size_t bytes = kind == CMP_NUMBERS ? sizeof(double) : esize;
    uint8_t *ba = NULL, *bb = NULL;
    if (kind != CMP_STRINGS) {
        ba = malloc(budget * bytes), bb = malloc(budget * bytes);
        if (!ba || !bb) {
            free(ba), free(bb);
            return oiqa_fail(OIQA_EXIT_DATA, c->a, "out of memory comparing %s", da->path);
        }
    }
    int rc = OIQA_OK;
    while (!rc && oiqa_h5_blocks_next(&ia) && oiqa_h5_blocks_next(&ib)) {
        char **sa = NULL, **sb = NULL;
        if (kind == CMP_STRINGS) {
            if (read_block_strings(&ia, da->dset, &sa) < 0)
                rc = oiqa_h5_fail(OIQA_EXIT_DATA, c->a, "cannot read %s", da->path);
            else if (read_block_strings(&ib, db->dset, &sb) < 0)
                rc = oiqa_h5_fail(OIQA_EXIT_DATA, c->b, "cannot read %s", db->path);
        } else if (oiqa_h5_blocks_read(&ia, da->dset, mem, ba) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, c->a, "cannot read %s", da->path);
        else if (oiqa_h5_blocks_read(&ib, db->dset, mem, bb) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, c->b, "cannot read %s", db->path);
        for (size_t i = 0; !rc && i < ia.belems; i++) {
            int same;
            if (kind == CMP_NUMBERS) {
                double x = ((double *)ba)[i], y = ((double *)bb)[i];
                same = values_equal(x, y, c->o->atol, c->o->rtol);
                if (!same && isfinite(x) && isfinite(y)) {
                    double abs_err = fabs(x - y), rel = y != 0 ? abs_err / fabs(y) : INFINITY;
                    if (abs_err > t->max_abs) t->max_abs = abs_err;
                    if (rel > t->max_rel) t->max_rel = rel;
                }
            } else if (kind == CMP_STRINGS) {
                same = !strcmp(sa[i], sb[i]);
                if (!same && !t->have_first) t->first_a = oiqa_strdup(sa[i]), t->first_b = oiqa_strdup(sb[i]);
            } else same = !memcmp(ba + i * esize, bb + i * esize, esize);
            if (!same) {
                if (!t->have_first) block_index(&ia, i, t->first);
                t->have_first = 1;
                t->n_diff++;
            }
        }
        t->n_total += ia.belems;
        oiqa_h5_strings_free(sa, ia.belems);
        oiqa_h5_strings_free(sb, ib.belems);
    }
    free(ba), free(bb);
    return rc;
}

static int type_has_vlen(hid_t t)
{
    return H5Tdetect_class(t, H5T_VLEN) > 0 || H5Tdetect_class(t, H5T_REFERENCE) > 0 ||
           (H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) || H5Tdetect_class(t, H5T_STRING) > 0;
}

static void report_tally(diff_ctx *c, const char *path, const diff_tally *t, int rank, int row_matched)
{
    if (!t->n_diff) return;
    char idx[256], what[512] = "";
    oiqa_h5_shape_name(rank, t->first, idx, sizeof idx);
    if (t->first_a) {
        oiqa_sbuf q = {0};
        oiqa_sbuf_append(&q, "'");
        oiqa_h5_append_escaped(&q, t->first_a, strlen(t->first_a) > 60 ? 60 : strlen(t->first_a));
        oiqa_sbuf_append(&q, "' vs '");
        oiqa_h5_append_escaped(&q, t->first_b, strlen(t->first_b) > 60 ? 60 : strlen(t->first_b));
        oiqa_sbuf_append(&q, "'");
        snprintf(what, sizeof what, " (%s)", q.s);
        free(q.s);
    } else if (t->max_abs > 0 || t->max_rel > 0)
        snprintf(what, sizeof what, "; max abs diff %.6g, max rel diff %.6g", t->max_abs, t->max_rel);
    char row[300] = "";
    if (row_matched && c->names_a && t->first[0] < c->na)
        snprintf(row, sizeof row, " (row '%.200s')", c->names_a[t->first[0]]);
    report(c, "%s: %llu of %llu values differ%s; first at %s%s", path, (unsigned long long)t->n_diff,
           (unsigned long long)t->n_total, t->first_a ? "" : what, idx, row);
    if (t->first_a) fprintf(c->out, "    first difference%s\n", what);
}

static int compare_dataset(diff_ctx *c, const char *path)
{
    oiqa_h5_dset da, db;
    int rc = oiqa_h5_dset_open(c->fa, c->a, path, &da);
    if (rc) return rc;
    if ((rc = oiqa_h5_dset_open(c->fb, c->b, path, &db))) {
        oiqa_h5_dset_close(&da);
        return rc;
    }
    char ta[256], tb[256], sa[256], sb[256];
    oiqa_h5_type_name(da.type, ta, sizeof ta);
    oiqa_h5_type_name(db.type, tb, sizeof tb);
    oiqa_h5_shape_name(da.rank, da.dims, sa, sizeof sa);
    oiqa_h5_shape_name(db.rank, db.dims, sb, sizeof sb);
    H5T_class_t ca = H5Tget_class(da.type), cb = H5Tget_class(db.type);
    compare_kind kind = CMP_BYTES;
    hid_t mem = -1;
    size_t esize = 0;
    diff_tally t = {0};
    int row_matched = c->map && da.per_image && db.per_image && da.rank == db.rank && da.dims[0] == c->na &&
                      db.dims[0] == c->nb;
    if (ca == H5T_STRING && cb == H5T_STRING) kind = CMP_STRINGS;
    else if (oiqa_h5_is_numeric(da.type) && oiqa_h5_is_numeric(db.type) && !strcmp(ta, tb)) {
        kind = CMP_NUMBERS;
        mem = H5Tcopy(H5T_NATIVE_DOUBLE);
    } else if (strcmp(ta, tb) || H5Tequal(da.type, db.type) <= 0) {
        report(c, "%s: dtype %s in %s, %s in %s", path, ta, c->a, tb, c->b);
        goto done;
    } else if (type_has_vlen(da.type)) {
        fprintf(c->out, "%s: not compared (%s)\n", path, ta);
        goto done;
    } else {
        mem = H5Tget_native_type(da.type, H5T_DIR_ASCEND);
        esize = mem >= 0 ? H5Tget_size(mem) : 0;
        if (!esize) {
            fprintf(c->out, "%s: not compared (%s)\n", path, ta);
            goto done;
        }
    }
    int same_shape = da.rank == db.rank;
    for (int k = row_matched ? 1 : 0; same_shape && k < da.rank; k++) same_shape = da.dims[k] == db.dims[k];
    if (!same_shape) {
        report(c, "%s: shape %s in %s, %s in %s", path, sa, c->a, sb, c->b);
        goto done;
    }
    hsize_t start_a[H5S_MAX_RANK] = {0}, start_b[H5S_MAX_RANK] = {0}, count[H5S_MAX_RANK];
    for (int k = 0; k < da.rank; k++) count[k] = da.dims[k];
    if (!row_matched) rc = compare_box(c, kind, mem, esize, &da, start_a, &db, start_b, count, &t);
    else {
        count[0] = 1;
        for (size_t i = 0; i < c->na && !rc; i++) {
            if (c->map[i] < 0) continue;
            start_a[0] = i, start_b[0] = (hsize_t)c->map[i];
            rc = compare_box(c, kind, mem, esize, &da, start_a, &db, start_b, count, &t);
        }
    }
    if (!rc) report_tally(c, path, &t, da.rank, row_matched);
done:
    free(t.first_a), free(t.first_b);
    if (mem >= 0) H5Tclose(mem);
    oiqa_h5_dset_close(&da);
    oiqa_h5_dset_close(&db);
    return rc;
}

/* Builds the row map and reports names present in only one file. */
static int match_names(diff_ctx *c)
{
    oiqa_name_index ib = {0}, ia = {0};
    int rc = OIQA_OK;
    for (size_t j = 0; j < c->nb && !rc; j++)
        if (oiqa_name_index_add(&ib, c->names_b[j]) < 0) rc = oiqa_fail(OIQA_EXIT_DATA, c->b, "out of memory");
    for (size_t i = 0; i < c->na && !rc; i++)
        if (oiqa_name_index_add(&ia, c->names_a[i]) < 0) rc = oiqa_fail(OIQA_EXIT_DATA, c->a, "out of memory");
    if (!rc) c->map = malloc((c->na ? c->na : 1) * sizeof *c->map);
    if (!rc && !c->map) rc = oiqa_fail(OIQA_EXIT_DATA, c->a, "out of memory");
    size_t only_a = 0, only_b = 0;
    const char *first_a = NULL, *first_b = NULL;
    for (size_t i = 0; !rc && i < c->na; i++) {
        c->map[i] = oiqa_name_index_find(&ib, c->names_a[i]);
        if (c->map[i] < 0 && !only_a++) first_a = c->names_a[i];
    }
    for (size_t j = 0; !rc && j < c->nb; j++)
        if (oiqa_name_index_find(&ia, c->names_b[j]) < 0 && !only_b++) first_b = c->names_b[j];
    if (!rc && (only_a || only_b)) {
        char ea[300] = "", eb[300] = "";
        if (first_a) snprintf(ea, sizeof ea, " (first '%.200s')", first_a);
        if (first_b) snprintf(eb, sizeof eb, " (first '%.200s')", first_b);
        report(c, "/names: %zu only in %s%s, %zu only in %s%s; per-image datasets compared on the %zu common rows",
               only_a, c->a, ea, only_b, c->b, eb, c->na - only_a);
    }
    oiqa_name_index_free(&ia);
    oiqa_name_index_free(&ib);
    return rc;
}

/* ---- attributes (--attrs) --------------------------------------------- */

typedef struct {
    char **v;
    size_t n, cap;
} str_list;

static void str_list_add(str_list *l, const char *s)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = oiqa_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = oiqa_strdup(s);
}

static herr_t collect_object(hid_t root, const char *name, const H5O_info_t *info, void *data)
{
    (void)root, (void)info;
    char *p = oiqa_asprintf("%s%s", name[0] == '.' && !name[1] ? "" : "/", name[0] == '.' && !name[1] ? "/" : name);
    str_list_add(data, p);
    free(p);
    return 0;
}

static herr_t collect_attr(hid_t obj, const char *name, const H5A_info_t *info, void *data)
{
    (void)obj, (void)info;
    str_list_add(data, name);
    return 0;
}

static int find_str(const str_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (!strcmp(l->v[i], s)) return (int)i;
    return -1;
}

static char *attr_text(hid_t obj, const char *name)
{
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "");
    if (a >= 0) {
        oiqa_h5_attr_text(a, 1, &b);
        H5Aclose(a);
    }
    return b.s;
}

static void shorten(char *s)
{
    if (strlen(s) > 80) strcpy(s + 74, " [...]");
}

static void compare_attrs_of(diff_ctx *c, const char *path)
{
    hid_t oa = H5Oopen(c->fa, path, H5P_DEFAULT), ob = H5Oopen(c->fb, path, H5P_DEFAULT);
    str_list la = {0}, lb = {0};
    int root = !strcmp(path, "/");
    if (oa < 0 || ob < 0) goto done;
    hsize_t idx = 0;
    H5Aiterate2(oa, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &la);
    idx = 0;
    H5Aiterate2(ob, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_attr, &lb);
    for (size_t i = 0; i < la.n; i++) {
        const char *name = la.v[i];
        if (root && (!strcmp(name, "created") || !strcmp(name, "command"))) continue;
        if (find_str(&lb, name) < 0) {
            report(c, "%s@%s: only in %s", path, name, c->a);
            continue;
        }
        char *va = attr_text(oa, name), *vb = attr_text(ob, name);
        if (strcmp(va, vb)) {
            shorten(va), shorten(vb);
            report(c, "%s@%s: %s in %s, %s in %s", path, name, va, c->a, vb, c->b);
        }
        free(va), free(vb);
    }
    for (size_t j = 0; j < lb.n; j++)
        if (!(root && (!strcmp(lb.v[j], "created") || !strcmp(lb.v[j], "command"))) && find_str(&la, lb.v[j]) < 0)
            report(c, "%s@%s: only in %s", path, lb.v[j], c->b);
done:
    oiqa_h5_strings_free(la.v, la.n);
    oiqa_h5_strings_free(lb.v, lb.n);
    if (oa >= 0) H5Oclose(oa);
    if (ob >= 0) H5Oclose(ob);
}

static void compare_attrs(diff_ctx *c)
{
    str_list objs = {0};
    H5Ovisit2(c->fa, H5_INDEX_NAME, H5_ITER_INC, collect_object, &objs, H5O_INFO_BASIC);
    for (size_t i = 0; i < objs.n; i++)
        if (oiqa_h5_exists(c->fb, objs.v[i])) compare_attrs_of(c, objs.v[i]);
    oiqa_h5_strings_free(objs.v, objs.n);
}

/* ---- the whole diff --------------------------------------------------- */

int oiqa_h5_diff(const char *a, const char *b, const oiqa_h5_diff_opts *o, FILE *out, int *differ)
{
    diff_ctx c = {.a = a, .b = b, .fa = -1, .fb = -1, .o = o, .out = out};
    char **da = NULL, **db = NULL;
    size_t nda = 0, ndb = 0, compared = 0;
    *differ = 0;
    int rc = oiqa_h5_open_file(a, &c.fa);
    if (!rc) rc = oiqa_h5_open_file(b, &c.fb);
    if (!rc) rc = oiqa_h5_read_names(c.fa, a, &c.names_a, &c.na);
    if (!rc) rc = oiqa_h5_read_names(c.fb, b, &c.names_b, &c.nb);
    if (!rc && c.names_a && c.names_b) rc = match_names(&c);
    if (!rc) rc = oiqa_h5_list_datasets(c.fa, a, &da, &nda);
    if (!rc) rc = oiqa_h5_list_datasets(c.fb, b, &db, &ndb);
    /* Walk both sorted lists together. */
    for (size_t i = 0, j = 0; !rc && (i < nda || j < ndb);) {
        int cmp = i == nda ? 1 : j == ndb ? -1 : strcmp(da[i], db[j]);
        if (cmp < 0) report(&c, "%s: only in %s", da[i++], a);
        else if (cmp > 0) report(&c, "%s: only in %s", db[j++], b);
        else {
            if (!(c.map && !strcmp(da[i], "/names"))) rc = compare_dataset(&c, da[i]);
            compared++, i++, j++;
        }
    }
    if (!rc && o->attrs) compare_attrs(&c);
    if (!rc) {
        if (c.differences)
            fprintf(out, "%s and %s differ (%d difference%s)\n", a, b, c.differences, c.differences == 1 ? "" : "s");
        else fprintf(out, "%s and %s are equal (%zu datasets compared)\n", a, b, compared);
        *differ = c.differences > 0;
    }
    oiqa_h5_strings_free(da, nda);
    oiqa_h5_strings_free(db, ndb);
    oiqa_h5_strings_free(c.names_a, c.na);
    oiqa_h5_strings_free(c.names_b, c.nb);
    free(c.map);
    if (c.fa >= 0) H5Fclose(c.fa);
    if (c.fb >= 0) H5Fclose(c.fb);
    return rc;
}
