/* The pieces under the feature stages: the RNG, in-memory checkpoints,
 * random ResNet-50 weights, the extractor registry, adaptive average pooling. */
#include <math.h>
#include <stdint.h>

#include "base/error.h"
#include "base/rng.h"
#include "io/ckpt.h"
#include "models/arch.h"
#include "models/extractor.h"
#include "models/resnet.h"
#include "models/resnet_random.h"
#include "nn/pool.h"
#include "check.h"

static void t_rng_deterministic_and_normal(void)
{
    oiqa_rng a, b;
    oiqa_rng_seed(&a, 42);
    oiqa_rng_seed(&b, 42);
    for (int i = 0; i < 100; i++) CHECK(oiqa_rng_u64(&a) == oiqa_rng_u64(&b));
    oiqa_rng_seed(&b, 43);
    CHECK(oiqa_rng_u64(&a) != oiqa_rng_u64(&b));
    /* The stream is part of the output format (random:SEED weights): pin it. */
    oiqa_rng_seed(&a, 0);
    CHECK(oiqa_rng_u64(&a) == 11091344671253066420ull);
    oiqa_rng_seed(&b, 1);
    CHECK_NEAR(oiqa_rng_normal(&b), -1.5452228371402943, 1e-15);
    double s = 0, s2 = 0, s4 = 0, umin = 1, umax = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = oiqa_rng_normal(&a), u = oiqa_rng_uniform(&a);
        s += z, s2 += z * z, s4 += z * z * z * z;
        umin = u < umin ? u : umin, umax = u > umax ? u : umax;
    }
    CHECK_NEAR(s / n, 0.0, 0.01);
    CHECK_NEAR(s2 / n, 1.0, 0.01);
    CHECK_NEAR(s4 / n, 3.0, 0.06); /* normal kurtosis */
    CHECK(umin >= 0 && umax < 1 && umin < 1e-4 && umax > 1 - 1e-4);
}

static void t_ckpt_memory_roundtrip(void)
{
    oiqa_ckpt *ck;
    CHECK(oiqa_ckpt_new("random:3", &ck) == OIQA_OK);
    int64_t s1[2] = {3, 5}, s2[1] = {7}, s0[1] = {0};
    float *a = oiqa_ckpt_add_f32(ck, "a.weight", 2, s1);
    for (int i = 0; a && i < 15; i++) a[i] = (float)i;
    float *b = oiqa_ckpt_add_f32(ck, "b.bias", 1, s2);
    for (int i = 0; b && i < 7; i++) b[i] = -(float)i;
    CHECK(oiqa_ckpt_add_f32(ck, "empty", 1, s0) != NULL);
    int64_t bad[1] = {-1};
    CHECK(oiqa_ckpt_add_f32(ck, "bad", 1, bad) == NULL);
    CHECK(oiqa_ckpt_count(ck) == 3);
    CHECK_STR(oiqa_ckpt_format(ck), "memory");
    const oiqa_ck_tensor *ta = oiqa_ckpt_find(ck, "a.weight"), *tb = oiqa_ckpt_find(ck, "b.bias");
    CHECK(ta && tb && ta->numel == 15 && ta->shape[1] == 5 && tb->numel == 7);
    float got[15];
    CHECK(ta && oiqa_ckpt_read_f32(ck, ta, got) == OIQA_OK && got[14] == 14.0f && got[3] == 3.0f);
    CHECK(tb && oiqa_ckpt_read_f32(ck, tb, got) == OIQA_OK && got[6] == -6.0f);
    oiqa_ckpt_close(ck);
}

/* Random ResNet-50 weights load through the torchvision loader, are the same
 * for a seed, differ between seeds and have He-init scale. */
static void t_resnet_random_weights(void)
{
    oiqa_ckpt *a = NULL, *b = NULL, *c = NULL;
    CHECK(oiqa_resnet_random_ckpt(&oiqa_resnet50_depth, 5, &a) == OIQA_OK);
    CHECK(oiqa_resnet_random_ckpt(&oiqa_resnet50_depth, 5, &b) == OIQA_OK);
    CHECK(oiqa_resnet_random_ckpt(&oiqa_resnet50_depth, 6, &c) == OIQA_OK);
    if (!a || !b || !c) goto done;
    CHECK(oiqa_ckpt_count(a) == oiqa_ckpt_count(b));
    const oiqa_ck_tensor *w = oiqa_ckpt_find(a, "layer3.2.conv2.weight");
    CHECK(w && w->ndim == 4 && w->shape[0] == 256 && w->shape[2] == 3);
    if (w) {
        const float *pa = oiqa_ckpt_storage(a, w);
        const float *pb = oiqa_ckpt_storage(b, oiqa_ckpt_find(b, "layer3.2.conv2.weight"));
        const float *pc = oiqa_ckpt_storage(c, oiqa_ckpt_find(c, "layer3.2.conv2.weight"));
        CHECK(!memcmp(pa, pb, (size_t)w->numel * 4));
        CHECK(memcmp(pa, pc, (size_t)w->numel * 4) != 0);
        double s2 = 0;
        for (int64_t i = 0; i < w->numel; i++) s2 += (double)pa[i] * pa[i];
        CHECK_NEAR(sqrt(s2 / w->numel), sqrt(2.0 / (256 * 9)), 0.02 * sqrt(2.0 / (256 * 9)));
    }
    oiqa_resnet net = {0};
    CHECK_MSG(oiqa_resnet_load(a, "random:5", &oiqa_resnet50_depth, &net) == OIQA_OK, "%s", oiqa_errmsg());
    oiqa_resnet_free(&net);
done:
    oiqa_ckpt_close(a);
    oiqa_ckpt_close(b);
    oiqa_ckpt_close(c);
}

static void t_registry(void)
{
    const oiqa_extractor_kind *k = oiqa_extractor_find("resnet50");
    CHECK(k && k->n_blocks == 4 && oiqa_extractor_find("nope") == NULL);
    if (!k) return;
    CHECK(strstr(oiqa_extractor_names(), "resnet50") != NULL);
    int idx[8], n;
    CHECK(oiqa_extractor_parse_blocks(k, NULL, idx, &n) == OIQA_OK && n == 3 && idx[0] == 1 && idx[2] == 3);
    CHECK(oiqa_extractor_parse_blocks(k, "layer4, layer1,layer4", idx, &n) == OIQA_OK && n == 2 && idx[0] == 0 &&
          idx[1] == 3);
    CHECK(oiqa_extractor_parse_blocks(k, "layer5", idx, &n) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "no block 'layer5'") && strstr(oiqa_errmsg(), "layer1, layer2"));
    /* Map sizes follow the stride-2 ops: 224 -> 56, 28, 14, 7; 33 -> 9, 5, 3, 2. */
    int mh, mw;
    k->map_shape(0, 224, 224, &mh, &mw);
    CHECK(mh == 56 && mw == 56);
    k->map_shape(3, 224, 224, &mh, &mw);
    CHECK(mh == 7 && mw == 7);
    k->map_shape(3, 33, 65, &mh, &mw);
    CHECK(mh == 2 && mw == 3);
    uint64_t seed = 0;
    CHECK(oiqa_weights_spec_random("random:17", &seed) == 1 && seed == 17);
    CHECK(oiqa_weights_spec_random("weights/r50.pth", &seed) == 0);
    CHECK(oiqa_weights_spec_random("random:", &seed) == -1);
    CHECK(oiqa_weights_spec_random("random:-3", &seed) == -1);
    CHECK(oiqa_weights_spec_random("random:1x", &seed) == -1);
    oiqa_extractor ex;
    CHECK(oiqa_extractor_open("vgg", "random:1", &ex) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "resnet50"));
    CHECK(oiqa_extractor_open("resnet50", NULL, &ex) == OIQA_EXIT_USAGE);
    CHECK(oiqa_extractor_open("resnet50", "/nonexistent/r50.pth", &ex) == OIQA_EXIT_DATA &&
          strstr(oiqa_errmsg(), "/nonexistent/r50.pth"));
    oiqa_extractor_close(&ex);
}

/* oiqa-weights' architectures come from the registry: every backbone is one,
 * its own random weights fit it, and another backbone's do not. */
static void t_arch_from_registry(void)
{
    int n = oiqa_extractor_count();
    CHECK(n >= 4 && oiqa_extractor_at(n) == NULL && oiqa_extractor_at(-1) == NULL);
    CHECK(oiqa_arch_known("vmamba") && !oiqa_arch_known("alexnet") && !oiqa_arch_known(NULL));
    for (int i = 0; i < n; i++) {
        const oiqa_extractor_kind *k = oiqa_extractor_at(i), *other = oiqa_extractor_at((i + 1) % n);
        CHECK(oiqa_arch_known(k->name) && strstr(oiqa_arch_names(), k->name));
        oiqa_ckpt *own = NULL, *theirs = NULL;
        CHECK(k->random_ckpt(3, &own) == OIQA_OK && other->random_ckpt(3, &theirs) == OIQA_OK);
        if (!own || !theirs) continue;
        CHECK_MSG(oiqa_arch_check(k->name, own, "own") == OIQA_OK, "%s: %s", k->name, oiqa_errmsg());
        CHECK_MSG(oiqa_arch_check(k->name, theirs, "theirs") == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "theirs"),
                  "%s on %s's weights", k->name, other->name);
        /* Any VMamba fits "vmamba"; ResNet-50 does not. */
        int is_vmamba = !strncmp(k->name, "vmamba", 6);
        CHECK((oiqa_arch_check("vmamba", own, "own") == OIQA_OK) == is_vmamba);
        oiqa_ckpt_close(own), oiqa_ckpt_close(theirs);
    }
    CHECK(oiqa_arch_check("alexnet", NULL, "x") == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "known: resnet18, resnet34, resnet50"));
}

/* The extractor's forward equals normalise + resnet forward, and the maps
 * have the shapes map_shape promises (non-square input). */
static void t_resnet_extractor_forward(void)
{
    oiqa_extractor ex;
    CHECK_MSG(oiqa_extractor_open("resnet50", "random:2", &ex) == OIQA_OK, "%s", oiqa_errmsg());
    if (!ex.kind) return;
    CHECK(ex.random && ex.seed == 2 && ex.weights_sha256[0] == 0);
    int n = 2, h = 40, w = 72;
    float *rgb = malloc(sizeof(float) * n * h * w * 3);
    for (int i = 0; i < n * h * w * 3; i++) rgb[i] = (float)((i * 37) % 256);
    const oiqa_tensor *maps[8];
    CHECK(oiqa_extractor_forward(&ex, rgb, n, h, w, maps) == OIQA_OK);
    for (int b = 0; b < 4; b++) {
        int mh, mw;
        ex.kind->map_shape(b, h, w, &mh, &mw);
        CHECK_MSG(maps[b]->n == n && maps[b]->h == mh && maps[b]->w == mw && maps[b]->c == ex.kind->blocks[b].channels,
                  "block %d: %dx%dx%dx%d, expected %dx%dx%dx%d", b, maps[b]->n, maps[b]->h, maps[b]->w, maps[b]->c, n,
                  mh, mw, ex.kind->blocks[b].channels);
    }
    free(rgb);
    oiqa_extractor_close(&ex);
}

/* VMamba's map_shape (both stems, odd and non-square sides) agrees with the
 * forward pass. */
static void t_vmamba_map_shapes(void)
{
    const char *names[2] = {"vmamba_t_v0", "vmamba_t_s1l8"};
    for (int e = 0; e < 2; e++) {
        oiqa_extractor ex;
        CHECK_MSG(oiqa_extractor_open(names[e], "random:1", &ex) == OIQA_OK, "%s", oiqa_errmsg());
        if (!ex.kind) continue;
        int h = 37, w = 70;
        float *rgb = calloc((size_t)h * w * 3, sizeof(float));
        const oiqa_tensor *maps[8];
        CHECK(oiqa_extractor_forward(&ex, rgb, 1, h, w, maps) == OIQA_OK);
        for (int b = 0; b < 4; b++) {
            int mh, mw;
            ex.kind->map_shape(b, h, w, &mh, &mw);
            CHECK_MSG(maps[b]->h == mh && maps[b]->w == mw && maps[b]->c == ex.kind->blocks[b].channels,
                      "%s stage%d: %dx%dx%d, map_shape %dx%d", names[e], b, maps[b]->h, maps[b]->w, maps[b]->c, mh, mw);
        }
        free(rgb);
        oiqa_extractor_close(&ex);
    }
}

static void t_adaptive_avgpool(void)
{
    const int shapes[][4] = {{7, 7, 2, 2}, {7, 5, 3, 2}, {4, 6, 4, 6}, {3, 3, 5, 4}, {1, 1, 1, 1}, {9, 14, 1, 1}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int h = shapes[s][0], w = shapes[s][1], oh = shapes[s][2], ow = shapes[s][3], c = 5, n = 2;
        oiqa_tensor x = {0}, y = {0};
        CHECK(oiqa_tensor_create(&x, n, h, w, c) == OIQA_OK && oiqa_tensor_create(&y, n, oh, ow, c) == OIQA_OK);
        for (size_t i = 0; i < oiqa_tensor_numel(&x); i++) x.data[i] = (float)sin(0.37 * i) * 3;
        CHECK(oiqa_adaptive_avgpool2d(&x, &y) == OIQA_OK);
        double worst = 0;
        for (int b = 0; b < n; b++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int ch = 0; ch < c; ch++) {
                        /* PyTorch's windows, written out independently. */
                        int y0 = (int)floor((double)i * h / oh), y1 = (int)ceil((double)(i + 1) * h / oh);
                        int x0 = (int)floor((double)j * w / ow), x1 = (int)ceil((double)(j + 1) * w / ow);
                        double sum = 0;
                        for (int u = y0; u < y1; u++)
                            for (int v = x0; v < x1; v++) sum += x.data[oiqa_tensor_index(&x, b, u, v, ch)];
                        double d = fabs(sum / ((y1 - y0) * (x1 - x0)) - y.data[oiqa_tensor_index(&y, b, i, j, ch)]);
                        worst = d > worst ? d : worst;
                    }
        CHECK_MSG(worst < 1e-5, "%dx%d -> %dx%d: max |diff| %g", h, w, oh, ow, worst);
        oiqa_tensor_free(&x);
        oiqa_tensor_free(&y);
    }
    oiqa_tensor x = {0}, y = {0};
    oiqa_tensor_create(&x, 1, 2, 2, 3);
    oiqa_tensor_create(&y, 1, 1, 1, 4);
    CHECK(oiqa_adaptive_avgpool2d(&x, &y) == OIQA_EXIT_DATA);
    oiqa_tensor_free(&x);
    oiqa_tensor_free(&y);
}

int main(void)
{
    RUN(t_rng_deterministic_and_normal);
    RUN(t_ckpt_memory_roundtrip);
    RUN(t_resnet_random_weights);
    RUN(t_registry);
    RUN(t_arch_from_registry);
    RUN(t_resnet_extractor_forward);
    RUN(t_vmamba_map_shapes);
    RUN(t_adaptive_avgpool);
    return check_done();
}
