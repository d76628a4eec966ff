/* What the pseudo-reference stage writes besides its rows: the attributes
 * that name every operator and parameter, and the --png / --sheet pictures
 * (original | restored | degraded side by side). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "io/image.h"
#include "io/sheet.h"
#include "iqa/distort.h"
#include "stage/pseudoref_internal.h"

/* The operators' names, as the options accept them and the attributes record them. */
const char *const oiqa_pr_restore_names[] = {"auto", "denoise", "deblock", "deblur", "none", NULL};
const char *const oiqa_pr_degrade_names[] = {"auto", "jpeg", "blur", "noise", "resample", "jpeg2000", "h264", "hevc",
                                             NULL};
const char *const oiqa_pr_detect_names[] = {"erp", "viewport", NULL};
const char *const oiqa_pr_space_names[] = {"erp", "viewport", NULL};

static const char *const RESTORE_PARAMS[] = {
    "per viewport: the detector (iqa/detect.h) picks deblock at the estimated JPEG quality, denoise at the "
    "estimated noise sigma, deblur with PSF sqrt(width^2 - 0.45^2), or a copy for none",
    "non-local means, sigma estimated per viewport (Immerkaer / Donoho)",
    "H.264-style strong deblocking, JPEG quality estimated per viewport from the DC lattice",
    "Richardson-Lucy, 30 iterations, Gaussian PSF width estimated per viewport (Zhuo-Sim)",
    "none: a copy of the viewport",
};

/* What restore = auto does when detect = erp. */
static const char RESTORE_AUTO_ERP[] =
    "per image, detected on its source ERP (iqa/detect.h, oiqa_detect_erp): jpeg, jpeg2000, h264 and hevc by "
    "shift-averaged DCT thresholding on the codec's grid (iqa/restore.h, oiqa_restore_grid), on the ERP then cut with "
    "the viewports' geometry (restore-on erp) or on each viewport (restore-on viewport); noise by non-local means and "
    "blur by Richardson-Lucy on each viewport at the image's estimate; a copy for none";

/* "jpeg quality 50,30,15,8,4 (beyond 2); blur sigma 0.6,..." */
static char *level_table(void)
{
    oiqa_sbuf b = {0};
    for (int f = 0; f < OIQA_DIST_COUNT; f++) {
        oiqa_sbuf_appendf(&b, "%s%s %s ", f ? "; " : "", oiqa_dist_name((oiqa_dist_family)f),
                          oiqa_dist_param_name((oiqa_dist_family)f));
        for (int l = 0; l < OIQA_DIST_LEVELS; l++) oiqa_sbuf_appendf(&b, "%s%g", l ? "," : "", oiqa_dist_table[f][l]);
        oiqa_sbuf_appendf(&b, " (beyond %g)", oiqa_dist_table[f][OIQA_DIST_BEYOND - 1]);
    }
    return b.s;
}

/* "-1 none, 0 jpeg, 1 blur, ..." */
static char *family_codes(void)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_appendf(&b, "-1 none");
    for (int f = 0; f < OIQA_DIST_COUNT; f++) oiqa_sbuf_appendf(&b, ", %d %s", f, oiqa_dist_name((oiqa_dist_family)f));
    return b.s;
}

int oiqa_pseudoref_set_attrs(const pr_run *st, oiqa_store *s)
{
    const oiqa_pseudoref_opts *o = st->o;
    char size[32], fallback[96];
    snprintf(size, sizeof size, "%dx%d", st->S, st->S);
    snprintf(fallback, sizeof fallback, "%s level %d (%s %g) for a viewport detected as clean",
             oiqa_dist_name(OIQA_PR_FALLBACK_FAMILY), OIQA_PR_FALLBACK_LEVEL, "sigma",
             oiqa_dist_param(OIQA_PR_FALLBACK_FAMILY, OIQA_PR_FALLBACK_LEVEL));
    char *table = level_table(), *codes = family_codes();
    const char *restore_params = o->restore == OIQA_PR_RESTORE_AUTO && o->detect == OIQA_PR_DETECT_ERP
                                     ? RESTORE_AUTO_ERP
                                     : RESTORE_PARAMS[o->restore];
    const char *rule = o->degrade == OIQA_PR_DEGRADE_AUTO
                           ? (o->degrade_level ? "the detected family at degrade_level"
                                               : "the detected family one level above the detected level (6, the "
                                                 "table's beyond, above 5)")
                           : (o->degrade_level ? "the family at degrade_level" : "the family at level 3");
    int rc = oiqa_store_set_attr_string(s, "/", "detect", oiqa_pr_detect_names[o->detect]);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "restore", oiqa_pr_restore_names[o->restore]);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "restore_on", oiqa_pr_space_names[o->restore_on]);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "degrade", oiqa_pr_degrade_names[o->degrade]);
    if (!rc) rc = oiqa_store_set_attr_int(s, "/", "degrade_level", o->degrade_level);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "degrade_rule", rule);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "degrade_fallback", fallback);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "degrade_levels", table);
    if (!rc) rc = oiqa_store_set_attr_int(s, "/", "seed", (int64_t)o->seed);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "seed_rule",
                                             "noise seed of (row name, viewport v) = splitmix64(seed + "
                                             "0x9e3779b97f4a7c15 * (fnv1a64(name) ^ (v << 32 | v)))");
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "family_codes", codes);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "input_size", size);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "viewports_file", st->vp_path);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/", "viewports_sha256", st->vp_sha);
    if (!rc) rc = oiqa_store_set_attr_int(s, "/", "error_maps", o->error_maps);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/restored", "operator", oiqa_pr_restore_names[o->restore]);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/restored", "parameters", restore_params);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/degraded", "operator", oiqa_pr_degrade_names[o->degrade]);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/degraded", "parameters", table);
    if (!rc) rc = oiqa_store_set_attr_string(s, "/degrade_applied", "columns", "family_code,level");
    if (!rc && st->detects) rc = oiqa_store_set_attr_string(s, "/detected", "columns", "family_code,level");
    if (!rc && st->detects)
        rc = oiqa_store_set_attr_string(s, "/detected_strength", "meaning",
                                        "jpeg: estimated quality; jpeg2000: compression ratio; h264, hevc: QP; noise: "
                                        "sigma (grey levels); blur: width (px); none: 0");
    if (!rc && st->erp) rc = oiqa_store_set_attr_string(s, "/erp_detected", "columns", "family_code,level");
    if (!rc && st->erp)
        rc = oiqa_store_set_attr_string(s, "/erp_detected_strength", "meaning",
                                        "the image's estimate, as /detected_strength (measured on its source ERP)");
    if (!rc && st->erp) rc = oiqa_store_set_attr_string(s, "/erp_measures", "columns", pr_measure_names);
    for (int k = 0; k < 2 && !rc && o->error_maps; k++) {
        const char *p = k ? "/error_degraded" : "/error_restored";
        rc = oiqa_store_set_attr_string(s, p, "formula",
                                        "clamp(log(1/((a-b)^2 + eps/255^2)) / log(255^2/eps), 0, 1), a = viewport, "
                                        "b = pseudo-reference, BT.601 luma in [0,1]");
        if (!rc) rc = oiqa_store_set_attr_double(s, p, "eps", o->error_eps);
    }
    free(table), free(codes);
    return rc;
}

/* DIR/<name without extension><suffix>; leading "/" and "./" dropped and
 * ".." segments made harmless, so pictures stay under DIR. */
static char *picture_path(const char *dir, const char *name, const char *suffix)
{
    while (*name == '/' || (name[0] == '.' && name[1] == '/')) name += *name == '/' ? 1 : 2;
    const char *dot = strrchr(name, '.'), *slash = strrchr(name, '/');
    size_t len = dot && (!slash || dot > slash) ? (size_t)(dot - name) : strlen(name);
    char *stem = malloc(len + 1);
    if (!stem) return NULL;
    memcpy(stem, name, len);
    stem[len] = 0;
    for (char *p = stem; (p = strstr(p, "..")) != NULL;) p[0] = p[1] = '_';
    char *path = oiqa_asprintf("%s/%s%s", dir, stem, suffix);
    free(stem);
    return path;
}

static int save_png(const char *dir, const char *name, const char *suffix, const uint8_t *rgb, int S)
{
    char *p = picture_path(dir, name, suffix);
    if (!p) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    int rc = oiqa_mkdir_parent(p);
    if (!rc) rc = oiqa_image_save(p, rgb, S, S, 0);
    free(p);
    return rc;
}

/* Short tile label of the restorer a viewport went through. */
static const char *restorer_used(oiqa_pr_restore r, int det_family)
{
    if (r != OIQA_PR_RESTORE_AUTO) return r == OIQA_PR_RESTORE_NONE ? "copy" : oiqa_pr_restore_names[r];
    switch (det_family) {
    case OIQA_DIST_JPEG: return "deblock";
    case OIQA_DIST_NOISE: return "denoise";
    case OIQA_DIST_BLUR: return "deblur";
    default: return "copy";
    }
}

int oiqa_pseudoref_pictures(const pr_run *st, const pr_job *j)
{
    const oiqa_pseudoref_opts *o = st->o;
    int S = st->S, V = st->V;
    size_t bytes = (size_t)S * S * 3;
    const uint8_t *src[3] = {j->vp, j->rest, j->deg};
    static const char *const what[3] = {"original", "restored", "degraded"};
    int rc = OIQA_OK;
    for (int v = 0; v < V && o->png_dir && !rc; v++)
        for (int k = 0; k < 3 && !rc; k++) {
            char suffix[48];
            snprintf(suffix, sizeof suffix, "_v%02d_%s.png", v, what[k]);
            rc = save_png(o->png_dir, j->name, suffix, src[k] + v * bytes, S);
        }
    if (rc || !o->sheet_dir) return rc;
    oiqa_sheet_tile *tiles = calloc((size_t)V * 3, sizeof *tiles);
    if (!tiles) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    for (int v = 0; v < V; v++)
        for (int k = 0; k < 3; k++) {
            oiqa_sheet_tile *t = &tiles[v * 3 + k];
            t->rgb = src[k] + v * bytes, t->w = t->h = S;
            if (k == 0) snprintf(t->label, sizeof t->label, "#%d", v);
            else if (k == 1) snprintf(t->label, sizeof t->label, "%s", restorer_used(o->restore, j->det[2 * v]));
            else snprintf(t->label, sizeof t->label, "%s %d", oiqa_dist_name((oiqa_dist_family)j->applied[2 * v]),
                          j->applied[2 * v + 1]);
        }
    char *p = picture_path(o->sheet_dir, j->name, "_pseudoref.png");
    char title[300];
    const char *base = strrchr(j->name, '/');
    snprintf(title, sizeof title, "%.200s", base ? base + 1 : j->name);
    rc = p ? oiqa_mkdir_parent(p) : oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    if (!rc) rc = oiqa_sheet_write(p, title, NULL, tiles, V * 3, 3);
    free(p);
    free(tiles);
    return rc;
}
