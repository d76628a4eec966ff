/* Checkpoint readers (io/ckpt.h): the real ResNet-50 and VMamba fixtures in
 * both formats, crafted files for dtypes, views and shared storages, and
 * hostile files made from the real ones (each must fail cleanly, naming the
 * file). Fixtures come from $OIQA_SHARED (default ../shared); the cases that
 * need them skip, saying why, when they are absent. */
#include "check.h"
#include "base/error.h"
#include "io/ckpt.h"
#include "io/h5store.h" /* oiqa_f16_to_f32 */
#include "io/zip_reader.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

static char g_tmp[64];

static const char *tmp_path(const char *name)
{
    static char ring[4][256];
    static int next;
    char *b = ring[next++ % 4];
    snprintf(b, sizeof ring[0], "%s/%s", g_tmp, name);
    return b;
}

static int exists(const char *p) { return access(p, R_OK) == 0; }

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    fclose(f);
    return b;
}

static void spit(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

/* True when this thread's message contains sub (or sub is NULL). */
static int msg_has(const char *sub) { return !sub || strstr(oiqa_errmsg(), sub) != NULL; }

/* Opening path must fail with OIQA_EXIT_DATA and a message starting with the path. */
#define CHECK_REFUSED(path, expect_sub) \
    do { \
        oiqa_ckpt *ck_ = (oiqa_ckpt *)1; \
        int rc_ = oiqa_ckpt_open((path), &ck_); \
        CHECK_MSG(rc_ == OIQA_EXIT_DATA && ck_ == NULL, "%s: rc %d", (path), rc_); \
        if (!rc_) oiqa_ckpt_close(ck_); \
        CHECK_MSG(!strncmp(oiqa_errmsg(), (path), strlen(path)), "message \"%s\"", oiqa_errmsg()); \
        CHECK_MSG(msg_has(expect_sub), "message \"%s\" lacks \"%s\"", oiqa_errmsg(), check_nonnull(expect_sub)); \
    } while (0)

static float *read_all(oiqa_ckpt *ck, const oiqa_ck_tensor *t)
{
    float *v = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *v);
    if (oiqa_ckpt_read_f32(ck, t, v)) {
        free(v);
        return NULL;
    }
    return v;
}

static uint32_t bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- real fixtures ------------------------------------------------------ */

static void t_resnet_pth(void)
{
    const char *p = check_shared("fixtures/resnet50/resnet50_seed0.pth");
    if (!exists(p)) {
        SKIP("%s absent", p);
        return;
    }
    oiqa_ckpt *ck;
    int rc = oiqa_ckpt_open(p, &ck);
    CHECK_MSG(rc == 0, "%s", oiqa_errmsg());
    if (rc) return;
    CHECK_STR(oiqa_ckpt_format(ck), "torch");
    CHECK_STR(oiqa_ckpt_prefix(ck), "");
    CHECK(oiqa_ckpt_count(ck) == 320);
    int n_f32 = 0, n_i64 = 0;
    for (int i = 0; i < oiqa_ckpt_count(ck); i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_tensor(ck, i);
        n_f32 += t->dtype == OIQA_CK_F32;
        n_i64 += t->dtype == OIQA_CK_I64;
        if (t->dtype == OIQA_CK_I64) CHECK(t->ndim == 0 && t->numel == 1 && strstr(t->name, "num_batches_tracked"));
    }
    CHECK(n_f32 == 267 && n_i64 == 53);
    CHECK(oiqa_ckpt_tensor(ck, 320) == NULL && oiqa_ckpt_tensor(ck, -1) == NULL);
    CHECK_STR(oiqa_ckpt_tensor(ck, 0)->name, "conv1.weight");
    CHECK_STR(oiqa_ckpt_tensor(ck, 319)->name, "fc.bias");
    const oiqa_ck_tensor *w = oiqa_ckpt_find(ck, "conv1.weight");
    CHECK(w && w->ndim == 4 && w->shape[0] == 64 && w->shape[1] == 3 && w->shape[2] == 7 && w->shape[3] == 7);
    CHECK(w && w->stride[0] == 147 && w->stride[1] == 49 && w->stride[2] == 7 && w->stride[3] == 1);
    CHECK(oiqa_ckpt_find(ck, "nope") == NULL);
    /* Values checked against the raw storages read by Python's pickle + zipfile. */
    const struct {
        const char *name;
        int64_t numel;
        uint32_t first[3];
    } ref[] = {
        {"conv1.weight", 9408, {0xbd6fd2dd, 0x3cc97177, 0x3cee873c}},
        {"fc.bias", 1000, {0xbc5d1a08, 0x3c9bb2b8, 0xbc7608bd}},
        {"layer4.2.bn3.running_var", 2048, {0x3fa8bbe8, 0x3f8ba574, 0x3f4ba422}},
        {"fc.weight", 2048000, {0xbbfdebfe, 0xbc0d4d27, 0xbc800628}},
    };
    for (size_t r = 0; r < sizeof ref / sizeof ref[0]; r++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, ref[r].name);
        CHECK_MSG(t && t->numel == ref[r].numel && t->dtype == OIQA_CK_F32, "%s", ref[r].name);
        float *v = t ? read_all(ck, t) : NULL;
        CHECK(v != NULL);
        for (int k = 0; v && k < 3; k++)
            CHECK_MSG(bits(v[k]) == ref[r].first[k], "%s[%d] = %08x", ref[r].name, k, bits(v[k]));
        free(v);
    }
    const oiqa_ck_tensor *nb = oiqa_ckpt_find(ck, "bn1.num_batches_tracked");
    float z = -1;
    CHECK(nb && oiqa_ckpt_read_f32(ck, nb, &z) == 0 && z == 0.f);
    oiqa_ckpt_close(ck);
}

/* Every tensor of a (b) must be in a (a) with the same dtype, shape and bits. */
static void check_same_tensors(oiqa_ckpt *a, oiqa_ckpt *b, int same_order)
{
    for (int i = 0; i < oiqa_ckpt_count(b); i++) {
        const oiqa_ck_tensor *tb = oiqa_ckpt_tensor(b, i), *ta = oiqa_ckpt_find(a, tb->name);
        CHECK_MSG(ta != NULL, "%s missing", tb->name);
        if (!ta) continue;
        if (same_order) CHECK_STR(oiqa_ckpt_tensor(a, i)->name, tb->name);
        CHECK_MSG(ta->dtype == tb->dtype && ta->ndim == tb->ndim && ta->numel == tb->numel, "%s differs", tb->name);
        for (int d = 0; d < ta->ndim && d < tb->ndim; d++) CHECK(ta->shape[d] == tb->shape[d]);
        size_t bytes = (size_t)ta->numel * oiqa_ck_dtype_size(ta->dtype);
        if (ta->numel == tb->numel && ta->dtype == tb->dtype)
            CHECK_MSG(!memcmp(oiqa_ckpt_storage(a, ta), oiqa_ckpt_storage(b, tb), bytes), "%s bytes differ", tb->name);
        float *va = read_all(a, ta), *vb = read_all(b, tb);
        CHECK(va && vb);
        if (va && vb && ta->numel == tb->numel)
            CHECK_MSG(!memcmp(va, vb, (size_t)ta->numel * 4), "%s values differ", tb->name);
        free(va);
        free(vb);
    }
}

static void t_resnet_safetensors_subset(void)
{
    const char *pp = check_shared("fixtures/resnet50/resnet50_seed0.pth");
    const char *ps = check_shared("fixtures/resnet50/resnet50_seed0_conv1_to_layer1.safetensors");
    if (!exists(pp) || !exists(ps)) {
        SKIP("%s or %s absent", pp, ps);
        return;
    }
    oiqa_ckpt *a, *b;
    CHECK_MSG(oiqa_ckpt_open(pp, &a) == 0, "%s", oiqa_errmsg());
    CHECK_MSG(oiqa_ckpt_open(ps, &b) == 0, "%s", oiqa_errmsg());
    if (check_case_failed) return;
    CHECK_STR(oiqa_ckpt_format(b), "safetensors");
    CHECK(oiqa_ckpt_count(b) == 66);
    int n_i64 = 0;
    for (int i = 0; i < oiqa_ckpt_count(b); i++) n_i64 += oiqa_ckpt_tensor(b, i)->dtype == OIQA_CK_I64;
    CHECK(n_i64 == 11);
    const oiqa_ck_tensor *nb = oiqa_ckpt_find(b, "bn1.num_batches_tracked");
    CHECK(nb && nb->ndim == 0 && nb->numel == 1);
    check_same_tensors(a, b, 0);
    oiqa_ckpt_close(a);
    oiqa_ckpt_close(b);
}

static void t_vmamba_twins(void)
{
    static const char *variants[] = {"v0", "v2", "v2s1"};
    static const int counts[] = {82, 114, 114};
    for (int v = 0; v < 3; v++) {
        char rel[128];
        snprintf(rel, sizeof rel, "fixtures/vmamba/vmamba_%s_small.pth", variants[v]);
        const char *pp = check_shared(rel);
        snprintf(rel, sizeof rel, "fixtures/vmamba/vmamba_%s_small.safetensors", variants[v]);
        const char *ps = check_shared(rel);
        if (!exists(pp) || !exists(ps)) {
            SKIP("%s or %s absent", pp, ps);
            return;
        }
        oiqa_ckpt *a, *b;
        CHECK_MSG(oiqa_ckpt_open(pp, &a) == 0, "%s", oiqa_errmsg());
        CHECK_MSG(oiqa_ckpt_open(ps, &b) == 0, "%s", oiqa_errmsg());
        if (check_case_failed) return;
        CHECK_STR(oiqa_ckpt_prefix(a), "model");
        CHECK_MSG(oiqa_ckpt_count(a) == counts[v] && oiqa_ckpt_count(b) == counts[v], "%s: %d / %d", variants[v],
                  oiqa_ckpt_count(a), oiqa_ckpt_count(b));
        CHECK_STR(oiqa_ckpt_tensor(a, 0)->name, "patch_embed.0.weight");
        check_same_tensors(a, b, 0);
        check_same_tensors(b, a, 0);
        oiqa_ckpt_close(a);
        oiqa_ckpt_close(b);
        /* The dict rule: "" lists the top level (no tensors there), a missing key fails. */
        oiqa_ckpt_opts top = {.dict_key = ""}, named = {.dict_key = "model"}, bad = {.dict_key = "optimizer"};
        CHECK(oiqa_ckpt_open_opts(pp, &top, &a) == 0 && oiqa_ckpt_count(a) == 0);
        if (!check_case_failed) oiqa_ckpt_close(a);
        CHECK(oiqa_ckpt_open_opts(pp, &named, &a) == 0 && oiqa_ckpt_count(a) == counts[v]);
        if (!check_case_failed) oiqa_ckpt_close(a);
        CHECK(oiqa_ckpt_open_opts(pp, &bad, &a) == OIQA_EXIT_DATA && a == NULL && strstr(oiqa_errmsg(), "optimizer"));
    }
    const char *pp = check_shared("fixtures/vmamba/vmamba_v0_small.pth");
    oiqa_ckpt *a;
    if (oiqa_ckpt_open(pp, &a)) return;
    const oiqa_ck_tensor *t = oiqa_ckpt_find(a, "layers.0.blocks.0.op.A_logs");
    CHECK(t && t->ndim == 2 && t->shape[0] == 128 && t->shape[1] == 16);
    float *v = t ? read_all(a, t) : NULL;
    CHECK(v && bits(v[0]) == 0xbe01fa17 && bits(v[1]) == 0x3ee74dc8);
    free(v);
    oiqa_ckpt_close(a);
}

/* ---- crafted files ------------------------------------------------------ */

static void t_half_conversion(void)
{
    CHECK(oiqa_f16_to_f32(0x3c00) == 1.f);
    CHECK(oiqa_f16_to_f32(0xc000) == -2.f);
    CHECK(oiqa_f16_to_f32(0x7bff) == 65504.f);
    CHECK(oiqa_f16_to_f32(0x0001) == ldexpf(1.f, -24)); /* smallest subnormal */
    CHECK(oiqa_f16_to_f32(0x03ff) == ldexpf(1023.f, -24)); /* largest subnormal */
    CHECK(oiqa_f16_to_f32(0x0400) == ldexpf(1.f, -14)); /* smallest normal */
    CHECK(oiqa_f16_to_f32(0x3555) == 0.333251953125f);
    CHECK(bits(oiqa_f16_to_f32(0x8000)) == 0x80000000u);
    CHECK(isinf(oiqa_f16_to_f32(0x7c00)) && oiqa_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(oiqa_f16_to_f32(0x7e00)));
    CHECK(oiqa_bf16_to_f32(0x3f80) == 1.f);
    CHECK(oiqa_bf16_to_f32(0xc0a0) == -5.f);
    CHECK(bits(oiqa_bf16_to_f32(0x3eab)) == 0x3eab0000u);
    /* Every finite f16 round-trips through float. */
    for (uint32_t h = 0; h < 0x7c00; h++) {
        float f = oiqa_f16_to_f32((uint16_t)h);
        CHECK_MSG(f >= 0 && (h == 0 || f > oiqa_f16_to_f32((uint16_t)(h - 1))), "0x%04x not monotonic", h);
        if (check_case_failed) break;
    }
}

/* A safetensors file from a header and a data buffer (header padded to 8). */
static void write_safetensors(const char *path, const char *json, const void *data, size_t n)
{
    size_t jl = strlen(json), padded = (jl + 7) / 8 * 8;
    uint8_t *buf = calloc(1, 8 + padded + n);
    for (int i = 0; i < 8; i++) buf[i] = (uint8_t)((uint64_t)padded >> (8 * i));
    memcpy(buf + 8, json, jl);
    memset(buf + 8 + jl, ' ', padded - jl);
    if (n) memcpy(buf + 8 + padded, data, n);
    spit(path, buf, 8 + padded + n);
    free(buf);
}

static void t_safetensors_dtypes(void)
{
    uint8_t data[64];
    uint16_t f16[3] = {0x3c00, 0xc000, 0x3555}, bf16[2] = {0x3f80, 0xc0a0};
    double f64[1] = {0.1};
    int32_t i32[2] = {-7, 123456789};
    uint8_t u8[3] = {0, 200, 255};
    int64_t i64[1] = {-(1LL << 40)};
    size_t o = 0;
    memcpy(data + o, f64, 8), o += 8;
    memcpy(data + o, i64, 8), o += 8;
    memcpy(data + o, i32, 8), o += 8;
    memcpy(data + o, f16, 6), o += 6;
    memcpy(data + o, bf16, 4), o += 4;
    memcpy(data + o, u8, 3), o += 3;
    const char *json = "{\"__metadata__\":{\"format\":\"pt\",\"note\":\"esc \\\" \\\\ \\u00e9 \\ud83d\\ude00\"},"
                       "\"d\":{\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,8]},"
                       "\"l\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]},"
                       "\"i\":{\"dtype\":\"I32\",\"shape\":[2,1],\"data_offsets\":[16,24]},"
                       "\"h\":{\"dtype\":\"F16\",\"shape\":[3],\"data_offsets\":[24,30]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[30,34]},"
                       "\"u\":{\"dtype\":\"U8\",\"shape\":[3],\"data_offsets\":[34,37]},"
                       "\"e\":{\"dtype\":\"F32\",\"shape\":[0,5],\"data_offsets\":[37,37]}}";
    const char *p = tmp_path("dtypes.safetensors");
    write_safetensors(p, json, data, o);
    oiqa_ckpt *ck;
    CHECK_MSG(oiqa_ckpt_open(p, &ck) == 0, "%s", oiqa_errmsg());
    if (check_case_failed) return;
    CHECK(oiqa_ckpt_count(ck) == 7);
    float v[4];
    const oiqa_ck_tensor *t;
    CHECK((t = oiqa_ckpt_find(ck, "d")) && t->dtype == OIQA_CK_F64 && !oiqa_ckpt_read_f32(ck, t, v) && v[0] == 0.1f);
    CHECK((t = oiqa_ckpt_find(ck, "l")) && t->ndim == 0 && !oiqa_ckpt_read_f32(ck, t, v) && v[0] == -1099511627776.f);
    CHECK((t = oiqa_ckpt_find(ck, "i")) && t->stride[0] == 1 && !oiqa_ckpt_read_f32(ck, t, v) && v[0] == -7 &&
          v[1] == 123456792.f);
    CHECK((t = oiqa_ckpt_find(ck, "h")) && !oiqa_ckpt_read_f32(ck, t, v) && v[0] == 1 && v[1] == -2 &&
          v[2] == 0.333251953125f);
    CHECK((t = oiqa_ckpt_find(ck, "b")) && t->dtype == OIQA_CK_BF16 && !oiqa_ckpt_read_f32(ck, t, v) && v[0] == 1 &&
          v[1] == -5);
    CHECK((t = oiqa_ckpt_find(ck, "u")) && !oiqa_ckpt_read_f32(ck, t, v) && v[0] == 0 && v[1] == 200 && v[2] == 255);
    CHECK((t = oiqa_ckpt_find(ck, "e")) && t->numel == 0 && !oiqa_ckpt_read_f32(ck, t, v));
    CHECK_STR(oiqa_ck_dtype_name(OIQA_CK_BF16), "BF16");
    oiqa_ckpt_close(ck);

    /* A header of 0x280 bytes: the file starts with 0x80 0x02, like a pickle. */
    char padded[0x281];
    const char *one = "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}";
    memset(padded, ' ', 0x280);
    memcpy(padded, one, strlen(one));
    padded[0x280] = 0;
    float f = 2.5f;
    write_safetensors(p, padded, &f, 4);
    CHECK_MSG(oiqa_ckpt_open(p, &ck) == 0, "%s", oiqa_errmsg());
    if (check_case_failed) return;
    CHECK(oiqa_ckpt_count(ck) == 1 && !oiqa_ckpt_read_f32(ck, oiqa_ckpt_tensor(ck, 0), v) && v[0] == 2.5f);
    oiqa_ckpt_close(ck);
}

/* A zip of stored entries, as torch writes them (PKWARE APPNOTE 4.3.7, 4.3.12, 4.3.16). */
typedef struct {
    const char *name;
    const void *data;
    size_t n;
} zip_in;

static void put16(uint8_t **p, unsigned v) { (*p)[0] = (uint8_t)v, (*p)[1] = (uint8_t)(v >> 8), *p += 2; }
static void put32(uint8_t **p, uint32_t v) { put16(p, v & 0xffff), put16(p, v >> 16); }

/* zip64: central headers say 0xFFFFFFFF for sizes and offset, and carry
 * the values in a ZIP64 extra field (APPNOTE 4.5.3). */
static size_t write_zip_ex(uint8_t *out, const zip_in *e, int n, int zip64);

static size_t write_zip_ex(uint8_t *out, const zip_in *e, int n, int zip64)
{
    uint8_t *p = out;
    uint32_t offs[16];
    for (int i = 0; i < n; i++) {
        offs[i] = (uint32_t)(p - out);
        uint32_t crc = (uint32_t)crc32(0, e[i].data, (uInt)e[i].n);
        put32(&p, 0x04034b50), put16(&p, 20), put16(&p, 0), put16(&p, 0), put16(&p, 0), put16(&p, 0);
        put32(&p, crc), put32(&p, (uint32_t)e[i].n), put32(&p, (uint32_t)e[i].n);
        put16(&p, (unsigned)strlen(e[i].name)), put16(&p, 0);
        memcpy(p, e[i].name, strlen(e[i].name)), p += strlen(e[i].name);
        memcpy(p, e[i].data, e[i].n), p += e[i].n;
    }
    uint8_t *cd = p;
    for (int i = 0; i < n; i++) {
        uint32_t crc = (uint32_t)crc32(0, e[i].data, (uInt)e[i].n);
        put32(&p, 0x02014b50), put16(&p, 20), put16(&p, 20), put16(&p, 0), put16(&p, 0), put16(&p, 0), put16(&p, 0);
        uint32_t sz = zip64 ? 0xFFFFFFFFu : (uint32_t)e[i].n, off = zip64 ? 0xFFFFFFFFu : offs[i];
        put32(&p, crc), put32(&p, sz), put32(&p, sz);
        put16(&p, (unsigned)strlen(e[i].name)), put16(&p, zip64 ? 4 + 24 : 0), put16(&p, 0), put16(&p, 0), put16(&p, 0);
        put32(&p, 0), put32(&p, off);
        memcpy(p, e[i].name, strlen(e[i].name)), p += strlen(e[i].name);
        if (zip64) {
            put16(&p, 1), put16(&p, 24);
            put32(&p, (uint32_t)e[i].n), put32(&p, 0), put32(&p, (uint32_t)e[i].n), put32(&p, 0);
            put32(&p, offs[i]), put32(&p, 0);
        }
    }
    uint32_t cd_size = (uint32_t)(p - cd), cd_off = (uint32_t)(cd - out);
    put32(&p, 0x06054b50), put16(&p, 0), put16(&p, 0), put16(&p, (unsigned)n), put16(&p, (unsigned)n);
    put32(&p, cd_size), put32(&p, cd_off), put16(&p, 0);
    return (size_t)(p - out);
}

/* A hand-written protocol-2 pickle of {'a': half view, 'b': strided view of
 * the same storage, 'c': 5, 'd': tensor of an unknown storage class}. */
#define GL_REBUILD "ctorch._utils\n_rebuild_tensor_v2\n"
#define HOOKS "ccollections\nOrderedDict\n)R"
static const char CRAFTED_PKL[] = "\x80\x02"
                                  "ccollections\nOrderedDict\n)R"
                                  "q\x00"
                                  "("
                                  "X\x01\x00\x00\x00"
                                  "a" GL_REBUILD "("
                                  "(X\x07\x00\x00\x00storage"
                                  "ctorch\nHalfStorage\n"
                                  "X\x01\x00\x00\x00"
                                  "0"
                                  "X\x03\x00\x00\x00"
                                  "cpu"
                                  "K\x06"
                                  "tQ"
                                  "K\x01"
                                  "K\x02K\x02\x86"
                                  "K\x01K\x02\x86"
                                  "\x89" HOOKS "tR"
                                  "X\x01\x00\x00\x00"
                                  "b" GL_REBUILD "("
                                  "(X\x07\x00\x00\x00storage"
                                  "ctorch\nHalfStorage\n"
                                  "X\x01\x00\x00\x00"
                                  "0"
                                  "X\x03\x00\x00\x00"
                                  "cpu"
                                  "K\x06"
                                  "tQ"
                                  "K\x00"
                                  "K\x03\x85"
                                  "K\x02\x85"
                                  "\x89" HOOKS "tR"
                                  "X\x01\x00\x00\x00"
                                  "c"
                                  "K\x05"
                                  "X\x01\x00\x00\x00"
                                  "d" GL_REBUILD "("
                                  "(X\x07\x00\x00\x00storage"
                                  "ctorch\nQuantumStorage\n"
                                  "X\x01\x00\x00\x00"
                                  "1"
                                  "X\x03\x00\x00\x00"
                                  "cpu"
                                  "K\x02"
                                  "tQ"
                                  "K\x00"
                                  "K\x02\x85"
                                  "K\x01\x85"
                                  "\x89" HOOKS "tR"
                                  "u"
                                  "}b"
                                  ".";

static size_t crafted_torch_ex(uint8_t *out, const char *pkl, size_t pkl_n, int zip64);
static size_t crafted_torch(uint8_t *out, const char *pkl, size_t pkl_n)
{
    return crafted_torch_ex(out, pkl, pkl_n, 0);
}

static size_t crafted_torch_ex(uint8_t *out, const char *pkl, size_t pkl_n, int zip64)
{
    static const uint16_t storage0[6] = {0x0000, 0x3c00, 0x4000, 0x4200, 0x4400, 0x4500}; /* 0..5 in f16 */
    static const uint8_t storage1[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    zip_in e[] = {{"crafted/data.pkl", pkl, pkl_n},
                  {"crafted/data/0", storage0, sizeof storage0},
                  {"crafted/data/1", storage1, sizeof storage1},
                  {"crafted/version", "3\n", 2}};
    return write_zip_ex(out, e, 4, zip64);
}

static void t_torch_views(void)
{
    uint8_t zip[4096];
    size_t n = crafted_torch(zip, CRAFTED_PKL, sizeof CRAFTED_PKL - 1);
    const char *p = tmp_path("crafted.pth");
    spit(p, zip, n);
    oiqa_ckpt *ck;
    CHECK_MSG(oiqa_ckpt_open(p, &ck) == 0, "%s", oiqa_errmsg());
    if (check_case_failed) return;
    CHECK(oiqa_ckpt_count(ck) == 3); /* 'c' is not a tensor */
    float v[4];
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, "a");
    /* a[i][j] = s[1 + i + 2j]: [[1, 3], [2, 4]] */
    CHECK(t && t->dtype == OIQA_CK_F16 && t->storage_offset == 1 && !oiqa_ckpt_read_f32(ck, t, v));
    CHECK(v[0] == 1 && v[1] == 3 && v[2] == 2 && v[3] == 4);
    t = oiqa_ckpt_find(ck, "b"); /* s[0], s[2], s[4] of the same storage */
    CHECK(t && t->file_offset == oiqa_ckpt_find(ck, "a")->file_offset && !oiqa_ckpt_read_f32(ck, t, v));
    CHECK(v[0] == 0 && v[1] == 2 && v[2] == 4);
    t = oiqa_ckpt_find(ck, "d"); /* listed, refused when read */
    CHECK(t && t->dtype == OIQA_CK_UNKNOWN && t->numel == 2);
    CHECK(t && oiqa_ckpt_read_f32(ck, t, v) == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "tensor d"));
    oiqa_ckpt_close(ck);

    /* The same archive with ZIP64 extra fields in the central directory. */
    n = crafted_torch_ex(zip, CRAFTED_PKL, sizeof CRAFTED_PKL - 1, 1);
    p = tmp_path("crafted64.pth");
    spit(p, zip, n);
    CHECK_MSG(oiqa_ckpt_open(p, &ck) == 0, "%s", oiqa_errmsg());
    if (check_case_failed) return;
    t = oiqa_ckpt_find(ck, "a");
    CHECK(oiqa_ckpt_count(ck) == 3 && t && !oiqa_ckpt_read_f32(ck, t, v) && v[0] == 1 && v[1] == 3 && v[2] == 2 &&
          v[3] == 4);
    oiqa_ckpt_close(ck);
    /* A ZIP64 extra field shorter than the saturated fields need. */
    uint8_t *x = memmem(zip, n, "\x01\x00\x18\x00", 4);
    CHECK(x != NULL);
    if (x) x[2] = 8;
    spit(p, zip, n);
    CHECK_REFUSED(p, "ZIP64 extra");

    /* A view reaching past its storage is refused at open. */
    char bad[sizeof CRAFTED_PKL];
    memcpy(bad, CRAFTED_PKL, sizeof bad);
    char *off = memmem(bad, sizeof bad, "tQK\x01", 4);
    off[3] = 5; /* storage offset 5 + extent 3 > 6 elements */
    n = crafted_torch(zip, bad, sizeof bad - 1);
    p = tmp_path("crafted_outside.pth");
    spit(p, zip, n);
    CHECK_REFUSED(p, "outside its storage");
}

/* ---- hostile files ------------------------------------------------------ */

static void t_hostile_crafted(void)
{
    uint8_t zip[4096];
    char bad[sizeof CRAFTED_PKL];
    const char *p = tmp_path("hostile.pth");
    /* Unknown opcode: replace SETITEMS 'u' with 0xff. */
    memcpy(bad, CRAFTED_PKL, sizeof bad);
    size_t at = (size_t)((char *)memmem(bad, sizeof bad, "u}b.", 4) - bad);
    bad[at] = (char)0xff;
    spit(p, zip, crafted_torch(zip, bad, sizeof bad - 1));
    CHECK_REFUSED(p, check_fmt("opcode 0xff (opcode at offset %zu)", at));
    /* Truncated pickle (no STOP), memo GET of an unset slot, stack underflow. */
    spit(p, zip, crafted_torch(zip, CRAFTED_PKL, sizeof CRAFTED_PKL - 3));
    CHECK_REFUSED(p, "without STOP");
    spit(p, zip, crafted_torch(zip, "\x80\x02h\x07.", 5));
    CHECK_REFUSED(p, "memo slot 7");
    spit(p, zip, crafted_torch(zip, "\x80\x02R.", 4));
    CHECK_REFUSED(p, "underflow");
    spit(p, zip, crafted_torch(zip, "\x80\x02X\xff\xff\xff\x7f.", 8));
    CHECK_REFUSED(p, "past the end");
    spit(p, zip, crafted_torch(zip, "\x80\x02K\x01r\x00\x00\x00\x10.", 10)); /* huge memo index */
    CHECK_REFUSED(p, "memo index");
    spit(p, zip, crafted_torch(zip, "\x80\x02K\x01.", 5)); /* not a dict */
    CHECK_REFUSED(p, "does not hold a dict");
    /* Huge numbers (LONG1: offset 2^62, size and stride 2^40) in an unknown-class tensor and a known one. */
#define HUGE_TENSOR(cls)                                                                                           \
    "\x80\x02}(X\x01\x00\x00\x00" "a" GL_REBUILD "((X\x07\x00\x00\x00storage"                                            \
    "ctorch\n" cls "\nX\x01\x00\x00\x00" "1" "X\x03\x00\x00\x00" "cpu" "K\x02" "tQ"                                    \
    "\x8a\x08\x00\x00\x00\x00\x00\x00\x00\x40" "\x8a\x06\x00\x00\x00\x00\x00\x01\x85"                                   \
    "\x8a\x06\x00\x00\x00\x00\x00\x01\x85" "\x89" HOOKS "tRu."
    static const char huge_unknown[] = HUGE_TENSOR("QuantumStorage"), huge_known[] = HUGE_TENSOR("FloatStorage");
    spit(p, zip, crafted_torch(zip, huge_unknown, sizeof huge_unknown - 1));
    CHECK_REFUSED(p, "storage offset 4611686018427387904 outside");
    spit(p, zip, crafted_torch(zip, huge_known, sizeof huge_known - 1));
    CHECK_REFUSED(p, "storage offset 4611686018427387904 outside its storage of 2 elements");
    /* A deeply nested MARK bomb stays bounded. */
    static char marks[70000];
    memset(marks, '(', sizeof marks);
    marks[0] = (char)0x80, marks[1] = 2, marks[sizeof marks - 1] = '.';
    uint8_t *big = malloc(sizeof marks + 1024);
    spit(p, big, crafted_torch(big, marks, sizeof marks));
    free(big);
    CHECK_REFUSED(p, "MARK");

    /* A deflated data.pkl (method 8 in its central header) is refused by name. */
    size_t zn = crafted_torch(zip, CRAFTED_PKL, sizeof CRAFTED_PKL - 1);
    uint8_t *cd = memmem(zip, zn, "PK\x01\x02", 4);
    CHECK(cd != NULL);
    if (cd) cd[10] = 8;
    spit(p, zip, zn);
    CHECK_REFUSED(p, "crafted/data.pkl is compressed (method 8)");
    /* Zip without ZIP64 records: central directory past the end, too many entries. */
    zn = crafted_torch(zip, CRAFTED_PKL, sizeof CRAFTED_PKL - 1);
    zip[zn - 22 + 16] = 0x00, zip[zn - 22 + 17] = 0x00, zip[zn - 22 + 18] = 0x01; /* offset 65536 */
    spit(p, zip, zn);
    CHECK_REFUSED(p, "past the end of the file");
    zn = crafted_torch(zip, CRAFTED_PKL, sizeof CRAFTED_PKL - 1);
    zip[zn - 22 + 10] = 0x00, zip[zn - 22 + 11] = 0x70;
    spit(p, zip, zn);
    CHECK_REFUSED(p, "cannot hold");
    zip[zn - 22 + 10] = 0x05, zip[zn - 22 + 11] = 0x00; /* one entry more than written */
    spit(p, zip, zn);
    CHECK_REFUSED(p, "central directory");

    /* safetensors: offsets out of range, absurd shape, bad JSON, bad dtype, header length past the end. */
    const char *s = tmp_path("hostile.safetensors");
    float four[4] = {1, 2, 3, 4};
    write_safetensors(s, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,32]}}", four, 16);
    CHECK_REFUSED(s, "outside the data buffer");
    write_safetensors(s, "{\"w\":{\"dtype\":\"F32\",\"shape\":[1000000,1000000],\"data_offsets\":[0,16]}}", four, 16);
    CHECK_REFUSED(s, "shape needs more");
    write_safetensors(s, "{\"w\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,16]}}", four, 16);
    CHECK_REFUSED(s, "data_offsets span");
    write_safetensors(s, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]},}", four, 16);
    CHECK_REFUSED(s, "not valid JSON");
    write_safetensors(s, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4.5],\"data_offsets\":[0,16]}}", four, 16);
    CHECK_REFUSED(s, "not valid JSON");
    write_safetensors(s, "{\"w\":{\"dtype\":\"C64\",\"shape\":[2],\"data_offsets\":[0,16]}}", four, 16);
    CHECK_REFUSED(s, "unsupported safetensors dtype");
    write_safetensors(s, "{\"w\":{\"dtype\":\"F32\",\"shape\":[-4],\"data_offsets\":[0,16]}}", four, 16);
    CHECK_REFUSED(s, "non-negative");
    write_safetensors(s, "{\"w\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,99999999999999999999]}}", four,
                      16);
    CHECK_REFUSED(s, "out of range");
    char deep[200];
    memset(deep, '[', sizeof deep);
    deep[0] = '{', deep[1] = '"', deep[2] = 'x', deep[3] = '"', deep[4] = ':', deep[sizeof deep - 1] = 0;
    write_safetensors(s, deep, NULL, 0);
    CHECK_REFUSED(s, "too deep");
    uint8_t hdr[16] = {0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, '{', '}'};
    spit(s, hdr, sizeof hdr);
    CHECK_REFUSED(s, "larger than the file");
    /* Unknown format, empty file, HDF5, bare pickle, missing file, a directory. */
    spit(s, "hello world, not a checkpoint", 29);
    CHECK_REFUSED(s, "not a checkpoint");
    spit(s, "", 0);
    CHECK_REFUSED(s, "empty");
    spit(s, "\x89HDF\r\n\x1a\n\0\0\0\0", 12);
    CHECK_REFUSED(s, "HDF5");
    spit(s, "\x80\x02}q\x00.", 6);
    CHECK_REFUSED(s, "legacy");
    CHECK_REFUSED(tmp_path("no_such.pth"), "cannot open");
    CHECK_REFUSED(g_tmp, "not a regular file");
}

static void t_hostile_real(void)
{
    const char *src = check_shared("fixtures/vmamba/vmamba_v0_small.pth");
    const char *srcs = check_shared("fixtures/vmamba/vmamba_v0_small.safetensors");
    if (!exists(src) || !exists(srcs)) {
        SKIP("%s or %s absent", src, srcs);
        return;
    }
    size_t n, ns;
    uint8_t *b = slurp(src, &n), *bs = slurp(srcs, &ns);
    const char *p = tmp_path("cut.pth");
    /* Truncated at several points, including inside the central directory and the EOCD. */
    size_t cuts[] = {1, 3, 4, 30, 100, 5000, n / 2, n - 200, n - 30, n - 22, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
        spit(p, b, cuts[i]);
        CHECK_REFUSED(p, NULL);
    }
    /* Wrong magic. */
    uint8_t *c = malloc(n);
    memcpy(c, b, n);
    c[0] = 'Q';
    spit(p, c, n);
    CHECK_REFUSED(p, "not a checkpoint");
    /* Central directory offset changed in the classic EOCD (field at +16):
     * it disagrees with the ZIP64 record torch also writes. */
    memcpy(c, b, n);
    size_t eocd = n - 22;
    while (eocd > 0 && memcmp(c + eocd, "PK\x05\x06", 4)) eocd--;
    c[eocd + 16] = 0xfe, c[eocd + 17] = 0xff, c[eocd + 18] = 0xff, c[eocd + 19] = 0x7f;
    spit(p, c, n);
    CHECK_REFUSED(p, "disagree");
    /* The same, saturated (so the ZIP64 record is used), with the ZIP64 offset past the end. */
    memcpy(c, b, n);
    c[eocd + 16] = 0xff, c[eocd + 17] = 0xff, c[eocd + 18] = 0xff, c[eocd + 19] = 0xff;
    size_t loc = eocd - 20, rec = 0;
    CHECK(!memcmp(c + loc, "PK\x06\x07", 4));
    for (int k = 7; k >= 0; k--) rec = rec << 8 | c[loc + 8 + (size_t)k];
    CHECK(rec < n && !memcmp(c + rec, "PK\x06\x06", 4));
    if (rec < n - 56) c[rec + 48 + 5] = 0x10; /* offset + 2^40 */
    spit(p, c, n);
    CHECK_REFUSED(p, "past the end of the file");
    /* An unknown opcode patched into the real data.pkl, right after PROTO. */
    memcpy(c, b, n);
    oiqa_zip z;
    CHECK(oiqa_zip_open(&z, src, b, n) == 0);
    const oiqa_zip_entry *e = oiqa_zip_find(&z, "vmamba_v0_small/data.pkl");
    CHECK(e && e->method == 0 && e->size == 12591);
    if (e) c[e->data_offset + 2] = (char)0xfe;
    oiqa_zip_close(&z);
    spit(p, c, n);
    CHECK_REFUSED(p, "opcode 0xfe (opcode at offset 2)");
    free(c);

    /* safetensors truncated, and with its header length larger than the file. */
    const char *s = tmp_path("cut.safetensors");
    size_t scuts[] = {4, 8, 9, 200, ns / 2, ns - 1};
    for (size_t i = 0; i < sizeof scuts / sizeof scuts[0]; i++) {
        spit(s, bs, scuts[i]);
        CHECK_REFUSED(s, NULL);
    }
    uint8_t *cs = malloc(ns);
    memcpy(cs, bs, ns);
    cs[5] = 0x01;
    spit(s, cs, ns);
    CHECK_REFUSED(s, "larger than the file");
    free(cs);
    free(b);
    free(bs);
}

/* Opens path; on success reads every known tensor. Returns 1 when the
 * outcome is clean: success, or OIQA_EXIT_DATA naming the file. */
static int open_and_read_all(const char *path)
{
    oiqa_ckpt *ck;
    int rc = oiqa_ckpt_open(path, &ck);
    if (rc) return rc == OIQA_EXIT_DATA && !strncmp(oiqa_errmsg(), path, strlen(path));
    for (int i = 0; i < oiqa_ckpt_count(ck); i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_tensor(ck, i);
        float *v = malloc((size_t)(t->numel ? t->numel : 1) * sizeof *v);
        rc = oiqa_ckpt_read_f32(ck, t, v);
        free(v);
        if (rc && t->dtype != OIQA_CK_UNKNOWN) {
            oiqa_ckpt_close(ck);
            return 0;
        }
    }
    oiqa_ckpt_close(ck);
    return 1;
}

static uint32_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return (uint32_t)(*s >> 33);
}

/* Random byte changes (a fixed LCG, so runs repeat) in the crafted zip, in
 * the real VMamba pickle and in a safetensors header: no crash, no leak
 * (under ASan), and every failure names the file. */
static void t_mutations(void)
{
    uint64_t seed = 12345;
    uint8_t zip[4096], mut[4096];
    size_t n = crafted_torch(zip, CRAFTED_PKL, sizeof CRAFTED_PKL - 1);
    const char *p = tmp_path("mut.pth");
    int bad = 0;
    for (int it = 0; it < 1500; it++) {
        memcpy(mut, zip, n);
        int k = 1 + (int)(lcg(&seed) % 4);
        for (int j = 0; j < k; j++) {
            size_t at = lcg(&seed) % n;
            mut[at] = (uint8_t)lcg(&seed);
        }
        spit(p, mut, n);
        if (!open_and_read_all(p) && bad++ == 0) printf("note: mutation %d: %s\n", it, oiqa_errmsg());
    }
    CHECK_MSG(bad == 0, "%d mutated zips gave an unclean outcome", bad);

    const char *src = check_shared("fixtures/vmamba/vmamba_v2s1_small.pth");
    size_t rn;
    uint8_t *real = exists(src) ? slurp(src, &rn) : NULL;
    if (real) {
        oiqa_zip z;
        CHECK(oiqa_zip_open(&z, src, real, rn) == 0);
        const oiqa_zip_entry *e = oiqa_zip_find(&z, "vmamba_v2s1_small/data.pkl");
        uint64_t off = e ? e->data_offset : 0, len = e ? e->size : 0;
        oiqa_zip_close(&z);
        uint8_t *c = malloc(rn);
        bad = 0;
        for (int it = 0; len && it < 300; it++) {
            memcpy(c, real, rn);
            uint64_t at = off + lcg(&seed) % len;
            c[at] = (uint8_t)lcg(&seed);
            spit(p, c, rn);
            if (!open_and_read_all(p)) bad++;
        }
        CHECK_MSG(bad == 0, "%d mutated pickles gave an unclean outcome", bad);
        free(c);
        free(real);
    }

    const char *s = tmp_path("mut.safetensors");
    const char *json =
        "{\"__metadata__\":{\"a\":\"b\\u00e9\"},\"w\":{\"dtype\":\"F16\",\"shape\":[2,2],\"data_offsets\":[0,8]},"
        "\"x\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}";
    uint8_t data[16] = {0};
    write_safetensors(s, json, data, sizeof data);
    size_t sn;
    uint8_t *sf = slurp(s, &sn), *c = malloc(sn);
    bad = 0;
    for (int it = 0; it < 1500; it++) {
        memcpy(c, sf, sn);
        int k = 1 + (int)(lcg(&seed) % 3);
        for (int j = 0; j < k; j++) {
            size_t at = lcg(&seed) % sn;
            c[at] = (uint8_t)lcg(&seed);
        }
        spit(s, c, sn);
        if (!open_and_read_all(s)) bad++;
    }
    CHECK_MSG(bad == 0, "%d mutated safetensors gave an unclean outcome", bad);
    free(c);
    free(sf);
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/oiqa_test_ckpt_XXXXXX");
    if (!mkdtemp(g_tmp)) return printf("FAIL main: mkdtemp\n"), 1;
    RUN(t_resnet_pth);
    RUN(t_resnet_safetensors_subset);
    RUN(t_vmamba_twins);
    RUN(t_half_conversion);
    RUN(t_safetensors_dtypes);
    RUN(t_torch_views);
    RUN(t_hostile_crafted);
    RUN(t_hostile_real);
    RUN(t_mutations);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd)) printf("note: could not remove %s\n", g_tmp);
    return check_done();
}
