/* Dataset synthesis: see stage/synth.h. References are decoded in batches
 * (one per thread), their viewports sampled once; then every (reference,
 * family, level) of the batch is a task: distort the ERP, write it, sample
 * its viewports, score them. Labels are written at the end, atomically. */
#include "stage/synth.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strutil.h"
#include "base/threads.h"
#include "geo/sample.h"
#include "geo/viewport.h"
#include "io/image.h"
#include "iqa/labels.h"
#include "iqa/ssim.h"
#include "iqa/video_codec.h"

#include <openjpeg.h>
#include "stage/features.h"
#include "stage/synth_internal.h"
#include "stage/viewports.h"

const char *const oiqa_synth_metric_names[] = {"ssim", "ms-ssim", NULL};
const char *const oiqa_synth_layout_names[] = {"icosa20", "cube6", NULL};

uint64_t oiqa_synth_seed(uint64_t seed, const char *stem, int family, int level)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a 64 of the stem */
    for (const unsigned char *p = (const unsigned char *)stem; *p; p++) h = (h ^ *p) * 1099511628211ULL;
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (h ^ ((uint64_t)family << 8 | (uint64_t)level)); /* splitmix64 */
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

int oiqa_synth_score(const uint8_t *a, const uint8_t *b, int V, int S, oiqa_synth_metric metric, double *mean)
{
    size_t bytes = (size_t)S * S * 3;
    double sum = 0;
    for (int v = 0; v < V; v++) {
        double s;
        int rc = metric == OIQA_SYNTH_MS_SSIM ? oiqa_ms_ssim(a + v * bytes, b + v * bytes, S, S, &s)
                                              : oiqa_ssim(a + v * bytes, b + v * bytes, S, S, &s);
        if (rc) return rc;
        sum += s;
    }
    *mean = sum / V;
    return OIQA_OK;
}

/* ---- per reference ------------------------------------------------------ */

static int views_of(const oiqa_synth_opts *o, oiqa_view *views)
{
    return o->layout == OIQA_LAYOUT_CUBE6 ? oiqa_layout_cube6(o->fov, views) : oiqa_layout_icosa20(o->fov, views);
}

static int check_erp(const oiqa_synth_opts *o, const char *path, int w, int h)
{
    if (w < 16 || h < 8) return oiqa_fail(OIQA_EXIT_DATA, path, "image too small (%dx%d) for a reference", w, h);
    if (!o->allow_aspect && !oiqa_erp_aspect_ok(w, h))
        return oiqa_fail(OIQA_EXIT_DATA, path,
                         "not a 2:1 equirectangular image (%dx%d); use --allow-aspect to use it anyway", w, h);
    return OIQA_OK;
}

/* Decodes a reference and samples its viewports (uv: the maps, for reuse). */
static int ref_load(const oiqa_synth_opts *o, synth_ref *r, int V, const oiqa_view *views)
{
    oiqa_image_load_opts lo = {.max_pixels = o->max_pixels};
    int rc = oiqa_image_load(r->path, &lo, &r->erp);
    if (!rc) rc = check_erp(o, r->path, r->erp.w, r->erp.h);
    if (rc) return rc;
    size_t S2 = (size_t)o->size * o->size;
    r->uv = malloc((size_t)V * S2 * 2 * sizeof(float));
    r->vp = malloc((size_t)V * S2 * 3);
    if (!r->uv || !r->vp) return oiqa_fail(OIQA_EXIT_DATA, r->path, "out of memory");
    for (int v = 0; v < V; v++) {
        oiqa_view_map(&views[v], o->size, r->erp.w, r->erp.h, r->uv + v * S2 * 2);
        oiqa_sample_bilinear_u8(&r->erp, r->uv + v * S2 * 2, (int64_t)S2, r->vp + v * S2 * 3);
    }
    return OIQA_OK;
}

static void ref_release(synth_ref *r)
{
    oiqa_image_free(&r->erp);
    free(r->uv), free(r->vp);
    r->uv = NULL, r->vp = NULL;
}

/* Task k of a reference: 0 writes the reference itself, 1 + i*L + j the
 * i-th family at the j-th level. */
static int run_task(const oiqa_synth_opts *o, synth_ref *r, int k, int V, const char *out_dir)
{
    size_t S2 = (size_t)o->size * o->size, n = (size_t)r->erp.w * r->erp.h * 3;
    if (k == 0) {
        char *p = synth_output_path(out_dir, r->stem, -1, 0);
        int rc = oiqa_image_save(p, r->erp.rgb, r->erp.w, r->erp.h, 0);
        free(p);
        return rc;
    }
    int fam = o->families[(k - 1) / o->n_levels], lvl = o->levels[(k - 1) % o->n_levels];
    uint8_t *dist = malloc(n), *vp = malloc((size_t)V * S2 * 3);
    int rc = dist && vp ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, r->path, "out of memory");
    if (!rc) rc = oiqa_distort_level(r->erp.rgb, r->erp.w, r->erp.h, (oiqa_dist_family)fam, lvl,
                                     oiqa_synth_seed(o->seed, r->stem, fam, lvl), dist);
    if (!rc) {
        char *p = synth_output_path(out_dir, r->stem, fam, lvl);
        rc = oiqa_image_save(p, dist, r->erp.w, r->erp.h, 0);
        free(p);
    }
    if (!rc) {
        oiqa_image d = {r->erp.w, r->erp.h, dist};
        for (int v = 0; v < V; v++) oiqa_sample_bilinear_u8(&d, r->uv + v * S2 * 2, (int64_t)S2, vp + v * S2 * 3);
        double mean;
        rc = oiqa_synth_score(vp, r->vp, V, o->size, o->metric, &mean);
        if (!rc) r->mos[k] = 100.0 * mean;
    }
    if (rc) oiqa_fail_prefix("%s (%s level %d)", r->path, oiqa_dist_name((oiqa_dist_family)fam), lvl);
    free(dist), free(vp);
    return rc;
}

/* ---- the run -------------------------------------------------------------- */

static int check_opts(const oiqa_synth_opts *o)
{
    if (o->n_families < 1 || o->n_families > OIQA_DIST_COUNT)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'families': give 1 to %d families", OIQA_DIST_COUNT);
    if (o->n_levels < 1 || o->n_levels > OIQA_DIST_LEVELS)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'levels': give 1 to %d levels", OIQA_DIST_LEVELS);
    for (int i = 0; i < o->n_levels; i++)
        if (o->levels[i] < 1 || o->levels[i] > OIQA_DIST_LEVELS)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'levels': %d is outside 1..%d", o->levels[i],
                             OIQA_DIST_LEVELS);
    for (int i = 0; i < o->n_families; i++)
        if (o->families[i] < 0 || o->families[i] >= OIQA_DIST_COUNT)
            return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'families': unknown family %d", o->families[i]);
    if (o->size < 11 || o->size > 4096)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'size': %d is outside 11..4096 (SSIM needs 11x11)", o->size);
    if (!(o->fov > 0 && o->fov < 180)) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'fov': %g is outside (0, 180)", o->fov);
    if (o->layout != OIQA_LAYOUT_ICOSA20 && o->layout != OIQA_LAYOUT_CUBE6)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'layout': icosa20 or cube6");
    return OIQA_OK;
}

static int cmp_stem(const void *a, const void *b)
{
    const synth_ref *x = *(const synth_ref *const *)a, *y = *(const synth_ref *const *)b;
    int c = strcmp(x->stem, y->stem);
    return c ? c : strcmp(x->path, y->path);
}

/* Everything that can be refused is refused before any file is written:
 * options, an existing labels.csv, unreadable or non-2:1 images, two
 * references with the same stem (their outputs would collide). */
static int precheck(const oiqa_synth_opts *o, synth_ref *refs, int n, const char *out_dir, char **labels_path)
{
    int rc = check_opts(o);
    if (rc) return rc;
    *labels_path = oiqa_asprintf("%s/labels.csv", out_dir);
    if (!o->force && access(*labels_path, F_OK) == 0)
        return oiqa_fail(OIQA_EXIT_USAGE, *labels_path, "exists (use --force to overwrite the dataset)");
    const synth_ref **sorted = malloc((size_t)n * sizeof *sorted);
    if (!sorted) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    for (int i = 0; i < n; i++) sorted[i] = &refs[i];
    qsort(sorted, (size_t)n, sizeof *sorted, cmp_stem);
    for (int i = 1; i < n && !rc; i++)
        if (!strcmp(sorted[i]->stem, sorted[i - 1]->stem))
            rc = oiqa_fail(OIQA_EXIT_USAGE, sorted[i]->path, "has the same file stem '%s' as %s: their outputs would "
                           "collide (rename one)", sorted[i]->stem, sorted[i - 1]->path);
    free(sorted);
    for (int i = 0; i < o->n_families && !rc; i++)
        if (oiqa_dist_needs_ffmpeg((oiqa_dist_family)o->families[i])) {
            char prog[4096], what[64];
            snprintf(what, sizeof what, "the %s family", oiqa_dist_name((oiqa_dist_family)o->families[i]));
            rc = oiqa_ffmpeg_find(what, prog, sizeof prog);
        }
    for (int i = 0; i < n && !rc; i++) {
        int w, h;
        rc = oiqa_image_probe(refs[i].path, o->max_pixels, &w, &h);
        if (!rc) rc = check_erp(o, refs[i].path, w, h);
    }
    return rc;
}

/* "ffmpeg version 5.1.9 ...; OpenJPEG 2.5.0" for the families used. */
static char *codec_versions(const oiqa_synth_opts *o)
{
    oiqa_sbuf b = {0};
    int video = 0, j2k = 0;
    for (int i = 0; i < o->n_families; i++) {
        video |= oiqa_dist_needs_ffmpeg((oiqa_dist_family)o->families[i]);
        j2k |= o->families[i] == OIQA_DIST_JPEG2000;
    }
    char ver[256];
    if (video && !oiqa_ffmpeg_version(ver, sizeof ver)) oiqa_sbuf_appendf(&b, "%s (libx264/libx265)", ver);
    if (j2k) oiqa_sbuf_appendf(&b, "%sOpenJPEG %s", b.s ? "; " : "", opj_version());
    return b.s;
}

static int collect_labels(const oiqa_synth_opts *o, const synth_ref *refs, int n, oiqa_labels *l)
{
    int rc = OIQA_OK;
    for (int i = 0; i < n && !rc; i++) {
        const synth_ref *r = &refs[i];
        char *name = synth_output_name(r->stem, -1, 0);
        rc = oiqa_labels_add(l, name, 100.0, r->stem, "REF", 0);
        free(name);
        for (int k = 1; k < 1 + o->n_families * o->n_levels && !rc; k++) {
            int fam = o->families[(k - 1) / o->n_levels], lvl = o->levels[(k - 1) % o->n_levels];
            name = synth_output_name(r->stem, fam, lvl);
            rc = oiqa_labels_add(l, name, r->mos[k], r->stem, oiqa_dist_name((oiqa_dist_family)fam), lvl);
            free(name);
        }
    }
    return rc;
}

/* Decodes a batch of references and runs all their tasks in parallel. */
static int run_batch(const oiqa_synth_opts *o, synth_ref *refs, int nb, int V, const oiqa_view *views,
                     const char *out_dir, oiqa_progress *prog)
{
    int tasks = 1 + o->n_families * o->n_levels, failed = 0, rc = OIQA_OK;
    oiqa_error err;
#pragma omp parallel for schedule(dynamic, 1)
    for (int b = 0; b < nb; b++) {
        int e = ref_load(o, &refs[b], V, views);
        if (e) {
#pragma omp critical(synth_error)
            if (!failed) oiqa_error_capture(&err, e), failed = 1;
        }
    }
    if (!failed) {
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < nb; b++)
            for (int k = 0; k < tasks; k++) {
                int stop;
#pragma omp atomic read
                stop = failed;
                int e = stop ? OIQA_OK : run_task(o, &refs[b], k, V, out_dir);
                if (e) {
#pragma omp critical(synth_error)
                    if (!failed) {
                        oiqa_error_capture(&err, e);
#pragma omp atomic write
                        failed = 1;
                    }
                }
                oiqa_progress_add(prog, 1);
            }
    }
    for (int b = 0; b < nb; b++) ref_release(&refs[b]);
    if (failed) rc = oiqa_error_restore(&err);
    return rc;
}

int oiqa_synth_run(const oiqa_synth_opts *o, char *const *names, int n_names, const char *out_dir)
{
    if (n_names < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no reference images");
    oiqa_view views[20];
    int V = views_of(o, views), tasks = 1 + o->n_families * o->n_levels;
    synth_ref *refs = calloc((size_t)n_names, sizeof *refs);
    if (!refs) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    int rc = OIQA_OK;
    for (int i = 0; i < n_names && !rc; i++) {
        refs[i].path = oiqa_path_join(o->root, names[i]);
        refs[i].stem = synth_stem(names[i]);
        refs[i].mos = calloc((size_t)tasks, sizeof *refs[i].mos);
        if (!refs[i].path || !refs[i].stem || !refs[i].mos) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    }
    char *labels_path = NULL;
    if (!rc) rc = precheck(o, refs, n_names, out_dir, &labels_path);
    if (!rc) rc = oiqa_mkdir_parent(labels_path);
    if (!rc) {
        int batch = oiqa_threads_get();
        batch = batch < 1 ? 1 : batch;
        oiqa_progress *prog = oiqa_progress_start("synth", "img", (int64_t)n_names * tasks);
        for (int i = 0; i < n_names && !rc; i += batch)
            rc = run_batch(o, refs + i, n_names - i < batch ? n_names - i : batch, V, views, out_dir, prog);
        if (rc) oiqa_progress_cancel(prog);
        else oiqa_progress_end(prog);
    }
    oiqa_labels l;
    memset(&l, 0, sizeof l);
    if (!rc) rc = collect_labels(o, refs, n_names, &l);
    if (!rc && o->config) {
        char *codecs = codec_versions(o);
        rc = synth_write_config(out_dir, o->config, codecs);
        free(codecs);
    }
    if (!rc) rc = oiqa_labels_write(&l, labels_path, 1);
    oiqa_labels_free(&l);
    free(labels_path);
    for (int i = 0; i < n_names; i++) free(refs[i].path), free(refs[i].stem), free(refs[i].mos);
    free(refs);
    return rc;
}
