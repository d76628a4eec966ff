/* HDF5 basics shared by the store and the inspector: error text, file
 * access, the store's types, attributes and string datasets. */
#include "io/h5util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static void copy_line(char *dst, size_t n, const char *line, size_t len, int at_end)
{
    if (at_end) snprintf(dst, n, "(end)");
    else snprintf(dst, n, "%.*s", (int)(len < 120 ? len : 120), line);
}

int oiqa_first_differing_line(const char *a, const char *b, char *la, char *lb, size_t n)
{
    int a_done = !*a, b_done = !*b; /* past the last line */
    for (int line = 1;; line++) {
        size_t na = a_done ? 0 : strcspn(a, "\n"), nb = b_done ? 0 : strcspn(b, "\n");
        if (a_done && b_done) return 0;
        if (a_done != b_done || na != nb || memcmp(a, b, na)) {
            copy_line(la, n, a, na, a_done);
            copy_line(lb, n, b, nb, b_done);
            return line;
        }
        /* A text ends after its last newline (or at its end without one). */
        a += na, b += nb;
        if (*a == '\n') a++;
        if (*b == '\n') b++;
        a_done = !*a, b_done = !*b;
    }
}

int oiqa_h5_open_failure(const char *path, const char *what)
{
    char reason[384];
    oiqa_h5_reason(reason, sizeof reason);
    if (strstr(reason, "unable to lock file"))
        return oiqa_fail(OIQA_EXIT_DATA, path,
                         "%s: another process has it open for writing (is a run still writing it?)", what);
    if (*reason) return oiqa_fail(OIQA_EXIT_DATA, path, "%s (HDF5: %s)", what, reason);
    return oiqa_fail(OIQA_EXIT_DATA, path, "%s", what);
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
