/* A synthetic global feature file for the training tests (test_train.c,
 * test_method_plugin.c): what oiqa-vmamba writes, reduced to two blocks
 * stage0 and stage1 of C[0] and C[1] channels, /global/<block>/mean and
 * /std per image, the row names from name_of and the values from row(i,
 * v, ctx), which fills v[0..3] = stage0 mean, stage0 std, stage1 mean,
 * stage1 std. */
#ifndef OIQA_TEST_FEATURES_H
#define OIQA_TEST_FEATURES_H

#include <stdio.h>

#include "io/h5store.h"

#define TEST_GLOBAL_MAX_C 64

typedef void (*test_global_row_fn)(int i, float *const *v, void *ctx);

static inline int test_write_global(const char *path, const oiqa_provenance *prov, int n, const int C[2],
                                    void (*name_of)(int, char *, size_t), test_global_row_fn row, void *ctx)
{
    oiqa_provenance p = *prov;
    p.stage = "global";
    oiqa_store *s;
    int rc = oiqa_store_open_write(path, &p, OIQA_STORE_CREATE, 1, &s);
    if (rc) return rc;
    const char *blocks[2] = {"stage0", "stage1"};
    for (int b = 0; b < 2 && !rc; b++)
        for (int k = 0; k < 2 && !rc; k++) {
            char ds[64];
            snprintf(ds, sizeof ds, "/global/%s/%s", blocks[b], k ? "std" : "mean");
            uint64_t dims[1] = {(uint64_t)C[b]};
            rc = oiqa_store_define(s, ds, OIQA_F32, 1, dims, 0);
        }
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "backbone", "vmamba_t_s1l8");
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "weights", "random:0");
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "blocks", "stage0,stage1");
    for (int i = 0; i < n && !rc; i++) {
        static float v[4][TEST_GLOBAL_MAX_C];
        float *const vp[4] = {v[0], v[1], v[2], v[3]};
        const void *data[4] = {v[0], v[1], v[2], v[3]};
        row(i, vp, ctx);
        char name[32];
        name_of(i, name, sizeof name);
        rc = oiqa_store_append(s, name, "in.png", "0", data);
    }
    if (rc) {
        oiqa_store_discard(s);
        return rc;
    }
    return oiqa_store_finish(s);
}

#endif
