/* torch.save zip files (torch >= 1.6): <dir>/data.pkl is a pickle whose
 * tensors are REDUCEs of torch._utils._rebuild_tensor_v2(storage, offset,
 * size, stride, ...), the storage a persistent id ('storage', <class>, key,
 * location, numel) whose bytes are the stored entry <dir>/data/<key>. The
 * layout is torch/serialization.py's _save / _load (zip format). */
#include "io/ckpt_torch.h"
#include "io/ckpt_reader.h"

#include "base/error.h"
#include "io/pickle.h"
#include "io/zip_reader.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *cls;
    oiqa_ck_dtype dt;
} STORAGES[] = {
    {"FloatStorage", OIQA_CK_F32},  {"HalfStorage", OIQA_CK_F16}, {"BFloat16Storage", OIQA_CK_BF16},
    {"DoubleStorage", OIQA_CK_F64}, {"LongStorage", OIQA_CK_I64}, {"IntStorage", OIQA_CK_I32},
    {"ShortStorage", OIQA_CK_I16},  {"CharStorage", OIQA_CK_I8},  {"ByteStorage", OIQA_CK_U8},
    {"BoolStorage", OIQA_CK_BOOL},
};

static oiqa_ck_dtype storage_dtype(const oiqa_pk_value *cls)
{
    if (!cls || cls->kind != PK_GLOBAL || strcmp(cls->str, "torch")) return OIQA_CK_UNKNOWN;
    for (size_t i = 0; i < sizeof STORAGES / sizeof STORAGES[0]; i++)
        if (!strcmp(cls->name, STORAGES[i].cls)) return STORAGES[i].dt;
    return OIQA_CK_UNKNOWN;
}

static int is_int(const oiqa_pk_value *v) { return v && v->kind == PK_INT; }

static int is_tensor(const oiqa_pk_value *v)
{
    return v && v->kind == PK_REDUCE &&
           (oiqa_pk_is_global(v->callable, "torch._utils", "_rebuild_tensor_v2") ||
            oiqa_pk_is_global(v->callable, "torch._utils", "_rebuild_tensor"));
}

/* Fills shape or stride from a tuple of ints. */
static int int_tuple(const oiqa_pk_value *v, int64_t *out, int max)
{
    if (!v || v->kind != PK_TUPLE || v->n > max) return -1;
    for (int i = 0; i < v->n; i++) {
        if (!is_int(v->items[i])) return -1;
        out[i] = v->items[i]->i;
    }
    return v->n;
}

/* One _rebuild_tensor_v2 call into t. dir is the archive's folder ("x/"). */
static int read_tensor(oiqa_ckpt *ck, const oiqa_zip *zip, const char *dir, const oiqa_pk_value *v, oiqa_ck_tensor *t)
{
    const oiqa_pk_value *a = v->args;
    if (!a || a->kind != PK_TUPLE || a->n < 4 || a->items[0]->kind != PK_PERSID || !is_int(a->items[1]))
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: malformed _rebuild_tensor arguments", t->name);
    const oiqa_pk_value *pid = a->items[0]->args;
    if (!pid || pid->kind != PK_TUPLE || pid->n < 5 || pid->items[0]->kind != PK_STR ||
        strcmp(pid->items[0]->str, "storage") || pid->items[2]->kind != PK_STR || !is_int(pid->items[4]))
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "tensor %s: persistent id is not ('storage', class, key, location, numel)", t->name);
    t->dtype = storage_dtype(pid->items[1]);
    t->storage_offset = a->items[1]->i;
    int nd = int_tuple(a->items[2], t->shape, OIQA_CK_MAX_DIMS),
        ns = int_tuple(a->items[3], t->stride, OIQA_CK_MAX_DIMS);
    if (nd < 0 || ns != nd)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "tensor %s: size and stride are not equal-length tuples of at most %d ints", t->name,
                         OIQA_CK_MAX_DIMS);
    t->ndim = nd;
    char entry[4096];
    const char *key = pid->items[2]->str;
    if ((size_t)snprintf(entry, sizeof entry, "%sdata/%s", dir, key) >= sizeof entry)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: storage key too long", t->name);
    const oiqa_zip_entry *e = oiqa_zip_find(zip, entry);
    if (t->dtype == OIQA_CK_UNKNOWN) {
        /* Listed, refused only when read (unknown classes are not an error). */
        if (e) t->file_offset = e->data_offset, t->storage_bytes = e->size;
        return ckpt_check_extent(ck, t);
    }
    if (!e)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: storage entry %s missing from the archive", t->name,
                         entry);
    if (!oiqa_zip_stored_data(zip, e)) return OIQA_EXIT_DATA;
    int64_t numel = pid->items[4]->i;
    size_t es = oiqa_ck_dtype_size(t->dtype);
    if (numel < 0 || (uint64_t)numel > e->size / es)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "tensor %s: storage %s of %lld elements does not fit its %llu bytes",
                         t->name, entry, (long long)numel, (unsigned long long)e->size);
    t->file_offset = e->data_offset;
    t->storage_bytes = (uint64_t)numel * es;
    return ckpt_check_extent(ck, t);
}

/* The dict whose tensors are listed (rule in ckpt.h). */
static int choose_dict(oiqa_ckpt *ck, const oiqa_pk_value *root, const char *dict_key, const oiqa_pk_value **out)
{
    if (!root || root->kind != PK_DICT)
        return oiqa_fail(OIQA_EXIT_DATA, ck->path,
                         "data.pkl does not hold a dict (a whole pickled model?); save a state_dict");
    const char *key = NULL;
    const oiqa_pk_value *d = root;
    if (dict_key && *dict_key) {
        d = oiqa_pk_dict_get(root, dict_key);
        if (!d || d->kind != PK_DICT)
            return oiqa_fail(OIQA_EXIT_DATA, ck->path, "no dict under the top-level key '%s'", dict_key);
        key = dict_key;
    } else if (!dict_key) {
        static const char *const defaults[] = {"model", "state_dict"};
        for (int i = 0; i < 2 && !key; i++) {
            const oiqa_pk_value *c = oiqa_pk_dict_get(root, defaults[i]);
            if (c && c->kind == PK_DICT) d = c, key = defaults[i];
        }
    }
    if (!(ck->prefix = strdup(key ? key : ""))) return oiqa_fail(OIQA_EXIT_DATA, ck->path, "out of memory");
    *out = d;
    return OIQA_OK;
}

/* The data.pkl entry: "data.pkl" or "<dir>/data.pkl" with one level of folder. */
static const oiqa_zip_entry *find_pickle(const oiqa_zip *zip, char *dir, size_t dir_cap)
{
    for (int i = 0; i < zip->n; i++) {
        const char *nm = zip->entries[i].name, *slash = strchr(nm, '/');
        size_t len = strlen(nm);
        if (len < 8 || strcmp(nm + len - 8, "data.pkl")) continue;
        if (len == 8 || (slash && slash == nm + len - 9 && len - 8 < dir_cap)) {
            memcpy(dir, nm, len - 8);
            dir[len - 8] = 0;
            return &zip->entries[i];
        }
    }
    return NULL;
}

int ckpt_open_torch(oiqa_ckpt *ck, const char *dict_key)
{
    ck->format = "torch";
    oiqa_zip zip;
    int rc = oiqa_zip_open(&zip, ck->path, ck->map, ck->size);
    if (rc) return rc;
    char dir[1024];
    const oiqa_zip_entry *pe = find_pickle(&zip, dir, sizeof dir);
    if (!pe) {
        oiqa_zip_close(&zip);
        return oiqa_fail(OIQA_EXIT_DATA, ck->path, "a zip archive without data.pkl: not a torch.save file");
    }
    const uint8_t *pdata = oiqa_zip_stored_data(&zip, pe);
    oiqa_pickle pk;
    memset(&pk, 0, sizeof pk);
    const oiqa_pk_value *d = NULL;
    rc = pdata ? oiqa_pickle_load(&pk, ck->path, pe->name, pdata, (size_t)pe->size) : OIQA_EXIT_DATA;
    if (!rc) rc = choose_dict(ck, pk.root, dict_key, &d);
    for (int i = 0; !rc && i < d->n; i += 2) {
        const oiqa_pk_value *k = d->items[i], *v = d->items[i + 1];
        if (k->kind != PK_STR || !is_tensor(v)) continue; /* not a tensor: not listed */
        oiqa_ck_tensor *t = ckpt_add_tensor(ck, k->str, k->len);
        rc = t ? read_tensor(ck, &zip, dir, v, t) : OIQA_EXIT_DATA;
    }
    oiqa_pickle_free(&pk);
    oiqa_zip_close(&zip);
    return rc;
}
