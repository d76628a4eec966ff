/* One viewport and one image of the pseudo-reference stage: the restore and
 * degrade decisions, the noise seeds, the error maps, the video
 * degradations of an image, and the in-memory image entry point that
 * oiqa-score's raw mode shares with the stage (stage/pseudoref.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "iqa/distort.h"
#include "iqa/restore.h"
#include "iqa/video_codec.h"
#include "stage/pseudoref_internal.h"

uint64_t oiqa_pseudoref_seed(uint64_t seed, const char *name, int v)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 */
    for (const unsigned char *p = (const unsigned char *)name; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    /* splitmix64 finaliser over the mix, so nearby seeds and names give unrelated streams */
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (h ^ ((uint64_t)v << 32 | (uint64_t)v));
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

void oiqa_error_map(const uint8_t *a, const uint8_t *b, int w, int h, double eps, float *e)
{
    const double floor_ = eps / (255.0 * 255.0), norm = log(255.0 * 255.0 / eps);
    size_t n = (size_t)w * h;
    for (size_t k = 0; k < n; k++) {
        const uint8_t *p = a + 3 * k, *q = b + 3 * k;
        double ya = (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0;
        double yb = (0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2]) / 255.0;
        double v = log(1.0 / ((ya - yb) * (ya - yb) + floor_)) / norm;
        e[k] = (float)(v < 0 ? 0 : v > 1 ? 1 : v);
    }
}

void oiqa_pseudoref_auto_degrade(int det_family, int det_level, int fixed_level, int *family, int *level)
{
    if (det_family < 0 || det_family >= OIQA_DIST_COUNT) {
        *family = OIQA_PR_FALLBACK_FAMILY;
        *level = fixed_level ? fixed_level : OIQA_PR_FALLBACK_LEVEL;
        return;
    }
    *family = det_family;
    int l = det_level + 1;
    *level = fixed_level ? fixed_level : l > OIQA_DIST_BEYOND ? OIQA_DIST_BEYOND : l < 1 ? 1 : l;
}

int pr_needs_detection(const oiqa_pseudoref_opts *o)
{
    return o->restore == OIQA_PR_RESTORE_AUTO || o->degrade == OIQA_PR_DEGRADE_AUTO;
}

int pr_needs_erp(const oiqa_pseudoref_opts *o)
{
    return o->detect == OIQA_PR_DETECT_ERP && pr_needs_detection(o);
}

static const oiqa_restore_op RESTORE_OPS[] = {OIQA_RESTORE_AUTO, OIQA_RESTORE_DENOISE, OIQA_RESTORE_DEBLOCK,
                                              OIQA_RESTORE_DEBLUR};

int pr_view(const oiqa_pseudoref_opts *o, const char *name, int v, const uint8_t *in, int S, const pr_erp *erp,
            uint8_t *r, uint8_t *d, int32_t det_out[2], int32_t applied[2], float *strength)
{
    size_t px = (size_t)S * S;
    oiqa_detection det;
    memset(&det, 0, sizeof det);
    det.family = OIQA_DIST_NONE;
    int rc = OIQA_OK;
    if (erp) det = erp->det;
    if (o->restore == OIQA_PR_RESTORE_AUTO) {
        if (!erp) rc = oiqa_restore(in, S, S, OIQA_RESTORE_AUTO, r, &det); /* detects on the viewport */
        else if (erp->rest_vp) memcpy(r, erp->rest_vp + v * px * 3, px * 3);
        else rc = oiqa_restore_family(in, S, S, &det, r);
    } else {
        if (!erp && o->degrade == OIQA_PR_DEGRADE_AUTO) rc = oiqa_detect(in, S, S, &det);
        if (!rc && o->restore == OIQA_PR_RESTORE_NONE) memcpy(r, in, px * 3);
        else if (!rc) rc = oiqa_restore(in, S, S, RESTORE_OPS[o->restore], r, NULL);
    }
    if (rc) return rc;
    int fam, lvl;
    if (o->degrade == OIQA_PR_DEGRADE_AUTO) oiqa_pseudoref_auto_degrade(det.family, det.level, o->degrade_level, &fam, &lvl);
    else fam = (int)o->degrade - 1, lvl = o->degrade_level ? o->degrade_level : OIQA_PR_DEFAULT_LEVEL;
    applied[0] = fam, applied[1] = lvl;
    det_out[0] = det.family, det_out[1] = det.level;
    *strength = (float)det.strength;
    if (oiqa_dist_needs_ffmpeg((oiqa_dist_family)fam)) return OIQA_OK; /* pr_video_degrade, per image */
    return oiqa_distort_level(in, S, S, (oiqa_dist_family)fam, lvl, oiqa_pseudoref_seed(o->seed, name, v), d);
}

static int warned_no_ffmpeg;

int pr_video_degrade(const uint8_t *vp, int V, int S, int32_t *applied, uint8_t *deg)
{
    size_t px3 = (size_t)S * S * 3;
    int rc = OIQA_OK;
    uint8_t *frames = NULL;
    int *which = NULL;
    for (int v0 = 0; v0 < V && !rc; v0++) {
        int fam = applied[2 * v0], lvl = applied[2 * v0 + 1];
        if (!oiqa_dist_needs_ffmpeg((oiqa_dist_family)fam)) continue;
        /* every viewport of this (family, level) in one call */
        if (!frames) {
            frames = malloc((size_t)V * px3), which = malloc((size_t)V * sizeof *which);
            if (!frames || !which) {
                rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for the video degradation");
                break;
            }
        }
        int n = 0;
        for (int v = v0; v < V; v++)
            if (applied[2 * v] == fam && applied[2 * v + 1] == lvl) {
                memcpy(frames + (size_t)n * px3, vp + (size_t)v * px3, px3);
                which[n++] = v;
            }
        char prog[4096];
        char what[64];
        snprintf(what, sizeof what, "degrading with the %s family", oiqa_dist_name((oiqa_dist_family)fam));
        if (oiqa_ffmpeg_find(what, prog, sizeof prog)) {
            /* JPEG at the same level stands in, said once per process. */
            int first;
#pragma omp atomic capture
            first = warned_no_ffmpeg++;
            if (!first) oiqa_warn("%s; using jpeg at the same level instead", oiqa_errmsg());
            for (int k = 0; k < n && !rc; k++) {
                int v = which[k];
                applied[2 * v] = OIQA_DIST_JPEG;
                rc = oiqa_distort_level(vp + (size_t)v * px3, S, S, OIQA_DIST_JPEG, lvl, 0, deg + (size_t)v * px3);
            }
            continue;
        }
        rc = oiqa_video_recompress(frames, S, S, n, (oiqa_dist_family)fam,
                                   (int)oiqa_dist_param((oiqa_dist_family)fam, lvl), frames);
        for (int k = 0; k < n && !rc; k++) {
            memcpy(deg + (size_t)which[k] * px3, frames + (size_t)k * px3, px3);
            applied[2 * which[k]] = -100 - fam; /* done: not matched again in this loop */
        }
    }
    for (int v = 0; v < V; v++)
        if (applied[2 * v] <= -100) applied[2 * v] = -100 - applied[2 * v];
    free(frames), free(which);
    return rc;
}

int oiqa_pseudoref_image(const oiqa_pseudoref_opts *o, const char *what, const char *name, const uint8_t *vp, int V,
                         int S, const oiqa_viewports_opts *vo, const oiqa_vp_source *src, uint8_t *restored,
                         uint8_t *degraded)
{
    if (S < 16)
        return oiqa_fail(OIQA_EXIT_DATA, what, "viewports of %dx%d are below the 16x16 the detector and restorers "
                         "need", S, S);
    pr_erp erp;
    memset(&erp, 0, sizeof erp);
    int use_erp = pr_needs_erp(o), rc = OIQA_OK;
    if (use_erp) {
        if (!vo || !src) return oiqa_fail(OIQA_EXIT_USAGE, what, "detect = erp needs the image's ERP");
        rc = pr_erp_prepare(o, what, vo, src, vp, V, S, &erp);
        if (rc) return rc;
    }
    size_t px3 = (size_t)S * S * 3;
    int32_t *applied = malloc((size_t)V * 2 * sizeof *applied);
    if (!applied) {
        pr_erp_free(&erp);
        return oiqa_fail(OIQA_EXIT_DATA, what, "out of memory");
    }
    oiqa_error err = {0};
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1)
    for (int v = 0; v < V; v++) {
        int32_t det[2];
        float strength;
        int e = pr_view(o, name, v, vp + v * px3, S, use_erp ? &erp : NULL, restored + v * px3, degraded + v * px3,
                        det, applied + 2 * v, &strength);
        if (e) {
#pragma omp critical(pseudoref_error)
            if (!failed) {
                oiqa_fail_prefix("%s: viewport %d", what, v);
                oiqa_error_capture(&err, e);
                failed = 1;
            }
        }
    }
    if (!failed && (rc = pr_video_degrade(vp, V, S, applied, degraded))) oiqa_fail_prefix("%s", what);
    free(applied);
    pr_erp_free(&erp);
    return failed ? oiqa_error_restore(&err) : rc;
}
