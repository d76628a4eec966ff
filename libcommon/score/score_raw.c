/* oiqa-score on raw images: the stages a model's features went through, run
 * in memory from the recipe recorded in model.h5; see score/score.h.
 *
 * Per image: decode -> viewports (stage/viewports.h) -> pseudo-references
 * (stage/pseudoref.h) -> the local backbone on each stream the model uses
 * (stage/backbone.h) -> the global backbone on the resized ERP
 * (stage/global.h); the rows are assembled as methods/features.c assembles
 * them from the files (mean || std per viewport and scale; global stages in
 * the file's order), then normalised and predicted in chunks of `batch`
 * images, and each chunk's rows written before the next is computed. */
#include "score/score.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "geo/viewports_gpu.h"
#include "io/image.h"
#include "stage/features.h"
#include "stage/backbone_tool.h"
#include "stage/stage_tools.h"

/* prov field indices (methods/feature_prov.h) */
enum { P_PATH = OIQA_PROV_PATH, P_BACKBONE = OIQA_PROV_BACKBONE, P_WEIGHTS = OIQA_PROV_WEIGHTS,
       P_WEIGHTS_SHA = OIQA_PROV_WEIGHTS_SHA, P_STREAMS = OIQA_PROV_STREAMS, P_CONFIG = OIQA_PROV_CONFIG,
       P_VP_CONFIG = OIQA_PROV_VP_CONFIG, P_PR_CONFIG = OIQA_PROV_PR_CONFIG };

/* The stages raw scoring can replay: a method input of stage kind
 * "backbone" (view blocks of the viewports and their pseudo-references) and
 * one of "global" (the resized ERP). */
typedef struct {
    int li, gi;                         /* input indices, -1: none */
    const oiqa_feature_prov *lp, *gp;   /* their provenance records */
    int stream_of[OIQA_METHOD_MAX_STREAMS]; /* local input stream -> 0 original, 1 restored, 2 degraded, -1 */
} raw_inputs;

/* ---- weights ------------------------------------------------------------ */

static int is_file(const char *path)
{
    struct stat sb;
    return !stat(path, &sb) && S_ISREG(sb.st_mode);
}

int oiqa_score_find_weights(const char *recorded, const char *sha256, const char *role, const char *weights_dir,
                            const char *override, char **path)
{
    *path = NULL;
    uint64_t seed;
    int random = oiqa_weights_spec_random(recorded, &seed);
    if (random < 0) return OIQA_EXIT_DATA;
    if (random) {
        if (override) oiqa_warn("--%s-weights %s ignored: the model's features used %s", role, override, recorded);
        *path = oiqa_strdup(recorded);
        return OIQA_OK;
    }
    const char *base = strrchr(recorded, '/');
    base = base ? base + 1 : recorded;
    char *cand[2] = {NULL, NULL};
    int n = 0;
    if (override) {
        cand[n++] = oiqa_strdup(override);
    } else {
        if (weights_dir) cand[n++] = oiqa_path_join(weights_dir, base);
        cand[n++] = oiqa_strdup(recorded);
    }
    int hit = -1;
    for (int i = 0; i < n && hit < 0; i++)
        if (is_file(cand[i])) hit = i;
    int rc = OIQA_OK;
    if (hit < 0) {
        if (override)
            rc = oiqa_fail(OIQA_EXIT_DATA, override, "not found (--%s-weights: the %s backbone's weights, recorded as "
                           "%s)", role, role, recorded);
        else if (weights_dir)
            rc = oiqa_fail(OIQA_EXIT_DATA, recorded, "the %s backbone's weights not found (nor %s); give "
                           "--weights-dir or --%s-weights", role, cand[0], role);
        else
            rc = oiqa_fail(OIQA_EXIT_DATA, recorded, "the %s backbone's weights not found; give --weights-dir or "
                           "--%s-weights", role, role);
    } else {
        char have[65];
        rc = oiqa_sha256_file(cand[hit], have);
        if (!rc && strcmp(have, sha256))
            rc = oiqa_fail(OIQA_EXIT_DATA, cand[hit], "sha256 %s differs from the recorded %s (the %s weights the "
                           "model's features were computed with)", have, *sha256 ? sha256 : "(none)", role);
        if (!rc) *path = cand[hit], cand[hit] = NULL;
    }
    for (int i = 0; i < n; i++) free(cand[i]);
    return rc;
}

/* ---- the recipe ----------------------------------------------------------- */

typedef struct {
    oiqa_cli vp_cli, pr_cli, lb_cli, gl_cli; /* own the parsed strings */
    oiqa_viewports_cli vpc;
    oiqa_pseudoref_cli prc;
    oiqa_backbone_cli *lbc, *glc; /* the backbone tool's options (stage/backbone_tool.h) */
    oiqa_backbone_table *lbt, *glt;
    oiqa_viewports_opts vo;
    oiqa_view *list;
    oiqa_pseudoref_opts po;
    oiqa_backbone_opts bo;
    oiqa_global_opts go;
    int need_pr, use_global;
    raw_inputs in;
} recipe;

static void recipe_free(recipe *r)
{
    oiqa_cli_free(&r->vp_cli), oiqa_cli_free(&r->pr_cli), oiqa_cli_free(&r->lb_cli), oiqa_cli_free(&r->gl_cli);
    free(r->list), free(r->lbc), free(r->glc), free(r->lbt), free(r->glt);
    memset(r, 0, sizeof *r);
}

/* One recorded config back into a tool's options; errors name the model and the attribute. */
static int parse_recorded(const oiqa_tool *tool, const char *text, const char *model, const char *what, void *opts,
                          oiqa_cli *cli)
{
    char *source = oiqa_asprintf("%s (%s)", model, what);
    int rc = oiqa_cli_parse_config_text(tool, text, source, opts, cli);
    if (rc) {
        char msg[OIQA_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", oiqa_errmsg());
        rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s: the recorded %s does not parse (%s)", model, tool->name, msg);
    }
    free(source);
    return rc;
}

/* A feature file's recorded backbone config back into the backbone tool's options. */
static int parse_backbone(const oiqa_feature_prov *p, const char *model, const char *what, oiqa_backbone_table **t,
                          oiqa_backbone_cli **c, oiqa_cli *cli)
{
    *t = oiqa_xcalloc(1, sizeof **t), *c = oiqa_xcalloc(1, sizeof **c);
    char *source = oiqa_asprintf("%s (%s)", model, what);
    int rc = oiqa_backbone_config_parse(p->v[P_BACKBONE], p->v[P_CONFIG], source, *t, *c, cli);
    free(source);
    if (rc) {
        char msg[OIQA_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "%s", oiqa_errmsg());
        rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s", msg);
    }
    return rc;
}

static int refuse_no_recipe(const char *model, const char *missing, const char *file)
{
    return oiqa_fail(OIQA_EXIT_DATA, model, "no recipe for raw images: the provenance of its features (%s) lacks %s; "
                     "recompute the features with this version of the stage tools and retrain, or give --features",
                     *file ? file : "?", missing);
}

/* Which inputs of the method are which stage, and their records. */
static int map_inputs(const oiqa_train_model *tm, const char *model, raw_inputs *in)
{
    static const char *const names[3] = {"original", "restored", "degraded"};
    const oiqa_method *m = tm->m;
    in->li = in->gi = -1;
    for (int i = 0; i < m->n_inputs; i++) {
        if (!tm->sel.use[i]) continue;
        const oiqa_method_input *mi = &m->inputs[i];
        const oiqa_feature_prov *p = oiqa_train_model_prov(tm, i);
        if (!strcmp(mi->stage, "backbone") && mi->layout == OIQA_LAYOUT_VIEW_BLOCKS && in->li < 0) {
            in->li = i, in->lp = p;
            for (int s = 0; s < OIQA_METHOD_MAX_STREAMS; s++) {
                in->stream_of[s] = -1;
                for (int j = 0; mi->streams[s] && j < 3; j++)
                    if (!strcmp(mi->streams[s], names[j]) && (s == 0 || tm->sel.stream[i][s])) in->stream_of[s] = j;
                if (mi->streams[s] && (s == 0 || tm->sel.stream[i][s]) && in->stream_of[s] < 0)
                    return oiqa_fail(OIQA_EXIT_DATA, model, "stream '%s' of input %s: raw scoring makes original, "
                                     "restored and degraded", mi->streams[s], mi->role);
            }
        } else if (!strcmp(mi->stage, "global") && mi->layout == OIQA_LAYOUT_IMAGE_CONCAT && in->gi < 0) {
            in->gi = i, in->gp = p;
        } else {
            return oiqa_fail(OIQA_EXIT_DATA, model, "input %s (%s stage): raw scoring replays one backbone and one "
                             "global input; give --features", mi->role, mi->stage);
        }
    }
    if (in->li < 0) return oiqa_fail(OIQA_EXIT_DATA, model, "no viewport backbone input: give --features");
    return OIQA_OK;
}

static int recipe_load(const oiqa_train_model *tm, const char *model, recipe *r)
{
    memset(r, 0, sizeof *r);
    int rc = map_inputs(tm, model, &r->in);
    if (rc) return rc;
    for (int s = 1; s < OIQA_METHOD_MAX_STREAMS; s++) r->need_pr |= r->in.stream_of[s] > 0;
    r->use_global = r->in.gi >= 0;
    const oiqa_feature_prov *lp = r->in.lp;
    if (!lp) return refuse_no_recipe(model, "every record", "");
    if (!*lp->v[P_CONFIG]) return refuse_no_recipe(model, "the backbone config", lp->v[P_PATH]);
    if (!*lp->v[P_VP_CONFIG]) return refuse_no_recipe(model, "viewports_config", lp->v[P_PATH]);
    if (r->need_pr && !*lp->v[P_PR_CONFIG]) return refuse_no_recipe(model, "pseudoref_config", lp->v[P_PATH]);
    if (r->use_global && (!r->in.gp || !*r->in.gp->v[P_CONFIG]))
        return refuse_no_recipe(model, "the global config", r->in.gp ? r->in.gp->v[P_PATH] : "");

    rc = parse_recorded(&oiqa_viewports_tool, lp->v[P_VP_CONFIG], model, "viewports_config", &r->vpc, &r->vp_cli);
    if (!rc) rc = oiqa_viewports_cli_opts(&r->vpc, &r->vo, &r->list);
    if (!rc && r->need_pr) {
        rc = parse_recorded(&oiqa_pseudoref_tool, lp->v[P_PR_CONFIG], model, "pseudoref_config", &r->prc, &r->pr_cli);
        if (!rc) oiqa_pseudoref_cli_opts(&r->prc, &r->po);
    }
    /* The recorded backbone configs through the backbone tool's table for
     * their extractor (any of oiqa-backbone, -resnet and -vmamba wrote them). */
    if (!rc) rc = parse_backbone(lp, model, "backbone config", &r->lbt, &r->lbc, &r->lb_cli);
    if (!rc) oiqa_backbone_cli_opts(r->lbt, r->lbc, &r->bo);
    if (!rc && r->use_global) rc = parse_backbone(r->in.gp, model, "global config", &r->glt, &r->glc, &r->gl_cli);
    if (!rc && r->use_global) oiqa_backbone_cli_global_opts(r->glt, r->glc, &r->go);
    return rc;
}

/* ---- the run ---------------------------------------------------------------- */

typedef struct {
    const oiqa_score_raw_opts *o;
    oiqa_train_model tm;
    recipe rc;
    oiqa_extractor local;
    int scale_block[OIQA_METHOD_MAX_BLOCKS], n_scales, C[OIQA_METHOD_MAX_BLOCKS];
    oiqa_global_net global;
    int G;
    int V, S;
    int64_t max_pixels;
    oiqa_vp_gpu *vp_gpu; /* viewport sampling on the GPU (--device), or NULL: the CPU */
    /* per-image scratch */
    uint8_t *vp, *rest, *deg, *resized;
    float *rgb, *mean, *std;
    oiqa_tensor pooled;
} raw_run;

static void raw_free(raw_run *st)
{
    oiqa_vp_gpu_destroy(st->vp_gpu);
    oiqa_extractor_close(&st->local);
    oiqa_global_net_close(&st->global);
    recipe_free(&st->rc);
    oiqa_train_model_free(&st->tm);
    free(st->vp), free(st->rest), free(st->deg), free(st->resized), free(st->rgb), free(st->mean), free(st->std);
    oiqa_tensor_free(&st->pooled);
}

/* Blocks and shapes of the networks, checked against the model (no weights yet). */
static int setup_networks(raw_run *st)
{
    const oiqa_score_raw_opts *o = st->o;
    const oiqa_train_model *tm = &st->tm;
    int li = st->rc.in.li, gi = st->rc.in.gi;
    const oiqa_feature_prov *lp = st->rc.in.lp;
    const oiqa_extractor_kind *k = oiqa_extractor_find(st->rc.bo.extractor);
    if (!k) return oiqa_fail(OIQA_EXIT_DATA, o->model, "unknown extractor '%s'", st->rc.bo.extractor);
    if (st->rc.bo.batch < 1) return oiqa_fail(OIQA_EXIT_DATA, o->model, "recorded backbone batch below 1");
    st->n_scales = tm->sel.n_blocks[li];
    for (int s = 0; s < st->n_scales; s++) {
        const char *name = tm->sel.blocks[li][s];
        int b = oiqa_extractor_block_index(k, name);
        if (b < 0) return oiqa_fail(OIQA_EXIT_DATA, o->model, "scale '%s' is not a block of %s", name, k->name);
        st->scale_block[s] = b, st->C[s] = k->blocks[b].channels;
        if (2 * st->C[s] != tm->shape.dim[li][s])
            return oiqa_fail(OIQA_EXIT_DATA, o->model, "%s has %d features per viewport in %s, the model takes %d",
                             name, 2 * st->C[s], k->name, tm->shape.dim[li][s]);
    }
    if (st->rc.need_pr && !strstr(lp->v[P_STREAMS], "restored"))
        return oiqa_fail(OIQA_EXIT_DATA, o->model, "uses pseudo-references, its features have streams '%s'",
                         lp->v[P_STREAMS]);
    st->max_pixels = st->rc.vo.max_pixels;
    int rc;
    if (st->rc.use_global) {
        st->rc.go.device = o->device;
        if ((rc = oiqa_global_net_init(&st->rc.go, &st->global))) return rc;
        st->G = 0;
        for (int i = 0; i < st->global.n_blocks; i++)
            st->G += 2 * st->global.kind->blocks[st->global.blocks[i]].channels;
        if (st->G != tm->shape.dim[gi][0])
            return oiqa_fail(OIQA_EXIT_DATA, o->model, "the recorded global blocks give %d features, the model takes "
                             "%d", st->G, tm->shape.dim[gi][0]);
        if (st->rc.go.max_pixels < st->max_pixels) st->max_pixels = st->rc.go.max_pixels;
    }
    st->S = st->rc.vo.size;
    st->V = oiqa_viewports_count(&st->rc.vo);
    return OIQA_OK;
}

/* The weights (found and checked) into the networks. */
static int load_weights(raw_run *st)
{
    const oiqa_score_raw_opts *o = st->o;
    const oiqa_feature_prov *lp = st->rc.in.lp;
    int rc;
    if (st->rc.use_global) {
        const oiqa_feature_prov *gp = st->rc.in.gp;
        char *w = NULL;
        rc = oiqa_score_find_weights(st->rc.go.weights ? st->rc.go.weights : gp->v[P_WEIGHTS], gp->v[P_WEIGHTS_SHA],
                                     "global", o->weights_dir, o->global_weights, &w);
        if (!rc) rc = oiqa_global_net_load(&st->global, w);
        free(w);
        if (rc) return rc;
    }
    char *w = NULL;
    rc = oiqa_score_find_weights(st->rc.bo.weights ? st->rc.bo.weights : lp->v[P_WEIGHTS], lp->v[P_WEIGHTS_SHA],
                                 "local", o->weights_dir, o->local_weights, &w);
    if (!rc) rc = oiqa_extractor_open_with(st->rc.bo.extractor, w, st->rc.bo.extractor_opts, o->device, &st->local);
    free(w);
    /* The viewports on the same device as the local backbone. */
    if (!rc && st->local.be && st->local.be->device == OIQA_DEVICE_CUDA)
        st->vp_gpu = oiqa_viewports_gpu_open(OIQA_DEVICE_CUDA);
    return rc;
}

/* Every input checked before any output: readable, within the pixel limit,
 * the sizes and aspect both stages accept. */
static int precheck(raw_run *st)
{
    const oiqa_score_raw_opts *o = st->o;
    int rc = OIQA_OK;
    for (int i = 0; i < o->n_names && !rc; i++) {
        char *path = oiqa_path_join(o->root, o->names[i]);
        int w, h;
        rc = oiqa_image_probe(path, st->max_pixels, &w, &h);
        if (!rc && !st->rc.vo.allow_aspect && !oiqa_erp_aspect_ok(w, h))
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "not a 2:1 equirectangular image (%dx%d); the model's viewports "
                           "were made without allow-aspect", w, h);
        if (!rc && st->rc.use_global) rc = oiqa_global_check_image(&st->global, st->rc.go.allow_aspect, path, w, h);
        free(path);
    }
    return rc;
}

static int scratch_alloc(raw_run *st)
{
    size_t vpb = (size_t)st->V * st->S * st->S * 3;
    size_t sumc = 0;
    for (int s = 0; s < st->n_scales; s++) sumc += (size_t)st->C[s];
    st->vp = malloc(vpb), st->rgb = malloc(vpb * sizeof(float));
    st->mean = malloc((size_t)st->V * sumc * sizeof(float)), st->std = malloc((size_t)st->V * sumc * sizeof(float));
    if (st->rc.need_pr) st->rest = malloc(vpb), st->deg = malloc(vpb);
    if (st->rc.use_global) st->resized = malloc((size_t)st->global.H * st->global.W * 3);
    if (!st->vp || !st->rgb || !st->mean || !st->std || (st->rc.need_pr && (!st->rest || !st->deg)) ||
        (st->rc.use_global && !st->resized))
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    return OIQA_OK;
}

/* mean[V,C] and std[V,C] -> dst[V, 2C] (mean || std per viewport), checking finiteness. */
static int put_pair(const float *mean, const float *std, int rows, int C, float *dst, const char *path,
                    const char *what)
{
    for (int v = 0; v < rows; v++)
        for (int c = 0; c < C; c++) {
            float m = mean[(size_t)v * C + c], s = std[(size_t)v * C + c];
            if (!isfinite(m) || !isfinite(s))
                return oiqa_fail(OIQA_EXIT_DATA, path, "the %s features are NaN or Inf: check the weights", what);
            dst[(size_t)v * 2 * C + c] = m, dst[(size_t)v * 2 * C + C + c] = s;
        }
    return OIQA_OK;
}

/* One image into row i of d. */
static int score_image(raw_run *st, const char *name, oiqa_feature_set *d, int i)
{
    const oiqa_score_raw_opts *o = st->o;
    char *path = oiqa_path_join(o->root, name);
    oiqa_image_load_opts lo = {.max_pixels = st->max_pixels};
    oiqa_image erp = {0};
    oiqa_vp_source src;
    memset(&src, 0, sizeof src);
    int rc = oiqa_image_load(path, &lo, &erp);
    if (!rc) rc = oiqa_viewports_prepare_source(&st->rc.vo, path, &erp, &src, !st->vp_gpu);
    if (!rc && (src.V != st->V))
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "%d viewports, the first image had %d", src.V, st->V);
    if (!rc && st->rc.use_global) rc = oiqa_global_resize(&st->global, &src.erp, st->resized);
    if (!rc) rc = oiqa_viewports_image_on(&st->rc.vo, &st->vp_gpu, path, &src, st->vp);
    /* the pseudo-references see the source ERP (detect = erp) before it is freed */
    if (!rc && st->rc.need_pr)
        rc = oiqa_pseudoref_image(&st->rc.po, path, name, st->vp, st->V, st->S, &st->rc.vo, &src, st->rest, st->deg);
    oiqa_vp_source_free(&src);
    oiqa_image_free(&erp);
    const raw_inputs *ri = &st->rc.in;
    const oiqa_feature_input *local = &d->in[ri->li];
    const uint8_t *const made[3] = {st->vp, st->rest, st->deg};
    static const char *const stream_names[3] = {"original", "restored", "degraded"};
    size_t n_in = (size_t)st->V * st->S * st->S * 3;
    for (int s = 0; s < OIQA_METHOD_MAX_STREAMS && !rc; s++) {
        if (ri->stream_of[s] < 0 || !local->x[s][0]) continue;
        const uint8_t *src = made[ri->stream_of[s]];
        for (size_t k = 0; k < n_in; k++) st->rgb[k] = src[k];
        /* every scale from one pass of the network */
        float *mean[OIQA_METHOD_MAX_BLOCKS], *std[OIQA_METHOD_MAX_BLOCKS];
        size_t off = 0;
        for (int k = 0; k < st->n_scales; k++) {
            mean[k] = st->mean + off, std[k] = st->std + off;
            off += (size_t)st->V * st->C[k];
        }
        rc = oiqa_backbone_viewports(&st->local, st->scale_block, st->n_scales, st->rgb, st->V, st->S, st->rc.bo.batch,
                                     0, mean, std, NULL, NULL, NULL, &st->pooled);
        for (int k = 0; k < st->n_scales && !rc; k++) {
            float *dst = local->x[s][k] + (size_t)i * st->V * local->dim[k];
            char what[96];
            snprintf(what, sizeof what, "%s %s", stream_names[ri->stream_of[s]], local->block[k]);
            rc = put_pair(mean[k], std[k], st->V, st->C[k], dst, path, what);
        }
    }
    if (!rc && st->rc.use_global) {
        float *dst = d->in[ri->gi].x[0][0] + (size_t)i * st->G;
        float *mean[OIQA_EXTRACTOR_MAX_BLOCKS], *std[OIQA_EXTRACTOR_MAX_BLOCKS];
        float *buf = malloc((size_t)st->G * sizeof(float));
        if (!buf) rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
        size_t off = 0;
        for (int b = 0; b < st->global.n_blocks && !rc; b++) {
            int cc = st->global.kind->blocks[st->global.blocks[b]].channels;
            mean[b] = buf + off, std[b] = buf + off + cc, off += 2 * (size_t)cc;
        }
        if (!rc) rc = oiqa_global_forward(&st->global, st->resized, 1, 0, mean, std, NULL, NULL, NULL);
        for (int b = 0; b < st->global.n_blocks && !rc; b++) {
            int cc = st->global.kind->blocks[st->global.blocks[b]].channels;
            rc = put_pair(mean[b], std[b], 1, cc, dst, path, st->global.kind->blocks[st->global.blocks[b]].name);
            dst += 2 * cc;
        }
        free(buf);
    }
    free(path);
    return rc;
}

/* The chunk's data arrays (names set by the caller). */
static void data_alloc(raw_run *st, oiqa_feature_set *d, int n)
{
    int V[OIQA_METHOD_MAX_INPUTS] = {0};
    V[st->rc.in.li] = st->V;
    if (st->rc.in.gi >= 0) V[st->rc.in.gi] = 1;
    oiqa_feature_set_alloc(st->tm.m, &st->tm.sel, &st->tm.shape, V, n, d);
}

static int run_chunks(raw_run *st, FILE *f)
{
    const oiqa_score_raw_opts *o = st->o;
    int batch = o->batch > 0 ? o->batch : 16, rc = OIQA_OK;
    oiqa_ag *ag = oiqa_ag_new();
    if (!ag) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    oiqa_score_csv_header(&st->tm, f);
    for (int i0 = 0; i0 < o->n_names && !rc; i0 += batch) {
        int n = o->n_names - i0 < batch ? o->n_names - i0 : batch;
        oiqa_feature_set d;
        data_alloc(st, &d, n);
        for (int i = 0; i < n && !rc; i++) {
            d.names[i] = oiqa_strdup(o->names[i0 + i]);
            double t0 = oiqa_now_seconds();
            rc = score_image(st, o->names[i0 + i], &d, i);
            if (!rc) oiqa_debug("%s: features in %.3f s", o->names[i0 + i], oiqa_now_seconds() - t0);
        }
        oiqa_method_pred p = {0};
        if (!rc) {
            oiqa_feature_norm_apply(&st->tm.norm, &d);
            rc = oiqa_method_predict(ag, st->tm.m, st->tm.model, &d, NULL, d.n, batch, &p);
        }
        if (!rc) {
            oiqa_score_csv_rows(&st->tm, &d, &p, f);
            fflush(f);
            if (ferror(f)) rc = oiqa_fail(OIQA_EXIT_DATA, o->out ? o->out : "stdout", "cannot write: %s",
                                          oiqa_strerror(errno));
        }
        oiqa_method_pred_free(&p);
        oiqa_feature_set_free(&d);
    }
    oiqa_ag_free(ag);
    return rc;
}

int oiqa_score_raw_run(const oiqa_score_raw_opts *o)
{
    if (o->out && !o->force && !access(o->out, F_OK))
        return oiqa_fail(OIQA_EXIT_USAGE, o->out, "exists (use --force to replace it)");
    if (o->n_names < 1) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "no input images");
    raw_run st;
    memset(&st, 0, sizeof st);
    st.o = o;
    int rc = oiqa_train_load(o->model, &st.tm);
    if (rc) return rc;
    if (!(rc = recipe_load(&st.tm, o->model, &st.rc)) && !(rc = setup_networks(&st)) && !(rc = precheck(&st)))
        rc = load_weights(&st);
    if (!rc) rc = scratch_alloc(&st);
    if (!rc) {
        oiqa_info("%s: %d images, %d viewports of %dx%d, %s%s%s", o->model, o->n_names, st.V, st.S, st.S,
                  st.local.kind->name, st.rc.need_pr ? " + pseudo-references" : "",
                  st.rc.use_global ? " + global" : "");
        if (o->out) {
            oiqa_atomic_file a;
            if (!(rc = oiqa_atomic_open(&a, o->out, 1))) {
                rc = run_chunks(&st, a.f);
                if (rc) oiqa_atomic_abort(&a);
                else rc = oiqa_atomic_commit(&a);
            }
        } else {
            rc = run_chunks(&st, stdout);
        }
    }
    raw_free(&st);
    return rc;
}
