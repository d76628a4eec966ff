/* The pseudo-reference stage: see stage/pseudoref.h. Rows are read one
 * batch of images at a time on this thread (HDF5 is not thread-safe); the
 * batch's source ERPs are decoded, analysed and (for grid families)
 * restored in parallel, one image per thread; every (image, viewport) pair
 * is restored and degraded in parallel (the iqa operators are
 * single-threaded at viewport size); the video degradations, error maps and
 * encoding run per image in parallel; rows are appended in order. The
 * per-viewport work is stage/pseudoref_view.c, the ERP side
 * stage/pseudoref_erp.c. */
#include "stage/pseudoref.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "base/threads.h"
#include "iqa/detect.h"
#include "iqa/restore.h"
#include "stage/features.h"
#include "stage/pseudoref_internal.h"

#define MIN_SIZE 16 /* the detector's and the blind estimators' minimum */
#define MAX_BATCH 16

static int process_view(const pr_run *st, pr_job *j, int v)
{
    size_t px = (size_t)st->S * st->S;
    return pr_view(st->o, j->name, v, j->vp + v * px * 3, st->S, st->erp ? &j->erp : NULL, j->rest + v * px * 3,
                   j->deg + v * px * 3, j->det + 2 * v, j->applied + 2 * v, j->det_strength + v);
}

/* After every viewport: the video degradations, then the error maps. */
static int finish_image(const pr_run *st, pr_job *j)
{
    const oiqa_pseudoref_opts *o = st->o;
    int rc = pr_video_degrade(j->vp, st->V, st->S, j->applied, j->deg);
    if (rc || !o->error_maps) return rc;
    size_t px = (size_t)st->S * st->S;
    for (int v = 0; v < st->V; v++) {
        const uint8_t *in = j->vp + v * px * 3;
        float *e = j->scratch + v * px;
        oiqa_error_map(in, j->rest + v * px * 3, st->S, st->S, o->error_eps, e);
        for (size_t k = 0; k < px; k++) j->err_r[v * px + k] = oiqa_f32_to_f16(e[k]);
        oiqa_error_map(in, j->deg + v * px * 3, st->S, st->S, o->error_eps, e);
        for (size_t k = 0; k < px; k++) j->err_d[v * px + k] = oiqa_f32_to_f16(e[k]);
    }
    return OIQA_OK;
}

/* ---- the source -------------------------------------------------------- */

static int open_source(pr_run *st, const char *path)
{
    int rc = oiqa_store_open_read(path, "viewports", 0, &st->vp);
    if (rc) return rc;
    oiqa_dtype t;
    int ndim;
    uint64_t d[OIQA_MAX_DIMS];
    if (oiqa_store_reader_shape(st->vp, "/viewports", &t, &ndim, d))
        return oiqa_fail(OIQA_EXIT_DATA, path, "no /viewports dataset (expected uint8 [N,V,S,S,3])");
    if (t != OIQA_U8 || ndim != 5 || d[2] != d[3] || d[4] != 3 || d[1] < 1 || d[1] > 4096 || d[2] > 8192) {
        char shape[160] = "";
        for (int k = 0; k < ndim && k < OIQA_MAX_DIMS; k++) {
            size_t len = strlen(shape);
            snprintf(shape + len, sizeof shape - len, "%s%llu", k ? "," : "", (unsigned long long)d[k]);
        }
        return oiqa_fail(OIQA_EXIT_DATA, path, "/viewports is %s [%s], expected uint8 [N,V,S,S,3]",
                         oiqa_dtype_name(t), shape);
    }
    st->V = (int)d[1], st->S = (int)d[2];
    if (st->S < MIN_SIZE)
        return oiqa_fail(OIQA_EXIT_DATA, path, "viewports of %dx%d are below the %dx%d the detector and restorers "
                         "need (make them with a larger --size)", st->S, st->S, MIN_SIZE, MIN_SIZE);
    if (oiqa_store_reader_rows(st->vp) == 0) return oiqa_fail(OIQA_EXIT_DATA, path, "holds no images");
    return oiqa_sha256_file(path, st->vp_sha);
}

/* ---- the output -------------------------------------------------------- */

static int define_outputs(pr_run *st, oiqa_store *s)
{
    const oiqa_pseudoref_opts *o = st->o;
    uint64_t img[4] = {(uint64_t)st->V, (uint64_t)st->S, (uint64_t)st->S, 3};
    uint64_t pair[2] = {(uint64_t)st->V, 2}, one[1] = {(uint64_t)st->V};
    int rc = oiqa_store_define(s, "/restored", OIQA_U8, 4, img, o->deflate);
    if (!rc) rc = oiqa_store_define(s, "/degraded", OIQA_U8, 4, img, o->deflate);
    if (!rc) rc = oiqa_store_define(s, "/degrade_applied", OIQA_I32, 2, pair, 0);
    if (!rc && st->detects) rc = oiqa_store_define(s, "/detected", OIQA_I32, 2, pair, 0);
    if (!rc && st->detects) rc = oiqa_store_define(s, "/detected_strength", OIQA_F32, 1, one, 0);
    uint64_t two[1] = {2}, scalar[1] = {1}, meas[1] = {PR_N_MEASURES};
    if (!rc && st->erp) rc = oiqa_store_define(s, "/erp_detected", OIQA_I32, 1, two, 0);
    if (!rc && st->erp) rc = oiqa_store_define(s, "/erp_detected_strength", OIQA_F32, 1, scalar, 0);
    if (!rc && st->erp) rc = oiqa_store_define(s, "/erp_measures", OIQA_F32, 1, meas, 0);
    if (!rc && o->error_maps) rc = oiqa_store_define(s, "/error_restored", OIQA_F16, 3, img, 4);
    if (!rc && o->error_maps) rc = oiqa_store_define(s, "/error_degraded", OIQA_F16, 3, img, 4);
    return rc ? rc : oiqa_pseudoref_set_attrs(st, s);
}

/* Row buffers of job j in definition order. */
static int job_rows(const pr_run *st, const pr_job *j, const void **rows)
{
    int n = 0;
    rows[n++] = j->rest, rows[n++] = j->deg, rows[n++] = j->applied;
    if (st->detects) rows[n++] = j->det, rows[n++] = j->det_strength;
    if (st->erp) rows[n++] = j->erp_det, rows[n++] = &j->erp_strength, rows[n++] = j->erp_measures;
    if (st->o->error_maps) rows[n++] = j->err_r, rows[n++] = j->err_d;
    return n;
}

static int jobs_alloc(pr_run *st, pr_job *jobs, int batch)
{
    size_t px = (size_t)st->S * st->S, V = (size_t)st->V;
    int maps = st->o->error_maps;
    for (int b = 0; b < batch; b++) {
        pr_job *j = &jobs[b];
        j->vp = malloc(V * px * 3), j->rest = malloc(V * px * 3), j->deg = malloc(V * px * 3);
        j->det = calloc(V * 2, sizeof *j->det), j->applied = calloc(V * 2, sizeof *j->applied);
        j->det_strength = calloc(V, sizeof *j->det_strength);
        if (maps) {
            j->err_r = malloc(V * px * sizeof *j->err_r), j->err_d = malloc(V * px * sizeof *j->err_d);
            j->scratch = malloc(V * px * sizeof *j->scratch);
        }
        if (!j->vp || !j->rest || !j->deg || !j->det || !j->applied || !j->det_strength ||
            (maps && (!j->err_r || !j->err_d || !j->scratch)))
            return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for a batch of %d images", batch);
    }
    return OIQA_OK;
}

static void jobs_free(pr_job *jobs, int batch)
{
    for (int b = 0; jobs && b < batch; b++) {
        pr_job *j = &jobs[b];
        free(j->vp), free(j->rest), free(j->deg), free(j->det), free(j->applied), free(j->det_strength);
        free(j->err_r), free(j->err_d), free(j->scratch);
        pr_erp_free(&j->erp);
        oiqa_encoded_row_free(&j->enc);
    }
    free(jobs);
}

static long fault_kill_after(void)
{
    const char *e = getenv("OIQA_FAULT_KILL_AFTER_ROWS");
    return e && *e ? strtol(e, NULL, 10) : -1;
}

/* Every viewports row not yet in the store, batch by batch. */
static int run_rows(pr_run *st, oiqa_store *store, const char *out)
{
    int64_t n = oiqa_store_reader_rows(st->vp), todo = 0;
    for (int64_t i = 0; i < n; i++) todo += !oiqa_store_has_name(store, oiqa_store_reader_name(st->vp, i));
    if (todo < n)
        oiqa_info("resuming %s.partial: %lld of %lld images already done", out, (long long)(n - todo), (long long)n);
    /* enough images per batch that every thread has about two viewports,
     * and with source ERPs one image per thread for the ERP step */
    int threads = oiqa_threads_get();
    int batch = (2 * threads + st->V - 1) / st->V;
    if (st->erp && batch < threads) batch = threads;
    batch = batch < 1 ? 1 : batch > MAX_BATCH ? MAX_BATCH : batch;
    pr_job *jobs = calloc((size_t)batch, sizeof *jobs);
    if (!jobs) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    int rc = jobs_alloc(st, jobs, batch);
    oiqa_progress *prog = rc ? NULL : oiqa_progress_start("pseudoref", "img", todo);
    long kill_after = fault_kill_after(), committed = 0;
    int64_t next = 0;
    while (!rc && next < n) {
        int nb = 0;
        while (nb < batch && next < n && !rc) {
            const char *name = oiqa_store_reader_name(st->vp, next);
            if (!oiqa_store_has_name(store, name)) {
                pr_job *j = &jobs[nb++];
                j->name = name, j->row = next, j->failed = 0;
                pr_erp_free(&j->erp);
                rc = oiqa_store_reader_read_row(st->vp, "/viewports", next, OIQA_U8, j->vp);
            }
            next++;
        }
        if (rc || nb == 0) break;
        int V = st->V;
        if (st->erp) {
#pragma omp parallel for schedule(dynamic, 1)
            for (int b = 0; b < nb; b++) {
                int e = pr_job_erp(st, &jobs[b]);
                if (e) {
                    oiqa_fail_prefix("%s: row %s", st->vp_path, jobs[b].name);
                    oiqa_error_capture(&jobs[b].err, e);
                    jobs[b].failed = 1;
                }
            }
        }
#pragma omp parallel for collapse(2) schedule(dynamic, 1)
        for (int b = 0; b < nb; b++)
            for (int v = 0; v < V; v++) {
                int stop;
#pragma omp atomic read
                stop = jobs[b].failed;
                if (stop) continue;
                int e = process_view(st, &jobs[b], v);
                if (e) {
#pragma omp critical(pseudoref_error)
                    if (!jobs[b].failed) {
                        oiqa_fail_prefix("%s: row %s, viewport %d", st->vp_path, jobs[b].name, v);
                        oiqa_error_capture(&jobs[b].err, e);
                        jobs[b].failed = 1;
                    }
                }
            }
#pragma omp parallel for schedule(dynamic, 1)
        for (int b = 0; b < nb; b++) {
            pr_job *j = &jobs[b];
            if (j->failed) continue;
            int e = finish_image(st, j);
            if (e) oiqa_fail_prefix("%s: row %s", st->vp_path, j->name);
            const void *rows[OIQA_STORE_MAX_DSETS];
            job_rows(st, j, rows);
            if (!e) e = oiqa_store_encode(store, rows, &j->enc);
            if (!e && (st->o->png_dir || st->o->sheet_dir)) e = oiqa_pseudoref_pictures(st, j);
            if (e) oiqa_error_capture(&j->err, e), j->failed = 1;
        }
        for (int b = 0; b < nb && !rc; b++) {
            pr_job *j = &jobs[b];
            if (j->failed) { rc = oiqa_error_restore(&j->err); break; }
            rc = oiqa_store_append_encoded(store, j->name, st->vp_path, st->vp_sha, &j->enc);
            oiqa_encoded_row_free(&j->enc);
            if (rc) break;
            oiqa_progress_add(prog, 1);
            if (kill_after >= 0 && ++committed >= kill_after) raise(SIGKILL);
        }
    }
    if (rc) oiqa_progress_cancel(prog);
    else oiqa_progress_end(prog);
    jobs_free(jobs, batch);
    return rc;
}

static int check_opts(const oiqa_pseudoref_opts *o)
{
    if ((int)o->restore < 0 || o->restore > OIQA_PR_RESTORE_NONE)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'restore': unknown operator %d", (int)o->restore);
    if ((int)o->degrade < 0 || o->degrade > OIQA_PR_DEGRADE_HEVC)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'degrade': unknown operator %d", (int)o->degrade);
    if (o->degrade_level < 0 || o->degrade_level > OIQA_DIST_LEVELS)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'degrade-level': %d is outside 1..%d", o->degrade_level,
                         OIQA_DIST_LEVELS);
    if (o->error_maps && !(o->error_eps > 0 && o->error_eps < 255.0 * 255.0))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'error-eps': %g is outside (0, 65025)", o->error_eps);
    if (o->deflate < 0 || o->deflate > 9)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'compress': %d is outside 0..9", o->deflate);
    if ((int)o->detect < 0 || o->detect > OIQA_PR_DETECT_VIEWPORT)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'detect': unknown place %d", (int)o->detect);
    if ((int)o->restore_on < 0 || o->restore_on > OIQA_PR_ON_VIEWPORT)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'restore-on': unknown place %d", (int)o->restore_on);
    return OIQA_OK;
}

int oiqa_pseudoref_run(const oiqa_pseudoref_opts *o, const char *viewports, const char *out,
                       const oiqa_provenance *prov)
{
    int rc = check_opts(o);
    if (rc) return rc;
    pr_run st = {.o = o, .vp_path = viewports};
    st.detects = pr_needs_detection(o);
    st.erp = pr_needs_erp(o);
    oiqa_store *store = NULL;
    if (!(rc = open_source(&st, viewports)) && (!st.erp || !(rc = pr_sources_open(&st))) &&
        !(rc = oiqa_store_open_write(out, prov, o->resume ? OIQA_STORE_RESUME : OIQA_STORE_CREATE, o->force,
                                     &store))) {
        if (!(rc = define_outputs(&st, store))) rc = run_rows(&st, store, out);
        rc = oiqa_stage_close(store, rc, out);
    }
    pr_sources_free(&st);
    if (st.vp) oiqa_store_close(st.vp);
    return rc;
}
