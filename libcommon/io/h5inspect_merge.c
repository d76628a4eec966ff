/* oiqa-h5 merge: shards of one stage and config -> one store. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/progress.h"
#include "base/strutil.h"
#include "io/h5inspect.h"
#include "io/h5store.h"
#include "io/h5util.h"
#include "io/nameindex.h"

#define MAX_PER_IMAGE 16
#define MAX_FIXED_BYTES ((size_t)1 << 30)

static const char *const store_managed[] = {"/names", "/input_path", "/input_sha256", NULL};
static const char *const provenance_attrs[] = {"oiqa_schema", "stage", "tool", "created", "command",
                                               "config", "inputs", "complete", NULL};

static int in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (!strcmp(list[i], s)) return 1;
    return 0;
}

typedef struct {
    const char *path;  /* owned by the shard-0 dataset list */
    int per_image;
    oiqa_dtype dtype;  /* per-image datasets */
    int ndim;          /* axes after N */
    uint64_t dims[OIQA_MAX_DIMS];
    size_t row_bytes;
    int level;         /* deflate level written */
    int raw_ok;        /* every shard stores its rows as the store would: copy chunks as they are */
} merge_dset;

typedef struct {
    char *const *shards;
    int n;
    oiqa_store_reader **r;
    char **paths;      /* datasets of shard 0, store-managed ones left out */
    size_t n_paths;
    merge_dset *d;
    int n_per_image;
} merge_ctx;

static int check_provenance(merge_ctx *c)
{
    char *stage0 = oiqa_store_reader_attr_string(c->r[0], NULL, "stage");
    char *config0 = oiqa_store_reader_attr_string(c->r[0], NULL, "config");
    int rc = OIQA_OK;
    for (int i = 1; i < c->n && !rc; i++) {
        char *stage = oiqa_store_reader_attr_string(c->r[i], NULL, "stage");
        char *config = oiqa_store_reader_attr_string(c->r[i], NULL, "config");
        if (!stage || !stage0 || strcmp(stage, stage0))
            rc = oiqa_fail(OIQA_EXIT_DATA, c->shards[i], "stage is '%s', %s's is '%s': shards of one stage only",
                           stage ? stage : "", c->shards[0], stage0 ? stage0 : "");
        else if (strcmp(config ? config : "", config0 ? config0 : "")) {
            char la[128], lb[128];
            int line = oiqa_first_differing_line(config ? config : "", config0 ? config0 : "", la, lb, sizeof la);
            if (line == 0) { /* only a final newline differs */
                snprintf(la, sizeof la, "(line ends differ)");
                snprintf(lb, sizeof lb, "-");
            }
            rc = oiqa_fail(OIQA_EXIT_DATA, c->shards[i], "config differs from %s's at line %d: '%s' here, '%s' there",
                           c->shards[0], line, la, lb);
        }
        free(stage), free(config);
    }
    free(stage0), free(config0);
    return rc;
}

static void drop_managed(char **paths, size_t *n)
{
    size_t k = 0;
    for (size_t i = 0; i < *n; i++) {
        if (in_list(store_managed, paths[i])) free(paths[i]);
        else paths[k++] = paths[i];
    }
    *n = k;
}

/* Whether shard dataset d keeps each row in one chunk filtered exactly as
 * the store writes level `level`. */
static int chunks_as_store(const oiqa_h5_dset *d, int level)
{
    hid_t dcpl = H5Dget_create_plist(d->dset);
    if (dcpl < 0) return 0;
    hsize_t chunk[H5S_MAX_RANK];
    int ok = H5Pget_layout(dcpl) == H5D_CHUNKED && H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) == d->rank &&
             chunk[0] == 1;
    for (int k = 1; ok && k < d->rank; k++) ok = chunk[k] == d->dims[k];
    H5Pclose(dcpl);
    int shuffle = 0, have = oiqa_h5_deflate_level(d->dset, &shuffle);
    return ok && have == level && shuffle == (level > 0);
}

/* Shard 0 decides what each dataset is. */
static int describe_datasets(merge_ctx *c)
{
    hid_t f0 = oiqa_store_reader_file_id(c->r[0]);
    c->d = oiqa_xcalloc(c->n_paths ? c->n_paths : 1, sizeof *c->d);
    for (size_t i = 0; i < c->n_paths; i++) {
        merge_dset *m = &c->d[i];
        oiqa_h5_dset d;
        int rc = oiqa_h5_dset_open(f0, c->shards[0], c->paths[i], &d);
        if (rc) return rc;
        m->path = c->paths[i];
        m->per_image = d.per_image;
        if (m->per_image) {
            int shuffle = 0;
            if (oiqa_h5_dtype_of(d.type, &m->dtype) < 0 || d.rank > OIQA_MAX_DIMS) {
                char tname[256];
                oiqa_h5_type_name(d.type, tname, sizeof tname);
                oiqa_h5_dset_close(&d);
                return oiqa_fail(OIQA_EXIT_DATA, c->shards[0], "%s is %s with %d axes: merge writes per-image "
                                 "datasets of uint8, int32, int64, float16, float32, float64 up to %d axes",
                                 m->path, tname, d.rank, OIQA_MAX_DIMS);
            }
            m->ndim = d.rank - 1;
            m->row_bytes = oiqa_dtype_size(m->dtype);
            for (int k = 0; k < m->ndim; k++) m->dims[k] = d.dims[k + 1], m->row_bytes *= d.dims[k + 1];
            m->level = oiqa_h5_deflate_level(d.dset, &shuffle);
            if (m->level < 0) m->level = 4; /* other filters: written as shuffle + deflate */
            m->raw_ok = chunks_as_store(&d, m->level);
            if (++c->n_per_image > MAX_PER_IMAGE)
                rc = oiqa_fail(OIQA_EXIT_DATA, c->shards[0], "more than %d per-image datasets", MAX_PER_IMAGE);
        }
        oiqa_h5_dset_close(&d);
        if (rc) return rc;
    }
    return OIQA_OK;
}

/* Reads a whole small dataset with its native type (for comparing fixed datasets). */
static int read_fixed(const oiqa_h5_dset *d, const char *fname, hid_t mem, void **buf, size_t *bytes)
{
    size_t esize = H5Tget_size(mem);
    *buf = NULL;
    if (d->elems == SIZE_MAX || (esize && d->elems > MAX_FIXED_BYTES / esize))
        return oiqa_fail(OIQA_EXIT_DATA, fname, "%s is too large to compare", d->path);
    *bytes = d->elems * esize;
    if (!(*buf = calloc(*bytes ? *bytes : 1, 1))) return oiqa_fail(OIQA_EXIT_DATA, fname, "out of memory");
    if (d->elems && H5Dread(d->dset, mem, H5S_ALL, H5S_ALL, H5P_DEFAULT, *buf) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, fname, "cannot read %s", d->path);
    return OIQA_OK;
}

static int fixed_equal(const oiqa_h5_dset *a, const oiqa_h5_dset *b, const char *fa, const char *fb, int *equal)
{
    *equal = 0;
    if (H5Tequal(a->type, b->type) <= 0 || a->rank != b->rank) return OIQA_OK;
    for (int k = 0; k < a->rank; k++)
        if (a->dims[k] != b->dims[k]) return OIQA_OK;
    if (H5Tdetect_class(a->type, H5T_VLEN) > 0 || H5Tdetect_class(a->type, H5T_STRING) > 0 ||
        H5Tdetect_class(a->type, H5T_REFERENCE) > 0) {
        *equal = 1; /* same type and shape; values of such types are not compared */
        return OIQA_OK;
    }
    hid_t mem = H5Tget_native_type(a->type, H5T_DIR_ASCEND);
    if (mem < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, fa, "cannot read %s", a->path);
    void *va = NULL, *vb = NULL;
    size_t na = 0, nb = 0;
    int rc = read_fixed(a, fa, mem, &va, &na);
    if (!rc) rc = read_fixed(b, fb, mem, &vb, &nb);
    if (!rc) *equal = na == nb && !memcmp(va, vb, na);
    free(va), free(vb);
    H5Tclose(mem);
    return rc;
}

/* Shard i has the same datasets, of the same kind, as shard 0. */
static int check_shard(merge_ctx *c, int i)
{
    hid_t f0 = oiqa_store_reader_file_id(c->r[0]), fi = oiqa_store_reader_file_id(c->r[i]);
    const char *s0 = c->shards[0], *si = c->shards[i];
    char **paths = NULL;
    size_t n = 0;
    int rc = oiqa_h5_list_datasets(fi, si, &paths, &n);
    if (rc) return rc;
    drop_managed(paths, &n);
    for (size_t k = 0; k < n && !rc; k++)
        if (!oiqa_h5_exists(f0, paths[k]))
            rc = oiqa_fail(OIQA_EXIT_DATA, si, "has %s, which %s does not: shards must have the same datasets",
                           paths[k], s0);
    for (size_t k = 0; k < c->n_paths && !rc; k++) {
        merge_dset *m = &c->d[k];
        oiqa_h5_dset d, d0;
        if (!oiqa_h5_exists(fi, m->path)) {
            rc = oiqa_fail(OIQA_EXIT_DATA, si, "has no %s, which %s has: shards must have the same datasets", m->path,
                           s0);
            break;
        }
        if ((rc = oiqa_h5_dset_open(fi, si, m->path, &d))) break;
        if (m->per_image) {
            oiqa_dtype t;
            int same = d.per_image && oiqa_h5_dtype_of(d.type, &t) == 0 && t == m->dtype && d.rank == m->ndim + 1;
            for (int a = 0; same && a < m->ndim; a++) same = d.dims[a + 1] == m->dims[a];
            if (!same) {
                char tname[256], shape[256];
                oiqa_h5_type_name(d.type, tname, sizeof tname);
                oiqa_h5_shape_name(d.rank, d.dims, shape, sizeof shape);
                rc = oiqa_fail(OIQA_EXIT_DATA, si, "%s is %s %s%s; in %s it is per-image %s with rows of %d axes",
                               m->path, tname, shape, d.per_image ? "" : " (not per-image)", s0,
                               oiqa_dtype_name(m->dtype), m->ndim);
            } else if (!chunks_as_store(&d, m->level)) m->raw_ok = 0;
        } else if (d.per_image) {
            rc = oiqa_fail(OIQA_EXIT_DATA, si, "%s is per-image here but fixed in %s", m->path, s0);
        } else if (!(rc = oiqa_h5_dset_open(f0, s0, m->path, &d0))) {
            int equal = 0;
            rc = fixed_equal(&d0, &d, s0, si, &equal);
            if (!rc && !equal)
                rc = oiqa_fail(OIQA_EXIT_DATA, si, "fixed dataset %s differs from %s's (shards of one run share it)",
                               m->path, s0);
            oiqa_h5_dset_close(&d0);
        }
        oiqa_h5_dset_close(&d);
    }
    oiqa_h5_strings_free(paths, n);
    return rc;
}

static int check_names(merge_ctx *c, int64_t *total)
{
    oiqa_name_index all = {0};
    int *owner = NULL;
    int rc = OIQA_OK;
    *total = 0;
    for (int i = 0; i < c->n && !rc; i++) {
        int64_t rows = oiqa_store_reader_rows(c->r[i]);
        owner = oiqa_xrealloc(owner, (size_t)(*total + rows + 1) * sizeof *owner);
        for (int64_t j = 0; j < rows && !rc; j++) {
            const char *name = oiqa_store_reader_name(c->r[i], j);
            int64_t at = oiqa_name_index_find(&all, name);
            if (at >= 0)
                rc = oiqa_fail(OIQA_EXIT_DATA, c->shards[i], "'%s' is also in %s (duplicate name)", name,
                               c->shards[owner[at]]);
            else if (oiqa_name_index_add(&all, name) < 0) rc = oiqa_fail(OIQA_EXIT_DATA, c->shards[i], "out of memory");
            else owner[all.n - 1] = i;
        }
        *total += rows;
    }
    free(owner);
    oiqa_name_index_free(&all);
    return rc;
}

/* ---- writing ---------------------------------------------------------- */

static int copy_attrs(hid_t src, hid_t dst, const char *const *skip)
{
    H5O_info_t info;
    if (H5Oget_info2(src, &info, H5O_INFO_NUM_ATTRS) < 0) return -1;
    for (hsize_t i = 0; i < info.num_attrs; i++) {
        char name[512];
        if (H5Aget_name_by_idx(src, ".", H5_INDEX_NAME, H5_ITER_INC, i, name, sizeof name, H5P_DEFAULT) < 0)
            return -1;
        if (skip && in_list(skip, name)) continue;
        if (oiqa_h5_attr_copy(src, name, dst) < 0) return -1;
    }
    return 0;
}

typedef struct {
    hid_t dst;
    int failed;
} group_copy;

/* Groups of shard 0 (and their attributes) in the output. */
static herr_t copy_group(hid_t root, const char *name, const H5O_info_t *info, void *data)
{
    group_copy *g = data;
    if (info->type != H5O_TYPE_GROUP || !strcmp(name, ".")) return 0;
    hid_t dst = -1, src = H5Gopen2(root, name, H5P_DEFAULT);
    if (oiqa_h5_exists(g->dst, name)) dst = H5Gopen2(g->dst, name, H5P_DEFAULT);
    else {
        hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
        H5Pset_create_intermediate_group(lcpl, 1);
        dst = H5Gcreate2(g->dst, name, lcpl, H5P_DEFAULT, H5P_DEFAULT);
        H5Pclose(lcpl);
    }
    if (src < 0 || dst < 0 || copy_attrs(src, dst, NULL) < 0) g->failed = 1;
    if (dst >= 0) H5Gclose(dst);
    if (src >= 0) H5Gclose(src);
    return g->failed;
}

static int write_structure(merge_ctx *c, oiqa_store *s, const char *out)
{
    hid_t f0 = oiqa_store_reader_file_id(c->r[0]), fo = oiqa_store_file_id(s);
    int rc = OIQA_OK;
    for (size_t k = 0; k < c->n_paths; k++) {
        merge_dset *m = &c->d[k];
        if (m->per_image && (rc = oiqa_store_define(s, m->path, m->dtype, m->ndim, m->dims, m->level))) return rc;
    }
    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    int ok = 1;
    for (size_t k = 0; k < c->n_paths && ok; k++) {
        merge_dset *m = &c->d[k];
        if (!m->per_image) ok = H5Ocopy(f0, m->path, fo, m->path, H5P_DEFAULT, lcpl) >= 0;
        else {
            hid_t src = H5Dopen2(f0, m->path, H5P_DEFAULT), dst = H5Dopen2(fo, m->path, H5P_DEFAULT);
            static const char *const skip[] = {"per_image", NULL};
            ok = src >= 0 && dst >= 0 && copy_attrs(src, dst, skip) == 0;
            if (src >= 0) H5Dclose(src);
            if (dst >= 0) H5Dclose(dst);
        }
        if (!ok) rc = oiqa_h5_fail(OIQA_EXIT_DATA, out, "cannot copy %s from %s", m->path, c->shards[0]);
    }
    H5Pclose(lcpl);
    if (!ok) return rc;
    group_copy g = {fo, 0};
    if (copy_attrs(f0, fo, provenance_attrs) < 0 ||
        H5Ovisit2(f0, H5_INDEX_NAME, H5_ITER_INC, copy_group, &g, H5O_INFO_BASIC) < 0 || g.failed)
        return oiqa_h5_fail(OIQA_EXIT_DATA, out, "cannot copy the attributes of %s", c->shards[0]);
    return OIQA_OK;
}

/* A shard's /input_path or /input_sha256 (NULL entries when missing). */
static char **read_inputs(hid_t file, const char *path, int64_t rows)
{
    oiqa_h5_dset d;
    char **v = NULL;
    if (!oiqa_h5_exists(file, path) || oiqa_h5_dset_open(file, "", path, &d)) return NULL;
    if (d.rank == 1 && d.dims[0] == (hsize_t)rows && H5Tget_class(d.type) == H5T_STRING && H5Sselect_all(d.space) >= 0)
        if (oiqa_h5_read_strings(d.dset, d.space, (size_t)rows, &v) < 0) v = NULL;
    oiqa_h5_dset_close(&d);
    return v;
}

#define DECODE_INSTEAD (-1)

/* One row as the shard stores it: every chunk read raw. DECODE_INSTEAD when
 * a chunk was stored with a filter skipped (then the row is decoded). */
static int read_raw_row(merge_ctx *c, hid_t *dsets, int64_t row, oiqa_encoded_row *enc, const char *shard)
{
    memset(enc, 0, sizeof *enc);
    for (size_t k = 0, j = 0; k < c->n_paths; k++) {
        if (!c->d[k].per_image) continue;
        hsize_t offset[OIQA_MAX_DIMS + 1] = {(hsize_t)row}, size = 0;
        uint32_t mask = 0;
        enc->n = (int)j + 1;
        if (H5Dget_chunk_storage_size(dsets[j], offset, &size) < 0 || size == 0 || size > ((hsize_t)1 << 32) ||
            !(enc->buf[j] = malloc(size)) || H5Dread_chunk(dsets[j], H5P_DEFAULT, offset, &mask, enc->buf[j]) < 0)
            return oiqa_h5_fail(OIQA_EXIT_DATA, shard, "cannot read row %lld of %s", (long long)row, c->d[k].path);
        if (mask) return DECODE_INSTEAD;
        enc->size[j++] = size;
    }
    return OIQA_OK;
}

static int copy_rows(merge_ctx *c, oiqa_store *s, int i, oiqa_progress *prog)
{
    oiqa_store_reader *r = c->r[i];
    hid_t f = oiqa_store_reader_file_id(r);
    int64_t rows = oiqa_store_reader_rows(r);
    char **paths = read_inputs(f, "/input_path", rows), **shas = read_inputs(f, "/input_sha256", rows);
    hid_t dsets[MAX_PER_IMAGE];
    void *bufs[MAX_PER_IMAGE] = {0};
    int n = 0, raw = 1, rc = OIQA_OK;
    for (size_t k = 0; k < c->n_paths; k++) {
        if (!c->d[k].per_image) continue;
        raw = raw && c->d[k].raw_ok;
        dsets[n] = H5Dopen2(f, c->d[k].path, H5P_DEFAULT);
        bufs[n] = malloc(c->d[k].row_bytes ? c->d[k].row_bytes : 1);
        if (dsets[n++] < 0 || !bufs[n - 1])
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, c->shards[i], "cannot open %s", c->d[k].path);
    }
    for (int64_t row = 0; row < rows && !rc; row++) {
        const char *name = oiqa_store_reader_name(r, row);
        const char *ip = paths ? paths[row] : "", *sha = shas ? shas[row] : "";
        int decode = !raw;
        if (raw) {
            oiqa_encoded_row enc;
            int e = read_raw_row(c, dsets, row, &enc, c->shards[i]);
            if (e == OIQA_OK) rc = oiqa_store_append_encoded(s, name, ip, sha, &enc);
            else if (e == DECODE_INSTEAD) decode = 1;
            else rc = e;
            oiqa_encoded_row_free(&enc);
        }
        if (decode && !rc) {
            for (size_t k = 0, j = 0; k < c->n_paths && !rc; k++)
                if (c->d[k].per_image) {
                    rc = oiqa_store_reader_read_row(r, c->d[k].path, row, c->d[k].dtype, bufs[j]);
                    j++;
                }
            if (!rc) rc = oiqa_store_append(s, name, ip, sha, (const void *const *)bufs);
        }
        oiqa_progress_add(prog, 1);
    }
    for (int j = 0; j < n; j++) {
        if (dsets[j] >= 0) H5Dclose(dsets[j]);
        free(bufs[j]);
    }
    oiqa_h5_strings_free(paths, paths ? (size_t)rows : 0);
    oiqa_h5_strings_free(shas, shas ? (size_t)rows : 0);
    return rc;
}

int oiqa_h5_merge(char *const *shards, int n, const char *out, int force, const char *tool, const char *command)
{
    merge_ctx c = {.shards = shards, .n = n};
    oiqa_store *s = NULL;
    char *stage = NULL, *config = NULL;
    int64_t total = 0;
    int rc = OIQA_OK;
    if (n < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no shards to merge");
    c.r = oiqa_xcalloc((size_t)n, sizeof *c.r);
    for (int i = 0; i < n && !rc; i++) {
        for (int j = 0; j < i && !rc; j++)
            if (!strcmp(shards[i], shards[j])) rc = oiqa_fail(OIQA_EXIT_USAGE, shards[i], "given twice");
        if (!rc) rc = oiqa_store_open_read(shards[i], NULL, 0, &c.r[i]);
    }
    if (rc || (rc = check_provenance(&c))) goto done;
    hid_t f0 = oiqa_store_reader_file_id(c.r[0]);
    if ((rc = oiqa_h5_list_datasets(f0, shards[0], &c.paths, &c.n_paths))) goto done;
    drop_managed(c.paths, &c.n_paths);
    if ((rc = describe_datasets(&c))) goto done;
    for (int i = 1; i < n && !rc; i++) rc = check_shard(&c, i);
    if (rc || (rc = check_names(&c, &total))) goto done;

    stage = oiqa_store_reader_attr_string(c.r[0], NULL, "stage");
    config = oiqa_store_reader_attr_string(c.r[0], NULL, "config");
    oiqa_provenance prov = {.stage = stage, .tool = tool, .command = command, .config = config ? config : ""};
    if ((rc = oiqa_store_open_write(out, &prov, OIQA_STORE_CREATE, force, &s))) goto done;
    if ((rc = write_structure(&c, s, out))) goto discard;
    oiqa_progress *prog = oiqa_progress_start("merge", "rows", total);
    for (int i = 0; i < n && !rc; i++) rc = copy_rows(&c, s, i, prog);
    oiqa_progress_end(prog);
    if (rc) goto discard;
    rc = oiqa_store_finish(s);
    goto done;
discard:
    oiqa_store_discard(s);
done:
    free(stage), free(config);
    for (int i = 0; i < n; i++) oiqa_store_close(c.r[i]);
    free(c.r);
    free(c.d);
    oiqa_h5_strings_free(c.paths, c.n_paths);
    return rc;
}
