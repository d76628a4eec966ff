/* The global feature stage (stage/global.h) with the ResNet-50 extractor on
 * the shipped panoramas: statistics against resize + a direct forward,
 * batches, maps, and the inputs it refuses. */
#include <math.h>
#include <unistd.h>

#include "base/error.h"
#include "geo/resize.h"
#include "io/h5store.h"
#include "io/image.h"
#include "models/extractor.h"
#include "stage/global.h"
#include "check.h"

static const oiqa_provenance PROV = {.stage = "global", .tool = "test", .command = "test", .config = "t: 1\n"};


static const char *pano(const char *name)
{
    static char ring[4][512];
    static int next;
    const char *root = getenv("OIQA_ROOT");
    char *buf = ring[next++ % 4];
    snprintf(buf, sizeof ring[0], "%s/data/panoramas/%s", root && *root ? root : ".", name);
    return buf;
}

static oiqa_global_opts defaults(void)
{
    return (oiqa_global_opts){.extractor = "resnet50", .weights = "random:4", .blocks = "layer3", .height = 64,
                              .width = 128, .batch = 2, .deflate = 1, .force = 1};
}

static void t_stats_match_direct_forward(void)
{
    char *names[3] = {(char *)pano("city_tonemapped.png"), (char *)pano("night_tonemapped.png"),
                      (char *)pano("forest_tonemapped.png")};
    if (access(names[0], R_OK)) {
        SKIP("panoramas absent at %s (set OIQA_ROOT)", names[0]);
        return;
    }
    oiqa_global_opts o = defaults();
    o.maps = 1;
    int rc = oiqa_global_run(&o, names, 3, check_tmp("g.h5"), &PROV);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    if (rc) return;
    oiqa_store_reader *r;
    CHECK(oiqa_store_open_read(check_tmp("g.h5"), "global", 0, &r) == OIQA_OK);
    if (!r) return;
    int64_t want_mean[2] = {3, 1024}, want_map[4] = {3, 4, 8, 1024};
    CHECK(oiqa_store_reader_expect(r, "/global/layer3/mean", OIQA_F32, 2, want_mean) == OIQA_OK);
    CHECK(oiqa_store_reader_expect(r, "/global/layer3/map", OIQA_F16, 4, want_map) == OIQA_OK);
    char *size = oiqa_store_reader_attr_string(r, "/", "input_size");
    CHECK_STR(size, "128x64");
    free(size);
    float *mean = malloc(3 * 1024 * sizeof(float)), *std = malloc(3 * 1024 * sizeof(float));
    CHECK(oiqa_store_reader_read_all(r, "/global/layer3/mean", OIQA_F32, mean) == OIQA_OK);
    CHECK(oiqa_store_reader_read_all(r, "/global/layer3/std", OIQA_F32, std) == OIQA_OK);
    oiqa_store_close(r);

    oiqa_extractor ex;
    CHECK(oiqa_extractor_open("resnet50", "random:4", &ex) == OIQA_OK);
    double worst = 0, scale = 0;
    for (int i = 0; i < 3 && ex.kind; i++) {
        oiqa_image img = {0};
        oiqa_image_load_opts lo = {0};
        CHECK(oiqa_image_load(names[i], &lo, &img) == OIQA_OK);
        uint8_t small[64 * 128 * 3];
        float rgb[64 * 128 * 3];
        CHECK(oiqa_resize_rgb_u8(&img, 128, 64, small) == OIQA_OK);
        for (int k = 0; k < 64 * 128 * 3; k++) rgb[k] = small[k];
        oiqa_image_free(&img);
        const oiqa_tensor *maps[8];
        CHECK(oiqa_extractor_forward(&ex, rgb, 1, 64, 128, maps) == OIQA_OK);
        const oiqa_tensor *m = maps[2];
        int P = m->h * m->w;
        for (int c = 0; c < 1024; c++) {
            double s = 0, s2 = 0;
            for (int p = 0; p < P; p++) s += m->data[(size_t)p * 1024 + c];
            double mu = s / P;
            for (int p = 0; p < P; p++) s2 += pow(m->data[(size_t)p * 1024 + c] - mu, 2);
            worst = fmax(worst, fmax(fabs(mean[i * 1024 + c] - mu), fabs(std[i * 1024 + c] - sqrt(s2 / (P - 1)))));
            scale = fmax(scale, fabs(mu));
        }
    }
    printf("  layer3 of 3 ERPs at 128x64, batch 2: max |diff| %.3g vs direct (max |mean| %.3g)\n", worst, scale);
    CHECK(worst <= 1e-5 * scale);
    free(mean), free(std);
    oiqa_extractor_close(&ex);
}

static void t_bad_inputs(void)
{
    char *names[2] = {(char *)pano("city_tonemapped.png"), (char *)pano("city_tonemapped.png")};
    if (access(names[0], R_OK)) {
        SKIP("panoramas absent");
        return;
    }
    oiqa_global_opts o = defaults();
    CHECK(oiqa_global_run(&o, names, 2, check_tmp("x.h5"), &PROV) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "given twice"), "%s", oiqa_errmsg());
    /* An image below the network's minimum (layer3 needs 18x9 for 1x2 maps; 16x8 gives 1x1). */
    uint8_t px[16 * 8 * 3] = {0};
    CHECK(oiqa_image_save(check_tmp("tiny.png"), px, 16, 8, 0) == OIQA_OK);
    CHECK(oiqa_image_save(check_tmp("square.png"), px, 8, 8, 0) == OIQA_OK);
    char *tiny[1] = {(char *)check_tmp("tiny.png")};
    CHECK(oiqa_global_run(&o, tiny, 1, check_tmp("x.h5"), &PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "tiny.png: image too small (16x8): resnet50 needs at least 18x9"), "%s",
              oiqa_errmsg());
    o.blocks = "layer1";
    char *square[1] = {(char *)check_tmp("square.png")};
    CHECK(oiqa_global_run(&o, square, 1, check_tmp("x.h5"), &PROV) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "not a 2:1"), "%s", oiqa_errmsg());
    o.blocks = "layer3", o.height = 4, o.width = 8;
    CHECK(oiqa_global_run(&o, names, 1, check_tmp("x.h5"), &PROV) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "input size 8x4 is below resnet50's minimum"), "%s", oiqa_errmsg());
    char *missing[1] = {(char *)check_tmp("nothere.png")};
    o = defaults();
    CHECK(oiqa_global_run(&o, missing, 1, check_tmp("x.h5"), &PROV) == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "nothere.png"));
    CHECK(access(check_tmp("x.h5"), F_OK) != 0 && access(check_tmp("x.h5.partial"), F_OK) != 0);
}

int main(void)
{
    check_tmp_init();
    RUN(t_stats_match_direct_forward);
    RUN(t_bad_inputs);
    return check_tmp_cleanup() | check_done();
}
