/* Checkpoint front end: maps the file, detects its format by its first
 * bytes, and reads tensors as float32. The format readers are in
 * ckpt_torch.c, safetensors.c and ckpt_h5_read.c; they share only
 * ckpt_reader.h, so they never call back into this front end. */
#include "io/ckpt.h"
#include "io/ckpt_h5_read.h"
#include "io/ckpt_reader.h"
#include "io/ckpt_torch.h"
#include "io/safetensors.h"

#include "base/error.h"
#include "io/h5store.h" /* oiqa_f16_to_f32 */

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const uint8_t MAGIC_ZIP[4] = {'P', 'K', 3, 4};
static const uint8_t MAGIC_HDF5[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static int detect_and_read(oiqa_ckpt *ck, const char *dict_key)
{
    const uint8_t *b = ck->map;
    if (ck->size >= 4 && !memcmp(b, MAGIC_ZIP, 4)) return ckpt_open_torch(ck, dict_key);
    if (ck->size >= 8 && !memcmp(b, MAGIC_HDF5, 8))
        return ckpt_open_h5(ck); /* oiqa weight files only (io/ckpt_h5.c) */
    /* Before the pickle test: a header length such as 0x0280 starts with the bytes of PROTO 2. */
    if (ck->size >= 9 && b[8] == '{') return ckpt_open_safetensors(ck);
    if (ck->size >= 2 && b[0] == 0x80 && b[1] <= 5)
        return oiqa_fail(
            OIQA_EXIT_DATA, ck->path,
            "a bare pickle: legacy (torch < 1.6) checkpoints are not supported; re-save it with torch >= 1.6");
    if (ck->size >= 8 && b[0] == 'P' && b[1] == 'K')
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "a zip archive whose first entry header is damaged");
    return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                     "not a checkpoint (neither a torch zip, safetensors nor HDF5: unknown magic bytes)");
}

/* Small files are read into the heap (so that memory checkers see any
 * out-of-bounds read), large ones mapped. */
#define READ_LIMIT (16u << 20)

static int map_file(oiqa_ckpt *ck, int fd)
{
    if (ck->size >= READ_LIMIT) {
        void *map = mmap(NULL, ck->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map == MAP_FAILED) return oiqa_fail(OIQA_EXIT_DATA, ck->path, "cannot map: %s", oiqa_strerror(errno));
        ck->map = map, ck->mapped = 1;
        return OIQA_OK;
    }
    uint8_t *buf = malloc(ck->size);
    if (!buf) return oiqa_fail(OIQA_EXIT_DATA, ck->path, "out of memory");
    ck->map = buf;
    for (size_t got = 0; got < ck->size;) {
        ssize_t r = read(fd, buf + got, ck->size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return oiqa_fail(OIQA_EXIT_DATA, ck->path, "read error: %s", r ? oiqa_strerror(errno) : "file shrank");
        got += (size_t)r;
    }
    return OIQA_OK;
}

int oiqa_ckpt_open_opts(const char *path, const oiqa_ckpt_opts *opts, oiqa_ckpt **out)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return oiqa_fail(OIQA_EXIT_DATA, path, "cannot open: %s", oiqa_strerror(errno));
    struct stat st;
    if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
        close(fd);
        return oiqa_fail(OIQA_EXIT_DATA, path, "not a regular file");
    }
    if (st.st_size == 0) {
        close(fd);
        return oiqa_fail(OIQA_EXIT_DATA, path, "empty file");
    }
    oiqa_ckpt *ck = calloc(1, sizeof *ck);
    if (!ck || !(ck->path = strdup(path))) {
        free(ck);
        close(fd);
        return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    }
    ck->size = (size_t)st.st_size;
    int rc = map_file(ck, fd);
    close(fd);
    if (rc) {
        oiqa_ckpt_close(ck);
        return rc;
    }
    rc = detect_and_read(ck, opts ? opts->dict_key : NULL);
    if (!rc && !ck->prefix && !(ck->prefix = strdup(""))) rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    if (rc) {
        oiqa_ckpt_close(ck);
        return rc;
    }
    *out = ck;
    return OIQA_OK;
}

int oiqa_ckpt_open(const char *path, oiqa_ckpt **out) { return oiqa_ckpt_open_opts(path, NULL, out); }

const char *oiqa_ckpt_format(const oiqa_ckpt *ck) { return ck->format; }
const char *oiqa_ckpt_prefix(const oiqa_ckpt *ck) { return ck->prefix; }
int oiqa_ckpt_count(const oiqa_ckpt *ck) { return ck->n; }
const oiqa_ck_tensor *oiqa_ckpt_tensor(const oiqa_ckpt *ck, int i) { return i >= 0 && i < ck->n ? &ck->t[i] : NULL; }

const oiqa_ck_tensor *oiqa_ckpt_find(const oiqa_ckpt *ck, const char *name)
{
    for (int i = 0; i < ck->n; i++)
        if (!strcmp(ck->t[i].name, name)) return &ck->t[i];
    return NULL;
}

const void *oiqa_ckpt_storage(const oiqa_ckpt *ck, const oiqa_ck_tensor *t)
{
    return t->dtype == OIQA_CK_UNKNOWN ? NULL : ck->map + t->file_offset;
}

/* Element k (in elements from the storage start) as float; p may be unaligned. */
static float elem(const uint8_t *p, oiqa_ck_dtype dt, int64_t k)
{
    union {
        float f;
        double d;
        int64_t i64;
        int32_t i32;
        int16_t i16;
        uint16_t u16;
    } u;
    size_t es = oiqa_ck_dtype_size(dt);
    memcpy(&u, p + (size_t)k * es, es);
    switch (dt) {
    case OIQA_CK_F32: return u.f;
    case OIQA_CK_F16: return oiqa_f16_to_f32(u.u16);
    case OIQA_CK_BF16: return oiqa_bf16_to_f32(u.u16);
    case OIQA_CK_F64: return (float)u.d;
    case OIQA_CK_I64: return (float)u.i64;
    case OIQA_CK_I32: return (float)u.i32;
    case OIQA_CK_I16: return (float)u.i16;
    case OIQA_CK_I8: return (float)(int8_t)p[k];
    case OIQA_CK_U8:
    case OIQA_CK_BOOL: return (float)p[k];
    default: return 0.f;
    }
}

/* Row-major contiguous (dimensions of size 1 may have any stride). */
static int is_contiguous(const oiqa_ck_tensor *t)
{
    int64_t want = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != want) return 0;
        want *= t->shape[d];
    }
    return 1;
}

int oiqa_ckpt_read_f32(const oiqa_ckpt *ck, const oiqa_ck_tensor *t, float *dst)
{
    if (t->dtype == OIQA_CK_UNKNOWN)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: its storage type is not one the reader knows", t->name);
    const uint8_t *p = ck->map + t->file_offset;
    if (is_contiguous(t)) {
        if (t->dtype == OIQA_CK_F32)
            memcpy(dst, p + (size_t)t->storage_offset * 4, (size_t)t->numel * 4);
        else
            for (int64_t i = 0; i < t->numel; i++) dst[i] = elem(p, t->dtype, t->storage_offset + i);
        return OIQA_OK;
    }
    /* Walk the multi-index in row-major order; idx[] counts, off follows it. */
    int64_t idx[OIQA_CK_MAX_DIMS] = {0}, off = t->storage_offset;
    for (int64_t i = 0; i < t->numel; i++) {
        dst[i] = elem(p, t->dtype, off);
        oiqa_ck_step(t, idx, &off);
    }
    return OIQA_OK;
}

void oiqa_ckpt_close(oiqa_ckpt *ck)
{
    if (!ck) return;
    for (int i = 0; i < ck->n; i++) free(ck->t[i].name);
    free(ck->t);
    free(ck->prefix);
    if (ck->mapped)
        munmap((void *)ck->map, ck->size);
    else
        free((void *)ck->map);
    free(ck->path);
    free(ck);
}
