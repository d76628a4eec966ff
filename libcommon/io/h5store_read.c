/* The feature store's reader: opens a finished store after checking that it
 * is one (schema, stage, complete, /names), and reads rows and attributes. */
#include "io/h5store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/h5util.h"
#include "io/nameindex.h"

#define CACHE_SIZE 8 /* open datasets kept for read_row */

typedef struct {
    char *path;
    hid_t dset;
    oiqa_dtype dtype;
    int rank;
    hsize_t dims[OIQA_MAX_DIMS];
} open_dset;

/* Mutable behind the const reader: opened datasets, reused by read_row. */
typedef struct {
    open_dset d[CACHE_SIZE];
    int n, next;
} dset_cache;

struct oiqa_store_reader {
    char *path;
    hid_t file;
    oiqa_name_index names;
    dset_cache *cache;
};

void oiqa_store_close(oiqa_store_reader *r)
{
    if (!r) return;
    if (r->cache) {
        for (int i = 0; i < r->cache->n; i++) {
            H5Dclose(r->cache->d[i].dset);
            free(r->cache->d[i].path);
        }
        free(r->cache);
    }
    if (r->file >= 0) H5Fclose(r->file);
    oiqa_name_index_free(&r->names);
    free(r->path);
    free(r);
}

static int check_store(oiqa_store_reader *r, const char *expected_stage, int allow_partial)
{
    const char *p = r->path;
    double schema = 0, complete = 0;
    int a = oiqa_h5_attr_read_double(r->file, "oiqa_schema", &schema);
    if (a == -1) return oiqa_fail(OIQA_EXIT_DATA, p, "not an oiqa feature file (no oiqa_schema attribute)");
    if (a != 0) return oiqa_fail(OIQA_EXIT_DATA, p, "not an oiqa feature file (oiqa_schema is not a number)");
    if (schema != OIQA_SCHEMA_VERSION)
        return oiqa_fail(OIQA_EXIT_DATA, p, "oiqa_schema is %g, expected %d (written by another version of oiqa)",
                         schema, OIQA_SCHEMA_VERSION);
    char *stage = oiqa_h5_attr_read_string(r->file, "stage");
    int rc = OIQA_OK;
    if (!stage) rc = oiqa_fail(OIQA_EXIT_DATA, p, "no stage attribute");
    else if (expected_stage && strcmp(stage, expected_stage))
        rc = oiqa_fail(OIQA_EXIT_DATA, p, "stage is '%s', expected '%s'", stage, expected_stage);
    free(stage);
    if (rc) return rc;
    a = oiqa_h5_attr_read_double(r->file, "complete", &complete);
    if (!allow_partial && (a != 0 || complete != 1)) {
        if (a != 0) return oiqa_fail(OIQA_EXIT_DATA, p, "incomplete (no complete attribute)");
        return oiqa_fail(OIQA_EXIT_DATA, p, "incomplete (complete = %g): the run that wrote it did not finish",
                         complete);
    }
    return OIQA_OK;
}

static int load_names(oiqa_store_reader *r)
{
    const char *p = r->path;
    if (!oiqa_h5_exists(r->file, "/names")) return oiqa_fail(OIQA_EXIT_DATA, p, "no /names dataset");
    hid_t d = H5Dopen2(r->file, "/names", H5P_DEFAULT);
    if (d < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, p, "cannot open /names");
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    hsize_t n = 0;
    char **names = NULL;
    int rc = OIQA_OK;
    if (type < 0 || space < 0 || H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_ndims(space) != 1 ||
        H5Sget_simple_extent_dims(space, &n, NULL) != 1)
        rc = oiqa_fail(OIQA_EXIT_DATA, p, "/names is not a 1-D string dataset");
    else if (n > ((hsize_t)1 << 31))
        rc = oiqa_fail(OIQA_EXIT_DATA, p, "/names has %llu entries, more than oiqa reads", (unsigned long long)n);
    else if (H5Sselect_all(space) < 0 || oiqa_h5_read_strings(d, space, (size_t)n, &names) < 0)
        rc = oiqa_h5_fail(OIQA_EXIT_DATA, p, "cannot read /names");
    for (hsize_t i = 0; !rc && i < n; i++)
        if (oiqa_name_index_add(&r->names, names[i]) < 0) rc = oiqa_fail(OIQA_EXIT_DATA, p, "out of memory");
    oiqa_h5_strings_free(names, (size_t)n);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Dclose(d);
    return rc;
}

int oiqa_store_reader_strings(const oiqa_store_reader *r, const char *dset_path, char ***out, int64_t *n_out)
{
    *out = NULL, *n_out = 0;
    const char *p = r->path;
    if (!oiqa_h5_exists(r->file, dset_path)) return oiqa_fail(OIQA_EXIT_DATA, p, "no %s dataset", dset_path);
    hid_t d = H5Dopen2(r->file, dset_path, H5P_DEFAULT);
    if (d < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, p, "cannot open %s", dset_path);
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    hsize_t n = 0;
    int rc = OIQA_OK;
    if (type < 0 || space < 0 || H5Tget_class(type) != H5T_STRING || H5Sget_simple_extent_ndims(space) != 1 ||
        H5Sget_simple_extent_dims(space, &n, NULL) != 1 || n > ((hsize_t)1 << 31))
        rc = oiqa_fail(OIQA_EXIT_DATA, p, "%s is not a 1-D string dataset", dset_path);
    else if (n && (H5Sselect_all(space) < 0 || oiqa_h5_read_strings(d, space, (size_t)n, out) < 0))
        rc = oiqa_h5_fail(OIQA_EXIT_DATA, p, "cannot read %s", dset_path);
    if (!rc) *n_out = (int64_t)n;
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    H5Dclose(d);
    return rc;
}

void oiqa_store_strings_free(char **v, int64_t n)
{
    oiqa_h5_strings_free(v, (size_t)n);
}

int oiqa_store_open_read(const char *path, const char *expected_stage, int allow_partial, oiqa_store_reader **out)
{
    *out = NULL;
    hid_t file = -1;
    int rc = oiqa_h5_open_file(path, &file);
    if (rc) return rc;
    oiqa_store_reader *r = calloc(1, sizeof *r);
    if (!r) {
        H5Fclose(file);
        return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    }
    r->file = file;
    r->path = oiqa_strdup(path);
    if (!(r->cache = calloc(1, sizeof *r->cache))) {
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
        goto fail;
    }
    if ((rc = check_store(r, expected_stage, allow_partial)) || (rc = load_names(r))) goto fail;
    *out = r;
    return OIQA_OK;
fail:
    oiqa_store_close(r);
    return rc;
}

int64_t oiqa_store_reader_rows(const oiqa_store_reader *r) { return r->names.n; }
hid_t oiqa_store_reader_file_id(const oiqa_store_reader *r) { return r->file; }

const char *oiqa_store_reader_name(const oiqa_store_reader *r, int64_t row)
{
    return row >= 0 && row < r->names.n ? r->names.names[row] : NULL;
}

int64_t oiqa_store_reader_find(const oiqa_store_reader *r, const char *name)
{
    return oiqa_name_index_find(&r->names, name);
}

/* Opens obj_path (root for NULL or "/"); -1 if absent. Close with close_obj. */
static hid_t open_obj(const oiqa_store_reader *r, const char *obj_path)
{
    if (!obj_path || !*obj_path || !strcmp(obj_path, "/")) return r->file;
    if (!oiqa_h5_exists(r->file, obj_path)) return -1;
    return H5Oopen(r->file, obj_path, H5P_DEFAULT);
}

static void close_obj(const oiqa_store_reader *r, hid_t obj)
{
    if (obj >= 0 && obj != r->file) H5Oclose(obj);
}

char *oiqa_store_reader_attr_string(const oiqa_store_reader *r, const char *obj_path, const char *name)
{
    hid_t obj = open_obj(r, obj_path);
    if (obj < 0) return NULL;
    char *v = oiqa_h5_attr_read_string(obj, name);
    close_obj(r, obj);
    return v;
}

int oiqa_store_reader_attr_double(const oiqa_store_reader *r, const char *obj_path, const char *name, double *out)
{
    const char *where = obj_path && *obj_path ? obj_path : "/";
    hid_t obj = open_obj(r, obj_path);
    if (obj < 0) return oiqa_fail(OIQA_EXIT_DATA, r->path, "no %s (looking for its attribute %s)", where, name);
    int a = oiqa_h5_attr_read_double(obj, name, out);
    close_obj(r, obj);
    if (a == -1) return oiqa_fail(OIQA_EXIT_DATA, r->path, "%s has no attribute %s", where, name);
    if (a != 0) return oiqa_fail(OIQA_EXIT_DATA, r->path, "attribute %s of %s is not a number", name, where);
    return OIQA_OK;
}

/* The dataset at path, opened once and kept; NULL with the message set. */
static const open_dset *get_dset(const oiqa_store_reader *r, const char *path)
{
    dset_cache *c = r->cache;
    for (int i = 0; i < c->n; i++)
        if (!strcmp(c->d[i].path, path)) return &c->d[i];
    if (!path || !oiqa_h5_exists(r->file, path)) {
        oiqa_fail(OIQA_EXIT_DATA, r->path, "no dataset %s", path ? path : "(null)");
        return NULL;
    }
    H5O_info_t info;
    if (H5Oget_info_by_name2(r->file, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 ||
        info.type != H5O_TYPE_DATASET) {
        oiqa_fail(OIQA_EXIT_DATA, r->path, "%s is not a dataset", path);
        return NULL;
    }
    open_dset d = {0};
    d.dset = H5Dopen2(r->file, path, H5P_DEFAULT);
    if (d.dset < 0) {
        oiqa_h5_fail(OIQA_EXIT_DATA, r->path, "cannot open %s", path);
        return NULL;
    }
    hid_t type = H5Dget_type(d.dset), space = H5Dget_space(d.dset);
    int type_ok = type >= 0 && oiqa_h5_dtype_of(type, &d.dtype) == 0;
    d.rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    int shape_ok = d.rank >= 0 && d.rank <= OIQA_MAX_DIMS && H5Sget_simple_extent_dims(space, d.dims, NULL) == d.rank;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (!type_ok || !shape_ok) {
        H5Dclose(d.dset);
        if (!type_ok)
            oiqa_fail(OIQA_EXIT_DATA, r->path, "%s has a type oiqa does not read "
                      "(expected uint8, int32, int64, float16, float32 or float64)", path);
        else oiqa_fail(OIQA_EXIT_DATA, r->path, "%s has more than %d axes", path, OIQA_MAX_DIMS);
        return NULL;
    }
    /* Round-robin replacement once the cache is full. */
    int slot = c->n < CACHE_SIZE ? c->n++ : (c->next++ % CACHE_SIZE);
    if (c->d[slot].path) {
        H5Dclose(c->d[slot].dset);
        free(c->d[slot].path);
    }
    d.path = oiqa_strdup(path);
    c->d[slot] = d;
    return &c->d[slot];
}

int oiqa_store_reader_shape(const oiqa_store_reader *r, const char *dset_path, oiqa_dtype *dtype, int *ndim,
                            uint64_t *dims)
{
    const open_dset *d = get_dset(r, dset_path);
    if (!d) return OIQA_EXIT_DATA;
    if (dtype) *dtype = d->dtype;
    if (ndim) *ndim = d->rank;
    for (int k = 0; dims && k < d->rank; k++) dims[k] = d->dims[k];
    return OIQA_OK;
}

static void format_shape(char *buf, size_t n, const char *dtype, int rank, const int64_t *want, const hsize_t *have)
{
    int off = snprintf(buf, n, "%s [", dtype);
    for (int k = 0; k < rank && off > 0 && (size_t)off < n; k++) {
        const char *sep = k ? "," : "";
        if (have) off += snprintf(buf + off, n - (size_t)off, "%s%llu", sep, (unsigned long long)have[k]);
        else if (want[k] >= 0) off += snprintf(buf + off, n - (size_t)off, "%s%lld", sep, (long long)want[k]);
        else off += snprintf(buf + off, n - (size_t)off, "%s%s", sep, k == 0 ? "N" : "*");
    }
    if (off > 0 && (size_t)off < n) snprintf(buf + off, n - (size_t)off, "]");
}

int oiqa_store_reader_expect(const oiqa_store_reader *r, const char *dset_path, oiqa_dtype dtype, int ndim,
                             const int64_t *want)
{
    char expected[200], found[200];
    format_shape(expected, sizeof expected, oiqa_dtype_name(dtype), ndim, want, NULL);
    if (!dset_path || !oiqa_h5_exists(r->file, dset_path))
        return oiqa_fail(OIQA_EXIT_DATA, r->path, "no dataset %s (expected %s)", dset_path ? dset_path : "(null)",
                         expected);
    const open_dset *d = get_dset(r, dset_path);
    if (!d) {
        oiqa_fail_prefix("%s: expected %s", r->path, expected);
        return OIQA_EXIT_DATA;
    }
    int ok = d->dtype == dtype && d->rank == ndim;
    for (int k = 0; ok && k < ndim; k++) ok = want[k] < 0 || (uint64_t)want[k] == d->dims[k];
    if (ok) return OIQA_OK;
    format_shape(found, sizeof found, oiqa_dtype_name(d->dtype), d->rank, NULL, d->dims);
    return oiqa_fail(OIQA_EXIT_DATA, r->path, "%s is %s, expected %s", dset_path, found, expected);
}

/* Reads the selection (or everything when space < 0) as `as`; float16 on
 * either side is converted here, everything else by HDF5. */
static int read_converted(const oiqa_store_reader *r, const open_dset *d, hid_t fspace, size_t elems, oiqa_dtype as,
                          void *buf)
{
    hid_t mspace = -1, mtype = -1;
    void *tmp = NULL;
    int rc = OIQA_EXIT_DATA;
    hsize_t m[1] = {elems};
    int convert_here = d->dtype != as && (d->dtype == OIQA_F16 || as == OIQA_F16);
    oiqa_dtype read_as = convert_here ? d->dtype : as;
    if (elems == 0) return OIQA_OK;
    if (convert_here) {
        if (elems > SIZE_MAX / 8 || !(tmp = malloc(elems * oiqa_dtype_size(read_as))))
            return oiqa_fail(OIQA_EXIT_DATA, r->path, "out of memory reading %s", d->path);
    }
    if ((mtype = oiqa_h5_mem_type(read_as)) < 0) goto h5fail;
    if (fspace >= 0 && (mspace = H5Screate_simple(1, m, NULL)) < 0) goto h5fail;
    if (H5Dread(d->dset, mtype, fspace >= 0 ? mspace : H5S_ALL, fspace >= 0 ? fspace : H5S_ALL, H5P_DEFAULT,
                convert_here ? tmp : buf) < 0)
        goto h5fail;
    if (convert_here) oiqa_convert_elements(tmp, d->dtype, buf, as, elems);
    rc = OIQA_OK;
    goto done;
h5fail:
    rc = oiqa_h5_fail(OIQA_EXIT_DATA, r->path, "cannot read %s", d->path);
done:
    if (mspace >= 0) H5Sclose(mspace);
    if (mtype >= 0) H5Tclose(mtype);
    free(tmp);
    return rc;
}

int oiqa_store_reader_read_row(const oiqa_store_reader *r, const char *dset_path, int64_t row, oiqa_dtype as,
                               void *buf)
{
    const open_dset *d = get_dset(r, dset_path);
    if (!d) return OIQA_EXIT_DATA;
    if (d->rank < 1) return oiqa_fail(OIQA_EXIT_DATA, r->path, "%s is a scalar, not a per-image dataset", dset_path);
    if (row < 0 || (uint64_t)row >= d->dims[0])
        return oiqa_fail(OIQA_EXIT_DATA, r->path, "row %lld of %s is out of range (it has %llu rows)",
                         (long long)row, dset_path, (unsigned long long)d->dims[0]);
    hsize_t start[OIQA_MAX_DIMS] = {0}, count[OIQA_MAX_DIMS];
    size_t elems = 1;
    start[0] = (hsize_t)row;
    count[0] = 1;
    for (int k = 1; k < d->rank; k++) {
        count[k] = d->dims[k];
        if (d->dims[k] && elems > SIZE_MAX / d->dims[k])
            return oiqa_fail(OIQA_EXIT_DATA, r->path, "%s: row too large", dset_path);
        elems *= d->dims[k];
    }
    hid_t fspace = H5Dget_space(d->dset);
    if (fspace < 0 || H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
        if (fspace >= 0) H5Sclose(fspace);
        return oiqa_h5_fail(OIQA_EXIT_DATA, r->path, "cannot select row %lld of %s", (long long)row, dset_path);
    }
    int rc = read_converted(r, d, fspace, elems, as, buf);
    H5Sclose(fspace);
    return rc;
}

int oiqa_store_reader_read_all(const oiqa_store_reader *r, const char *dset_path, oiqa_dtype as, void *buf)
{
    const open_dset *d = get_dset(r, dset_path);
    if (!d) return OIQA_EXIT_DATA;
    size_t elems = 1;
    for (int k = 0; k < d->rank; k++) {
        if (d->dims[k] && elems > SIZE_MAX / d->dims[k])
            return oiqa_fail(OIQA_EXIT_DATA, r->path, "%s: too large", dset_path);
        elems *= d->dims[k];
    }
    return read_converted(r, d, -1, elems, as, buf);
}
