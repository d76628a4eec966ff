/* Dataset synthesis through the library: the option lists, names, seeds and
 * score, and a run on a real panorama (labels, pseudo-MOS falling with the
 * level, the same labels on 1 and 2 threads, refusals before any output). */
#include <stdint.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/log.h"
#include "base/threads.h"
#include "iqa/labels.h"
#include "stage/synth.h"
#include "stage/synth_internal.h"
#include "check.h"

static void t_lists(void)
{
    int f[OIQA_DIST_COUNT], l[OIQA_DIST_LEVELS], n;
    CHECK(oiqa_synth_parse_families("noise, jpeg", f, &n) == OIQA_OK && n == 2 && f[0] == OIQA_DIST_NOISE &&
          f[1] == OIQA_DIST_JPEG);
    CHECK(oiqa_synth_parse_families("jpeg,gif", f, &n) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "key 'families': unknown family 'gif'") != NULL);
    CHECK(oiqa_synth_parse_families("blur,blur", f, &n) == OIQA_EXIT_USAGE);
    CHECK(oiqa_synth_parse_levels("1-5", l, &n) == OIQA_OK && n == 5 && l[0] == 1 && l[4] == 5);
    CHECK(oiqa_synth_parse_levels("5,1,3", l, &n) == OIQA_OK && n == 3 && l[0] == 1 && l[1] == 3 && l[2] == 5);
    CHECK(oiqa_synth_parse_levels("2-4", l, &n) == OIQA_OK && n == 3 && l[0] == 2 && l[2] == 4);
    const char *bad[] = {"0", "6", "1-6", "3-1", "x", "", "1,,2", "2,2"};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        CHECK_MSG(oiqa_synth_parse_levels(bad[k], l, &n) == OIQA_EXIT_USAGE, "'%s' accepted", bad[k]);
        CHECK_MSG(strstr(oiqa_errmsg(), "key 'levels'") != NULL, "'%s': %s", bad[k], oiqa_errmsg());
    }
}

static void t_names_seeds_score(void)
{
    char *s = synth_stem("a/b/city.v2.png");
    CHECK_STR(s, "city.v2");
    free(s);
    s = synth_output_name("city", OIQA_DIST_RESAMPLE, 4);
    CHECK_STR(s, "city_resample_4.png");
    free(s);
    s = synth_output_name("city", -1, 0);
    CHECK_STR(s, "city.png");
    free(s);
    CHECK(oiqa_synth_seed(0, "a", 2, 3) == oiqa_synth_seed(0, "a", 2, 3));
    CHECK(oiqa_synth_seed(0, "a", 2, 3) != oiqa_synth_seed(0, "a", 2, 4));
    CHECK(oiqa_synth_seed(0, "a", 2, 3) != oiqa_synth_seed(0, "b", 2, 3));
    static uint8_t a[2 * 16 * 16 * 3], b[2 * 16 * 16 * 3];
    for (size_t k = 0; k < sizeof a; k++) a[k] = b[k] = (uint8_t)(k * 37 % 251);
    double m = 0;
    CHECK(oiqa_synth_score(a, b, 2, 16, OIQA_SYNTH_SSIM, &m) == OIQA_OK);
    CHECK_NEAR(m, 1.0, 1e-12);
    for (size_t k = sizeof a / 2; k < sizeof a; k++) b[k] = (uint8_t)(255 - a[k]);
    CHECK(oiqa_synth_score(a, b, 2, 16, OIQA_SYNTH_SSIM, &m) == OIQA_OK);
    CHECK(m < 0.6); /* one identical viewport, one inverted: the mean of the two */
}

static const char *pano(void)
{
    static char path[4096];
    const char *root = getenv("OIQA_ROOT");
    snprintf(path, sizeof path, "%s/data/panoramas/courtyard_tonemapped.png", root && *root ? root : ".");
    return path;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    if (buf) fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    return buf;
}

static void t_run_labels(void)
{
    struct stat st;
    if (stat(pano(), &st)) { SKIP("panorama absent (set OIQA_ROOT)"); return; }
    oiqa_synth_opts o = {.n_families = 2, .families = {OIQA_DIST_NOISE, OIQA_DIST_BLUR}, .n_levels = 3,
                         .levels = {1, 3, 5}, .metric = OIQA_SYNTH_SSIM, .layout = OIQA_LAYOUT_CUBE6, .size = 32,
                         .fov = 90, .seed = 3};
    char *names[1] = {(char *)pano()};
    oiqa_threads_set(1);
    int rc = oiqa_synth_run(&o, names, 1, check_tmp("d1"));
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    oiqa_threads_set(2);
    CHECK(oiqa_synth_run(&o, names, 1, check_tmp("d2")) == OIQA_OK);
    oiqa_threads_set(0);
    char *a = slurp(check_tmp("d1/labels.csv")), *b = slurp(check_tmp("d2/labels.csv"));
    CHECK(a && b && !strcmp(a, b));
    free(a), free(b);
    oiqa_labels l = {0};
    CHECK(oiqa_labels_read(check_tmp("d1/labels.csv"), &l) == OIQA_OK);
    CHECK(l.n == 7);
    if (l.n == 7) {
        CHECK_STR(l.row[0].name, "courtyard_tonemapped.png");
        CHECK_STR(l.row[0].dist_type, "REF");
        CHECK(l.row[0].dist_level == 0 && l.row[0].mos == 100);
        for (int f = 0; f < 2; f++)
            for (int k = 0; k < 3; k++) {
                const oiqa_label *r = &l.row[1 + 3 * f + k];
                CHECK_STR(r->ref, "courtyard_tonemapped");
                CHECK(r->mos > 0 && r->mos < 100);
                if (k) CHECK_MSG(r->mos < l.row[3 * f + k].mos, "%s not below the level before", r->name);
            }
        CHECK_STR(l.row[6].name, "courtyard_tonemapped_blur_5.png");
    }
    oiqa_labels_free(&l);
    CHECK(stat(check_tmp("d1/courtyard_tonemapped_noise_3.png"), &st) == 0);
    CHECK(stat(check_tmp("d1/synth.yaml"), &st) != 0); /* no config given, no file */
    /* an existing labels.csv is refused without force, naming it */
    CHECK(oiqa_synth_run(&o, names, 1, check_tmp("d1")) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "labels.csv: exists") != NULL);
    o.force = 1;
    /* a missing reference is refused before anything is written */
    char *bad[2] = {(char *)pano(), "/nonexistent/x.png"};
    CHECK(oiqa_synth_run(&o, bad, 2, check_tmp("d3")) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "/nonexistent/x.png") != NULL);
    CHECK(stat(check_tmp("d3"), &st) != 0);
}

int main(void)
{
    check_tmp_init();
    oiqa_log_set_level(OIQA_LOG_WARN);
    RUN(t_lists);
    RUN(t_names_seeds_score);
    RUN(t_run_labels);
    int cleanup = check_tmp_cleanup();
    return check_done() | cleanup;
}
