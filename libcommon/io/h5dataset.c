/* Datasets of any HDF5 file, for the inspector and the store reader:
 * opening files and datasets, listing them, naming types and shapes, and
 * reading them block by block with bounded memory. */
#include "io/h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

/* ---- block iteration -------------------------------------------------- */

void oiqa_h5_blocks_init(oiqa_h5_blocks *it, int rank, const hsize_t *start, const hsize_t *count, size_t budget)
{
    memset(it, 0, sizeof *it);
    it->rank = rank;
    if (budget == 0) budget = 1;
    for (int k = 0; k < rank; k++) {
        it->start[k] = start[k];
        it->count[k] = count[k];
        if (count[k] == 0) it->done = 1;
    }
    if (rank == 0 || it->done) {
        it->split = rank - 1;
        return;
    }
    /* The outermost axis whose trailing sub-box fits the budget. */
    size_t inner = 1;
    int k = rank - 1;
    while (k > 0 && it->count[k] <= budget / inner) {
        inner *= it->count[k];
        k--;
    }
    it->split = k;
    hsize_t step = budget / inner;
    if (step < 1) step = 1;
    if (step > it->count[k]) step = it->count[k];
    it->step = step;
}

int oiqa_h5_blocks_next(oiqa_h5_blocks *it)
{
    if (it->done) return 0;
    if (it->rank == 0) {
        /* A scalar is one block of one element. */
        it->belems = 1;
        it->done = 1;
        return 1;
    }
    int k = it->split;
    size_t elems = 1;
    for (int a = 0; a < it->rank; a++) {
        if (a < k) it->bcount[a] = 1;
        else if (a == k) {
            hsize_t left = it->count[a] - it->pos[a];
            it->bcount[a] = left < it->step ? left : it->step;
        } else it->bcount[a] = it->count[a];
        it->bstart[a] = it->start[a] + it->pos[a];
        elems *= it->bcount[a];
    }
    it->belems = elems;
    /* Advance: along the split axis, carrying into the outer axes. */
    it->pos[k] += it->bcount[k];
    int a = k;
    while (a >= 0 && it->pos[a] >= it->count[a]) {
        it->pos[a] = 0;
        if (--a >= 0) it->pos[a]++;
    }
    if (a < 0) it->done = 1;
    return 1;
}

int oiqa_h5_blocks_read(const oiqa_h5_blocks *it, hid_t dset, hid_t mem_type, void *buf)
{
    if (it->rank == 0) return H5Dread(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0 ? -1 : 0;
    int rc = -1;
    hid_t fspace = H5Dget_space(dset), mspace = -1;
    hsize_t m[1] = {it->belems};
    if (fspace < 0) return -1;
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, it->bstart, NULL, it->bcount, NULL) < 0) goto done;
    if ((mspace = H5Screate_simple(1, m, NULL)) < 0) goto done;
    if (H5Dread(dset, mem_type, mspace, fspace, H5P_DEFAULT, buf) < 0) goto done;
    rc = 0;
done:
    if (mspace >= 0) H5Sclose(mspace);
    H5Sclose(fspace);
    return rc;
}

/* ---- for the inspector ------------------------------------------------ */

int oiqa_h5_open_file(const char *path, hid_t *file)
{
    struct stat st;
    *file = -1;
    oiqa_h5_quiet();
    if (stat(path, &st) != 0) {
        if (errno == ENOENT) return oiqa_fail(OIQA_EXIT_DATA, path, "no such file");
        return oiqa_fail(OIQA_EXIT_DATA, path, "cannot open (%s)", oiqa_strerror(errno));
    }
    if (S_ISDIR(st.st_mode)) return oiqa_fail(OIQA_EXIT_DATA, path, "is a directory");
    int fd = open(path, O_RDONLY);
    if (fd < 0) return oiqa_fail(OIQA_EXIT_DATA, path, "cannot open (%s)", oiqa_strerror(errno));
    close(fd);
    if (H5Fis_hdf5(path) <= 0) return oiqa_fail(OIQA_EXIT_DATA, path, "not an HDF5 file");
    hid_t fapl = oiqa_h5_fapl();
    if (fapl < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, path, "cannot set up HDF5 file access");
    *file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    int rc = OIQA_OK;
    if (*file < 0) rc = oiqa_h5_open_failure(path, "cannot open HDF5 file"); /* before H5Pclose clears the stack */
    H5Pclose(fapl);
    return rc;
}

static void append_text(char *buf, size_t n, size_t *off, const char *text)
{
    if (*off >= n) return;
    int w = snprintf(buf + *off, n - *off, "%s", text);
    *off += w > 0 ? (size_t)w : 0;
}

void oiqa_h5_type_name(hid_t type, char *buf, size_t n)
{
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type), off = 0;
    const char *be = H5Tget_order(type) == H5T_ORDER_BE ? " (big-endian)" : "";
    char part[256];
    buf[0] = '\0';
    switch (cls) {
    case H5T_INTEGER:
        snprintf(buf, n, "%sint%zu%s", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", size * 8, be);
        return;
    case H5T_FLOAT: {
        oiqa_dtype t;
        size_t spos, epos, esize, mpos, msize;
        if (oiqa_h5_dtype_of(type, &t) == 0) snprintf(buf, n, "%s%s", oiqa_dtype_name(t), be);
        else if (size == 2 && H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) >= 0 && esize == 8 &&
                 msize == 7)
            snprintf(buf, n, "bfloat16%s", be);
        else snprintf(buf, n, "float (%zu bytes)%s", size, be);
        return;
    }
    case H5T_STRING:
        if (H5Tis_variable_str(type) > 0) snprintf(buf, n, "string");
        else snprintf(buf, n, "string[%zu]", size);
        return;
    case H5T_COMPOUND: {
        int nm = H5Tget_nmembers(type);
        append_text(buf, n, &off, "compound {");
        for (int i = 0; i < nm && i < 16; i++) {
            char *name = H5Tget_member_name(type, (unsigned)i);
            hid_t mt = H5Tget_member_type(type, (unsigned)i);
            char mname[128] = "?";
            if (mt >= 0) oiqa_h5_type_name(mt, mname, sizeof mname);
            snprintf(part, sizeof part, "%s%s: %s", i ? ", " : "", name ? name : "?", mname);
            append_text(buf, n, &off, part);
            if (mt >= 0) H5Tclose(mt);
            if (name) H5free_memory(name);
        }
        append_text(buf, n, &off, nm > 16 ? ", ...}" : "}");
        return;
    }
    case H5T_ENUM:
    case H5T_ARRAY:
    case H5T_VLEN: {
        hid_t base = H5Tget_super(type);
        char bname[160] = "?";
        if (base >= 0) oiqa_h5_type_name(base, bname, sizeof bname);
        if (base >= 0) H5Tclose(base);
        if (cls == H5T_ENUM) snprintf(buf, n, "enum of %s", bname);
        else if (cls == H5T_VLEN) snprintf(buf, n, "vlen of %s", bname);
        else {
            hsize_t adims[H5S_MAX_RANK];
            int ar = H5Tget_array_ndims(type);
            if (ar > 0 && ar <= H5S_MAX_RANK && H5Tget_array_dims2(type, adims) == ar)
                oiqa_h5_shape_name(ar, adims, part, sizeof part);
            else snprintf(part, sizeof part, "[?]");
            snprintf(buf, n, "array%s of %s", part, bname);
        }
        return;
    }
    case H5T_OPAQUE: snprintf(buf, n, "opaque (%zu bytes)", size); return;
    case H5T_BITFIELD: snprintf(buf, n, "bitfield%zu", size * 8); return;
    case H5T_REFERENCE: snprintf(buf, n, "reference"); return;
    case H5T_TIME: snprintf(buf, n, "time"); return;
    default: snprintf(buf, n, "unknown type"); return;
    }
}

void oiqa_h5_shape_name(int rank, const hsize_t *dims, char *buf, size_t n)
{
    size_t off = 0;
    char part[32];
    buf[0] = '\0';
    append_text(buf, n, &off, "[");
    for (int k = 0; k < rank; k++) {
        snprintf(part, sizeof part, "%s%llu", k ? "," : "", (unsigned long long)dims[k]);
        append_text(buf, n, &off, part);
    }
    append_text(buf, n, &off, "]");
}

void oiqa_h5_dset_close(oiqa_h5_dset *d)
{
    if (d->space >= 0) H5Sclose(d->space);
    if (d->type >= 0) H5Tclose(d->type);
    if (d->dset >= 0) H5Dclose(d->dset);
    free(d->path);
    memset(d, 0, sizeof *d);
    d->dset = d->type = d->space = -1;
}

int oiqa_h5_dset_open(hid_t file, const char *fname, const char *path, oiqa_h5_dset *d)
{
    memset(d, 0, sizeof *d);
    d->dset = d->type = d->space = -1;
    if (!oiqa_h5_exists(file, path)) return oiqa_fail(OIQA_EXIT_DATA, fname, "no dataset %s", path);
    H5O_info_t info;
    if (H5Oget_info_by_name2(file, path, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0 || info.type != H5O_TYPE_DATASET)
        return oiqa_fail(OIQA_EXIT_DATA, fname, "%s is not a dataset", path);
    if ((d->dset = H5Dopen2(file, path, H5P_DEFAULT)) < 0 || (d->type = H5Dget_type(d->dset)) < 0 ||
        (d->space = H5Dget_space(d->dset)) < 0) {
        int rc = oiqa_h5_fail(OIQA_EXIT_DATA, fname, "cannot open %s", path);
        oiqa_h5_dset_close(d);
        return rc;
    }
    d->rank = H5Sget_simple_extent_ndims(d->space);
    if (d->rank < 0 || d->rank > H5S_MAX_RANK || H5Sget_simple_extent_dims(d->space, d->dims, NULL) != d->rank) {
        oiqa_h5_dset_close(d);
        return oiqa_fail(OIQA_EXIT_DATA, fname, "%s has a dataspace oiqa cannot read", path);
    }
    d->elems = 1;
    for (int k = 0; k < d->rank; k++)
        d->elems = d->dims[k] && d->elems > SIZE_MAX / d->dims[k] ? SIZE_MAX : d->elems * d->dims[k];
    double per_image = 0;
    d->per_image = d->rank >= 1 && oiqa_h5_attr_read_double(d->dset, "per_image", &per_image) == 0 && per_image == 1;
    d->path = malloc(strlen(path) + 1);
    if (!d->path) {
        oiqa_h5_dset_close(d);
        return oiqa_fail(OIQA_EXIT_DATA, fname, "out of memory");
    }
    strcpy(d->path, path);
    return OIQA_OK;
}

typedef struct {
    char **paths;
    size_t n, cap;
    int oom;
} path_list;

static herr_t collect_dataset(hid_t root, const char *name, const H5O_info_t *info, void *data)
{
    path_list *l = data;
    (void)root;
    if (info->type != H5O_TYPE_DATASET) return 0;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **p = realloc(l->paths, cap * sizeof *p);
        if (!p) goto oom;
        l->paths = p, l->cap = cap;
    }
    size_t len = strlen(name);
    if (!(l->paths[l->n] = malloc(len + 2))) goto oom;
    l->paths[l->n][0] = '/';
    memcpy(l->paths[l->n] + 1, name, len + 1);
    l->n++;
    return 0;
oom:
    l->oom = 1;
    return 1;
}

static int compare_paths(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int oiqa_h5_list_datasets(hid_t file, const char *fname, char ***paths, size_t *n)
{
    path_list l = {0};
    *paths = NULL, *n = 0;
    herr_t e = H5Ovisit2(file, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &l, H5O_INFO_BASIC);
    if (e < 0 || l.oom) {
        int rc = l.oom ? oiqa_fail(OIQA_EXIT_DATA, fname, "out of memory") :
                         oiqa_h5_fail(OIQA_EXIT_DATA, fname, "cannot walk the file");
        oiqa_h5_strings_free(l.paths, l.n);
        return rc;
    }
    if (l.n) qsort(l.paths, l.n, sizeof *l.paths, compare_paths);
    *paths = l.paths, *n = l.n;
    return OIQA_OK;
}

int oiqa_h5_read_names(hid_t file, const char *fname, char ***names, size_t *n)
{
    *names = NULL, *n = 0;
    if (!oiqa_h5_exists(file, "/names")) return OIQA_OK;
    oiqa_h5_dset d;
    if (oiqa_h5_dset_open(file, fname, "/names", &d)) return OIQA_OK; /* e.g. a group called names */
    int rc = OIQA_OK;
    if (d.rank == 1 && H5Tget_class(d.type) == H5T_STRING) {
        if (d.dims[0] > ((hsize_t)1 << 31))
            rc = oiqa_fail(OIQA_EXIT_DATA, fname, "/names has %llu entries, more than oiqa reads",
                           (unsigned long long)d.dims[0]);
        else if (H5Sselect_all(d.space) < 0 || oiqa_h5_read_strings(d.dset, d.space, (size_t)d.dims[0], names) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, fname, "cannot read /names");
        else *n = (size_t)d.dims[0];
    }
    oiqa_h5_dset_close(&d);
    return rc;
}
