/* The pseudo-reference stage's ERP path (detect = erp, the default) on a
 * real panorama, one image at a time as oiqa_pseudoref_image runs it: for
 * each of the databases' families (jpeg, jpeg2000, h264, hevc, noise, blur)
 * at level 3, the ERP detector names the family, the restored viewports are
 * closer to the clean ones and the degraded farther (the PSNR ordering
 * restored > distorted > degraded), and the bytes do not depend on the
 * thread count. h264 and hevc skip with a printed reason without ffmpeg. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/threads.h"
#include "io/image.h"
#include "iqa/detect.h"
#include "iqa/distort.h"
#include "iqa/ssim.h"
#include "iqa/video_codec.h"
#include "stage/pseudoref.h"
#include "stage/viewports.h"
#include "check.h"
#include "test_data.h"

#define S 96

static oiqa_image erp;          /* the clean city panorama, 1024 x 512 */
static oiqa_viewports_opts vo;  /* icosa20, S x S, fov 90, bilinear */
static int V;
static uint8_t *clean_vp;

/* The viewports of a copy of img, and its source (the caller frees it). */
static int cut(const oiqa_image *img, oiqa_vp_source *src, uint8_t *vp)
{
    oiqa_image copy = {img->w, img->h, malloc((size_t)img->w * img->h * 3)};
    if (!copy.rgb) return OIQA_EXIT_DATA;
    memcpy(copy.rgb, img->rgb, (size_t)img->w * img->h * 3);
    int rc = oiqa_viewports_prepare(&vo, "city", &copy, src);
    return rc ? rc : oiqa_viewports_image(&vo, src, vp);
}

static double mean_psnr(const uint8_t *b)
{
    double sum = 0;
    size_t one = (size_t)S * S * 3;
    for (int v = 0; v < V; v++) {
        double p = 0;
        oiqa_psnr(clean_vp + v * one, b + v * one, S, S, &p);
        sum += p;
    }
    return sum / V;
}

/* Distorts the ERP, runs the ERP path, checks detection and the ordering. */
static void family_at_level_3(oiqa_dist_family f)
{
    char prog[4096];
    if (!erp.rgb) { SKIP("panorama absent (set OIQA_ROOT)"); return; }
    if (oiqa_dist_needs_ffmpeg(f) && oiqa_ffmpeg_find("this test", prog, sizeof prog)) {
        SKIP("%s", oiqa_errmsg());
        return;
    }
    size_t bytes = (size_t)V * S * S * 3;
    oiqa_image d = {erp.w, erp.h, malloc((size_t)erp.w * erp.h * 3)};
    uint8_t *vp = malloc(bytes), *rest = malloc(bytes), *deg = malloc(bytes), *rest2 = malloc(bytes),
            *deg2 = malloc(bytes);
    oiqa_vp_source src = {0};
    oiqa_detection det;
    CHECK(oiqa_distort_level(erp.rgb, erp.w, erp.h, f, 3, 7, d.rgb) == OIQA_OK);
    CHECK(oiqa_detect_erp(d.rgb, d.w, d.h, &det) == OIQA_OK);
    CHECK_MSG(det.family == f, "%s L3 detected as %s L%d", oiqa_dist_name(f), oiqa_dist_name(det.family), det.level);
    CHECK_MSG(det.family != f || abs(det.level - 3) <= 1, "%s L3 detected at level %d", oiqa_dist_name(f), det.level);
    CHECK(cut(&d, &src, vp) == OIQA_OK);
    oiqa_pseudoref_opts po = {.restore = OIQA_PR_RESTORE_AUTO, .degrade = OIQA_PR_DEGRADE_AUTO, .error_eps = 1};
    oiqa_threads_set(2);
    int rc = oiqa_pseudoref_image(&po, "city", "city_d.png", vp, V, S, &vo, &src, rest, deg);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    double p_in = mean_psnr(vp), p_rest = mean_psnr(rest), p_deg = mean_psnr(deg);
    printf("    %-8s L3: detected %s L%d; PSNR to clean %.2f, restored %+.2f, degraded %+.2f dB\n", oiqa_dist_name(f),
           oiqa_dist_name(det.family), det.level, p_in, p_rest - p_in, p_deg - p_in);
    CHECK_MSG(p_rest > p_in, "%s: restored %.3f not above distorted %.3f dB", oiqa_dist_name(f), p_rest, p_in);
    CHECK_MSG(p_deg < p_in - 0.5, "%s: degraded %.3f not 0.5 dB below %.3f", oiqa_dist_name(f), p_deg, p_in);
    /* one thread: the same bytes */
    oiqa_threads_set(1);
    CHECK(oiqa_pseudoref_image(&po, "city", "city_d.png", vp, V, S, &vo, &src, rest2, deg2) == OIQA_OK);
    CHECK_MSG(!memcmp(rest, rest2, bytes) && !memcmp(deg, deg2, bytes), "%s: 1 and 2 threads differ",
              oiqa_dist_name(f));
    oiqa_threads_set(0);
    oiqa_vp_source_free(&src);
    free(d.rgb), free(vp), free(rest), free(deg), free(rest2), free(deg2);
}

static void t_jpeg(void) { family_at_level_3(OIQA_DIST_JPEG); }
static void t_jpeg2000(void) { family_at_level_3(OIQA_DIST_JPEG2000); }
static void t_h264(void) { family_at_level_3(OIQA_DIST_H264); }
static void t_hevc(void) { family_at_level_3(OIQA_DIST_HEVC); }
static void t_noise(void) { family_at_level_3(OIQA_DIST_NOISE); }
static void t_blur(void) { family_at_level_3(OIQA_DIST_BLUR); }

/* The clean panorama: detected as none, restored = a copy, and the fallback
 * (blur level 1) moves the degraded viewports away from it. */
static void t_clean(void)
{
    if (!erp.rgb) { SKIP("panorama absent (set OIQA_ROOT)"); return; }
    size_t bytes = (size_t)V * S * S * 3;
    uint8_t *vp = malloc(bytes), *rest = malloc(bytes), *deg = malloc(bytes);
    oiqa_vp_source src = {0};
    oiqa_detection det;
    CHECK(oiqa_detect_erp(erp.rgb, erp.w, erp.h, &det) == OIQA_OK && det.family == OIQA_DIST_NONE);
    CHECK(cut(&erp, &src, vp) == OIQA_OK);
    oiqa_pseudoref_opts po = {.restore = OIQA_PR_RESTORE_AUTO, .degrade = OIQA_PR_DEGRADE_AUTO, .error_eps = 1};
    CHECK(oiqa_pseudoref_image(&po, "city", "city.png", vp, V, S, &vo, &src, rest, deg) == OIQA_OK);
    CHECK(!memcmp(rest, vp, bytes));
    double p_deg = mean_psnr(deg);
    printf("    clean: degraded (blur 1) %.2f dB from the clean viewports\n", p_deg);
    CHECK(p_deg < 45);
    oiqa_vp_source_free(&src);
    free(vp), free(rest), free(deg);
}

int main(void)
{
    oiqa_log_set_level(OIQA_LOG_WARN);
    vo = (oiqa_viewports_opts){.layout = OIQA_LAYOUT_ICOSA20, .size = S, .fov = 90, .filter = OIQA_FILTER_BILINEAR};
    V = oiqa_viewports_count(&vo);
    clean_vp = malloc((size_t)V * S * S * 3);
    if (test_panorama_load("city", &erp) == 0) {
        oiqa_vp_source src = {0};
        if (cut(&erp, &src, clean_vp)) oiqa_image_free(&erp);
        oiqa_vp_source_free(&src);
    }
    RUN(t_clean);
    RUN(t_jpeg);
    RUN(t_jpeg2000);
    RUN(t_h264);
    RUN(t_hevc);
    RUN(t_noise);
    RUN(t_blur);
    oiqa_image_free(&erp);
    free(clean_vp);
    return check_done();
}
