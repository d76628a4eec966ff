/* The feature store's writer (see h5store.h for the file layout and the
 * commit protocol). */
#include "io/h5store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/h5util.h"
#include "io/nameindex.h"

#define MAX_DSETS OIQA_STORE_MAX_DSETS /* as many as an oiqa_encoded_row holds */
#define STRING_CHUNK 256    /* elements per chunk of the string datasets */
#define MAX_CHUNK_BYTES 0xffffffffull /* HDF5 chunks are addressed with 32-bit sizes */

typedef struct {
    char *path;
    oiqa_dtype dtype;
    int ndim;                            /* axes after N */
    hsize_t dims[OIQA_MAX_DIMS];         /* full shape: [rows, row dims...] */
    int level;                           /* deflate level, 0 = none */
    size_t row_elems, row_bytes;
    hid_t dset, mem_type;
} store_dset;

struct oiqa_store {
    char *out_path, *partial_path;
    char *stage, *tool, *command, *config;
    hid_t file, names, input_path, input_sha, str_type;
    store_dset dsets[MAX_DSETS];
    int n_dsets;
    int64_t rows;
    int appended;                        /* rows appended by this process */
    int made_partial;                    /* this open created the .partial */
    oiqa_name_index index;
};

static const char *const reserved_paths[] = {"/names", "/input_path", "/input_sha256", NULL};

hid_t oiqa_store_file_id(oiqa_store *s) { return s->file; }
int64_t oiqa_store_rows(const oiqa_store *s) { return s ? s->rows : 0; }
int oiqa_store_has_name(const oiqa_store *s, const char *name)
{
    return s && oiqa_name_index_find(&s->index, name) >= 0;
}

static char *dup_or_empty(const char *s) { return oiqa_strdup(s ? s : ""); }

/* Closes every HDF5 handle (the file last); 0 if the file closed cleanly. */
static int close_handles(oiqa_store *s)
{
    for (int k = 0; k < s->n_dsets; k++) {
        if (s->dsets[k].dset >= 0) H5Dclose(s->dsets[k].dset);
        if (s->dsets[k].mem_type >= 0) H5Tclose(s->dsets[k].mem_type);
        s->dsets[k].dset = s->dsets[k].mem_type = -1;
    }
    if (s->names >= 0) H5Dclose(s->names);
    if (s->input_path >= 0) H5Dclose(s->input_path);
    if (s->input_sha >= 0) H5Dclose(s->input_sha);
    if (s->str_type >= 0) H5Tclose(s->str_type);
    s->names = s->input_path = s->input_sha = s->str_type = -1;
    int rc = 0;
    if (s->file >= 0 && H5Fclose(s->file) < 0) rc = -1;
    s->file = -1;
    return rc;
}

static void store_free(oiqa_store *s)
{
    if (!s) return;
    close_handles(s);
    for (int k = 0; k < s->n_dsets; k++) free(s->dsets[k].path);
    oiqa_name_index_free(&s->index);
    free(s->out_path), free(s->partial_path);
    free(s->stage), free(s->tool), free(s->command), free(s->config);
    free(s);
}

/* "uint8 [N,20,224,224,3]" (rows shown as N). */
static void format_row_shape(char *buf, size_t n, oiqa_dtype t, int ndim, const hsize_t *row_dims)
{
    int off = snprintf(buf, n, "%s [N", oiqa_dtype_name(t));
    for (int k = 0; k < ndim && off > 0 && (size_t)off < n; k++)
        off += snprintf(buf + off, n - (size_t)off, ",%llu", (unsigned long long)row_dims[k]);
    if (off > 0 && (size_t)off < n) snprintf(buf + off, n - (size_t)off, "]");
}

static int is_reserved(const char *path)
{
    for (int i = 0; reserved_paths[i]; i++)
        if (!strcmp(path, reserved_paths[i])) return 1;
    return 0;
}

static int check_dset_path(const oiqa_store *s, const char *path)
{
    if (!path || path[0] != '/' || !path[1] || path[strlen(path) - 1] == '/')
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "dataset path '%s' must be absolute, like /viewports",
                         path ? path : "(null)");
    if (is_reserved(path))
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s is written by the store itself", path);
    return OIQA_OK;
}

/* ---- opening ---------------------------------------------------------- */

static hid_t create_string_dataset(oiqa_store *s, const char *path)
{
    hsize_t dims[1] = {0}, maxdims[1] = {H5S_UNLIMITED}, chunk[1] = {STRING_CHUNK};
    hid_t space = H5Screate_simple(1, dims, maxdims), dcpl = H5Pcreate(H5P_DATASET_CREATE), dset = -1;
    if (space >= 0 && dcpl >= 0 && H5Pset_chunk(dcpl, 1, chunk) >= 0)
        dset = H5Dcreate2(s->file, path, s->str_type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return dset;
}

static int write_provenance(oiqa_store *s)
{
    char now[32];
    oiqa_utc_now(now);
    hid_t f = s->file;
    if (oiqa_h5_attr_write_i64(f, "oiqa_schema", OIQA_SCHEMA_VERSION) < 0 ||
        oiqa_h5_attr_write_string(f, "stage", s->stage) < 0 || oiqa_h5_attr_write_string(f, "tool", s->tool) < 0 ||
        oiqa_h5_attr_write_string(f, "created", now) < 0 || oiqa_h5_attr_write_string(f, "command", s->command) < 0 ||
        oiqa_h5_attr_write_string(f, "config", s->config) < 0 || oiqa_h5_attr_write_string(f, "inputs", "[]") < 0 ||
        oiqa_h5_attr_write_i64(f, "complete", 0) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot write the provenance attributes");
    return OIQA_OK;
}

/* Removes path if present; a failure other than "absent" is an error. */
static int remove_existing(const char *path)
{
    if (unlink(path) == 0 || errno == ENOENT) return OIQA_OK;
    return oiqa_fail(OIQA_EXIT_DATA, path, "cannot remove (%s)", oiqa_strerror(errno));
}

static int open_create(oiqa_store *s, int force)
{
    struct stat st;
    if (stat(s->out_path, &st) == 0 && S_ISDIR(st.st_mode))
        return oiqa_fail(OIQA_EXIT_USAGE, s->out_path, "is a directory (give a file name for the output)");
    if (!force) {
        if (lstat(s->out_path, &st) == 0)
            return oiqa_fail(OIQA_EXIT_USAGE, s->out_path, "exists (use --force to overwrite)");
        if (lstat(s->partial_path, &st) == 0)
            return oiqa_fail(OIQA_EXIT_USAGE, s->partial_path,
                             "an interrupted run is there (use --resume to continue it or --force to start over)");
    }
    /* Errors name OUT, the path the user gave, with the reason. */
    int rc = oiqa_mkdir_parent(s->partial_path);
    if (rc) {
        char why[OIQA_ERRMSG_MAX];
        snprintf(why, sizeof why, "%s", oiqa_errmsg());
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "cannot create (%s)", why);
    }
    if (force && ((rc = remove_existing(s->out_path)) || (rc = remove_existing(s->partial_path)))) return rc;

    /* HDF5 does not say why a create failed; opening it ourselves first gives
     * the OS reason (permission denied, read-only file system, ...). */
    int fd = open(s->partial_path, O_WRONLY | O_CREAT | O_EXCL, 0666);
    if (fd < 0)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "cannot create %s (%s)", s->partial_path, oiqa_strerror(errno));
    close(fd);
    s->made_partial = 1;

    hid_t fapl = oiqa_h5_fapl();
    if (fapl < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot set up HDF5 file access");
    s->file = H5Fcreate(s->partial_path, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (s->file < 0) rc = oiqa_h5_open_failure(s->partial_path, "cannot create HDF5 file");
    H5Pclose(fapl);
    if (rc) return rc;
    if ((rc = write_provenance(s))) return rc;
    if ((s->names = create_string_dataset(s, "/names")) < 0 ||
        (s->input_path = create_string_dataset(s, "/input_path")) < 0 ||
        (s->input_sha = create_string_dataset(s, "/input_sha256")) < 0 ||
        oiqa_h5_attr_write_i64(s->input_path, "per_image", 1) < 0 ||
        oiqa_h5_attr_write_i64(s->input_sha, "per_image", 1) < 0 || H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot create the name datasets");
    return OIQA_OK;
}

static int check_resumable(oiqa_store *s)
{
    const char *p = s->partial_path;
    double schema = 0;
    if (oiqa_h5_attr_read_double(s->file, "oiqa_schema", &schema) != 0 || schema != OIQA_SCHEMA_VERSION)
        return oiqa_fail(OIQA_EXIT_USAGE, p, "not an oiqa schema %d file (use --force to start over)",
                         OIQA_SCHEMA_VERSION);
    char *stage = oiqa_h5_attr_read_string(s->file, "stage");
    char *config = oiqa_h5_attr_read_string(s->file, "config");
    int rc = OIQA_OK;
    if (!stage || strcmp(stage, s->stage))
        rc = oiqa_fail(OIQA_EXIT_USAGE, p, "stage is '%s', this run writes '%s' (use --force to start over)",
                       stage ? stage : "(none)", s->stage);
    else if (!config || strcmp(config, s->config)) {
        char was[128], now[128];
        int line = oiqa_first_differing_line(s->config, config ? config : "", now, was, sizeof now);
        if (line == 0) /* only a final newline differs */
            rc = oiqa_fail(OIQA_EXIT_USAGE, p, "config differs from the interrupted run in its line ends "
                           "(use --force to start over)");
        else rc = oiqa_fail(OIQA_EXIT_USAGE, p,
                       "config differs from the interrupted run at line %d: '%s' now, '%s' there "
                       "(use --force to start over)", line, now, was);
    }
    free(stage), free(config);
    return rc;
}

static hid_t open_string_dataset(oiqa_store *s, const char *path, hsize_t *len)
{
    if (!oiqa_h5_exists(s->file, path)) return -1;
    hid_t d = H5Dopen2(s->file, path, H5P_DEFAULT);
    if (d < 0) return -1;
    hid_t type = H5Dget_type(d), space = H5Dget_space(d);
    int ok = type >= 0 && space >= 0 && H5Tget_class(type) == H5T_STRING &&
             H5Sget_simple_extent_ndims(space) == 1 && H5Sget_simple_extent_dims(space, len, NULL) == 1;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (!ok) {
        H5Dclose(d);
        return -1;
    }
    return d;
}

typedef struct {
    oiqa_store *s;
    int rc;
} cut_back_ctx;

/* Cuts a per-image dataset back to the committed rows. */
static herr_t cut_back(hid_t root, const char *name, const H5O_info_t *info, void *data)
{
    cut_back_ctx *c = data;
    if (info->type != H5O_TYPE_DATASET) return 0;
    hid_t d = H5Dopen2(root, name, H5P_DEFAULT);
    if (d < 0) return 0;
    double per_image = 0;
    if (oiqa_h5_attr_read_double(d, "per_image", &per_image) == 0 && per_image == 1) {
        hid_t space = H5Dget_space(d);
        hsize_t dims[OIQA_MAX_DIMS];
        int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
        if (rank >= 1 && rank <= OIQA_MAX_DIMS && H5Sget_simple_extent_dims(space, dims, NULL) == rank) {
            if (dims[0] < (hsize_t)c->s->rows) {
                c->rc = oiqa_fail(OIQA_EXIT_DATA, c->s->partial_path,
                                  "/%s has %llu rows but /names has %lld: not resumable (use --force to start over)",
                                  name, (unsigned long long)dims[0], (long long)c->s->rows);
            } else if (dims[0] > (hsize_t)c->s->rows) {
                dims[0] = (hsize_t)c->s->rows;
                if (H5Dset_extent(d, dims) < 0)
                    c->rc = oiqa_h5_fail(OIQA_EXIT_DATA, c->s->partial_path, "cannot cut /%s back to %lld rows",
                                         name, (long long)c->s->rows);
            }
        }
        if (space >= 0) H5Sclose(space);
    }
    H5Dclose(d);
    return c->rc ? 1 : 0;
}

static int open_resume(oiqa_store *s)
{
    struct stat st;
    if (lstat(s->partial_path, &st) != 0) {
        if (lstat(s->out_path, &st) == 0)
            return oiqa_fail(OIQA_EXIT_USAGE, s->partial_path,
                             "no interrupted run to resume (%s is complete; use --force to recompute it)", s->out_path);
        return oiqa_fail(OIQA_EXIT_USAGE, s->partial_path, "no interrupted run to resume (run without --resume)");
    }
    if (H5Fis_hdf5(s->partial_path) <= 0)
        return oiqa_fail(OIQA_EXIT_DATA, s->partial_path, "not an HDF5 file (use --force to start over)");
    hid_t fapl = oiqa_h5_fapl();
    if (fapl < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot set up HDF5 file access");
    s->file = H5Fopen(s->partial_path, H5F_ACC_RDWR, fapl);
    int rc = s->file < 0 ? oiqa_h5_open_failure(s->partial_path, "cannot open for resuming") : OIQA_OK;
    H5Pclose(fapl);
    if (rc || (rc = check_resumable(s))) return rc;

    hsize_t n_names = 0, n_paths = 0, n_shas = 0;
    if ((s->names = open_string_dataset(s, "/names", &n_names)) < 0 ||
        (s->input_path = open_string_dataset(s, "/input_path", &n_paths)) < 0 ||
        (s->input_sha = open_string_dataset(s, "/input_sha256", &n_shas)) < 0)
        return oiqa_fail(OIQA_EXIT_DATA, s->partial_path,
                         "no /names, /input_path or /input_sha256 string dataset: not resumable "
                         "(use --force to start over)");
    char **names = NULL;
    hid_t space = H5Dget_space(s->names);
    if (space < 0 || H5Sselect_all(space) < 0 || oiqa_h5_read_strings(s->names, space, n_names, &names) < 0) {
        if (space >= 0) H5Sclose(space);
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot read /names");
    }
    H5Sclose(space);
    for (hsize_t i = 0; i < n_names && !rc; i++)
        if (oiqa_name_index_add(&s->index, names[i]) < 0)
            rc = oiqa_fail(OIQA_EXIT_DATA, s->partial_path, "out of memory");
    oiqa_h5_strings_free(names, n_names);
    if (rc) return rc;
    s->rows = (int64_t)n_names;

    /* Rows whose data (or input path) was written but whose name was not
     * are dropped: they are written again. */
    hsize_t dims[1] = {n_names};
    if (H5Dset_extent(s->input_path, dims) < 0 || H5Dset_extent(s->input_sha, dims) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot cut the input lists back");
    cut_back_ctx ctx = {s, OIQA_OK};
    if (H5Ovisit2(s->file, H5_INDEX_NAME, H5_ITER_INC, cut_back, &ctx, H5O_INFO_BASIC) < 0 && !ctx.rc)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot walk the file");
    if (ctx.rc) return ctx.rc;
    if (oiqa_h5_attr_write_string(s->file, "tool", s->tool) < 0 ||
        oiqa_h5_attr_write_string(s->file, "command", s->command) < 0 ||
        oiqa_h5_attr_write_i64(s->file, "complete", 0) < 0 || H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot update the provenance");
    return OIQA_OK;
}

int oiqa_store_open_write(const char *out_path, const oiqa_provenance *prov, oiqa_store_mode mode, int force,
                          oiqa_store **out)
{
    *out = NULL;
    oiqa_h5_quiet();
    if (!out_path || !*out_path) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no output file given (-o OUT)");
    if (!prov || !prov->stage || !*prov->stage)
        return oiqa_fail(OIQA_EXIT_USAGE, out_path, "a store needs a stage name");
    oiqa_store *s = calloc(1, sizeof *s);
    if (!s) return oiqa_fail(OIQA_EXIT_DATA, out_path, "out of memory");
    s->file = s->names = s->input_path = s->input_sha = -1;
    s->out_path = oiqa_strdup(out_path);
    s->partial_path = oiqa_asprintf("%s.partial", out_path);
    s->stage = dup_or_empty(prov->stage), s->tool = dup_or_empty(prov->tool);
    s->command = dup_or_empty(prov->command), s->config = dup_or_empty(prov->config);
    int rc;
    if ((s->str_type = oiqa_h5_vlen_utf8()) < 0)
        rc = oiqa_h5_fail(OIQA_EXIT_DATA, out_path, "cannot make a string type");
    else rc = mode == OIQA_STORE_RESUME ? open_resume(s) : open_create(s, force);
    if (rc) {
        /* A failed CREATE leaves no .partial behind to be mistaken for an interrupted run. */
        if (s->made_partial) {
            close_handles(s);
            unlink(s->partial_path);
        }
        store_free(s);
        return rc;
    }
    *out = s;
    return OIQA_OK;
}

/* ---- datasets and attributes ------------------------------------------ */

static int check_shape(const oiqa_store *s, int ndim, const uint64_t *dims, int max_ndim, size_t elem,
                       size_t *elems_out)
{
    if (ndim < 0 || ndim > max_ndim)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "a dataset has at most %d axes, got %d", max_ndim, ndim);
    size_t elems = 1;
    for (int k = 0; k < ndim; k++) {
        if (dims[k] == 0) return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "axis %d has length 0", k);
        if (dims[k] > SIZE_MAX / elem / elems)
            return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "dataset shape too large");
        elems *= dims[k];
    }
    *elems_out = elems;
    return OIQA_OK;
}

/* On resume: the dataset in the file must be the one this run writes. */
static int check_existing(oiqa_store *s, store_dset *d)
{
    hid_t type = H5Dget_type(d->dset), space = H5Dget_space(d->dset);
    oiqa_dtype have = OIQA_U8;
    hsize_t dims[OIQA_MAX_DIMS] = {0};
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    int ok = type >= 0 && oiqa_h5_dtype_of(type, &have) == 0 && have == d->dtype && rank == d->ndim + 1 &&
             H5Sget_simple_extent_dims(space, dims, NULL) == rank;
    for (int k = 1; ok && k < rank; k++) ok = dims[k] == d->dims[k];
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (ok) {
        if (dims[0] != (hsize_t)s->rows)
            return oiqa_fail(OIQA_EXIT_DATA, s->partial_path, "%s has %llu rows but /names has %lld: not resumable",
                             d->path, (unsigned long long)dims[0], (long long)s->rows);
        return OIQA_OK;
    }
    char want[160];
    format_row_shape(want, sizeof want, d->dtype, d->ndim, d->dims + 1);
    return oiqa_fail(OIQA_EXIT_USAGE, s->partial_path,
                     "%s in the interrupted run is not %s as this run writes (use --force to start over)", d->path,
                     want);
}

static hid_t create_row_dataset(oiqa_store *s, const store_dset *d)
{
    hsize_t maxdims[OIQA_MAX_DIMS], chunk[OIQA_MAX_DIMS];
    int rank = d->ndim + 1;
    for (int k = 0; k < rank; k++) maxdims[k] = chunk[k] = d->dims[k];
    maxdims[0] = H5S_UNLIMITED;
    chunk[0] = 1;
    hid_t dset = -1, space = -1, dcpl = -1, lcpl = -1, ftype = -1;
    if ((space = H5Screate_simple(rank, d->dims, maxdims)) < 0) goto done;
    if ((dcpl = H5Pcreate(H5P_DATASET_CREATE)) < 0 || H5Pset_chunk(dcpl, rank, chunk) < 0) goto done;
    /* The order h5py uses; the direct chunk writes encode the same way. */
    if (d->level > 0 && (H5Pset_shuffle(dcpl) < 0 || H5Pset_deflate(dcpl, (unsigned)d->level) < 0)) goto done;
    if ((lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) goto done;
    if ((ftype = oiqa_h5_file_type(d->dtype)) < 0) goto done;
    dset = H5Dcreate2(s->file, d->path, ftype, space, lcpl, dcpl, H5P_DEFAULT);
    if (dset >= 0 && oiqa_h5_attr_write_i64(dset, "per_image", 1) < 0) {
        H5Dclose(dset);
        dset = -1;
    }
done:
    if (ftype >= 0) H5Tclose(ftype);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return dset;
}

int oiqa_store_define(oiqa_store *s, const char *dset_path, oiqa_dtype dtype, int ndim, const uint64_t *dims,
                      int deflate_level)
{
    int rc = check_dset_path(s, dset_path);
    if (rc) return rc;
    if (s->appended)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s defined after rows were appended", dset_path);
    if (s->n_dsets == MAX_DSETS)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "more than %d per-image datasets", MAX_DSETS);
    if (oiqa_dtype_size(dtype) == 0) return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s: unknown dtype", dset_path);
    if (deflate_level < 0 || deflate_level > 9)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s: deflate level %d is not in 0..9", dset_path, deflate_level);
    for (int k = 0; k < s->n_dsets; k++)
        if (!strcmp(s->dsets[k].path, dset_path))
            return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s defined twice", dset_path);
    size_t elems;
    if ((rc = check_shape(s, ndim, dims, OIQA_MAX_DIMS - 1, oiqa_dtype_size(dtype), &elems))) return rc;
    if ((unsigned long long)elems * oiqa_dtype_size(dtype) > MAX_CHUNK_BYTES)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s: a row of %zu elements exceeds HDF5's 4 GiB chunk limit",
                         dset_path, elems);

    store_dset *d = &s->dsets[s->n_dsets];
    memset(d, 0, sizeof *d);
    d->dset = d->mem_type = -1;
    d->dtype = dtype, d->ndim = ndim, d->level = deflate_level;
    d->dims[0] = (hsize_t)s->rows;
    for (int k = 0; k < ndim; k++) d->dims[k + 1] = dims[k];
    d->row_elems = elems, d->row_bytes = elems * oiqa_dtype_size(dtype);
    d->path = oiqa_strdup(dset_path);
    s->n_dsets++; /* from here on store_free releases d */

    if ((d->mem_type = oiqa_h5_mem_type(dtype)) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->out_path, "cannot make the type of %s", dset_path);
    if (oiqa_h5_exists(s->file, dset_path)) {
        if ((d->dset = H5Dopen2(s->file, dset_path, H5P_DEFAULT)) < 0)
            return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot open %s", dset_path);
        return check_existing(s, d);
    }
    if (s->rows > 0)
        return oiqa_fail(OIQA_EXIT_USAGE, s->partial_path,
                         "%s is not in the interrupted run (use --force to start over)", dset_path);
    if ((d->dset = create_row_dataset(s, d)) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot create %s", dset_path);
    return OIQA_OK;
}

int oiqa_store_write_fixed(oiqa_store *s, const char *dset_path, oiqa_dtype dtype, int ndim, const uint64_t *dims,
                           const void *data)
{
    int rc = check_dset_path(s, dset_path);
    if (rc) return rc;
    for (int k = 0; k < s->n_dsets; k++)
        if (!strcmp(s->dsets[k].path, dset_path))
            return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s is a per-image dataset", dset_path);
    if (oiqa_dtype_size(dtype) == 0) return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "%s: unknown dtype", dset_path);
    size_t elems;
    if ((rc = check_shape(s, ndim, dims, OIQA_MAX_DIMS, oiqa_dtype_size(dtype), &elems))) return rc;
    hsize_t hdims[OIQA_MAX_DIMS];
    for (int k = 0; k < ndim; k++) hdims[k] = dims[k];

    hid_t dset = -1, space = -1, lcpl = -1, ftype = -1, mtype = -1;
    rc = OIQA_EXIT_DATA;
    if ((mtype = oiqa_h5_mem_type(dtype)) < 0) goto h5fail;
    if (oiqa_h5_exists(s->file, dset_path)) {
        /* Resume: the same dataset again, replaced in place. */
        if ((dset = H5Dopen2(s->file, dset_path, H5P_DEFAULT)) < 0) goto h5fail;
        hid_t t = H5Dget_type(dset), sp = H5Dget_space(dset);
        oiqa_dtype have = OIQA_U8;
        hsize_t fdims[OIQA_MAX_DIMS];
        int frank = sp >= 0 ? H5Sget_simple_extent_ndims(sp) : -1;
        int same = t >= 0 && oiqa_h5_dtype_of(t, &have) == 0 && have == dtype && frank == ndim &&
                   H5Sget_simple_extent_dims(sp, fdims, NULL) == ndim;
        for (int k = 0; same && k < ndim; k++) same = fdims[k] == hdims[k];
        if (t >= 0) H5Tclose(t);
        if (sp >= 0) H5Sclose(sp);
        if (!same) {
            rc = oiqa_fail(OIQA_EXIT_USAGE, s->partial_path,
                           "%s in the interrupted run has another type or shape (use --force to start over)",
                           dset_path);
            goto done;
        }
    } else {
        space = ndim ? H5Screate_simple(ndim, hdims, NULL) : H5Screate(H5S_SCALAR);
        if (space < 0 || (ftype = oiqa_h5_file_type(dtype)) < 0) goto h5fail;
        if ((lcpl = H5Pcreate(H5P_LINK_CREATE)) < 0 || H5Pset_create_intermediate_group(lcpl, 1) < 0) goto h5fail;
        if ((dset = H5Dcreate2(s->file, dset_path, ftype, space, lcpl, H5P_DEFAULT, H5P_DEFAULT)) < 0) goto h5fail;
    }
    if (H5Dwrite(dset, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) goto h5fail;
    rc = OIQA_OK;
    goto done;
h5fail:
    rc = oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot write %s", dset_path);
done:
    if (mtype >= 0) H5Tclose(mtype);
    if (ftype >= 0) H5Tclose(ftype);
    if (lcpl >= 0) H5Pclose(lcpl);
    if (space >= 0) H5Sclose(space);
    if (dset >= 0) H5Dclose(dset);
    return rc;
}

typedef enum { ATTR_STRING, ATTR_INT, ATTR_DOUBLE } attr_kind;

static int set_attr(oiqa_store *s, const char *obj_path, const char *name, attr_kind kind, const char *str,
                    int64_t i, double d)
{
    int root = !obj_path || !*obj_path || !strcmp(obj_path, "/");
    if (!name || !*name) return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "an attribute needs a name");
    if (!root && !oiqa_h5_exists(s->file, obj_path))
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "no %s to set attribute %s on", obj_path, name);
    hid_t obj = root ? s->file : H5Oopen(s->file, obj_path, H5P_DEFAULT);
    if (obj < 0) return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot open %s", obj_path);
    int err = kind == ATTR_STRING ? oiqa_h5_attr_write_string(obj, name, str)
              : kind == ATTR_INT  ? oiqa_h5_attr_write_i64(obj, name, i)
                                  : oiqa_h5_attr_write_f64(obj, name, d);
    if (!root) H5Oclose(obj);
    if (err < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot write attribute %s of %s", name,
                            root ? "/" : obj_path);
    return OIQA_OK;
}

int oiqa_store_set_attr_string(oiqa_store *s, const char *obj_path, const char *name, const char *value)
{
    return set_attr(s, obj_path, name, ATTR_STRING, value, 0, 0);
}

int oiqa_store_set_attr_int(oiqa_store *s, const char *obj_path, const char *name, int64_t value)
{
    return set_attr(s, obj_path, name, ATTR_INT, NULL, value, 0);
}

int oiqa_store_set_attr_double(oiqa_store *s, const char *obj_path, const char *name, double value)
{
    return set_attr(s, obj_path, name, ATTR_DOUBLE, NULL, 0, value);
}

/* ---- rows ------------------------------------------------------------- */

static int check_new_name(const oiqa_store *s, const char *name)
{
    if (!name || !*name) return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "a row needs a non-empty name");
    if (oiqa_name_index_find(&s->index, name) >= 0)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "'%s' is already in the file (duplicate name)", name);
    return OIQA_OK;
}

/* Extends d by one row and selects that row in a new file dataspace. */
static hid_t extend_one_row(oiqa_store *s, store_dset *d)
{
    d->dims[0] = (hsize_t)s->rows + 1;
    if (H5Dset_extent(d->dset, d->dims) < 0) return -1;
    hid_t space = H5Dget_space(d->dset);
    if (space < 0) return -1;
    hsize_t start[OIQA_MAX_DIMS] = {0}, count[OIQA_MAX_DIMS];
    start[0] = (hsize_t)s->rows;
    count[0] = 1;
    for (int k = 1; k <= d->ndim; k++) count[k] = d->dims[k];
    if (H5Sselect_hyperslab(space, H5S_SELECT_SET, start, NULL, count, NULL) < 0) {
        H5Sclose(space);
        return -1;
    }
    return space;
}

/* The name goes last: a row exists once its name does (see h5store.h). */
static int commit_row(oiqa_store *s, const char *name, const char *input_path, const char *input_sha256)
{
    hsize_t row = (hsize_t)s->rows;
    if (oiqa_h5_append_string(s->input_path, s->str_type, row, input_path) < 0 ||
        oiqa_h5_append_string(s->input_sha, s->str_type, row, input_sha256) < 0 ||
        oiqa_h5_append_string(s->names, s->str_type, row, name) < 0 || H5Fflush(s->file, H5F_SCOPE_LOCAL) < 0)
        return oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot write row '%s'", name);
    if (oiqa_name_index_add(&s->index, name) < 0) return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "out of memory");
    s->rows++;
    s->appended = 1;
    return OIQA_OK;
}

int oiqa_store_append(oiqa_store *s, const char *name, const char *input_path, const char *input_sha256,
                      const void *const *data)
{
    int rc = check_new_name(s, name);
    if (rc) return rc;
    for (int k = 0; k < s->n_dsets; k++) {
        store_dset *d = &s->dsets[k];
        hid_t fspace = extend_one_row(s, d), mspace = -1;
        hsize_t m[1] = {d->row_elems};
        /* The message is made before the closes clear HDF5's error stack. */
        if (fspace < 0 || (mspace = H5Screate_simple(1, m, NULL)) < 0 ||
            H5Dwrite(d->dset, d->mem_type, mspace, fspace, H5P_DEFAULT, data[k]) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot write %s of '%s'", d->path, name);
        if (mspace >= 0) H5Sclose(mspace);
        if (fspace >= 0) H5Sclose(fspace);
        if (rc) return rc;
    }
    return commit_row(s, name, input_path, input_sha256);
}

/* HDF5's shuffle filter: byte j of element i goes to plane j. */
static void shuffle_bytes(const uint8_t *in, uint8_t *out, size_t n_elems, size_t elem_size)
{
    for (size_t j = 0; j < elem_size; j++) {
        uint8_t *plane = out + j * n_elems;
        for (size_t i = 0; i < n_elems; i++) plane[i] = in[i * elem_size + j];
    }
}

void oiqa_encoded_row_free(oiqa_encoded_row *enc)
{
    if (!enc) return;
    for (int k = 0; k < enc->n && k < MAX_DSETS; k++) free(enc->buf[k]);
    memset(enc, 0, sizeof *enc);
}

int oiqa_store_encode(const oiqa_store *s, const void *const *data, oiqa_encoded_row *enc)
{
    memset(enc, 0, sizeof *enc);
    for (int k = 0; k < s->n_dsets; k++) {
        const store_dset *d = &s->dsets[k];
        enc->n = k + 1; /* so a failure frees what was made */
        if (d->level == 0) {
            if (!(enc->buf[k] = malloc(d->row_bytes ? d->row_bytes : 1))) goto oom;
            memcpy(enc->buf[k], data[k], d->row_bytes);
            enc->size[k] = d->row_bytes;
            continue;
        }
        size_t es = oiqa_dtype_size(d->dtype);
        const uint8_t *src = data[k];
        uint8_t *shuffled = NULL;
        if (es > 1) {
            if (!(shuffled = malloc(d->row_bytes))) goto oom;
            shuffle_bytes(src, shuffled, d->row_elems, es);
            src = shuffled;
        }
        uLongf len = compressBound((uLong)d->row_bytes);
        enc->buf[k] = malloc(len);
        int z = enc->buf[k] ? compress2(enc->buf[k], &len, src, (uLong)d->row_bytes, d->level) : Z_MEM_ERROR;
        free(shuffled);
        if (z == Z_MEM_ERROR) goto oom;
        if (z != Z_OK) {
            oiqa_encoded_row_free(enc);
            return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "cannot compress a row of %s (zlib error %d)", d->path, z);
        }
        enc->size[k] = len;
    }
    return OIQA_OK;
oom:
    oiqa_encoded_row_free(enc);
    return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "out of memory encoding a row");
}

int oiqa_store_append_encoded(oiqa_store *s, const char *name, const char *input_path, const char *input_sha256,
                              const oiqa_encoded_row *enc)
{
    int rc = check_new_name(s, name);
    if (rc) return rc;
    if (enc->n != s->n_dsets)
        return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "row '%s' was encoded for %d datasets, the store has %d", name,
                         enc->n, s->n_dsets);
    for (int k = 0; k < s->n_dsets; k++) {
        store_dset *d = &s->dsets[k];
        if (d->level == 0 && enc->size[k] != d->row_bytes)
            return oiqa_fail(OIQA_EXIT_DATA, s->out_path, "row '%s' of %s has %zu bytes, expected %zu", name, d->path,
                             enc->size[k], d->row_bytes);
        hsize_t offset[OIQA_MAX_DIMS] = {0};
        offset[0] = (hsize_t)s->rows;
        hid_t fspace = extend_one_row(s, d);
        if (fspace < 0 || H5Dwrite_chunk(d->dset, H5P_DEFAULT, 0, offset, enc->size[k], enc->buf[k]) < 0)
            rc = oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot write %s of '%s'", d->path, name);
        if (fspace >= 0) H5Sclose(fspace);
        if (rc) return rc;
    }
    return commit_row(s, name, input_path, input_sha256);
}

/* ---- finishing -------------------------------------------------------- */

static int read_column(oiqa_store *s, hid_t dset, char ***out)
{
    hid_t space = H5Dget_space(dset);
    int ok = space >= 0 && H5Sselect_all(space) >= 0 &&
             oiqa_h5_read_strings(dset, space, (size_t)s->rows, out) == 0;
    if (space >= 0) H5Sclose(space);
    return ok ? 0 : -1;
}

/* `inputs`: every distinct (path, sha256) of the rows, in row order. */
static int write_inputs(oiqa_store *s)
{
    char **paths = NULL, **shas = NULL;
    oiqa_name_index seen = {0};
    oiqa_sbuf json = {0};
    int rc = OIQA_OK;
    if (read_column(s, s->input_path, &paths) < 0 || read_column(s, s->input_sha, &shas) < 0) {
        rc = oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot read the input lists");
        goto done;
    }
    oiqa_sbuf_append(&json, "[");
    int first = 1;
    for (int64_t i = 0; i < s->rows; i++) {
        char *key = oiqa_asprintf("%s\n%s", paths[i], shas[i]);
        int fresh = oiqa_name_index_find(&seen, key) < 0;
        if (fresh && oiqa_name_index_add(&seen, key) < 0) rc = oiqa_fail(OIQA_EXIT_DATA, s->out_path, "out of memory");
        free(key);
        if (rc) goto done;
        if (!fresh) continue;
        oiqa_sbuf_append(&json, first ? "{\"path\": " : ", {\"path\": ");
        oiqa_sbuf_append_json_string(&json, paths[i]);
        oiqa_sbuf_append(&json, ", \"sha256\": ");
        oiqa_sbuf_append_json_string(&json, shas[i]);
        oiqa_sbuf_append(&json, "}");
        first = 0;
    }
    oiqa_sbuf_append(&json, "]");
    if (oiqa_h5_attr_write_string(s->file, "inputs", json.s) < 0)
        rc = oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot write the inputs attribute");
done:
    free(json.s);
    oiqa_name_index_free(&seen);
    oiqa_h5_strings_free(paths, (size_t)s->rows);
    oiqa_h5_strings_free(shas, (size_t)s->rows);
    return rc;
}

/* Makes the finished file durable before the rename makes it visible. */
static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int oiqa_store_finish(oiqa_store *s)
{
    int rc = write_inputs(s);
    if (!rc && oiqa_h5_attr_write_i64(s->file, "complete", 1) < 0)
        rc = oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot mark the file complete");
    if (close_handles(s) < 0 && !rc) rc = oiqa_h5_fail(OIQA_EXIT_DATA, s->partial_path, "cannot close");
    if (!rc && sync_file(s->partial_path) < 0)
        rc = oiqa_fail(OIQA_EXIT_DATA, s->partial_path, "cannot sync (%s)", oiqa_strerror(errno));
    if (!rc && rename(s->partial_path, s->out_path) != 0)
        rc = oiqa_fail(OIQA_EXIT_DATA, s->partial_path, "cannot rename to %s (%s)", s->out_path,
                       oiqa_strerror(errno));
    store_free(s);
    return rc;
}

void oiqa_store_abandon(oiqa_store *s)
{
    if (!s) return;
    if (s->file >= 0) H5Fflush(s->file, H5F_SCOPE_LOCAL);
    store_free(s);
}

void oiqa_store_discard(oiqa_store *s)
{
    if (!s) return;
    close_handles(s);
    unlink(s->partial_path);
    store_free(s);
}
