/* The global feature stage; see stage/global.h. Images are decoded and
 * resized in parallel (one per thread), then go through the extractor in
 * batches from this thread, which also does every HDF5 call. */
#include "stage/global.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strutil.h"
#include "geo/resize.h"
#include "io/image.h"
#include "models/extractor.h"
#include "stage/features.h"
#include "stage/viewports.h"

typedef struct {
    const char *name;
    char *path;
    char sha256[65];
    uint8_t *resized; /* height x width x 3 */
    oiqa_error err;
    int failed;
} image_job;

typedef struct {
    const oiqa_global_opts *o;
    oiqa_global_net net;
    int map_h[OIQA_EXTRACTOR_MAX_BLOCKS], map_w[OIQA_EXTRACTOR_MAX_BLOCKS];
    void *row[OIQA_STORE_MAX_DSETS]; /* batch x (row of each dataset) */
    size_t row_values[OIQA_STORE_MAX_DSETS], row_size[OIQA_STORE_MAX_DSETS]; /* values of one image, bytes of one */
    int n_row;
} global_run;

static int positions_ok(const oiqa_extractor_kind *k, const int *blocks, int n_blocks, int h, int w)
{
    for (int i = 0; i < n_blocks; i++) {
        int mh, mw;
        k->map_shape(blocks[i], h, w, &mh, &mw);
        if (mh * mw < 2) return 0;
    }
    return 1;
}

int oiqa_global_min_height(const char *extractor, const int *blocks, int n_blocks)
{
    const oiqa_extractor_kind *k = oiqa_extractor_find(extractor);
    for (int h = 1; k && h <= 4096; h++)
        if (positions_ok(k, blocks, n_blocks, h, 2 * h)) return h;
    return 0;
}

int oiqa_global_net_init(const oiqa_global_opts *o, oiqa_global_net *g)
{
    memset(g, 0, sizeof *g);
    if (!(g->kind = oiqa_extractor_find(o->extractor)))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown extractor '%s' (known: %s)", o->extractor,
                         oiqa_extractor_names());
    if (o->batch < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'batch': must be at least 1");
    g->device = o->device, g->extractor_opts = o->extractor_opts;
    g->H = o->height > 0 ? o->height : g->kind->input_h;
    g->W = o->width > 0 ? o->width : g->kind->input_w;
    int rc = oiqa_extractor_parse_blocks(g->kind, o->blocks, g->blocks, &g->n_blocks);
    if (rc) return rc;
    g->min_h = oiqa_global_min_height(g->kind->name, g->blocks, g->n_blocks);
    if (!positions_ok(g->kind, g->blocks, g->n_blocks, g->H, g->W))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "input size %dx%d is below %s's minimum for these blocks (%dx%d)", g->W,
                         g->H, g->kind->name, 2 * g->min_h, g->min_h);
    return OIQA_OK;
}

int oiqa_global_net_load(oiqa_global_net *g, const char *weights)
{
    return oiqa_extractor_open_with(g->kind->name, weights, g->extractor_opts, g->device, &g->ex);
}

void oiqa_global_net_close(oiqa_global_net *g)
{
    free(g->rgb);
    oiqa_tensor_free(&g->pooled);
    oiqa_extractor_close(&g->ex);
    memset(g, 0, sizeof *g);
}

int oiqa_global_check_image(const oiqa_global_net *g, int allow_aspect, const char *path, int w, int h)
{
    if (h < g->min_h || w < 2 * g->min_h)
        return oiqa_fail(OIQA_EXIT_DATA, path, "image too small (%dx%d): %s needs at least %dx%d", w, h, g->kind->name,
                         2 * g->min_h, g->min_h);
    if (!allow_aspect && !oiqa_erp_aspect_ok(w, h))
        return oiqa_fail(OIQA_EXIT_DATA, path,
                         "not a 2:1 equirectangular image (%dx%d); use --allow-aspect to resize it anyway", w, h);
    return OIQA_OK;
}

int oiqa_global_resize(const oiqa_global_net *g, const oiqa_image *img, uint8_t *resized)
{
    return oiqa_resize_rgb_u8(img, g->W, g->H, resized);
}

int oiqa_global_forward(oiqa_global_net *g, const uint8_t *resized, int n, int map_size, float *const *mean,
                        float *const *std, uint16_t *const *map, float *const *cls, float *embedding)
{
    size_t px = (size_t)g->H * g->W * 3;
    if (n > g->cap) {
        float *p = realloc(g->rgb, (size_t)n * px * sizeof(float));
        if (!p) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for %d images of %dx%d", n, g->W, g->H);
        g->rgb = p, g->cap = n;
    }
    for (size_t k = 0; k < (size_t)n * px; k++) g->rgb[k] = resized[k];
    if (!map && !cls && !embedding) /* statistics only: on the GPU they are all that comes back */
        return oiqa_extractor_forward_stats(&g->ex, g->rgb, n, g->H, g->W, g->blocks, g->n_blocks, mean, std);
    const oiqa_tensor *maps[OIQA_EXTRACTOR_MAX_BLOCKS];
    int rc = oiqa_extractor_forward(&g->ex, g->rgb, n, g->H, g->W, maps);
    for (int i = 0; !rc && i < g->n_blocks; i++)
        rc = oiqa_block_features(maps[g->blocks[i]], mean[i], std[i], map ? map[i] : NULL, map_size, &g->pooled);
    if (!rc && (cls || embedding)) rc = oiqa_block_extras(&g->ex, g->blocks, cls ? g->n_blocks : 0, n, cls, embedding);
    return rc;
}

static int precheck_inputs(const global_run *st, char *const *names, int n)
{
    const oiqa_global_opts *o = st->o;
    int rc = oiqa_check_unique_names(names, n);
    for (int i = 0; i < n && !rc; i++) {
        char *path = oiqa_path_join(o->root, names[i]);
        int w, h;
        rc = oiqa_image_probe(path, o->max_pixels, &w, &h);
        if (!rc) rc = oiqa_global_check_image(&st->net, o->allow_aspect, path, w, h);
        free(path);
    }
    return rc;
}

/* One dataset /global/<block>/<what> (block NULL: /global/<what>) and its
 * batch of rows: float32 [N,C], or for a map float16 [N,H,W,C]. */
static int define_one(global_run *st, oiqa_store *store, const char *block, const char *what, int h, int w, int c)
{
    char *p = block ? oiqa_asprintf("/global/%s/%s", block, what) : oiqa_asprintf("/global/%s", what);
    int map = !strcmp(what, "map");
    uint64_t dims[3] = {(uint64_t)(map ? h : c), (uint64_t)w, (uint64_t)c};
    int rc = oiqa_store_define(store, p, map ? OIQA_F16 : OIQA_F32, map ? 3 : 1, dims, st->o->deflate);
    if (!rc) rc = oiqa_store_set_attr_string(store, p, "axes", map ? "N,H,W,C" : block ? "N,C" : "N,D");
    if (!rc) {
        int k = st->n_row++;
        st->row_values[k] = (map ? (size_t)h * w : 1) * c;
        st->row_size[k] = map ? sizeof(uint16_t) : sizeof(float);
        if (!(st->row[k] = malloc((size_t)st->o->batch * st->row_values[k] * st->row_size[k])))
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    }
    free(p);
    return rc;
}

/* Per block mean, std, [map], [cls: token extractors]; then [embedding]
 * (the order forward_batch fills). */
static int define_outputs(global_run *st, oiqa_store *store)
{
    const oiqa_global_opts *o = st->o;
    const oiqa_extractor_kind *kind = st->net.kind;
    int rc = OIQA_OK;
    for (int i = 0; i < st->net.n_blocks && !rc; i++) {
        const oiqa_extractor_block *blk = &kind->blocks[st->net.blocks[i]];
        rc = define_one(st, store, blk->name, "mean", 0, 0, blk->channels);
        if (!rc) rc = define_one(st, store, blk->name, "std", 0, 0, blk->channels);
        if (!rc && o->maps) rc = define_one(st, store, blk->name, "map", st->map_h[i], st->map_w[i], blk->channels);
        if (!rc && kind->output == OIQA_OUTPUT_TOKENS)
            rc = define_one(st, store, blk->name, "cls", 0, 0, blk->channels);
    }
    if (!rc && kind->embed_dim) rc = define_one(st, store, NULL, "embedding", 0, 0, kind->embed_dim);
    char size[32];
    snprintf(size, sizeof size, "%dx%d", st->net.W, st->net.H);
    if (!rc) rc = oiqa_features_set_attrs(store, &st->net.ex, st->net.blocks, st->net.n_blocks);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "input_size", size);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "resize",
                                             "area averaging when shrinking (cv2 INTER_AREA), linear when enlarging");
    if (!rc && o->maps) rc = oiqa_store_set_attr_int(store, "/", "map_pooled", o->map_size);
    return rc;
}

static void job_load(const global_run *st, image_job *j)
{
    oiqa_image img = {0};
    oiqa_image_load_opts lo = {.max_pixels = st->o->max_pixels};
    int rc = oiqa_image_load(j->path, &lo, &img);
    if (!rc) rc = oiqa_global_resize(&st->net, &img, j->resized);
    if (rc && !strstr(oiqa_errmsg(), j->path)) oiqa_fail_prefix("%s", j->path);
    memcpy(j->sha256, lo.sha256, sizeof j->sha256);
    oiqa_image_free(&img);
    j->failed = rc != OIQA_OK;
    if (rc) oiqa_error_capture(&j->err, rc);
}

static long fault_kill_after(void)
{
    const char *e = getenv("OIQA_FAULT_KILL_AFTER_ROWS");
    return e && *e ? strtol(e, NULL, 10) : -1;
}

/* Forward of jobs[0..nb) and the feature rows of each; bad[b] set for
 * images whose features are not finite (message logged or returned). */
static int forward_batch(global_run *st, image_job *jobs, int nb, int *bad)
{
    const oiqa_extractor_kind *kind = st->net.kind;
    int tokens = kind->output == OIQA_OUTPUT_TOKENS, per = 2 + (st->o->maps ? 1 : 0) + tokens;
    float *mean[OIQA_EXTRACTOR_MAX_BLOCKS], *std[OIQA_EXTRACTOR_MAX_BLOCKS], *cls[OIQA_EXTRACTOR_MAX_BLOCKS];
    uint16_t *map[OIQA_EXTRACTOR_MAX_BLOCKS];
    for (int i = 0; i < st->net.n_blocks; i++) {
        mean[i] = st->row[i * per], std[i] = st->row[i * per + 1];
        map[i] = st->o->maps ? st->row[i * per + 2] : NULL;
        cls[i] = tokens ? st->row[i * per + per - 1] : NULL;
    }
    float *embedding = kind->embed_dim ? st->row[st->net.n_blocks * per] : NULL;
    if (nb < 1) return OIQA_OK;
    size_t px = (size_t)st->net.H * st->net.W * 3;
    uint8_t *resized = malloc((size_t)nb * px);
    if (!resized) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    for (int b = 0; b < nb; b++) memcpy(resized + b * px, jobs[b].resized, px);
    int rc = oiqa_global_forward(&st->net, resized, nb, st->o->map_size, mean, std, st->o->maps ? map : NULL,
                                 tokens ? cls : NULL, embedding);
    free(resized);
    static const char *const WHAT[4] = {"mean", "std", "map", "cls"};
    for (int b = 0; !rc && b < nb; b++) {
        bad[b] = 0;
        for (int k = 0; k < st->n_row && !bad[b]; k++) {
            int i = k / per, what = k % per;
            if (i == st->net.n_blocks) what = -1; /* the embedding */
            else if (tokens && what == per - 1) what = 3;
            if (what == 2) continue; /* maps: float16 copies of what the statistics check */
            size_t n = st->row_values[k];
            const float *x = (const float *)st->row[k] + b * n;
            size_t at = oiqa_first_nonfinite(x, n);
            if (at < n) {
                oiqa_fail(OIQA_EXIT_DATA, jobs[b].path, "the %s features (%s, channel %zu) are NaN or Inf: check "
                          "the weights", what < 0 ? "embedding" : kind->blocks[st->net.blocks[i]].name,
                          what < 0 ? "embedding" : WHAT[what], at);
                bad[b] = 1;
                if (!st->o->skip_bad) return -1;
                oiqa_warn("skipped: %s", oiqa_errmsg());
            }
        }
    }
    return rc;
}

/* The names of the next batch that are not done yet, from *next on, into
 * jobs (paths allocated); returns how many. */
static int next_batch(const global_run *st, oiqa_store *store, char *const *names, int n, int *next,
                      image_job *jobs)
{
    int nb = 0;
    while (nb < st->o->batch && *next < n) {
        const char *name = names[(*next)++];
        if (oiqa_store_has_name(store, name)) continue;
        jobs[nb].name = name;
        jobs[nb].path = oiqa_path_join(st->o->root, name);
        nb++;
    }
    return nb;
}

static void load_batch(const global_run *st, image_job *jobs, int nb)
{
#pragma omp parallel for schedule(dynamic, 1)
    for (int b = 0; b < nb; b++) job_load(st, &jobs[b]);
}

/* One batch's forward on a thread of its own while the host decodes the
 * next batch: the GPU computes meanwhile (the forward only queues work and
 * waits), and neither side touches HDF5 or the other's jobs. */
typedef struct {
    global_run *st;
    image_job *jobs;
    int nb, *bad, rc;
    oiqa_error err;
} forward_task;

static void *forward_task_run(void *arg)
{
    forward_task *t = arg;
    t->rc = forward_batch(t->st, t->jobs, t->nb, t->bad);
    if (t->rc) oiqa_error_capture(&t->err, t->rc);
    return NULL;
}

/* Decoding overlaps the forward on the GPU; on the CPU the two would fight
 * over the cores, so they run in turn there (OIQA_FORCE_OVERLAP=1 overlaps
 * them anyway: the testing hook for this pipeline on machines without a GPU). */
static int overlap_decoding(const global_run *st)
{
    const char *force = getenv("OIQA_FORCE_OVERLAP");
    return (st->net.ex.be && st->net.ex.be->device == OIQA_DEVICE_CUDA) || (force && !strcmp(force, "1"));
}

/* Forward of jobs[0..nb) (overlapped with decoding next[0..n_next) when
 * asked), with forward_batch's return convention. */
static int forward_and_prefetch(global_run *st, image_job *jobs, int nb, int *bad, image_job *next, int n_next)
{
    if (n_next > 0 && overlap_decoding(st)) {
        forward_task t = {.st = st, .jobs = jobs, .nb = nb, .bad = bad};
        pthread_t th;
        if (pthread_create(&th, NULL, forward_task_run, &t) == 0) {
            load_batch(st, next, n_next);
            pthread_join(th, NULL);
            if (t.rc) oiqa_error_restore(&t.err);
            return t.rc;
        }
    }
    int e = forward_batch(st, jobs, nb, bad);
    if (e) {
        oiqa_error saved;
        oiqa_error_capture(&saved, e);
        load_batch(st, next, n_next);
        oiqa_error_restore(&saved);
        return e;
    }
    load_batch(st, next, n_next);
    return OIQA_OK;
}

static int run_images(global_run *st, char *const *names, int n, oiqa_store *store, const char *out)
{
    const oiqa_global_opts *o = st->o;
    int batch = o->batch, rc = OIQA_OK, n_skipped = 0;
    /* Two sets of jobs: the batch being computed and the next one, decoding. */
    image_job *jobs[2] = {calloc((size_t)batch, sizeof(image_job)), calloc((size_t)batch, sizeof(image_job))};
    int *bad = calloc((size_t)batch, sizeof *bad);
    if (!jobs[0] || !jobs[1] || !bad) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    for (int k = 0; k < 2 && !rc; k++)
        for (int b = 0; b < batch && !rc; b++)
            if (!(jobs[k][b].resized = malloc((size_t)st->net.H * st->net.W * 3)))
                rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    int64_t todo = 0;
    for (int i = 0; i < n; i++) todo += !oiqa_store_has_name(store, names[i]);
    if (todo < n) oiqa_info("resuming %s.partial: %lld of %d images already done", out, (long long)(n - todo), n);
    oiqa_sbuf skipped = {0};
    oiqa_sbuf_append(&skipped, "[");
    long kill_after = fault_kill_after(), committed = 0;
    oiqa_progress *prog = oiqa_progress_start(st->net.kind->name, "img", todo);
    int next = 0, cur = 0, nbs[2] = {0, 0};
    if (!rc) {
        nbs[cur] = next_batch(st, store, names, n, &next, jobs[cur]);
        load_batch(st, jobs[cur], nbs[cur]);
    }
    while (!rc && nbs[cur] > 0) {
        image_job *js = jobs[cur];
        const int nb = nbs[cur], nxt = cur ^ 1;
        for (int b = 0; b < nb && !rc; b++)
            if (js[b].failed) rc = oiqa_error_restore(&js[b].err);
        if (rc) break;
        nbs[nxt] = next_batch(st, store, names, n, &next, jobs[nxt]);
        int e = forward_and_prefetch(st, js, nb, bad, jobs[nxt], nbs[nxt]);
        if (e < 0) {
            char msg[OIQA_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", oiqa_errmsg());
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s (--skip-bad leaves such images out)", msg);
        } else {
            rc = e;
        }
        for (int b = 0; b < nb && !rc; b++) {
            if (bad[b]) {
                if (n_skipped++) oiqa_sbuf_append(&skipped, ",");
                oiqa_sbuf_append_json_string(&skipped, js[b].name);
            } else {
                const void *rows[OIQA_STORE_MAX_DSETS];
                for (int k = 0; k < st->n_row; k++)
                    rows[k] = (const char *)st->row[k] + b * st->row_values[k] * st->row_size[k];
                rc = oiqa_store_append(store, js[b].name, js[b].path, js[b].sha256, rows);
                if (!rc && kill_after >= 0 && ++committed >= kill_after) raise(SIGKILL);
            }
            if (!rc) oiqa_progress_add(prog, 1);
        }
        for (int b = 0; b < nb; b++) free(js[b].path), js[b].path = NULL;
        nbs[cur] = 0;
        cur = nxt;
    }
    oiqa_sbuf_append(&skipped, "]");
    if (rc) oiqa_progress_cancel(prog);
    else oiqa_progress_end(prog);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "skipped", skipped.s);
    if (!rc && n_skipped) oiqa_warn("%d of %d images skipped for NaN or Inf features (listed in the attribute skipped)",
                                    n_skipped, n);
    free(skipped.s);
    for (int k = 0; k < 2; k++) {
        for (int b = 0; jobs[k] && b < batch; b++) free(jobs[k][b].resized), free(jobs[k][b].path);
        free(jobs[k]);
    }
    free(bad);
    return rc;
}

int oiqa_global_run(const oiqa_global_opts *o, char *const *names, int n_names, const char *out,
                    const oiqa_provenance *prov)
{
    global_run st = {.o = o};
    int rc = oiqa_global_net_init(o, &st.net);
    if (rc) return rc;
    if (n_names < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no input images");
    for (int i = 0; i < st.net.n_blocks; i++) {
        int mh, mw;
        st.net.kind->map_shape(st.net.blocks[i], st.net.H, st.net.W, &mh, &mw);
        st.map_h[i] = o->map_size > 0 ? o->map_size : mh;
        st.map_w[i] = o->map_size > 0 ? o->map_size : mw;
    }
    oiqa_store *store = NULL;
    if ((rc = precheck_inputs(&st, names, n_names))) goto done;
    if ((rc = oiqa_global_net_load(&st.net, o->weights))) goto done;
    if ((rc = oiqa_store_open_write(out, prov, o->resume ? OIQA_STORE_RESUME : OIQA_STORE_CREATE, o->force, &store)))
        goto done;
    if (!(rc = define_outputs(&st, store))) rc = run_images(&st, names, n_names, store, out);
    rc = oiqa_stage_close(store, rc, out);
done:
    for (int k = 0; k < st.n_row; k++) free(st.row[k]);
    oiqa_global_net_close(&st.net);
    return rc;
}
