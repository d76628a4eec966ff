#include "io/h5util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"

void oiqa_h5_quiet(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

typedef struct {
    char *buf;
    size_t n;
    int found;
} reason_walk;

static herr_t take_innermost(unsigned n, const H5E_error2_t *err, void *data)
{
    reason_walk *w = data;
    (void)n;
    if (w->found || !err->desc || !*err->desc) return 0;
    snprintf(w->buf, w->n, "%s", err->desc);
    w->found = 1;
    return 0;
}

void oiqa_h5_reason(char *buf, size_t n)
{
    reason_walk w = {buf, n, 0};
    buf[0] = '\0';
    /* Upward walks start at the innermost call, where the cause is named. */
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, take_innermost, &w);
}

int oiqa_h5_fail(int code, const char *path, const char *what, ...)
{
    char text[512], reason[384];
    va_list ap;
    va_start(ap, what);
    vsnprintf(text, sizeof text, what, ap);
    va_end(ap);
    oiqa_h5_reason(reason, sizeof reason);
    if (*reason) return oiqa_fail(code, path, "%s (HDF5: %s)", text, reason);
    return oiqa_fail(code, path, "%s", text);
}

hid_t oiqa_h5_fapl(void)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0) return -1;
    /* v18 bounds: dense attribute storage (long attributes) without the 1.10
     * superblock whose SWMR status flags would make a killed run's file
     * unopenable until h5clear. */
    if (H5Pset_libver_bounds(fapl, H5F_LIBVER_V18, H5F_LIBVER_V18) < 0 ||
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0 ||
        H5Pset_file_locking(fapl, 1, 1) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

hid_t oiqa_h5_f16_type(void)
{
    /* The layout h5py uses for numpy float16, so h5py reads it back as 'f2'. */
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return -1;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

hid_t oiqa_h5_file_type(oiqa_dtype t)
{
    switch (t) {
    case OIQA_U8: return H5Tcopy(H5T_STD_U8LE);
    case OIQA_I32: return H5Tcopy(H5T_STD_I32LE);
    case OIQA_I64: return H5Tcopy(H5T_STD_I64LE);
    case OIQA_F16: return oiqa_h5_f16_type();
    case OIQA_F32: return H5Tcopy(H5T_IEEE_F32LE);
    case OIQA_F64: return H5Tcopy(H5T_IEEE_F64LE);
    }
    return -1;
}

hid_t oiqa_h5_mem_type(oiqa_dtype t)
{
    switch (t) {
    case OIQA_U8: return H5Tcopy(H5T_NATIVE_UINT8);
    case OIQA_I32: return H5Tcopy(H5T_NATIVE_INT32);
    case OIQA_I64: return H5Tcopy(H5T_NATIVE_INT64);
    case OIQA_F16: return oiqa_h5_f16_type(); /* x86 and arm64 are little-endian */
    case OIQA_F32: return H5Tcopy(H5T_NATIVE_FLOAT);
    case OIQA_F64: return H5Tcopy(H5T_NATIVE_DOUBLE);
    }
    return -1;
}

hid_t oiqa_h5_vlen_utf8(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    if (t < 0) return -1;
    if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

int oiqa_h5_dtype_of(hid_t type, oiqa_dtype *out)
{
    H5T_class_t cls = H5Tget_class(type);
    size_t size = H5Tget_size(type);
    if (cls == H5T_INTEGER) {
        H5T_sign_t sign = H5Tget_sign(type);
        if (size == 1 && sign == H5T_SGN_NONE) { *out = OIQA_U8; return 0; }
        if (size == 4 && sign == H5T_SGN_2) { *out = OIQA_I32; return 0; }
        if (size == 8 && sign == H5T_SGN_2) { *out = OIQA_I64; return 0; }
        return -1;
    }
    if (cls == H5T_FLOAT) {
        size_t spos, epos, esize, mpos, msize;
        if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0) return -1;
        if (size == 2 && esize == 5 && msize == 10) { *out = OIQA_F16; return 0; }
        if (size == 4 && esize == 8 && msize == 23) { *out = OIQA_F32; return 0; }
        if (size == 8 && esize == 11 && msize == 52) { *out = OIQA_F64; return 0; }
    }
    return -1;
}

int oiqa_h5_is_numeric(hid_t type)
{
    H5T_class_t cls = H5Tget_class(type);
    return cls == H5T_INTEGER || cls == H5T_FLOAT;
}

int oiqa_h5_exists(hid_t loc, const char *path)
{
    if (!path || !*path) return 0;
    if (!strcmp(path, "/")) return 1;
    size_t len = strlen(path);
    char *p = malloc(len + 1);
    if (!p) return 0;
    memcpy(p, path, len + 1);
    int ok = 1;
    /* H5Lexists fails (rather than saying 0) when an intermediate group is
     * missing, so test each prefix in turn. */
    for (size_t i = 1; i <= len && ok; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        if (i > 0 && p[i - 1] == '/') continue;
        char saved = p[i];
        p[i] = '\0';
        ok = H5Lexists(loc, p, H5P_DEFAULT) > 0 && H5Oexists_by_name(loc, p, H5P_DEFAULT) > 0;
        p[i] = saved;
    }
    free(p);
    return ok;
}

/* ---- attributes ------------------------------------------------------- */

static int attr_replace(hid_t obj, const char *name, hid_t type, const void *value)
{
    int rc = -1;
    hid_t space = -1, attr = -1;
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0) return -1;
    if (exists && H5Adelete(obj, name) < 0) return -1;
    if ((space = H5Screate(H5S_SCALAR)) < 0) goto done;
    if ((attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto done;
    if (H5Awrite(attr, type, value) < 0) goto done;
    rc = 0;
done:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return rc;
}

int oiqa_h5_attr_write_string(hid_t obj, const char *name, const char *value)
{
    hid_t t = oiqa_h5_vlen_utf8();
    if (t < 0) return -1;
    const char *v = value ? value : "";
    int rc = attr_replace(obj, name, t, &v);
    H5Tclose(t);
    return rc;
}

int oiqa_h5_attr_write_i64(hid_t obj, const char *name, int64_t value)
{
    /* h5py stores Python ints as int64; so do we. */
    return attr_replace(obj, name, H5T_NATIVE_INT64, &value);
}

int oiqa_h5_attr_write_f64(hid_t obj, const char *name, double value)
{
    return attr_replace(obj, name, H5T_NATIVE_DOUBLE, &value);
}

/* Opens attribute `name` if it exists and holds exactly one element. */
static hid_t open_single_attr(hid_t obj, const char *name, hid_t *type)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0) return -1;
    hid_t space = H5Aget_space(attr);
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    if (space >= 0) H5Sclose(space);
    *type = n == 1 ? H5Aget_type(attr) : -1;
    if (*type < 0) {
        H5Aclose(attr);
        return -1;
    }
    return attr;
}

char *oiqa_h5_attr_read_string(hid_t obj, const char *name)
{
    hid_t type = -1, mem = -1;
    hid_t attr = open_single_attr(obj, name, &type);
    char *result = NULL;
    if (attr < 0) return NULL;
    if (H5Tget_class(type) != H5T_STRING) goto done;
    if (H5Tis_variable_str(type) > 0) {
        char *v = NULL;
        if ((mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, H5T_VARIABLE) < 0 ||
            H5Tset_cset(mem, H5Tget_cset(type)) < 0)
            goto done;
        if (H5Aread(attr, mem, &v) < 0) goto done;
        size_t len = v ? strlen(v) : 0;
        result = malloc(len + 1);
        if (result) memcpy(result, v ? v : "", len + 1);
        /* The scalar space reclaims the one string H5Aread allocated. */
        hid_t space = H5Screate(H5S_SCALAR);
        if (space >= 0) {
            H5Dvlen_reclaim(mem, space, H5P_DEFAULT, &v);
            H5Sclose(space);
        }
    } else {
        size_t size = H5Tget_size(type);
        if (size == 0 || size > ((size_t)1 << 30)) goto done;
        if ((mem = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_size(mem, size + 1) < 0 ||
            H5Tset_strpad(mem, H5T_STR_NULLTERM) < 0 || H5Tset_cset(mem, H5Tget_cset(type)) < 0)
            goto done;
        result = calloc(1, size + 1);
        if (result && H5Aread(attr, mem, result) < 0) {
            free(result);
            result = NULL;
        }
    }
done:
    if (mem >= 0) H5Tclose(mem);
    H5Tclose(type);
    H5Aclose(attr);
    return result;
}

int oiqa_h5_attr_read_double(hid_t obj, const char *name, double *out)
{
    if (H5Aexists(obj, name) <= 0) return -1;
    hid_t type = -1;
    hid_t attr = open_single_attr(obj, name, &type);
    if (attr < 0) return -2;
    int rc = -2;
    if (oiqa_h5_is_numeric(type) && H5Aread(attr, H5T_NATIVE_DOUBLE, out) >= 0) rc = 0;
    H5Tclose(type);
    H5Aclose(attr);
    return rc;
}

int oiqa_h5_attr_copy(hid_t src, const char *name, hid_t dst)
{
    int rc = -1;
    hid_t attr = -1, ftype = -1, mtype = -1, space = -1, out = -1;
    void *buf = NULL;
    if ((attr = H5Aopen(src, name, H5P_DEFAULT)) < 0) goto done;
    if ((ftype = H5Aget_type(attr)) < 0 || (space = H5Aget_space(attr)) < 0) goto done;
    if ((mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND)) < 0) goto done;
    hssize_t n = H5Sget_simple_extent_npoints(space);
    size_t esize = H5Tget_size(mtype);
    if (n < 0 || esize == 0 || (size_t)n > ((size_t)1 << 32) / esize) goto done;
    if (!(buf = calloc((size_t)n ? (size_t)n : 1, esize))) goto done;
    if (H5Aread(attr, mtype, buf) < 0) goto done;
    htri_t exists = H5Aexists(dst, name);
    if (exists < 0 || (exists && H5Adelete(dst, name) < 0)) goto reclaim;
    if ((out = H5Acreate2(dst, name, ftype, space, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto reclaim;
    if (H5Awrite(out, mtype, buf) < 0) goto reclaim;
    rc = 0;
reclaim:
    /* Frees variable-length parts (strings, vlen) the read allocated. */
    H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
done:
    free(buf);
    if (out >= 0) H5Aclose(out);
    if (mtype >= 0) H5Tclose(mtype);
    if (space >= 0) H5Sclose(space);
    if (ftype >= 0) H5Tclose(ftype);
    if (attr >= 0) H5Aclose(attr);
    return rc;
}

/* ---- strings ---------------------------------------------------------- */

void oiqa_h5_strings_free(char **v, size_t n)
{
    if (!v) return;
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

int oiqa_h5_read_strings(hid_t dset, hid_t space, size_t count, char ***out)
{
    int rc = -1;
    hid_t ftype = -1, mtype = -1, mspace = -1;
    char **result = NULL, *fixed = NULL;
    char **vlen = NULL;
    size_t fsize = 0;
    *out = NULL;
    if ((ftype = H5Dget_type(dset)) < 0 || H5Tget_class(ftype) != H5T_STRING) goto done;
    if (count > ((size_t)1 << 31)) goto done;
    if (!(result = calloc(count ? count : 1, sizeof *result))) goto done;
    hsize_t mdims[1] = {count};
    if ((mspace = H5Screate_simple(1, mdims, NULL)) < 0) goto done;
    if ((mtype = H5Tcopy(H5T_C_S1)) < 0 || H5Tset_cset(mtype, H5Tget_cset(ftype)) < 0) goto done;
    if (count == 0) {
        rc = 0;
        goto done;
    }
    if (H5Tis_variable_str(ftype) > 0) {
        if (H5Tset_size(mtype, H5T_VARIABLE) < 0) goto done;
        if (!(vlen = calloc(count, sizeof *vlen))) goto done;
        if (H5Dread(dset, mtype, mspace, space, H5P_DEFAULT, vlen) < 0) goto done;
        rc = 0;
        for (size_t i = 0; i < count && rc == 0; i++) {
            const char *s = vlen[i] ? vlen[i] : "";
            size_t len = strlen(s);
            if (!(result[i] = malloc(len + 1))) rc = -1;
            else memcpy(result[i], s, len + 1);
        }
        H5Dvlen_reclaim(mtype, mspace, H5P_DEFAULT, vlen);
    } else {
        fsize = H5Tget_size(ftype);
        if (fsize == 0 || fsize > ((size_t)1 << 20) || count > ((size_t)1 << 32) / (fsize + 1)) goto done;
        if (H5Tset_size(mtype, fsize + 1) < 0 || H5Tset_strpad(mtype, H5T_STR_NULLTERM) < 0) goto done;
        if (!(fixed = calloc(count, fsize + 1))) goto done;
        if (H5Dread(dset, mtype, mspace, space, H5P_DEFAULT, fixed) < 0) goto done;
        rc = 0;
        for (size_t i = 0; i < count && rc == 0; i++) {
            const char *s = fixed + i * (fsize + 1);
            size_t len = strnlen(s, fsize);
            if (!(result[i] = malloc(len + 1))) rc = -1;
            else {
                memcpy(result[i], s, len);
                result[i][len] = '\0';
            }
        }
    }
done:
    free(vlen);
    free(fixed);
    if (mspace >= 0) H5Sclose(mspace);
    if (mtype >= 0) H5Tclose(mtype);
    if (ftype >= 0) H5Tclose(ftype);
    if (rc == 0) *out = result;
    else oiqa_h5_strings_free(result, count);
    return rc;
}

int oiqa_h5_append_string(hid_t dset, hid_t str_type, hsize_t row, const char *value)
{
    int rc = -1;
    hid_t fspace = -1, mspace = -1, dxpl = -1;
    hsize_t dims[1] = {row + 1}, start[1] = {row}, one[1] = {1};
    const char *v = value ? value : "";
    if (H5Dset_extent(dset, dims) < 0) return -1;
    if ((fspace = H5Dget_space(dset)) < 0) goto done;
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, one, NULL) < 0) goto done;
    if ((mspace = H5Screate_simple(1, one, NULL)) < 0) goto done;
    /* A string write goes through HDF5's type conversion buffer, which it
     * zeroes on every call: the default 1 MiB made appends ten times slower. */
    if ((dxpl = H5Pcreate(H5P_DATASET_XFER)) < 0 || H5Pset_buffer(dxpl, 4096, NULL, NULL) < 0) goto done;
    if (H5Dwrite(dset, str_type, mspace, fspace, dxpl, &v) < 0) goto done;
    rc = 0;
done:
    if (dxpl >= 0) H5Pclose(dxpl);
    if (mspace >= 0) H5Sclose(mspace);
    if (fspace >= 0) H5Sclose(fspace);
    return rc;
}

int oiqa_h5_deflate_level(hid_t dset, int *shuffle)
{
    hid_t dcpl = H5Dget_create_plist(dset);
    int level = 0, other = 0;
    *shuffle = 0;
    if (dcpl < 0) return -1;
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char name[64];
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL);
        if (id == H5Z_FILTER_SHUFFLE) *shuffle = 1;
        else if (id == H5Z_FILTER_DEFLATE) level = ncd > 0 ? (int)cd[0] : 6;
        else other = 1;
    }
    H5Pclose(dcpl);
    return other ? -1 : level;
}

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
    H5Pclose(fapl);
    if (*file < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, path, "cannot open HDF5 file");
    return OIQA_OK;
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
            if (ar > 0 && ar <= H5S_MAX_RANK && H5Tget_array_dims2(type, adims) == ar) oiqa_h5_shape_name(ar, adims, part, sizeof part);
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
