/* oiqa HDF5 weight files (io/ckpt_h5.h): checkpoint -> .h5 -> oiqa_ckpt
 * round trips are bit-identical (names, order, dtypes, shapes, bytes), an
 * existing output is refused, and HDF5 files that are not oiqa weight files
 * are refused. Fixtures come from $OIQA_SHARED (default ../shared); the
 * cases that need them skip, saying why, when they are absent. */
#include "check.h"
#include "base/error.h"
#include "io/ckpt.h"
#include "io/ckpt_h5.h"
#include "io/h5util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char g_tmp[64];

static const char *tmp_path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", g_tmp, name);
    return buf;
}

/* Index of the first tensor of a and b that differs in any way; -1 when all equal. */
static int first_difference(const oiqa_ckpt *a, const oiqa_ckpt *b, const char **why)
{
    if (oiqa_ckpt_count(a) != oiqa_ckpt_count(b)) return *why = "tensor count", 0;
    for (int i = 0; i < oiqa_ckpt_count(a); i++) {
        const oiqa_ck_tensor *ta = oiqa_ckpt_tensor(a, i), *tb = oiqa_ckpt_tensor(b, i);
        if (strcmp(ta->name, tb->name)) return *why = "name", i;
        if (ta->dtype != tb->dtype) return *why = "dtype", i;
        if (ta->ndim != tb->ndim || ta->numel != tb->numel) return *why = "shape", i;
        for (int d = 0; d < ta->ndim; d++)
            if (ta->shape[d] != tb->shape[d]) return *why = "shape", i;
        size_t bytes = (size_t)ta->numel * oiqa_ck_dtype_size(ta->dtype);
        uint8_t *ra = malloc(bytes + 1), *rb = malloc(bytes + 1);
        int same = ra && rb && !oiqa_ckpt_read_raw(a, ta, ra) && !oiqa_ckpt_read_raw(b, tb, rb) &&
                   !memcmp(ra, rb, bytes);
        free(ra), free(rb);
        if (!same) return *why = "bytes", i;
    }
    return -1;
}

/* Converts the fixture rel and checks the .h5 reads back bit-identical. */
static void round_trip(const char *rel, const char *out_name)
{
    const char *src = check_shared(rel);
    if (access(src, R_OK)) {
        SKIP("fixture %s absent (set OIQA_SHARED)", src);
        return;
    }
    oiqa_ckpt *a = NULL, *b = NULL;
    CHECK_MSG(oiqa_ckpt_open(src, &a) == OIQA_OK, "%s", oiqa_errmsg());
    if (!a) return;
    char out[256], partial[300];
    snprintf(out, sizeof out, "%s", tmp_path(out_name));
    snprintf(partial, sizeof partial, "%s.partial", out);
    oiqa_weights_write_opts w = {.source_path = src, .tool = "test", .command = "test", .deflate_level = 1};
    CHECK_MSG(oiqa_ckpt_write_h5(a, out, &w) == OIQA_OK, "%s", oiqa_errmsg());
    CHECK(access(partial, F_OK) != 0);
    CHECK_MSG(oiqa_ckpt_open(out, &b) == OIQA_OK, "%s", oiqa_errmsg());
    if (b) {
        CHECK_STR(oiqa_ckpt_format(b), "oiqa-h5");
        CHECK_STR(oiqa_ckpt_prefix(b), oiqa_ckpt_prefix(a));
        const char *why = "";
        int i = first_difference(a, b, &why);
        CHECK_MSG(i < 0, "%s: tensor %d (%s) differs in %s", rel, i, i >= 0 ? oiqa_ckpt_tensor(a, i)->name : "", why);
    }
    /* A second write without force is refused as a usage error. */
    CHECK(oiqa_ckpt_write_h5(a, out, &w) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "exists") != NULL);
    w.force = 1;
    CHECK_MSG(oiqa_ckpt_write_h5(a, out, &w) == OIQA_OK, "%s", oiqa_errmsg());
    oiqa_ckpt_close(a);
    oiqa_ckpt_close(b);
}

static void t_resnet_subset_safetensors(void)
{
    round_trip("fixtures/resnet50/resnet50_seed0_conv1_to_layer1.safetensors", "r50_subset.h5");
}
static void t_resnet_full_pth(void) { round_trip("fixtures/resnet50/resnet50_seed0.pth", "r50.h5"); }
static void t_vmamba_v0_pth(void) { round_trip("fixtures/vmamba/vmamba_v0_small.pth", "v0.h5"); }
static void t_vmamba_v2_pth(void) { round_trip("fixtures/vmamba/vmamba_v2_small.pth", "v2.h5"); }
static void t_vmamba_v2s1_pth(void) { round_trip("fixtures/vmamba/vmamba_v2s1_small.pth", "v2s1.h5"); }

/* Dtypes the fixtures lack: bf16 comes back as the same float32 values,
 * bool as BOOL, f16 and i32 unchanged, a 0-d tensor as a scalar. */
static void t_crafted_dtypes(void)
{
    const char *json = "{\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[0,4]},"
                       "\"h\":{\"dtype\":\"F16\",\"shape\":[2],\"data_offsets\":[4,8]},"
                       "\"m/ask\":{\"dtype\":\"BOOL\",\"shape\":[2,1],\"data_offsets\":[8,10]},"
                       "\"i\":{\"dtype\":\"I32\",\"shape\":[],\"data_offsets\":[10,14]}}";
    uint8_t data[14] = {0x80, 0x3f, 0x40, 0xc0, 0x00, 0x3c, 0x00, 0xc0, 1, 0, 0xfe, 0xff, 0xff, 0xff};
    uint64_t n = strlen(json);
    char src[256];
    snprintf(src, sizeof src, "%s", tmp_path("dtypes.safetensors"));
    FILE *f = fopen(src, "wb");
    CHECK(f != NULL);
    if (!f) return;
    uint8_t len[8];
    for (int i = 0; i < 8; i++) len[i] = (uint8_t)(n >> (8 * i));
    fwrite(len, 1, 8, f), fwrite(json, 1, n, f), fwrite(data, 1, sizeof data, f);
    fclose(f);
    oiqa_ckpt *a = NULL, *b = NULL;
    CHECK_MSG(oiqa_ckpt_open(src, &a) == OIQA_OK, "%s", oiqa_errmsg());
    if (!a) return;
    oiqa_weights_write_opts w = {.source_path = src, .deflate_level = 4};
    CHECK_MSG(oiqa_ckpt_write_h5(a, tmp_path("dtypes.h5"), &w) == OIQA_OK, "%s", oiqa_errmsg());
    CHECK_MSG(oiqa_ckpt_open(tmp_path("dtypes.h5"), &b) == OIQA_OK, "%s", oiqa_errmsg());
    if (b) {
        const oiqa_ck_tensor *bf = oiqa_ckpt_find(b, "b"), *m = oiqa_ckpt_find(b, "m/ask"), *i = oiqa_ckpt_find(b, "i");
        CHECK(bf && bf->dtype == OIQA_CK_F32 && bf->numel == 2);
        float v[2] = {0, 0};
        if (bf) CHECK(oiqa_ckpt_read_f32(b, bf, v) == OIQA_OK);
        CHECK(v[0] == 1.0f && v[1] == -3.0f);
        CHECK(m && m->dtype == OIQA_CK_BOOL && m->ndim == 2 && m->shape[0] == 2);
        int32_t iv = 0;
        if (i) memcpy(&iv, oiqa_ckpt_storage(b, i), 4); /* storages may be unaligned (io/ckpt.h) */
        CHECK(i && i->dtype == OIQA_CK_I32 && i->ndim == 0 && iv == -2);
        CHECK(oiqa_ckpt_find(b, "h") && oiqa_ckpt_find(b, "h")->dtype == OIQA_CK_F16);
        /* Everything but the bf16 tensor is bit-identical. */
        const char *why = "";
        CHECK(first_difference(a, b, &why) == 0 && !strcmp(why, "dtype"));
    }
    oiqa_ckpt_close(a);
    oiqa_ckpt_close(b);
}

/* A valid HDF5 file without the oiqa_weights_schema attribute. */
static void t_other_hdf5_refused(void)
{
    const char *p = tmp_path("other.h5");
    oiqa_h5_quiet();
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0);
    if (f < 0) return;
    CHECK(oiqa_h5_attr_write_i64(f, "oiqa_schema", 1) == 0);
    H5Fclose(f);
    oiqa_ckpt *ck = NULL;
    CHECK(oiqa_ckpt_open(p, &ck) == OIQA_EXIT_DATA);
    CHECK(ck == NULL);
    CHECK_MSG(strstr(oiqa_errmsg(), "not an oiqa weight file") && strstr(oiqa_errmsg(), p), "%s", oiqa_errmsg());
    /* A newer schema is refused too. */
    f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(f >= 0);
    if (f < 0) return;
    CHECK(oiqa_h5_attr_write_i64(f, "oiqa_weights_schema", 99) == 0);
    H5Fclose(f);
    CHECK(oiqa_ckpt_open(p, &ck) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "schema 99"), "%s", oiqa_errmsg());
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/oiqa_test_ckpt_h5_XXXXXX");
    if (!mkdtemp(g_tmp)) return printf("FAIL main: mkdtemp\n"), 1;
    RUN(t_resnet_subset_safetensors);
    RUN(t_resnet_full_pth);
    RUN(t_vmamba_v0_pth);
    RUN(t_vmamba_v2_pth);
    RUN(t_vmamba_v2s1_pth);
    RUN(t_crafted_dtypes);
    RUN(t_other_hdf5_refused);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd)) printf("note: could not remove %s\n", g_tmp);
    return check_done();
}
