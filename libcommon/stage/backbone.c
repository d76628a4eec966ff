/* The viewport feature stage: see stage/backbone.h. Rows are processed one
 * image at a time; each stream of an image goes through the extractor in
 * batches of `batch` viewports, and the kernels take the threads (the HDF5
 * calls stay on this thread). */
#include "stage/backbone.h"

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
#include "models/extractor.h"
#include "stage/features.h"

#define N_STREAMS 3
static const char *const STREAM_NAMES[N_STREAMS] = {"original", "restored", "degraded"};
static const char *const STREAM_DSETS[N_STREAMS] = {"/viewports", "/restored", "/degraded"};

typedef struct {
    const oiqa_backbone_opts *o;
    const oiqa_extractor_kind *kind;
    oiqa_extractor ex;
    int blocks[OIQA_EXTRACTOR_MAX_BLOCKS], n_blocks;
    int map_h[OIQA_EXTRACTOR_MAX_BLOCKS], map_w[OIQA_EXTRACTOR_MAX_BLOCKS]; /* as stored */
    const char *vp_path;
    oiqa_store_reader *vp, *pr;
    oiqa_dtype in_dtype[N_STREAMS];
    int64_t *pr_row; /* pseudoref row of each viewports row */
    int n_streams;   /* 1, or 3 with pseudoref */
    int V, S;
    char vp_sha[65], pr_sha[65];
    /* row buffers, in dataset definition order */
    void *row[OIQA_STORE_MAX_DSETS];
    int n_row;
    float *rgb;          /* V*S*S*3 */
    oiqa_tensor pooled;  /* pooled map scratch */
} backbone_run;

/* Checks one source dataset: uint8 or float32 [N,V,S,S,3] with V, S as the
 * viewports' (V = S = 0: take them from this one). */
static int check_images(const oiqa_store_reader *r, const char *path, const char *dset, int *V, int *S,
                        oiqa_dtype *dtype)
{
    int ndim;
    uint64_t d[OIQA_MAX_DIMS];
    if (oiqa_store_reader_shape(r, dset, dtype, &ndim, d))
        return oiqa_fail(OIQA_EXIT_DATA, path, "no %s dataset (expected uint8 [N,V,S,S,3])", dset);
    int ok = ndim == 5 && (*dtype == OIQA_U8 || *dtype == OIQA_F32) && d[2] == d[3] && d[4] == 3 && d[1] >= 1 &&
             d[2] >= 1 && d[1] <= 4096 && d[2] <= 8192 && (!*V || ((int)d[1] == *V && (int)d[2] == *S));
    if (!ok) {
        char shape[160] = "";
        for (int k = 0; k < ndim && k < OIQA_MAX_DIMS; k++) {
            size_t len = strlen(shape);
            snprintf(shape + len, sizeof shape - len, "%s%llu", k ? "," : "", (unsigned long long)d[k]);
        }
        if (*V)
            return oiqa_fail(OIQA_EXIT_DATA, path, "%s is %s [%s], expected uint8 or float32 [N,%d,%d,%d,3]", dset,
                             oiqa_dtype_name(*dtype), shape, *V, *S, *S);
        return oiqa_fail(OIQA_EXIT_DATA, path, "%s is %s [%s], expected uint8 or float32 [N,V,S,S,3]", dset,
                         oiqa_dtype_name(*dtype), shape);
    }
    *V = (int)d[1], *S = (int)d[2];
    return OIQA_OK;
}

static int open_sources(backbone_run *st)
{
    const oiqa_backbone_opts *o = st->o;
    int rc = oiqa_store_open_read(st->vp_path, "viewports", 0, &st->vp);
    if (!rc) rc = check_images(st->vp, st->vp_path, "/viewports", &st->V, &st->S, &st->in_dtype[0]);
    if (rc) return rc;
    if (oiqa_store_reader_rows(st->vp) == 0) return oiqa_fail(OIQA_EXIT_DATA, st->vp_path, "holds no images");
    st->n_streams = 1;
    if (!o->pseudoref) return OIQA_OK;
    if ((rc = oiqa_store_open_read(o->pseudoref, "pseudoref", 0, &st->pr))) return rc;
    for (int s = 1; s < N_STREAMS; s++)
        if ((rc = check_images(st->pr, o->pseudoref, STREAM_DSETS[s], &st->V, &st->S, &st->in_dtype[s]))) return rc;
    int64_t n = oiqa_store_reader_rows(st->vp);
    st->pr_row = malloc((size_t)n * sizeof *st->pr_row);
    if (!st->pr_row) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    for (int64_t i = 0; i < n; i++) {
        const char *name = oiqa_store_reader_name(st->vp, i);
        if ((st->pr_row[i] = oiqa_store_reader_find(st->pr, name)) < 0)
            return oiqa_fail(OIQA_EXIT_DATA, o->pseudoref, "has no row for %s (row %lld of %s): make both from the "
                             "same viewports", name, (long long)i, st->vp_path);
    }
    st->n_streams = N_STREAMS;
    return OIQA_OK;
}

/* The std needs two positions; catch tiny viewports before any work. */
static int check_map_sizes(backbone_run *st)
{
    for (int i = 0; i < st->n_blocks; i++) {
        int b = st->blocks[i], mh, mw;
        st->kind->map_shape(b, st->S, st->S, &mh, &mw);
        if (mh * mw < 2)
            return oiqa_fail(OIQA_EXIT_USAGE, st->vp_path,
                             "viewports of %dx%d give %s maps of %dx%d, too small for a std over positions: use "
                             "larger viewports or leave %s out of blocks", st->S, st->S, st->kind->blocks[b].name, mh,
                             mw, st->kind->blocks[b].name);
        st->map_h[i] = st->o->map_size > 0 ? st->o->map_size : mh;
        st->map_w[i] = st->o->map_size > 0 ? st->o->map_size : mw;
    }
    return OIQA_OK;
}

static char *dset_path(int stream, const char *block, const char *what)
{
    return oiqa_asprintf("/%s/%s/%s", STREAM_NAMES[stream], block, what);
}

/* One per-viewport dataset and its row buffer: float32 [N,V,C] (ndim 2 of
 * the row) or, for a map, float16 [N,V,H,W,C]. */
static int define_one(backbone_run *st, oiqa_store *store, int stream, const char *block, const char *what, int h,
                      int w, int c)
{
    char *p = block ? dset_path(stream, block, what) : oiqa_asprintf("/%s/%s", STREAM_NAMES[stream], what);
    int map = !strcmp(what, "map");
    uint64_t dims[4] = {(uint64_t)st->V, (uint64_t)(map ? h : c), (uint64_t)w, (uint64_t)c};
    size_t values = (size_t)st->V * (map ? (size_t)h * w : 1) * c;
    int rc = oiqa_store_define(store, p, map ? OIQA_F16 : OIQA_F32, map ? 4 : 2, dims, st->o->deflate);
    if (!rc) rc = oiqa_store_set_attr_string(store, p, "axes", map ? "N,V,H,W,C" : block ? "N,V,C" : "N,V,D");
    if (!rc && !(st->row[st->n_row++] = malloc(values * (map ? sizeof(uint16_t) : sizeof(float)))))
        rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    free(p);
    return rc;
}

/* Per stream: per block mean, std, [map], [cls: token extractors]; then
 * [embedding] (the order process_stream fills). */
static int define_outputs(backbone_run *st, oiqa_store *store)
{
    const oiqa_backbone_opts *o = st->o;
    int rc = OIQA_OK, tokens = st->kind->output == OIQA_OUTPUT_TOKENS;
    for (int s = 0; s < st->n_streams && !rc; s++) {
        for (int i = 0; i < st->n_blocks && !rc; i++) {
            const oiqa_extractor_block *blk = &st->kind->blocks[st->blocks[i]];
            rc = define_one(st, store, s, blk->name, "mean", 0, 0, blk->channels);
            if (!rc) rc = define_one(st, store, s, blk->name, "std", 0, 0, blk->channels);
            if (!rc && o->maps) rc = define_one(st, store, s, blk->name, "map", st->map_h[i], st->map_w[i],
                                                blk->channels);
            if (!rc && tokens) rc = define_one(st, store, s, blk->name, "cls", 0, 0, blk->channels);
        }
        if (!rc && st->kind->embed_dim) rc = define_one(st, store, s, NULL, "embedding", 0, 0, st->kind->embed_dim);
    }
    return rc;
}

static int set_root_attrs(backbone_run *st, oiqa_store *store)
{
    const oiqa_backbone_opts *o = st->o;
    oiqa_sbuf streams = {0};
    for (int s = 0; s < st->n_streams; s++) {
        if (s) oiqa_sbuf_append(&streams, ",");
        oiqa_sbuf_append(&streams, STREAM_NAMES[s]);
    }
    char size[32];
    snprintf(size, sizeof size, "%dx%d", st->S, st->S);
    int rc = oiqa_features_set_attrs(store, &st->ex, st->blocks, st->n_blocks);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "input_size", size);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "streams", streams.s);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "viewports_file", st->vp_path);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "viewports_sha256", st->vp_sha);
    if (!rc && o->pseudoref) rc = oiqa_store_set_attr_string(store, "/", "pseudoref_file", o->pseudoref);
    if (!rc && o->pseudoref) rc = oiqa_store_set_attr_string(store, "/", "pseudoref_sha256", st->pr_sha);
    if (!rc && o->maps) rc = oiqa_store_set_attr_int(store, "/", "map_pooled", o->map_size);
    /* The inputs' recipe, so the features can be recomputed from images
     * alone (oiqa-score on raw images). */
    for (int k = 0; k < (o->pseudoref ? 2 : 1) && !rc; k++) {
        char *cfg = oiqa_store_reader_attr_string(k ? st->pr : st->vp, "/", "config");
        if (cfg) rc = oiqa_store_set_attr_string(store, "/", k ? "pseudoref_config" : "viewports_config", cfg);
        free(cfg);
    }
    free(streams.s);
    return rc;
}

/* Runs one stream of row `row` through the extractor and fills its part of
 * the row buffers (starting at slot). Returns OIQA_OK, OIQA_EXIT_DATA on a
 * failure, or -1 for a bad row (message set). */
static int process_stream(backbone_run *st, int64_t row, int stream, int slot)
{
    const oiqa_backbone_opts *o = st->o;
    const char *src_path = stream ? o->pseudoref : st->vp_path;
    int64_t src_row = stream ? st->pr_row[row] : row;
    const char *name = oiqa_store_reader_name(st->vp, row);
    const oiqa_store_reader *r = stream ? st->pr : st->vp;
    int rc = oiqa_store_reader_read_row(r, STREAM_DSETS[stream], src_row, OIQA_F32, st->rgb);
    if (rc) return rc;
    size_t vp_values = (size_t)st->S * st->S * 3, at;
    size_t n_in = st->V * vp_values;
    if (st->in_dtype[stream] == OIQA_F32 && (at = oiqa_first_nonfinite(st->rgb, n_in)) < n_in) {
        oiqa_fail(OIQA_EXIT_DATA, src_path, "row %lld (%s): NaN or Inf in %s (viewport %zu)", (long long)src_row, name,
                  STREAM_DSETS[stream], at / vp_values);
        return -1;
    }
    int tokens = st->kind->output == OIQA_OUTPUT_TOKENS, per = 2 + (o->maps ? 1 : 0) + tokens;
    float *mean[OIQA_EXTRACTOR_MAX_BLOCKS], *std[OIQA_EXTRACTOR_MAX_BLOCKS], *cls[OIQA_EXTRACTOR_MAX_BLOCKS];
    uint16_t *map[OIQA_EXTRACTOR_MAX_BLOCKS];
    for (int i = 0; i < st->n_blocks; i++) {
        mean[i] = st->row[slot + i * per], std[i] = st->row[slot + i * per + 1];
        map[i] = o->maps ? st->row[slot + i * per + 2] : NULL;
        cls[i] = tokens ? st->row[slot + i * per + per - 1] : NULL;
    }
    float *embedding = st->kind->embed_dim ? st->row[slot + st->n_blocks * per] : NULL;
    if ((rc = oiqa_backbone_viewports(&st->ex, st->blocks, st->n_blocks, st->rgb, st->V, st->S, o->batch, o->map_size,
                                      mean, std, o->maps ? map : NULL, tokens ? cls : NULL, embedding, &st->pooled)))
        return rc;
    for (int i = 0; i <= st->n_blocks; i++) {
        int last = i == st->n_blocks; /* the embedding */
        if (last && !embedding) break;
        size_t c = last ? (size_t)st->kind->embed_dim : (size_t)st->kind->blocks[st->blocks[i]].channels;
        size_t n = (size_t)st->V * c;
        static const char *const WHAT[3] = {"mean", "std", "cls"};
        for (int what = 0; what < (last ? 1 : tokens ? 3 : 2); what++) {
            const float *x = last ? embedding : what < 2 ? st->row[slot + i * per + what] : cls[i];
            if ((at = oiqa_first_nonfinite(x, n)) < n) {
                oiqa_fail(OIQA_EXIT_DATA, src_path,
                          "row %lld (%s): the %s features of %s (%s, viewport %zu) are NaN or Inf: check the weights",
                          (long long)src_row, name, last ? "embedding" : st->kind->blocks[st->blocks[i]].name,
                          STREAM_NAMES[stream], last ? "embedding" : WHAT[what], at / c);
                return -1;
            }
        }
    }
    return OIQA_OK;
}

int oiqa_backbone_viewports(oiqa_extractor *ex, const int *blocks, int n_blocks, const float *rgb, int V, int S,
                            int batch, int map_size, float *const *mean, float *const *std, uint16_t *const *map,
                            float *const *cls, float *embedding, oiqa_tensor *pooled)
{
    size_t vp_values = (size_t)S * S * 3;
    size_t per_map[OIQA_EXTRACTOR_MAX_BLOCKS];
    for (int i = 0; i < n_blocks; i++) {
        int mh = map_size, mw = map_size;
        if (map_size <= 0) ex->kind->map_shape(blocks[i], S, S, &mh, &mw);
        per_map[i] = (size_t)mh * mw * ex->kind->blocks[blocks[i]].channels;
    }
    for (int v0 = 0; v0 < V; v0 += batch) {
        int nb = V - v0 < batch ? V - v0 : batch;
        if (!map && !cls && !embedding) { /* statistics only: on the GPU they are all that comes back */
            float *m_at[OIQA_EXTRACTOR_MAX_BLOCKS], *s_at[OIQA_EXTRACTOR_MAX_BLOCKS];
            for (int i = 0; i < n_blocks; i++) {
                size_t c = (size_t)ex->kind->blocks[blocks[i]].channels;
                m_at[i] = mean[i] + v0 * c, s_at[i] = std[i] + v0 * c;
            }
            int rc = oiqa_extractor_forward_stats(ex, rgb + v0 * vp_values, nb, S, S, blocks, n_blocks, m_at, s_at);
            if (rc) return rc;
            continue;
        }
        const oiqa_tensor *maps[OIQA_EXTRACTOR_MAX_BLOCKS];
        int rc = oiqa_extractor_forward(ex, rgb + v0 * vp_values, nb, S, S, maps);
        if (rc) return rc;
        for (int i = 0; i < n_blocks; i++) {
            const oiqa_tensor *m = maps[blocks[i]];
            size_t c = (size_t)m->c;
            uint16_t *mp = map && map[i] ? map[i] + v0 * per_map[i] : NULL;
            if ((rc = oiqa_block_features(m, mean[i] + v0 * c, std[i] + v0 * c, mp, map_size, pooled))) return rc;
        }
        if (cls || embedding) {
            float *c_at[OIQA_EXTRACTOR_MAX_BLOCKS];
            for (int i = 0; cls && i < n_blocks; i++) c_at[i] = cls[i] + v0 * ex->kind->blocks[blocks[i]].channels;
            rc = oiqa_block_extras(ex, blocks, cls ? n_blocks : 0, nb, c_at,
                                   embedding ? embedding + (size_t)v0 * ex->kind->embed_dim : NULL);
            if (rc) return rc;
        }
    }
    return OIQA_OK;
}

static long fault_kill_after(void)
{
    const char *e = getenv("OIQA_FAULT_KILL_AFTER_ROWS");
    return e && *e ? strtol(e, NULL, 10) : -1;
}

/* Rows of viewports.h5 through the extractor into the open store. */
static int run_rows(backbone_run *st, oiqa_store *store, const char *out)
{
    int64_t n = oiqa_store_reader_rows(st->vp), todo = 0;
    for (int64_t i = 0; i < n; i++) todo += !oiqa_store_has_name(store, oiqa_store_reader_name(st->vp, i));
    if (todo < n) oiqa_info("resuming %s.partial: %lld of %lld images already done", out, (long long)(n - todo),
                            (long long)n);
    oiqa_sbuf skipped = {0};
    oiqa_sbuf_append(&skipped, "[");
    int n_skipped = 0, rc = OIQA_OK;
    long kill_after = fault_kill_after(), committed = 0;
    int per_stream = st->n_row / st->n_streams;
    oiqa_progress *prog = oiqa_progress_start(st->kind->name, "img", todo);
    for (int64_t i = 0; i < n && !rc; i++) {
        const char *name = oiqa_store_reader_name(st->vp, i);
        if (oiqa_store_has_name(store, name)) continue;
        int bad = 0;
        for (int s = 0; s < st->n_streams && !rc && !bad; s++) {
            int e = process_stream(st, i, s, s * per_stream);
            if (e < 0) bad = 1;
            else rc = e;
        }
        if (bad && !st->o->skip_bad) {
            char msg[OIQA_ERRMSG_MAX];
            snprintf(msg, sizeof msg, "%s", oiqa_errmsg());
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s (--skip-bad leaves such rows out)", msg);
        } else if (bad) {
            oiqa_warn("skipped: %s", oiqa_errmsg());
            if (n_skipped++) oiqa_sbuf_append(&skipped, ",");
            oiqa_sbuf_append_json_string(&skipped, name);
        } else if (!rc) {
            rc = oiqa_store_append(store, name, st->vp_path, st->vp_sha, (const void *const *)st->row);
            if (!rc && kill_after >= 0 && ++committed >= kill_after) raise(SIGKILL);
        }
        if (!rc) oiqa_progress_add(prog, 1);
    }
    oiqa_sbuf_append(&skipped, "]");
    if (rc) oiqa_progress_cancel(prog);
    else oiqa_progress_end(prog);
    if (!rc) rc = oiqa_store_set_attr_string(store, "/", "skipped", skipped.s);
    if (!rc && n_skipped) oiqa_warn("%d of %lld images skipped for NaN or Inf (listed in the attribute skipped)",
                                    n_skipped, (long long)n);
    free(skipped.s);
    return rc;
}

int oiqa_backbone_run(const oiqa_backbone_opts *o, const char *viewports, const char *out,
                      const oiqa_provenance *prov)
{
    backbone_run st = {.o = o, .vp_path = viewports};
    oiqa_store *store = NULL;
    int rc = OIQA_OK;
    if (!(st.kind = oiqa_extractor_find(o->extractor)))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown extractor '%s' (known: %s)", o->extractor,
                         oiqa_extractor_names());
    if (o->batch < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'batch': must be at least 1");
    if ((rc = oiqa_extractor_parse_blocks(st.kind, o->blocks, st.blocks, &st.n_blocks))) return rc;
    if ((rc = open_sources(&st)) || (rc = check_map_sizes(&st))) goto done;
    if ((rc = oiqa_extractor_open_with(o->extractor, o->weights, o->extractor_opts, o->device, &st.ex))) goto done;
    if ((rc = oiqa_sha256_file(viewports, st.vp_sha))) goto done;
    if (o->pseudoref && (rc = oiqa_sha256_file(o->pseudoref, st.pr_sha))) goto done;
    if (!(st.rgb = malloc((size_t)st.V * st.S * st.S * 3 * sizeof(float)))) {
        rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
        goto done;
    }
    if ((rc = oiqa_store_open_write(out, prov, o->resume ? OIQA_STORE_RESUME : OIQA_STORE_CREATE, o->force, &store)))
        goto done;
    if (!(rc = define_outputs(&st, store)) && !(rc = set_root_attrs(&st, store))) rc = run_rows(&st, store, out);
    rc = oiqa_stage_close(store, rc, out);
done:
    for (int k = 0; k < st.n_row; k++) free(st.row[k]);
    free(st.rgb);
    free(st.pr_row);
    oiqa_tensor_free(&st.pooled);
    oiqa_extractor_close(&st.ex);
    if (st.vp) oiqa_store_close(st.vp);
    if (st.pr) oiqa_store_close(st.pr);
    return rc;
}
