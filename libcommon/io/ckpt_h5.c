/* oiqa HDF5 weight files: the writer behind `oiqa-weights convert` and
 * oiqa-train (layout in io/ckpt_h5.h, docs/weights.md); the reader is
 * io/ckpt_h5_read.c. */
#include "io/ckpt_h5.h"

#include "base/error.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "io/ckpt_h5_read.h"
#include "io/ckpt_reader.h"
#include "io/h5util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

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
    hid_t type = ckpt_h5_type_of(t->dtype);
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
    if (gcpl < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, partial, "cannot create /%s", CKPT_H5_TENSORS_GROUP);
    /* Tracked creation order keeps the source's tensor order. */
    H5Pset_link_creation_order(gcpl, H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED);
    hid_t g = H5Gcreate2(f, CKPT_H5_TENSORS_GROUP, H5P_DEFAULT, gcpl, H5P_DEFAULT);
    H5Pclose(gcpl);
    if (g < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, partial, "cannot create /%s", CKPT_H5_TENSORS_GROUP);
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
