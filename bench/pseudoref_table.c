/* The measured table of docs/pseudoref.md (issue 15): for each family x
 * level on the given pristine panoramas, how often oiqa-pseudoref's ERP
 * detector finds the family (and the level within +-1), and the mean PSNR
 * and SSIM to the clean viewports of the distorted, restored and degraded
 * viewports, with the restoration of the grid families done on the ERP (the
 * default) and on the viewports (restore-on viewport).
 *
 *   pseudoref_table PANORAMA... [--families LIST] [--levels LIST] [--size S]
 *
 * Each panorama is distorted on the ERP at the level (iqa/distort.h, the
 * oiqa-synth operators, seed 0), cut into the viewport stage's defaults
 * (icosa20, 224 x 224, fov 90, bilinear; --size changes S), and run through
 * oiqa_pseudoref_image with the stage's defaults (detect erp, restore auto,
 * degrade auto), exactly the bytes the stage writes. A first row per
 * panorama measures the clean image itself (detected as none, the fallback
 * degradation). Prints one progress line per image on stderr and the
 * Markdown table on stdout. Not run by CI (`make pseudoref-table`). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/strutil.h"
#include "io/image.h"
#include "iqa/detect.h"
#include "iqa/distort.h"
#include "iqa/ssim.h"
#include "stage/pseudoref.h"
#include "stage/viewports.h"

#define MAX_PANOS 64

typedef struct {
    int n, fam_ok, lvl_ok;
    double psnr[4], ssim[4]; /* distorted, restored, degraded, restored on the viewports */
} cell;

typedef struct {
    int V, S;
    oiqa_viewports_opts vo;
    uint8_t *clean, *vp, *rest, *deg, *rest_vp;
} work;

/* Mean PSNR and SSIM over the V viewports of b against a. */
static void score(const work *w, const uint8_t *b, double *psnr, double *ssim)
{
    double p = 0, s = 0;
    size_t one = (size_t)w->S * w->S * 3;
    for (int v = 0; v < w->V; v++) {
        double pv = 0, sv = 0;
        oiqa_psnr(w->clean + v * one, b + v * one, w->S, w->S, &pv);
        oiqa_ssim(w->clean + v * one, b + v * one, w->S, w->S, &sv);
        p += pv, s += sv;
    }
    *psnr = p / w->V, *ssim = s / w->V;
}

/* The viewports of an ERP (copied: the source takes its image) into vp. */
static int cut(work *w, const char *path, const oiqa_image *erp, oiqa_vp_source *src, uint8_t *vp)
{
    oiqa_image copy = {erp->w, erp->h, malloc((size_t)erp->w * erp->h * 3)};
    if (!copy.rgb) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    memcpy(copy.rgb, erp->rgb, (size_t)erp->w * erp->h * 3);
    int rc = oiqa_viewports_prepare(&w->vo, path, &copy, src);
    if (!rc) rc = oiqa_viewports_image(&w->vo, src, vp);
    return rc;
}

/* One distorted ERP (family f at level l; f < 0: the clean image) into c. */
static int measure(work *w, const char *path, const char *name, const oiqa_image *erp, int f, int l, cell *c)
{
    oiqa_image d = {erp->w, erp->h, malloc((size_t)erp->w * erp->h * 3)};
    if (!d.rgb) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    int rc = f < 0 ? (memcpy(d.rgb, erp->rgb, (size_t)erp->w * erp->h * 3), OIQA_OK)
                   : oiqa_distort_level(erp->rgb, erp->w, erp->h, (oiqa_dist_family)f, l, 0, d.rgb);
    oiqa_detection det;
    if (!rc) rc = oiqa_detect_erp(d.rgb, d.w, d.h, &det);
    oiqa_vp_source src = {0};
    if (!rc) rc = cut(w, path, &d, &src, w->vp);
    oiqa_pseudoref_opts po = {.restore = OIQA_PR_RESTORE_AUTO, .degrade = OIQA_PR_DEGRADE_AUTO,
                              .detect = OIQA_PR_DETECT_ERP, .restore_on = OIQA_PR_ON_ERP, .error_eps = 1};
    if (!rc) rc = oiqa_pseudoref_image(&po, path, name, w->vp, w->V, w->S, &w->vo, &src, w->rest, w->deg);
    po.restore_on = OIQA_PR_ON_VIEWPORT;
    if (!rc) rc = oiqa_pseudoref_image(&po, path, name, w->vp, w->V, w->S, &w->vo, &src, w->rest_vp, w->deg);
    oiqa_vp_source_free(&src);
    free(d.rgb);
    if (rc) return rc;
    double p[4], s[4];
    score(w, w->vp, &p[0], &s[0]);
    score(w, w->rest, &p[1], &s[1]);
    score(w, w->deg, &p[2], &s[2]);
    score(w, w->rest_vp, &p[3], &s[3]);
    c->n++;
    c->fam_ok += f < 0 ? det.family == OIQA_DIST_NONE : det.family == (oiqa_dist_family)f;
    c->lvl_ok += f < 0 ? det.family == OIQA_DIST_NONE : det.family == (oiqa_dist_family)f && abs(det.level - l) <= 1;
    for (int k = 0; k < 4; k++) c->psnr[k] += p[k], c->ssim[k] += s[k];
    fprintf(stderr, "%-28s %-8s L%d: detected %s L%d (%.3g); PSNR %.2f -> restored %+.2f (viewports %+.2f), "
                    "degraded %+.2f dB\n",
            name, f < 0 ? "clean" : oiqa_dist_name(f), f < 0 ? 0 : l, oiqa_dist_name(det.family), det.level,
            det.strength, p[0], p[1] - p[0], p[3] - p[0], p[2] - p[0]);
    return OIQA_OK;
}

static int parse_list(const char *s, int *out, int max, int (*one)(const char *, int *))
{
    int n = 0;
    char *copy = oiqa_strdup(s), *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == max || one(t, &out[n])) {
            free(copy);
            return -1;
        }
        n++;
    }
    free(copy);
    return n;
}
static int one_family(const char *t, int *f)
{
    oiqa_dist_family g;
    if (oiqa_dist_parse(t, &g)) return -1;
    *f = g;
    return 0;
}
static int one_level(const char *t, int *l)
{
    *l = atoi(t);
    return *l < 1 || *l > OIQA_DIST_LEVELS ? -1 : 0;
}

int main(int argc, char **argv)
{
    const char *panos[MAX_PANOS];
    int n_panos = 0, fams[OIQA_DIST_COUNT], levels[OIQA_DIST_LEVELS], S = 224;
    int n_fams = parse_list("jpeg,jpeg2000,h264,hevc,noise,blur", fams, OIQA_DIST_COUNT, one_family);
    int n_levels = parse_list("1,2,3,4,5", levels, OIQA_DIST_LEVELS, one_level);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--families") && i + 1 < argc)
            n_fams = parse_list(argv[++i], fams, OIQA_DIST_COUNT, one_family);
        else if (!strcmp(argv[i], "--levels") && i + 1 < argc)
            n_levels = parse_list(argv[++i], levels, OIQA_DIST_LEVELS, one_level);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc)
            S = atoi(argv[++i]);
        else if (argv[i][0] != '-' && n_panos < MAX_PANOS)
            panos[n_panos++] = argv[i];
        else {
            fprintf(stderr, "usage: pseudoref_table PANORAMA... [--families LIST] [--levels 1,2,..] [--size S]\n");
            return OIQA_EXIT_USAGE;
        }
    }
    if (n_panos == 0 || n_fams < 1 || n_levels < 1 || S < 16 || S > 1024) {
        fprintf(stderr, "pseudoref_table: give panoramas, known families, levels 1..5 and a size in 16..1024\n");
        return OIQA_EXIT_USAGE;
    }
    oiqa_log_set_level(OIQA_LOG_WARN);
    work w = {.S = S};
    w.vo = (oiqa_viewports_opts){.layout = OIQA_LAYOUT_ICOSA20, .size = S, .fov = 90, .filter = OIQA_FILTER_BILINEAR,
                                 .max_pixels = (int64_t)1 << 29};
    w.V = oiqa_viewports_count(&w.vo);
    size_t bytes = (size_t)w.V * S * S * 3;
    w.clean = malloc(bytes), w.vp = malloc(bytes), w.rest = malloc(bytes), w.deg = malloc(bytes);
    w.rest_vp = malloc(bytes);
    cell clean = {0}, *cells = calloc((size_t)n_fams * n_levels, sizeof *cells);
    if (!w.clean || !w.vp || !w.rest || !w.deg || !w.rest_vp || !cells) return OIQA_EXIT_DATA;
    for (int p = 0; p < n_panos; p++) {
        oiqa_image erp = {0};
        oiqa_image_load_opts lo = {0};
        oiqa_vp_source src = {0};
        const char *name = strrchr(panos[p], '/') ? strrchr(panos[p], '/') + 1 : panos[p];
        int rc = oiqa_image_load(panos[p], &lo, &erp);
        if (!rc) rc = cut(&w, panos[p], &erp, &src, w.clean);
        oiqa_vp_source_free(&src);
        if (!rc) rc = measure(&w, panos[p], name, &erp, -1, 0, &clean);
        for (int i = 0; i < n_fams && !rc; i++)
            for (int j = 0; j < n_levels && !rc; j++)
                rc = measure(&w, panos[p], name, &erp, fams[i], levels[j], &cells[i * n_levels + j]);
        oiqa_image_free(&erp);
        if (rc) {
            fprintf(stderr, "pseudoref_table: %s\n", oiqa_errmsg());
            return rc;
        }
    }
    printf("| family | level (parameter) | family detected | level ±1 | PSNR distorted | restored Δ | degraded Δ "
           "| SSIM distorted | restored Δ | degraded Δ | restored on viewports Δ PSNR |\n");
    printf("|---|---|---|---|---|---|---|---|---|---|---|\n");
    /* the clean row: absolute PSNRs (a restored copy of a clean image is identical: infinite PSNR) */
    double n = clean.n ? clean.n : 1, rp = clean.psnr[1] / n;
    char rest[32];
    if (isinf(rp)) snprintf(rest, sizeof rest, "identical");
    else snprintf(rest, sizeof rest, "%.2f dB", rp);
    printf("| clean | — | %d/%d (none) | — | ∞ | %s | %.2f dB | 1 | %+.4f | %+.4f | — |\n", clean.fam_ok, clean.n, rest,
           clean.psnr[2] / n, clean.ssim[1] / n - 1, clean.ssim[2] / n - 1);
    for (int i = 0; i < n_fams; i++)
        for (int j = 0; j < n_levels; j++) {
            const cell *c = &cells[i * n_levels + j];
            double m = c->n ? c->n : 1;
            char level[64];
            snprintf(level, sizeof level, "%d (%s %g)", levels[j], oiqa_dist_param_name(fams[i]),
                     oiqa_dist_param(fams[i], levels[j]));
            printf("| %s | %s | %d/%d | %d/%d | %.2f | %+.2f | %+.2f | %.4f | %+.4f | %+.4f | %+.2f |\n",
                   oiqa_dist_name(fams[i]), level, c->fam_ok, c->n, c->lvl_ok, c->n, c->psnr[0] / m,
                   (c->psnr[1] - c->psnr[0]) / m, (c->psnr[2] - c->psnr[0]) / m, c->ssim[0] / m,
                   (c->ssim[1] - c->ssim[0]) / m, (c->ssim[2] - c->ssim[0]) / m, (c->psnr[3] - c->psnr[0]) / m);
        }
    free(w.clean), free(w.vp), free(w.rest), free(w.deg), free(w.rest_vp), free(cells);
    return 0;
}
