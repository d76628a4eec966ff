/* The oiqa HDF5 weight-file reader behind oiqa_ckpt_open (io/ckpt_h5_read.h).
 * It copies every dataset into one heap buffer that replaces the file
 * mapping, so the rest of the oiqa_ckpt API works unchanged. */
#include "io/ckpt_h5_read.h"

#include "base/error.h"
#include "io/ckpt_reader.h"
#include "io/h5util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

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
hid_t ckpt_h5_type_of(oiqa_ck_dtype dt)
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
static int read_one(oiqa_ckpt *ck, hid_t g, const char *link, uint8_t **blob, size_t *used, size_t *capacity)
{
    int rc = OIQA_EXIT_DATA;
    hid_t d = H5Dopen2(g, link, H5P_DEFAULT), type = -1, space = -1, mem = -1;
    char *key = NULL, *src_dt = NULL;
    if (d < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, ck->path, "/%s/%s: not a dataset", CKPT_H5_TENSORS_GROUP, link);
    key = oiqa_h5_attr_read_string(d, "key");
    src_dt = oiqa_h5_attr_read_string(d, "source_dtype");
    type = H5Dget_type(d), space = H5Dget_space(d);
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (type < 0 || rank < 0 || rank > OIQA_CK_MAX_DIMS) {
        oiqa_fail(rc, ck->path, "/%s/%s: unreadable or more than %d dimensions", CKPT_H5_TENSORS_GROUP, link, OIQA_CK_MAX_DIMS);
        goto done;
    }
    oiqa_ck_dtype dt = dtype_of_h5(type, src_dt);
    if (dt == OIQA_CK_UNKNOWN) {
        oiqa_fail(rc, ck->path, "/%s/%s: a type that is not a checkpoint dtype", CKPT_H5_TENSORS_GROUP, link);
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
    uint8_t *grown = *blob;
    if (*used + bytes + 1 > *capacity) { /* geometric growth: no copy of the blob per tensor */
        size_t cap = *capacity * 2 > *used + bytes + 1 ? *capacity * 2 : *used + bytes + 1;
        if (!(grown = realloc(*blob, cap))) {
            oiqa_fail(rc, ck->path, "out of memory");
            goto done;
        }
        *blob = grown, *capacity = cap;
    }
    t->file_offset = *used, t->storage_bytes = bytes;
    mem = ckpt_h5_type_of(dt);
    if (bytes && H5Dread(d, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, grown + *used) < 0) {
        oiqa_h5_fail(rc, ck->path, "cannot read /%s/%s", CKPT_H5_TENSORS_GROUP, link);
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
    if (!oiqa_h5_exists(file, "/" CKPT_H5_TENSORS_GROUP))
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "oiqa weight file without its /%s group", CKPT_H5_TENSORS_GROUP);
    hid_t g = H5Gopen2(file, "/" CKPT_H5_TENSORS_GROUP, H5P_DEFAULT);
    if (g < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, ck->path, "cannot open /%s", CKPT_H5_TENSORS_GROUP);
    link_list links = {0};
    hsize_t at = 0;
    int rc = OIQA_OK;
    /* Creation order is the source's tensor order; fall back to names. */
    if (H5Literate(g, H5_INDEX_CRT_ORDER, H5_ITER_INC, &at, collect_link, &links) < 0) {
        for (int i = 0; i < links.n; i++) free(links.names[i]);
        links.n = 0, at = 0;
        if (H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &at, collect_link, &links) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, ck->path, "cannot list /%s", CKPT_H5_TENSORS_GROUP);
    }
    uint8_t *blob = NULL;
    size_t used = 0, capacity = 0;
    for (int i = 0; i < links.n && !rc; i++) rc = read_one(ck, g, links.names[i], &blob, &used, &capacity);
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

