/* The codec pieces of issue 15's pseudo-references: the shift-averaged DCT
 * (fast strips against the block-by-block reference on awkward shapes), the
 * IJG table, the CDF 9/7 level, the codec traces on a real panorama coded by
 * each codec, the 4:2:0 chroma re-interpolation, the grid restorer's
 * refusals, JPEG 2000 in memory, and the ffmpeg calls (lookup errors, odd
 * sizes, determinism, frames independent of their batch). The ffmpeg cases
 * skip with a printed reason without ffmpeg. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/image.h"
#include "iqa/codec_traces.h"
#include "iqa/dct_shift.h"
#include "iqa/detect.h"
#include "iqa/distort.h"
#include "iqa/restore.h"
#include "iqa/ssim.h"
#include "iqa/video_codec.h"
#include "check.h"
#define TEST_RNG_SEED 0x15c0dec5ull
#include "test_data.h"

static oiqa_image city; /* 1024 x 512 */

static int have_ffmpeg(void)
{
    char prog[4096];
    return oiqa_ffmpeg_find("this test", prog, sizeof prog) == OIQA_OK;
}

static void t_dct_shift_fast_equals_naive(void)
{
    static const int shapes[][2] = {{8, 8}, {37, 29}, {13, 70}, {1, 1}, {64, 9}, {130, 66}};
    float q[64];
    oiqa_jpeg_luma_table(20, q);
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int w = shapes[s][0], h = shapes[s][1];
        size_t n = (size_t)w * h;
        float *in = malloc(n * sizeof(float)), *a = malloc(n * sizeof(float)), *b = malloc(n * sizeof(float));
        for (size_t k = 0; k < n; k++) in[k] = (float)(255 * rnd()) - 128;
        for (int mode = 0; mode < 2; mode++)
            for (int step = 1; step <= 4; step *= 2) {
                CHECK(oiqa_dct_shift_filter(in, a, w, h, q, (oiqa_dct_mode)mode, step) == OIQA_OK);
                CHECK(oiqa_dct_shift_filter_naive(in, b, w, h, q, (oiqa_dct_mode)mode, step) == OIQA_OK);
                double e = 0;
                for (size_t k = 0; k < n; k++) e = fmax(e, fabs(a[k] - b[k]));
                CHECK_MSG(e < 1e-3, "%dx%d mode %d step %d: max |fast - naive| %g", w, h, mode, step, e);
                /* in place gives the same values */
                memcpy(b, in, n * sizeof(float));
                CHECK(oiqa_dct_shift_filter(b, b, w, h, q, (oiqa_dct_mode)mode, step) == OIQA_OK);
                CHECK(!memcmp(a, b, n * sizeof(float)));
            }
        free(in), free(a), free(b);
    }
    /* thresholds of 0 change nothing but rounding: the DCT is orthonormal */
    float one[64], in[16 * 16], out[16 * 16];
    for (int k = 0; k < 64; k++) one[k] = 1e-6f;
    for (int k = 0; k < 256; k++) in[k] = (float)(k % 17) * 3;
    CHECK(oiqa_dct_shift_filter(in, out, 16, 16, one, OIQA_DCT_HARD, 1) == OIQA_OK);
    double e = 0;
    for (int k = 0; k < 256; k++) e = fmax(e, fabs(out[k] - in[k]));
    CHECK_MSG(e < 1e-3, "identity thresholding moved a pixel by %g", e);
    /* bad arguments */
    one[5] = 0;
    CHECK(oiqa_dct_shift_filter(in, out, 16, 16, one, OIQA_DCT_HARD, 1) == OIQA_EXIT_USAGE);
    CHECK(oiqa_dct_shift_filter(in, out, 16, 16, q, OIQA_DCT_HARD, 3) == OIQA_EXIT_USAGE);
    CHECK(oiqa_dct_shift_filter(in, out, 0, 16, q, OIQA_DCT_HARD, 1) == OIQA_EXIT_USAGE);
}

static void t_ijg_table(void)
{
    float q[64];
    oiqa_jpeg_luma_table(50, q); /* T.81 Table K.1 itself */
    CHECK(q[0] == 16 && q[1] == 11 && q[8] == 12 && q[63] == 99 && q[7] == 61);
    oiqa_jpeg_luma_table(100, q);
    for (int k = 0; k < 64; k++) CHECK(q[k] == 1);
    oiqa_jpeg_luma_table(10, q); /* s = 500: 16 * 5 = 80, 99 * 5 clamped to 255 */
    CHECK(q[0] == 80 && q[63] == 255);
}

/* A linear ramp has no first-level detail away from the borders (the 9/7
 * analysis filter has four vanishing moments). */
static void t_dwt97_ramp(void)
{
    enum { W = 32, H = 16 };
    float p[W * H], tmp[3 * W];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) p[y * W + x] = 2.0f * x + 3.0f * y + 7;
    oiqa_dwt97_level(p, W, H, tmp);
    double e = 0, ll = 0;
    for (int y = 2; y < H / 2 - 2; y++)
        for (int x = 2; x < W / 2 - 2; x++) {
            e = fmax(e, fabs(p[y * W + x + W / 2]));             /* HL */
            e = fmax(e, fabs(p[(y + H / 2) * W + x]));           /* LH */
            e = fmax(e, fabs(p[(y + H / 2) * W + x + W / 2]));   /* HH */
            ll = fmax(ll, fabs(p[y * W + x]));
        }
    CHECK_MSG(e < 1e-3 * ll, "interior detail %g of a ramp (LL up to %g)", e, ll);
}

/* Each codec's trace on the city panorama coded at level 3, against the
 * clean image. */
static void t_traces_per_codec(void)
{
    if (!city.rgb) { SKIP("panorama absent (set OIQA_ROOT)"); return; }
    int ff = have_ffmpeg();
    size_t n = (size_t)city.w * city.h * 3;
    uint8_t *d = malloc(n);
    oiqa_codec_traces t0, t;
    CHECK(oiqa_codec_traces_measure(city.rgb, city.w, city.h, &t0) == OIQA_OK);
    printf("    clean:    pairs %.3f pattern %.3f lattice %.4f decay %.2f\n", t0.chroma_pairs, t0.chroma_pattern,
           t0.wavelet_lattice, t0.detail_decay);
    CHECK(t0.chroma_pairs > 0.7 && fabs(t0.wavelet_lattice) < 0.003 && t0.detail_decay > 1.5);
    const oiqa_dist_family fams[] = {OIQA_DIST_JPEG, OIQA_DIST_JPEG2000, OIQA_DIST_H264, OIQA_DIST_HEVC};
    for (int i = 0; i < 4; i++) {
        if (oiqa_dist_needs_ffmpeg(fams[i]) && !ff) {
            printf("    %s: not measured, no ffmpeg\n", oiqa_dist_name(fams[i]));
            continue;
        }
        CHECK(oiqa_distort_level(city.rgb, city.w, city.h, fams[i], 3, 0, d) == OIQA_OK);
        CHECK(oiqa_codec_traces_measure(d, city.w, city.h, &t) == OIQA_OK);
        printf("    %-9s pairs %.3f pattern %.3f lattice %.4f decay %.2f\n", oiqa_dist_name(fams[i]),
               t.chroma_pairs, t.chroma_pattern, t.wavelet_lattice, t.detail_decay);
        if (fams[i] == OIQA_DIST_JPEG) CHECK(t.chroma_pairs > 0.5 && t.wavelet_lattice < OIQA_DETECT_ERP_LATTICE_MIN);
        if (fams[i] == OIQA_DIST_JPEG2000)
            CHECK(t.wavelet_lattice >= OIQA_DETECT_ERP_LATTICE_MIN && t.chroma_pairs > 0.5 &&
                  t.detail_decay < t0.detail_decay);
        if (fams[i] == OIQA_DIST_H264)
            CHECK(t.chroma_pairs <= OIQA_DETECT_ERP_PAIRS_MAX && t.chroma_pattern >= OIQA_DETECT_ERP_PATTERN_H264);
        if (fams[i] == OIQA_DIST_HEVC)
            CHECK(t.chroma_pairs <= OIQA_DETECT_ERP_PAIRS_MAX && t.chroma_pattern < OIQA_DETECT_ERP_PATTERN_H264);
    }
    uint8_t small[16 * 16 * 3] = {0};
    CHECK(oiqa_codec_traces_measure(small, 16, 16, &t) == OIQA_EXIT_USAGE);
    free(d);
}

/* Replicated 4:2:0 chroma (one chroma per 2x2 block) becomes interpolated
 * chroma, the luma stays. */
static void t_chroma_reinterpolate(void)
{
    enum { W = 64, H = 48 };
    static uint8_t src[W * H * 3], dst[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = src + (y * W + x) * 3;
            int bx = x / 2, by = y / 2; /* chroma of the block, luma of the pixel */
            p[0] = (uint8_t)(100 + 40 * sin(bx * 0.5) + (x & 1) * 3);
            p[1] = (uint8_t)(110 + (x & 1) * 3);
            p[2] = (uint8_t)(120 + 40 * cos(by * 0.4) + (x & 1) * 3);
        }
    CHECK(oiqa_chroma_reinterpolate(src, W, H, dst) == OIQA_OK);
    double ye = 0, moved = 0;
    for (int k = 0; k < W * H; k++) {
        const uint8_t *a = src + 3 * k, *b = dst + 3 * k;
        double ya = 0.299 * a[0] + 0.587 * a[1] + 0.114 * a[2], yb = 0.299 * b[0] + 0.587 * b[1] + 0.114 * b[2];
        ye = fmax(ye, fabs(ya - yb));
        moved += abs(a[0] - b[0]) + abs(a[2] - b[2]);
    }
    CHECK_MSG(ye <= 1.0, "luma moved by %g", ye);
    CHECK(moved > W * H);
    /* in place, odd sizes, tiny */
    memcpy(dst, src, sizeof src);
    CHECK(oiqa_chroma_reinterpolate(dst, W - 1, H - 3, dst) == OIQA_OK);
    CHECK(oiqa_chroma_reinterpolate(src, 1, 1, dst) == OIQA_OK && !memcmp(src, dst, 3));
}

static void t_restore_grid_refusals(void)
{
    uint8_t px[32 * 32 * 3] = {0}, out[32 * 32 * 3];
    oiqa_detection det = {.family = OIQA_DIST_NOISE, .level = 2};
    CHECK(oiqa_restore_grid(px, 32, 32, &det, out) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "noise") != NULL);
    CHECK(oiqa_restore_grid(px, 32, 32, NULL, out) == OIQA_EXIT_USAGE);
    CHECK(oiqa_restore_is_grid_family(OIQA_DIST_JPEG) && oiqa_restore_is_grid_family(OIQA_DIST_HEVC) &&
          !oiqa_restore_is_grid_family(OIQA_DIST_BLUR) && !oiqa_restore_is_grid_family(OIQA_DIST_NONE));
    CHECK(oiqa_restore_threshold(1) == 6.5 && oiqa_restore_threshold(5) == 16.5);
    /* a flat image stays flat */
    memset(px, 77, sizeof px);
    det = (oiqa_detection){.family = OIQA_DIST_JPEG2000, .level = 3};
    CHECK(oiqa_restore_grid(px, 32, 32, &det, out) == OIQA_OK && !memcmp(px, out, sizeof px));
}

/* The restorer on the ERP: closer to the clean ERP for every grid family. */
static void t_restore_grid_on_erp(void)
{
    if (!city.rgb) { SKIP("panorama absent (set OIQA_ROOT)"); return; }
    int ff = have_ffmpeg();
    size_t n = (size_t)city.w * city.h * 3;
    uint8_t *d = malloc(n), *r = malloc(n);
    const oiqa_dist_family fams[] = {OIQA_DIST_JPEG, OIQA_DIST_JPEG2000, OIQA_DIST_H264, OIQA_DIST_HEVC};
    for (int i = 0; i < 4; i++) {
        if (oiqa_dist_needs_ffmpeg(fams[i]) && !ff) continue;
        oiqa_detection det;
        CHECK(oiqa_distort_level(city.rgb, city.w, city.h, fams[i], 3, 0, d) == OIQA_OK);
        CHECK(oiqa_detect_erp(d, city.w, city.h, &det) == OIQA_OK && det.family == fams[i]);
        CHECK(oiqa_restore_grid(d, city.w, city.h, &det, r) == OIQA_OK);
        double pd, pr;
        oiqa_psnr(city.rgb, d, city.w, city.h, &pd);
        oiqa_psnr(city.rgb, r, city.w, city.h, &pr);
        printf("    %-9s L3 ERP: %.2f -> restored %+.2f dB\n", oiqa_dist_name(fams[i]), pd, pr - pd);
        CHECK_MSG(pr > pd, "%s: restored %.3f not above %.3f", oiqa_dist_name(fams[i]), pr, pd);
    }
    free(d), free(r);
}

static void t_jpeg2000(void)
{
    enum { W = 61, H = 35 }; /* odd sizes */
    static uint8_t src[W * H * 3], a[W * H * 3], b[W * H * 3];
    for (size_t k = 0; k < sizeof src; k++) src[k] = (uint8_t)(128 + 60 * sin(k * 0.01) + 20 * rnd());
    CHECK(oiqa_jpeg2000_recompress(src, W, H, 10, a) == OIQA_OK);
    CHECK(oiqa_jpeg2000_recompress(src, W, H, 10, b) == OIQA_OK && !memcmp(a, b, sizeof a));
    memcpy(b, src, sizeof src);
    CHECK(oiqa_jpeg2000_recompress(b, W, H, 10, b) == OIQA_OK && !memcmp(a, b, sizeof a));
    double p10, p1;
    oiqa_psnr(src, a, W, H, &p10);
    CHECK(oiqa_jpeg2000_recompress(src, W, H, 1, b) == OIQA_OK);
    oiqa_psnr(src, b, W, H, &p1);
    CHECK_MSG(p1 > p10 && p1 > 40, "ratio 1 %.2f dB, ratio 10 %.2f dB", p1, p10);
    CHECK(oiqa_jpeg2000_recompress(src, W, H, 0.9, a) == OIQA_EXIT_USAGE);
    CHECK(oiqa_jpeg2000_recompress(src, W, H, 20000, a) == OIQA_EXIT_USAGE);
    CHECK(oiqa_jpeg2000_recompress(src, 1, 1, 50, a) == OIQA_OK);
}

static void t_ffmpeg_lookup_errors(void)
{
    char prog[4096], *saved = getenv("OIQA_FFMPEG") ? oiqa_strdup(getenv("OIQA_FFMPEG")) : NULL;
    setenv("OIQA_FFMPEG", "/nonexistent/ffmpeg", 1);
    CHECK(oiqa_ffmpeg_find("the h264 family", prog, sizeof prog) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "h264 family") && strstr(oiqa_errmsg(), "apt-get install ffmpeg") &&
                  !strchr(oiqa_errmsg(), '\n'),
              "%s", oiqa_errmsg());
    uint8_t px[16 * 16 * 3] = {0}, out[16 * 16 * 3];
    CHECK(oiqa_video_recompress(px, 16, 16, 1, OIQA_DIST_HEVC, 30, out) == OIQA_EXIT_DATA);
    CHECK(oiqa_distort_level(px, 16, 16, OIQA_DIST_H264, 1, 0, out) == OIQA_EXIT_DATA);
    setenv("OIQA_FFMPEG", "/dev/null", 1); /* not a program */
    CHECK(oiqa_ffmpeg_find("the hevc family", prog, sizeof prog) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "OIQA_FFMPEG") != NULL);
    if (saved) setenv("OIQA_FFMPEG", saved, 1), free(saved);
    else unsetenv("OIQA_FFMPEG");
    CHECK(oiqa_video_recompress(px, 16, 16, 1, OIQA_DIST_JPEG, 30, out) == OIQA_EXIT_USAGE);
}

static void t_video_frames(void)
{
    if (!have_ffmpeg()) { SKIP("%s", oiqa_errmsg()); return; }
    enum { W = 45, H = 27, N = 3 }; /* odd sides: padded for 4:2:0 */
    static uint8_t src[N * W * H * 3], all[N * W * H * 3], one[W * H * 3], again[N * W * H * 3];
    for (size_t k = 0; k < sizeof src; k++) src[k] = (uint8_t)(128 + 80 * sin(k * 0.003) + 30 * rnd());
    for (int c = 0; c < 2; c++) {
        oiqa_dist_family f = c ? OIQA_DIST_HEVC : OIQA_DIST_H264;
        CHECK(oiqa_video_recompress(src, W, H, N, f, 35, all) == OIQA_OK);
        CHECK(oiqa_video_recompress(src, W, H, N, f, 35, again) == OIQA_OK);
        CHECK_MSG(!memcmp(all, again, sizeof all), "%s: two runs differ", oiqa_dist_name(f));
        /* each frame is intra-coded: alone it gives the same bytes */
        CHECK(oiqa_video_recompress(src + W * H * 3, W, H, 1, f, 35, one) == OIQA_OK);
        CHECK_MSG(!memcmp(one, all + W * H * 3, sizeof one), "%s: frame 1 depends on its batch", oiqa_dist_name(f));
        double p35, p50;
        oiqa_psnr(src, all, W, H, &p35);
        CHECK(oiqa_video_recompress(src, W, H, 1, f, 50, one) == OIQA_OK);
        oiqa_psnr(src, one, W, H, &p50);
        CHECK_MSG(p35 > p50, "%s: QP 35 %.2f dB not above QP 50 %.2f", oiqa_dist_name(f), p35, p50);
    }
    char ver[256];
    CHECK(oiqa_ffmpeg_version(ver, sizeof ver) == OIQA_OK && !strncmp(ver, "ffmpeg version ", 15) &&
          !strstr(ver, "Copyright"));
}

int main(void)
{
    test_panorama_load("city", &city);
    RUN(t_dct_shift_fast_equals_naive);
    RUN(t_ijg_table);
    RUN(t_dwt97_ramp);
    RUN(t_traces_per_codec);
    RUN(t_chroma_reinterpolate);
    RUN(t_restore_grid_refusals);
    RUN(t_restore_grid_on_erp);
    RUN(t_jpeg2000);
    RUN(t_ffmpeg_lookup_errors);
    RUN(t_video_frames);
    oiqa_image_free(&city);
    return check_done();
}
