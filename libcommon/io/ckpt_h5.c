/* oiqa HDF5 weight files: the reader behind oiqa_ckpt_open and the writer
 * behind `oiqa-weights convert` (layout in io/ckpt_h5.h, docs/weights.md).
 * The reader copies every dataset into one heap buffer that replaces the
 * file mapping, so the rest of the oiqa_ckpt API works unchanged. */
#include "io/ckpt_h5.h"

#include "base/error.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "io/ckpt_internal.h"
#include "io/h5util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define TENSORS_GROUP "tensors"

int oiqa_ckpt_read_raw(const oiqa_ckpt *ck, const oiqa_ck_tensor *t, void *dst)
{
    size_t es = oiqa_ck_dtype_size(t->dtype);
    if (!es)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: its storage type is not one the reader knows", t->name);
    const uint8_t *p = (const uint8_t *)oiqa_ckpt_storage(ck, t);
    uint8_t *out = dst;
    /* Walk the multi-index in row-major order; off follows it. */
    int64_t idx[OIQA_CK_MAX_DIMS] = {0}, off = t->storage_offset;
    for (int64_t i = 0; i < t->numel; i++) {
        memcpy(out + (size_t)i * es, p + (size_t)off * es, es);
        oiqa_ck_step(t, idx, &off);
    }
    return OIQA_OK;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    char **names;
    int n, cap;
} link_list;

static herr_t collect_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    (void)g, (void)info;
    link_list *l = data;
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->names, (size_t)cap * sizeof *v);
        if (!v) return -1;
        l->names = v, l->cap = cap;
    }
    if (!(l->names[l->n] = strdup(name))) return -1;
    l->n++;
    return 0;
}

/* The checkpoint dtype of a stored dataset type; UNKNOWN when none fits. */
static oiqa_ck_dtype dtype_of_h5(hid_t type, const char *source_dtype)
{
    size_t size = H5Tget_size(type);
    switch (H5Tget_class(type)) {
    case H5T_FLOAT: return size == 2 ? OIQA_CK_F16 : size == 4 ? OIQA_CK_F32 : size == 8 ? OIQA_CK_F64 : OIQA_CK_UNKNOWN;
    case H5T_INTEGER:
        if (H5Tget_sign(type) == H5T_SGN_NONE)
            return size != 1 ? OIQA_CK_UNKNOWN
                   : source_dtype && !strcmp(source_dtype, "BOOL") ? OIQA_CK_BOOL
                                                                    : OIQA_CK_U8;
        return size == 8 ? OIQA_CK_I64 : size == 4 ? OIQA_CK_I32 : size == 2 ? OIQA_CK_I16 : size == 1 ? OIQA_CK_I8
                                                                                                        : OIQA_CK_UNKNOWN;
    default: return OIQA_CK_UNKNOWN;
    }
}

/* The little-endian HDF5 type that stores dt (BF16 is stored as float32). */
static hid_t h5_type_of(oiqa_ck_dtype dt)
{
    switch (dt) {
    case OIQA_CK_F16: return oiqa_h5_f16_type();
    case OIQA_CK_F32:
    case OIQA_CK_BF16: return H5Tcopy(H5T_IEEE_F32LE);
    case OIQA_CK_F64: return H5Tcopy(H5T_IEEE_F64LE);
    case OIQA_CK_I64: return H5Tcopy(H5T_STD_I64LE);
    case OIQA_CK_I32: return H5Tcopy(H5T_STD_I32LE);
    case OIQA_CK_I16: return H5Tcopy(H5T_STD_I16LE);
    case OIQA_CK_I8: return H5Tcopy(H5T_STD_I8LE);
    case OIQA_CK_U8:
    case OIQA_CK_BOOL: return H5Tcopy(H5T_STD_U8LE);
    default: return -1;
    }
}

/* Appends the dataset `link` of group g as a tensor, its bytes at the end of *blob. */
static int read_one(oiqa_ckpt *ck, hid_t g, const char *link, uint8_t **blob, size_t *used)
{
    int rc = OIQA_EXIT_DATA;
    hid_t d = H5Dopen2(g, link, H5P_DEFAULT), type = -1, space = -1, mem = -1;
    char *key = NULL, *src_dt = NULL;
    if (d < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, ck->path, "/%s/%s: not a dataset", TENSORS_GROUP, link);
    key = oiqa_h5_attr_read_string(d, "key");
    src_dt = oiqa_h5_attr_read_string(d, "source_dtype");
    type = H5Dget_type(d), space = H5Dget_space(d);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (type < 0 || rank < 0 || rank > OIQA_CK_MAX_DIMS) {
        oiqa_fail(rc, ck->path, "/%s/%s: unreadable or more than %d dimensions", TENSORS_GROUP, link, OIQA_CK_MAX_DIMS);
        goto done;
    }
    oiqa_ck_dtype dt = dtype_of_h5(type, src_dt);
    if (dt == OIQA_CK_UNKNOWN) {
        oiqa_fail(rc, ck->path, "/%s/%s: a type that is not a checkpoint dtype", TENSORS_GROUP, link);
        goto done;
    }
    const char *name = key ? key : link;
    oiqa_ck_tensor *t = ckpt_add_tensor(ck, name, strlen(name));
    if (!t) goto done;
    hsize_t dims[OIQA_CK_MAX_DIMS];
    H5Sget_simple_extent_dims(space, dims, NULL);
    t->dtype = dt, t->ndim = rank;
    int64_t numel = 1;
    for (int i = rank - 1; i >= 0; i--) {
        t->shape[i] = (int64_t)dims[i], t->stride[i] = numel;
        numel *= (int64_t)dims[i];
    }
    size_t es = oiqa_ck_dtype_size(dt), bytes = (size_t)numel * es;
    *used = (*used + 7) & ~(size_t)7; /* each storage 8-byte aligned in the blob */
    uint8_t *grown = realloc(*blob, *used + bytes + 1);
    if (!grown) {
        oiqa_fail(rc, ck->path, "out of memory");
        goto done;
    }
    *blob = grown;
    t->file_offset = *used, t->storage_bytes = bytes;
    mem = h5_type_of(dt);
    if (bytes && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, grown + *used) < 0) {
        oiqa_h5_fail(rc, ck->path, "cannot read /%s/%s", TENSORS_GROUP, link);
        goto done;
    }
    *used += bytes;
    rc = ckpt_check_extent(ck, t);
done:
    free(key), free(src_dt);
    if (mem >= 0) H5Tclose(mem);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    H5Dclose(d);
    return rc;
}

static int read_weights_file(oiqa_ckpt *ck, hid_t file)
{
    double schema;
    int has = oiqa_h5_attr_read_double(file, "oiqa_weights_schema", &schema);
    if (has != 0)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "an HDF5 file but not an oiqa weight file (no oiqa_weights_schema attribute; "
                         "make one with oiqa-weights convert)");
    if (schema != OIQA_WEIGHTS_SCHEMA)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "oiqa weight file of schema %g; this build reads schema %d",
                         schema, OIQA_WEIGHTS_SCHEMA);
    if (!oiqa_h5_exists(file, "/" TENSORS_GROUP))
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "oiqa weight file without its /%s group", TENSORS_GROUP);
    hid_t g = H5Gopen2(file, "/" TENSORS_GROUP, H5P_DEFAULT);
    if (g < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, ck->path, "cannot open /%s", TENSORS_GROUP);
    link_list links = {0};
    hsize_t at = 0;
    int rc = OIQA_OK;
    /* Creation order is the source's tensor order; fall back to names. */
    if (H5Literate(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, &at, collect_link, &links) < 0) {
        for (int i = 0; i < links.n; i++) free(links.names[i]);
        links.n = 0, at = 0;
        if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &at, collect_link, &links) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, ck->path, "cannot list /%s", TENSORS_GROUP);
    }
    uint8_t *blob = NULL;
    size_t used = 0;
    for (int i = 0; i < links.n && !rc; i++) rc = read_one(ck, g, links.names[i], &blob, &used);
    for (int i = 0; i < links.n; i++) free(links.names[i]);
    free(links.names);
    H5Gclose(g);
    if (!rc && !blob && !(blob = malloc(1))) rc = oiqa_fail(OIQA_EXIT_DATA, ck->path, "out of memory");
    if (rc) {
        free(blob);
        return rc;
    }
    /* The blob replaces the file's bytes: oiqa_ckpt_storage indexes it. */
    if (ck->mapped)
        munmap((void *)ck->map, ck->size);
    else
        free((void *)ck->map);
    ck->map = blob, ck->size = used, ck->mapped = 0;
    char *prefix = oiqa_h5_attr_read_string(file, "source_prefix");
    ck->prefix = prefix;
    return OIQA_OK;
}

int ckpt_open_h5(oiqa_ckpt *ck)
{
    oiqa_h5_quiet();
    ck->format = "oiqa-h5";
    hid_t fapl = oiqa_h5_fapl();
    hid_t file = H5Fopen(ck->path, H5F_ACC_RDONLY, fapl);
    H5Pclose(fapl);
    if (file < 0) return oiqa_h5_open_failure(ck->path, "cannot open the HDF5 weight file");
    int rc = read_weights_file(ck, file);
    H5Fclose(file);
    return rc;
}

/* ---- writing ------------------------------------------------------------ */

static int write_root_attrs(hid_t f, const oiqa_ckpt *ck, const oiqa_weights_write_opts *o, const char *partial)
{
    char sha[65] = "", now[32];
    /* No source file (weights made in the program): its label, no hash. */
    const char *src = o->source_path ? o->source_path : ck->path;
    if (o->source_path) {
        int rc = oiqa_sha256_file(o->source_path, sha);
        if (rc) return rc;
    }
    oiqa_utc_now(now);
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    if (oiqa_h5_attr_write_i64(f, "oiqa_weights_schema", OIQA_WEIGHTS_SCHEMA) < 0 ||
        (o->arch && oiqa_h5_attr_write_string(f, "arch", o->arch) < 0) ||
        oiqa_h5_attr_write_string(f, "source", base) < 0 || oiqa_h5_attr_write_string(f, "source_sha256", sha) < 0 ||
        oiqa_h5_attr_write_string(f, "source_format", oiqa_ckpt_format(ck)) < 0 ||
        oiqa_h5_attr_write_string(f, "source_prefix", oiqa_ckpt_prefix(ck)) < 0 ||
        oiqa_h5_attr_write_string(f, "tool", o->tool ? o->tool : "oiqa") < 0 ||
        oiqa_h5_attr_write_string(f, "created", now) < 0 ||
        oiqa_h5_attr_write_string(f, "command", o->command ? o->command : "") < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, partial, "cannot write the root attributes");
    for (int i = 0; i < o->n_extra_attrs; i++) {
        const char *value = o->extra_attrs[2 * i + 1];
        if (oiqa_h5_attr_write_string(f, o->extra_attrs[2 * i], value ? value : "") < 0)
            return oiqa_h5_fail(OIQA_EXIT_DATA, partial, "cannot write the root attribute %s", o->extra_attrs[2 * i]);
    }
    return OIQA_OK;
}

/* Row-major elements of t in their stored dtype (bf16 widened to float32). */
static void *stored_elements(const oiqa_ckpt *ck, const oiqa_ck_tensor *t, int *rc)
{
    size_t es = t->dtype == OIQA_CK_BF16 ? 4 : oiqa_ck_dtype_size(t->dtype);
    void *buf = malloc((size_t)t->numel * es + 1);
    if (!buf) {
        *rc = oiqa_fail(OIQA_EXIT_DATA, ck->path, "out of memory");
        return NULL;
    }
    *rc = t->dtype == OIQA_CK_BF16 ? oiqa_ckpt_read_f32(ck, t, buf) : oiqa_ckpt_read_raw(ck, t, buf);
    if (*rc) free(buf), buf = NULL;
    return buf;
}

static int write_tensor(hid_t g, const oiqa_ckpt *ck, const oiqa_ck_tensor *t, int level, const char *partial)
{
    if (t->dtype == OIQA_CK_UNKNOWN)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: its storage type is not one the reader knows", t->name);
    int rc;
    void *data = stored_elements(ck, t, &rc);
    if (!data) return rc;
    char *link = strdup(t->name);
    hsize_t dims[OIQA_CK_MAX_DIMS];
    for (int i = 0; i < t->ndim; i++) dims[i] = (hsize_t)t->shape[i];
    hid_t type = h5_type_of(t->dtype);
    hid_t space = t->ndim ? H5Screate_simple(t->ndim, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE), d = -1;
    rc = OIQA_EXIT_DATA;
    if (!link || type < 0 || space < 0 || dcpl < 0) {
        oiqa_fail(rc, partial, "tensor %s: cannot set up its dataset", t->name);
        goto done;
    }
    for (char *c = link; *c; c++)
        if (*c == '/') *c = '|'; /* a '/' would make HDF5 groups */
    size_t bytes = (size_t)t->numel * oiqa_ck_dtype_size(t->dtype);
    /* One chunk per tensor (compression needs chunks; HDF5 caps a chunk at 4 GiB). */
    if (level > 0 && t->ndim > 0 && t->numel > 0 && bytes < ((size_t)1 << 31)) {
        H5Pset_chunk(dcpl, t->ndim, dims);
        H5Pset_shuffle(dcpl);
        H5Pset_deflate(dcpl, (unsigned)level);
    }
    d = H5Dcreate2(g, link, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (d < 0 || (t->numel && H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) ||
        oiqa_h5_attr_write_string(d, "key", t->name) < 0 ||
        oiqa_h5_attr_write_string(d, "source_dtype", oiqa_ck_dtype_name(t->dtype)) < 0) {
        oiqa_h5_fail(rc, partial, "cannot write tensor %s", t->name);
        goto done;
    }
    rc = OIQA_OK;
done:
    if (d >= 0) H5Dclose(d);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
    free(link), free(data);
    return rc;
}

static int write_all(hid_t f, const oiqa_ckpt *ck, const oiqa_weights_write_opts *o, const char *partial)
{
    int rc = write_root_attrs(f, ck, o, partial);
    if (rc) return rc;
    hid_t gcpl = H5Pcreate(H5P_GROUP_CREATE);
    if (gcpl < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, partial, "cannot create /%s", TENSORS_GROUP);
    /* Tracked creation order keeps the source's tensor order. */
    H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t g = H5Gcreate2(f, TENSORS_GROUP, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (g < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, partial, "cannot create /%s", TENSORS_GROUP);
    for (int i = 0; i < oiqa_ckpt_count(ck) && !rc; i++)
        rc = write_tensor(g, ck, oiqa_ckpt_tensor(ck, i), o->deflate_level, partial);
    H5Gclose(g);
    return rc;
}

int oiqa_ckpt_write_h5(const oiqa_ckpt *ck, const char *out_path, const oiqa_weights_write_opts *o)
{
    if (!o->force && access(out_path, F_OK) == 0)
        return oiqa_fail(OIQA_EXIT_USAGE, out_path, "exists (use --force to replace it)");
    oiqa_sbuf partial = {0};
    oiqa_sbuf_append(&partial, out_path);
    oiqa_sbuf_append(&partial, ".partial");
    if (!partial.s) return oiqa_fail(OIQA_EXIT_DATA, out_path, "out of memory");
    oiqa_h5_quiet();
    hid_t fapl = oiqa_h5_fapl();
    hid_t f = H5Fcreate(partial.s, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    int rc;
    if (f < 0) {
        rc = oiqa_h5_open_failure(partial.s, "cannot create");
    } else {
        rc = write_all(f, ck, o, partial.s);
        if (H5Fclose(f) < 0 && !rc) rc = oiqa_h5_fail(OIQA_EXIT_DATA, partial.s, "cannot close");
        if (!rc && rename(partial.s, out_path))
            rc = oiqa_fail(OIQA_EXIT_DATA, out_path, "cannot rename from .partial: %s", oiqa_strerror(errno));
        if (rc) unlink(partial.s);
    }
    free(partial.s);
    return rc;
}
