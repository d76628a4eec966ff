/* ResNet-50 forward (models/resnet.h) against torchvision 0.14.1 on the
 * fixture ../shared/fixtures/resnet50 (random seed-0 weights with non-trivial
 * BatchNorm statistics; see its README).
 *
 * Checks: our uint8 -> ImageNet-normalised input against input/images_f32
 * (NCHW); the 4 images at 224 x 224, run as one batch: output/layer{1..4}_img0
 * (NCHW, transposed when compared), per-image per-channel mean and population
 * std of every stage, and the logits; the 256 x 512 ERP input (layer4 8 x 16):
 * stage means/stds and logits. Tolerance (DESIGN §6): max|Δ| <= 1e-4 max|ref|
 * per tensor; the measured ratio is printed. Last, the stem+layer1 subset
 * safetensors must be refused with a message naming the file and a missing key,
 * and a small crafted safetensors (3x3 stem, extra key) with its mis-shaped
 * and unexpected keys named. */
#include <hdf5.h>
#include <stdint.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "check.h"
#include "fixture_h5.h"
#include "models/imagenet.h"
#include "models/resnet.h"
#include "nn/pool.h"

#define REL_TOL 1e-4

static hid_t fixture = -1;
static oiqa_resnet net;
static int net_loaded;

/* Reads a whole dataset as mem_type into a malloc'ed buffer; dims (up to 4,
 * padded with 1) returned. NULL if absent. */
static void *read_dataset(const char *name, hid_t mem_type, size_t elem, hsize_t dims[4])
{
    return fixture_read_dataset(fixture, name, mem_type, elem, dims, NULL);
}

static float *read_f32(const char *name, hsize_t dims[4])
{
    return read_dataset(name, H5T_NATIVE_FLOAT, sizeof(float), dims);
}

/* Opens the fixture and loads the network once; 0 (after SKIP or FAIL)
 * when either is unavailable. */
static int open_fixture(void)
{
    static int tried;
    if (tried) {
        if (fixture < 0 || !net_loaded) SKIP("fixture or network unavailable (see the first case)");
        return fixture >= 0 && net_loaded;
    }
    tried = 1;
    const char *h5 = check_shared("fixtures/resnet50/resnet50_io.h5");
    const char *pth = check_shared("fixtures/resnet50/resnet50_seed0.pth");
    if (access(h5, R_OK) != 0 || access(pth, R_OK) != 0) {
        SKIP("fixture %s or %s not found (set OIQA_SHARED)", h5, pth);
        return 0;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    fixture = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fixture < 0) {
        SKIP("fixture %s cannot be opened as HDF5", h5);
        return 0;
    }
    int rc = oiqa_resnet_load_file(pth, &oiqa_resnet50_depth, &net);
    CHECK_MSG(rc == OIQA_OK, "loading %s: %s", pth, oiqa_errmsg());
    net_loaded = rc == OIQA_OK;
    return net_loaded;
}

/* max|a - ref| / max|ref| over n values; prints it with the label. */
static double rel_error(const char *label, const float *a, const float *ref, size_t n)
{
    double diff = 0, peak = 0;
    for (size_t i = 0; i < n; i++) {
        diff = fmax(diff, fabs((double)a[i] - ref[i]));
        peak = fmax(peak, fabs((double)ref[i]));
    }
    double rel = peak > 0 ? diff / peak : diff;
    printf("  %-22s max|d| %.3e  max|ref| %.3e  ratio %.3e\n", label, diff, peak, rel);
    return rel;
}

/* Normalises the uint8 images of dataset u8_name into x (NHWC); 0 on failure. */
static int load_input(const char *u8_name, oiqa_tensor *x)
{
    hsize_t d[4];
    uint8_t *u8 = read_dataset(u8_name, H5T_NATIVE_UINT8, 1, d);
    CHECK_MSG(u8 != NULL, "dataset %s missing", u8_name);
    if (!u8) return 0;
    int rc = oiqa_imagenet_normalize_u8(u8, (int)d[0], (int)d[1], (int)d[2], x);
    free(u8);
    CHECK(rc == OIQA_OK && d[3] == 3);
    return rc == OIQA_OK;
}

/* Compares NHWC x with an NCHW float reference dataset of the same shape. */
static void compare_nchw(const char *label, const oiqa_tensor *x, int image, const char *ref_name)
{
    hsize_t d[4];
    float *ref = read_f32(ref_name, d);
    CHECK_MSG(ref != NULL, "dataset %s missing", ref_name);
    if (!ref) return;
    CHECK_MSG((int)d[1] == x->c && (int)d[2] == x->h && (int)d[3] == x->w,
              "%s: ours %dx%dx%d (HWC), reference C,H,W = %llu,%llu,%llu", label, x->h, x->w, x->c,
              (unsigned long long)d[1], (unsigned long long)d[2], (unsigned long long)d[3]);
    if ((int)d[1] != x->c || (int)d[2] != x->h || (int)d[3] != x->w) {
        free(ref);
        return;
    }
    size_t n = (size_t)x->c * x->h * x->w;
    float *ours = malloc(sizeof(float) * n);
    for (int ch = 0; ch < x->c; ch++)
        for (int y = 0; y < x->h; y++)
            for (int xx = 0; xx < x->w; xx++)
                ours[((size_t)ch * x->h + y) * x->w + xx] = x->data[oiqa_tensor_index(x, image, y, xx, ch)];
    size_t off = d[0] > 1 ? (size_t)image * n : 0; /* a 1-image reference holds only image 0 */
    double rel = rel_error(label, ours, ref + off, n);
    CHECK_MSG(rel <= REL_TOL, "%s: relative error %.3e > %g", label, rel, REL_TOL);
    free(ours);
    free(ref);
}

/* Stage means/stds (population) of every image against group/layerK_{mean,std}. */
static void compare_stats(const char *group, const oiqa_resnet_out *out)
{
    for (int k = 0; k < OIQA_RESNET_STAGES; k++) {
        const oiqa_tensor *t = &out->layer[k];
        size_t n = (size_t)t->n * t->c;
        float *mean = malloc(sizeof(float) * n), *std = malloc(sizeof(float) * n);
        oiqa_channel_mean_std(t, mean, std, 0);
        char name[64], label[64];
        hsize_t d[4];
        const char *what[2] = {"mean", "std"};
        float *ours[2] = {mean, std};
        for (int s = 0; s < 2; s++) {
            snprintf(name, sizeof name, "%s/layer%d_%s", group, k + 1, what[s]);
            float *ref = read_f32(name, d);
            CHECK_MSG(ref && d[0] * d[1] == n, "dataset %s missing or of another size", name);
            if (ref && d[0] * d[1] == n) {
                snprintf(label, sizeof label, "%s/layer%d_%s", group, k + 1, what[s]);
                double rel = rel_error(label, ours[s], ref, n);
                CHECK_MSG(rel <= REL_TOL, "%s: relative error %.3e > %g", label, rel, REL_TOL);
            }
            free(ref);
        }
        free(mean);
        free(std);
    }
}

static void compare_logits(const char *name, const oiqa_resnet_out *out)
{
    hsize_t d[4];
    float *ref = read_f32(name, d);
    size_t n = oiqa_tensor_numel(&out->logits);
    CHECK_MSG(ref && d[0] * d[1] == n, "dataset %s missing or of another size", name);
    if (ref && d[0] * d[1] == n) {
        double rel = rel_error(name, out->logits.data, ref, n);
        CHECK_MSG(rel <= REL_TOL, "%s: relative error %.3e > %g", name, rel, REL_TOL);
    }
    free(ref);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
}

static void t_normalized_input_matches(void)
{
    if (!open_fixture()) return;
    oiqa_tensor x = {0};
    if (!load_input("input/images_u8", &x)) return;
    CHECK(x.n == 4 && x.h == 224 && x.w == 224);
    for (int b = 0; b < x.n; b++) {
        char label[32];
        snprintf(label, sizeof label, "input/images_f32[%d]", b);
        compare_nchw(label, &x, b, "input/images_f32");
    }
    /* The constants must be the fixture's (float32). */
    hsize_t d[4];
    float *mean = read_f32("input/imagenet_mean", d), *std = read_f32("input/imagenet_std", d);
    CHECK(mean && std);
    for (int c = 0; mean && std && c < 3; c++) {
        CHECK(mean[c] == OIQA_IMAGENET_MEAN[c]);
        CHECK(std[c] == OIQA_IMAGENET_STD[c]);
    }
    free(mean);
    free(std);
    oiqa_tensor_free(&x);
}

static void t_forward_224_batch(void)
{
    if (!open_fixture()) return;
    oiqa_tensor x = {0};
    if (!load_input("input/images_u8", &x)) return;
    oiqa_resnet_out out = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = oiqa_resnet_forward(&net, &x, &out, 1);
    printf("  forward 4 x 224 x 224: %.2f s\n", seconds_since(&t0));
    CHECK_MSG(rc == OIQA_OK, "forward: %s", oiqa_errmsg());
    if (rc == OIQA_OK) {
        static const int side[4] = {56, 28, 14, 7}, chans[4] = {256, 512, 1024, 2048};
        for (int k = 0; k < 4; k++) {
            const oiqa_tensor *t = &out.layer[k];
            CHECK(t->n == 4 && t->h == side[k] && t->w == side[k] && t->c == chans[k]);
            char name[32];
            snprintf(name, sizeof name, "output/layer%d_img0", k + 1);
            compare_nchw(name, t, 0, name);
        }
        compare_stats("output", &out);
        compare_logits("output/logits", &out);
        /* A second call reuses the output tensors (same shapes). */
        float *kept = out.layer[3].data;
        rc = oiqa_resnet_forward(&net, &x, &out, 0);
        CHECK(rc == OIQA_OK && out.layer[3].data == kept);
    }
    oiqa_resnet_out_free(&out);
    oiqa_tensor_free(&x);
}

static void t_forward_erp_256x512(void)
{
    if (!open_fixture()) return;
    oiqa_tensor x = {0};
    if (!load_input("erp/input_u8", &x)) return;
    CHECK(x.n == 1 && x.h == 256 && x.w == 512);
    compare_nchw("erp/input_f32", &x, 0, "erp/input_f32");
    oiqa_resnet_out out = {0};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int rc = oiqa_resnet_forward(&net, &x, &out, 1);
    printf("  forward 1 x 256 x 512: %.2f s\n", seconds_since(&t0));
    CHECK_MSG(rc == OIQA_OK, "forward: %s", oiqa_errmsg());
    if (rc == OIQA_OK) {
        hsize_t d[4];
        int64_t *shape = read_dataset("erp/layer4_shape", H5T_NATIVE_INT64, sizeof(int64_t), d);
        CHECK(shape != NULL);
        const oiqa_tensor *l4 = &out.layer[3];
        if (shape)
            CHECK_MSG(l4->n == shape[0] && l4->c == shape[1] && l4->h == shape[2] && l4->w == shape[3],
                      "layer4 %dx%dx%dx%d (NHWC), reference [%lld,%lld,%lld,%lld] (NCHW)", l4->n, l4->h,
                      l4->w, l4->c, (long long)shape[0], (long long)shape[1], (long long)shape[2],
                      (long long)shape[3]);
        CHECK(l4->h == 8 && l4->w == 16 && l4->c == 2048);
        free(shape);
        compare_stats("erp", &out);
        compare_logits("erp/logits", &out);
    }
    oiqa_resnet_out_free(&out);
    oiqa_tensor_free(&x);
}

static void t_refuses_subset_checkpoint(void)
{
    const char *path = check_shared("fixtures/resnet50/resnet50_seed0_conv1_to_layer1.safetensors");
    if (access(path, R_OK) != 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", path);
        return;
    }
    oiqa_resnet bad;
    int rc = oiqa_resnet_load_file(path, &oiqa_resnet50_depth, &bad);
    const char *msg = oiqa_errmsg();
    printf("  message: %s\n", msg);
    CHECK(rc == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(msg, path) == msg, "message does not start with the file: %s", msg);
    CHECK_MSG(strstr(msg, "missing layer2.0.conv1.weight [128,256,1,1], ") != NULL,
              "message does not name the first missing key: %s", msg);
    CHECK_MSG(strstr(msg, "0 unexpected, 0 mis-shaped") != NULL, "counts: %s", msg);
    CHECK(bad.fc_weight == NULL && bad.stem.weight == NULL);
    oiqa_resnet_free(&bad);
}

/* Writes a small safetensors file: conv1.weight F32 [64,3,3,3] (a 3x3 stem,
 * mis-shaped) and extra.weight F32 [2] (unexpected). 0 on failure. */
static int write_wrong_safetensors(const char *path)
{
    const char *json = "{\"conv1.weight\":{\"dtype\":\"F32\",\"shape\":[64,3,3,3],"
                       "\"data_offsets\":[0,6912]},\"extra.weight\":{\"dtype\":\"F32\","
                       "\"shape\":[2],\"data_offsets\":[6912,6920]}}";
    char header[256];
    size_t len = strlen(json);
    size_t padded = (len + 7) / 8 * 8;
    memset(header, ' ', sizeof header);
    memcpy(header, json, len);
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    unsigned char n8[8];
    for (int k = 0; k < 8; k++) n8[k] = (unsigned char)((uint64_t)padded >> (8 * k));
    static float data[1730];
    int ok = fwrite(n8, 1, 8, f) == 8 && fwrite(header, 1, padded, f) == padded &&
             fwrite(data, sizeof(float), 1730, f) == 1730;
    return fclose(f) == 0 && ok;
}

static void t_refuses_misshaped_and_unexpected(void)
{
    char path[] = "/tmp/oiqa_resnet_wrong_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    CHECK(write_wrong_safetensors(path));
    oiqa_resnet bad;
    int rc = oiqa_resnet_load_file(path, &oiqa_resnet50_depth, &bad);
    const char *msg = oiqa_errmsg();
    printf("  message: %s\n", msg);
    CHECK(rc == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(msg, path) == msg, "message does not start with the file: %s", msg);
    CHECK_MSG(strstr(msg, "264 missing, 1 unexpected, 1 mis-shaped") != NULL, "counts: %s", msg);
    CHECK_MSG(strstr(msg, "mis-shaped conv1.weight is [64,3,3,3], expected [64,3,7,7]") != NULL,
              "shape: %s", msg);
    CHECK_MSG(strstr(msg, "unexpected extra.weight") != NULL, "unexpected key: %s", msg);
    oiqa_resnet_free(&bad);
    unlink(path);
}

int main(void)
{
    RUN(t_normalized_input_matches);
    RUN(t_forward_224_batch);
    RUN(t_forward_erp_256x512);
    RUN(t_refuses_subset_checkpoint);
    RUN(t_refuses_misshaped_and_unexpected);
    if (net_loaded) oiqa_resnet_free(&net);
    if (fixture >= 0) H5Fclose(fixture);
    return check_done();
}
