/* The viewport stage: see stage/viewports.h. Images are processed in batches
 * of one image per thread: decode in parallel, sample every (image, viewport)
 * pair in parallel, compress rows in parallel, then write rows in order from
 * one thread (the HDF5 library is not thread-safe).
 *
 * With --device cuda (or auto on a machine with a usable GPU) the sampling
 * step runs on the GPU instead (geo/viewports_gpu.h), one image after the
 * other, all its viewports at once; the GPU builds the antialias pyramid
 * itself, so the decode step skips it. The bytes written are those of the
 * CPU up to a rounding tie (max |diff| 1, geo/viewports_gpu.h). If the GPU
 * context cannot be created, or a GPU call fails during the run, the stage
 * says so in one warning and samples on the CPU from there on.
 * Decoding is not overlapped with the GPU work: the batch's images are
 * decoded in parallel on every core, and the GPU's share per image (a copy
 * into pinned memory, the upload and a few kernels, a few ms for a
 * 4096 x 2048 ERP) is small beside its decode (~300 ms of one core for a
 * PNG, bench/README.md). */
#include "stage/viewports.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strutil.h"
#include "base/threads.h"
#include "geo/viewport.h"
#include "geo/viewports_gpu.h"
#include "io/image.h"
#include "io/sheet.h"
#include "stage/features.h"

const char *const oiqa_layout_names[] = {"icosa20", "cube6", "vgcn20", "list", NULL};
const char *const oiqa_filter_names[] = {"bilinear", "bicubic", "antialias", NULL};

#define MIN_ERP_W 8
#define MIN_ERP_H 4

int oiqa_erp_aspect_ok(int w, int h) { return fabs((double)w / h - 2.0) <= 0.02; }

int oiqa_views_from_yaml(const oiqa_yaml_node *list, double default_fov, oiqa_view **views, int *n)
{
    *views = NULL;
    *n = 0;
    if (!list)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "layout list needs centers: a list of {lon, lat, fov} "
                                                "(in the config file, or --set 'centers=[{lon: 0, lat: 0}]')");
    if (list->kind != OIQA_YAML_SEQ || list->n == 0 || list->n > OIQA_VIEWPORTS_MAX)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s:%d: key 'centers': expected a list of 1 to %d {lon, lat, fov}",
                         list->source, list->line, OIQA_VIEWPORTS_MAX);
    static const char *const keys[] = {"lon", "lat", "fov", NULL};
    oiqa_view *v = calloc(list->n, sizeof *v);
    if (!v) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
    for (size_t k = 0; k < list->n; k++) {
        const oiqa_yaml_node *item = list->items[k];
        int rc;
        if (item->kind != OIQA_YAML_MAP) {
            rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s:%d: key 'centers': item %zu is not a {lon, lat, fov} map",
                           item->source, item->line, k);
            goto fail;
        }
        if ((rc = oiqa_yaml_check_keys(item, keys, "centers"))) goto fail;
        const oiqa_yaml_node *lon = oiqa_yaml_get(item, "lon"), *lat = oiqa_yaml_get(item, "lat"),
                             *fov = oiqa_yaml_get(item, "fov");
        if (!lon || !lat) {
            rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "%s:%d: key 'centers': item %zu needs lon and lat",
                           item->source, item->line, k);
            goto fail;
        }
        v[k].fov = default_fov;
        if ((rc = oiqa_yaml_as_double(lon, "lon", &v[k].lon)) || (rc = oiqa_yaml_as_double(lat, "lat", &v[k].lat)) ||
            (fov && (rc = oiqa_yaml_as_double(fov, "fov", &v[k].fov))))
            goto fail;
        if (v[k].lat < -90 || v[k].lat > 90 || v[k].lon < -360 || v[k].lon > 360 || !(v[k].fov > 0 && v[k].fov < 180)) {
            rc = oiqa_fail(OIQA_EXIT_USAGE, NULL,
                           "%s:%d: key 'centers': item %zu out of range (lon in [-360, 360], lat in [-90, 90], "
                           "fov in (0, 180))", item->source, item->line, k);
            goto fail;
        }
        continue;
    fail:
        free(v);
        return rc;
    }
    *views = v;
    *n = (int)list->n;
    return OIQA_OK;
}

/* ---- per-run state ----------------------------------------------------- */

typedef struct {
    char *path;          /* file read */
    const char *name;    /* row name */
    oiqa_vp_source src;
    char sha256[65];
    uint8_t *vp;         /* V*S*S*3 */
    float *centers;      /* V*3 */
    oiqa_encoded_row enc;
    oiqa_error err;
    int failed;
    const struct map_cache *maps; /* fixed layouts: the maps for this ERP size */
} image_job;

/* Maps of a fixed layout for one ERP size. */
typedef struct map_cache {
    int W, H;
    float *uv;  /* V * S*S*2 */
    float *lod; /* V * S*S (antialias) */
} map_cache;

/* A row name as a relative file stem under an output directory: the
 * extension dropped, leading "/" and "./" removed, ".." made harmless. */
static char *output_stem(const char *dir, const char *name, const char *suffix)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, dir);
    oiqa_sbuf_append(&b, "/");
    const char *p = name;
    while (*p == '/' || (p[0] == '.' && p[1] == '/')) p += (*p == '/') ? 1 : 2;
    const char *dot = strrchr(p, '.'), *slash = strrchr(p, '/');
    size_t len = (dot && (!slash || dot > slash)) ? (size_t)(dot - p) : strlen(p);
    for (size_t i = 0; i < len; i++) {
        if (p[i] == '.' && p[i + 1] == '.' && (i == 0 || p[i - 1] == '/')) {
            oiqa_sbuf_append(&b, "__");
            i++;
            continue;
        }
        char c[2] = {p[i], 0};
        oiqa_sbuf_append(&b, c);
    }
    oiqa_sbuf_append(&b, suffix);
    return b.s;
}

static int check_erp_size(const char *path, int w, int h, int allow_aspect)
{
    if (w < MIN_ERP_W || h < MIN_ERP_H)
        return oiqa_fail(OIQA_EXIT_DATA, path, "image too small (%dx%d): an ERP needs at least %dx%d pixels",
                         w, h, MIN_ERP_W, MIN_ERP_H);
    if (!allow_aspect && !oiqa_erp_aspect_ok(w, h))
        return oiqa_fail(OIQA_EXIT_DATA, path,
                         "not a 2:1 equirectangular image (%dx%d); use --allow-aspect to sample it anyway", w, h);
    return OIQA_OK;
}

static int fixed_views(const oiqa_viewports_opts *o, oiqa_view *views)
{
    switch (o->layout) {
    case OIQA_LAYOUT_ICOSA20: return oiqa_layout_icosa20(o->fov, views);
    case OIQA_LAYOUT_CUBE6: return oiqa_layout_cube6(o->fov, views);
    case OIQA_LAYOUT_LIST: memcpy(views, o->list, (size_t)o->n_list * sizeof *views); return o->n_list;
    default: return 20; /* vgcn20: per image */
    }
}

void oiqa_viewports_map(const oiqa_viewports_opts *o, const oiqa_view *v, int W, int H, float *uv, float *lod)
{
    oiqa_view_map(v, o->size, W, H, uv);
    if (lod) oiqa_map_lod(uv, o->size, W, H, lod);
}

void oiqa_viewports_sample(const oiqa_viewports_opts *o, const oiqa_vp_source *src, const float *uv,
                           const float *lod, uint8_t *out)
{
    int64_t n_px = (int64_t)o->size * o->size;
    switch (o->filter) {
    case OIQA_FILTER_BICUBIC: oiqa_sample_bicubic_u8(&src->erp, uv, n_px, out); break;
    case OIQA_FILTER_ANTIALIAS: oiqa_sample_trilinear_u8(&src->pyr, uv, lod, n_px, out); break;
    default: oiqa_sample_bilinear_u8(&src->erp, uv, n_px, out); break;
    }
}

int oiqa_viewports_count(const oiqa_viewports_opts *o)
{
    oiqa_view views[OIQA_VIEWPORTS_MAX];
    return fixed_views(o, views);
}

void oiqa_vp_source_free(oiqa_vp_source *src)
{
    oiqa_image_free(&src->erp);
    if (src->pyr.level) oiqa_pyramid_free(&src->pyr);
    memset(&src->pyr, 0, sizeof src->pyr);
}

int oiqa_viewports_prepare_source(const oiqa_viewports_opts *o, const char *path, oiqa_image *erp,
                                  oiqa_vp_source *src, int build_pyramid)
{
    memset(src, 0, sizeof *src);
    src->erp = *erp;
    memset(erp, 0, sizeof *erp);
    int V = fixed_views(o, src->views);
    if (V <= 0 || V > OIQA_VIEWPORTS_MAX)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "a layout needs 1 to %d viewports, got %d", OIQA_VIEWPORTS_MAX, V);
    src->V = V;
    int rc = check_erp_size(path, src->erp.w, src->erp.h, o->allow_aspect);
    if (!rc && o->layout == OIQA_LAYOUT_VGCN20 &&
        oiqa_layout_vgcn(&src->erp, V, o->fov, o->vgcn_min_sep, src->views) != V) {
        oiqa_fail_prefix("%s: vgcn20 layout", path);
        rc = OIQA_EXIT_DATA;
    }
    if (!rc && build_pyramid && o->filter == OIQA_FILTER_ANTIALIAS)
        rc = oiqa_pyramid_build(&src->erp, OIQA_VP_PYRAMID_LEVELS, &src->pyr);
    return rc;
}

int oiqa_viewports_source_views(const oiqa_viewports_opts *o, oiqa_image *erp, const oiqa_view *views, int V,
                                oiqa_vp_source *src)
{
    memset(src, 0, sizeof *src);
    src->erp = *erp;
    memset(erp, 0, sizeof *erp);
    if (V <= 0 || V > OIQA_VIEWPORTS_MAX)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "a layout needs 1 to %d viewports, got %d", OIQA_VIEWPORTS_MAX, V);
    memcpy(src->views, views, (size_t)V * sizeof *views);
    src->V = V;
    return o->filter == OIQA_FILTER_ANTIALIAS ? oiqa_pyramid_build(&src->erp, OIQA_VP_PYRAMID_LEVELS, &src->pyr)
                                              : OIQA_OK;
}

int oiqa_viewports_prepare(const oiqa_viewports_opts *o, const char *path, oiqa_image *erp, oiqa_vp_source *src)
{
    return oiqa_viewports_prepare_source(o, path, erp, src, 1);
}

int oiqa_viewports_image(const oiqa_viewports_opts *o, const oiqa_vp_source *src, uint8_t *vp)
{
    size_t S2 = (size_t)o->size * o->size;
    int V = src->V, want_lod = o->filter == OIQA_FILTER_ANTIALIAS;
    float *uv = malloc((size_t)V * S2 * 2 * sizeof(float));
    float *lod = want_lod ? malloc((size_t)V * S2 * sizeof(float)) : NULL;
    if (!uv || (want_lod && !lod)) {
        free(uv), free(lod);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for viewport maps");
    }
#pragma omp parallel for schedule(dynamic, 1)
    for (int v = 0; v < V; v++) {
        float *m = uv + v * S2 * 2, *l = want_lod ? lod + v * S2 : NULL;
        oiqa_viewports_map(o, &src->views[v], src->erp.w, src->erp.h, m, l);
        oiqa_viewports_sample(o, src, m, l, vp + v * S2 * 3);
    }
    free(uv), free(lod);
    return OIQA_OK;
}

static int write_pictures(const oiqa_viewports_opts *o, const image_job *j, int V)
{
    size_t vp_bytes = (size_t)o->size * o->size * 3;
    if (o->png_dir) {
        for (int v = 0; v < V; v++) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, "_v%02d.png", v);
            char *p = output_stem(o->png_dir, j->name, suffix);
            int rc = oiqa_mkdir_parent(p);
            if (!rc) rc = oiqa_image_save(p, j->vp + v * vp_bytes, o->size, o->size, 0);
            free(p);
            if (rc) return rc;
        }
    }
    if (o->sheet_dir) {
        oiqa_sheet_tile tiles[OIQA_VIEWPORTS_MAX];
        for (int v = 0; v < V; v++) {
            tiles[v].rgb = j->vp + v * vp_bytes;
            tiles[v].w = tiles[v].h = o->size;
            tiles[v].lon = j->src.views[v].lon;
            tiles[v].lat = j->src.views[v].lat;
            snprintf(tiles[v].label, sizeof tiles[v].label, "#%d %.1f,%.1f", v, j->src.views[v].lon,
                     j->src.views[v].lat);
        }
        char *p = output_stem(o->sheet_dir, j->name, "_sheet.png");
        char title[300];
        snprintf(title, sizeof title, "%.200s  %s %dpx fov %.0f %s", j->name, oiqa_layout_names[o->layout],
                 o->size, o->fov, oiqa_filter_names[o->filter]);
        int rc = oiqa_mkdir_parent(p);
        if (!rc) rc = oiqa_sheet_write(p, title, &j->src.erp, tiles, V, 0);
        free(p);
        if (rc) return rc;
    }
    return OIQA_OK;
}

static void job_release(image_job *j)
{
    oiqa_vp_source_free(&j->src);
    oiqa_encoded_row_free(&j->enc);
    free(j->path);
    j->path = NULL;
}

/* Decodes one image and prepares what its sampling needs (on the GPU: all
 * but the antialias pyramid). */
static void job_load(const oiqa_viewports_opts *o, image_job *j, int V, int on_gpu)
{
    oiqa_image_load_opts lo = {.max_pixels = o->max_pixels};
    oiqa_image erp = {0};
    int rc = oiqa_image_load(j->path, &lo, &erp);
    if (!rc) rc = oiqa_viewports_prepare_source(o, j->path, &erp, &j->src, !on_gpu);
    oiqa_image_free(&erp);
    memcpy(j->sha256, lo.sha256, sizeof j->sha256);
    for (int v = 0; v < V; v++) {
        j->centers[v * 3 + 0] = (float)j->src.views[v].lon;
        j->centers[v * 3 + 1] = (float)j->src.views[v].lat;
        j->centers[v * 3 + 2] = (float)j->src.views[v].fov;
    }
    if (rc) {
        oiqa_error_capture(&j->err, rc);
        j->failed = 1;
    }
}

/* Checks every input before anything is written, so a missing or malformed
 * file is reported without leaving output behind. */
static int precheck_inputs(const oiqa_viewports_opts *o, char *const *names, int n)
{
    int rc = oiqa_check_unique_names(names, n);
    if (rc) return rc;
    for (int i = 0; i < n; i++) {
        char *path = oiqa_path_join(o->root, names[i]);
        int w, h;
        rc = oiqa_image_probe(path, o->max_pixels, &w, &h);
        if (!rc) rc = check_erp_size(path, w, h, o->allow_aspect);
        free(path);
        if (rc) return rc;
    }
    return OIQA_OK;
}

static int define_datasets(const oiqa_viewports_opts *o, oiqa_store *s, int V, const oiqa_view *views)
{
    uint64_t vp_dims[4] = {(uint64_t)V, (uint64_t)o->size, (uint64_t)o->size, 3};
    int rc = oiqa_store_define(s, "/viewports", OIQA_U8, 4, vp_dims, o->deflate);
    if (rc) return rc;
    if (o->layout == OIQA_LAYOUT_VGCN20) {
        uint64_t c_dims[2] = {(uint64_t)V, 3};
        rc = oiqa_store_define(s, "/centers", OIQA_F32, 2, c_dims, 0);
    } else {
        float c[OIQA_VIEWPORTS_MAX * 3];
        for (int v = 0; v < V; v++) {
            c[v * 3] = (float)views[v].lon, c[v * 3 + 1] = (float)views[v].lat, c[v * 3 + 2] = (float)views[v].fov;
        }
        uint64_t c_dims[2] = {(uint64_t)V, 3};
        rc = oiqa_store_write_fixed(s, "/centers", OIQA_F32, 2, c_dims, c);
    }
    if (rc) return rc;
    if ((rc = oiqa_store_set_attr_string(s, "/viewports", "layout", oiqa_layout_names[o->layout])) ||
        (rc = oiqa_store_set_attr_int(s, "/viewports", "size", o->size)) ||
        (rc = oiqa_store_set_attr_double(s, "/viewports", "fov_deg", o->fov)) ||
        (rc = oiqa_store_set_attr_string(s, "/viewports", "filter", oiqa_filter_names[o->filter])) ||
        (rc = oiqa_store_set_attr_string(s, "/viewports", "layout_axes", "N,V,S,S,RGB")) ||
        (rc = oiqa_store_set_attr_string(s, "/centers", "columns", "lon_deg,lat_deg,fov_deg")))
        return rc;
    return OIQA_OK;
}

/* Points every job at the maps for its ERP size, building the missing ones
 * in entries no job of this batch uses (there are as many entries as jobs). */
static int assign_maps(const oiqa_viewports_opts *o, const oiqa_view *views, int V, map_cache *caches, int n_caches,
                       image_job *jobs, int nb, const char *out)
{
    size_t S2 = (size_t)o->size * o->size;
    int want_lod = o->filter == OIQA_FILTER_ANTIALIAS;
    unsigned char used[256] = {0};
    for (int b = 0; b < nb; b++) {
        int W = jobs[b].src.erp.w, H = jobs[b].src.erp.h, hit = -1;
        for (int c = 0; c < n_caches && hit < 0; c++)
            if (caches[c].uv && caches[c].W == W && caches[c].H == H) hit = c;
        if (hit < 0) {
            for (int c = 0; c < n_caches && hit < 0; c++)
                if (!used[c]) hit = c;
            map_cache *m = &caches[hit];
            free(m->uv), free(m->lod);
            m->W = W, m->H = H;
            m->uv = malloc((size_t)V * S2 * 2 * sizeof(float));
            m->lod = want_lod ? malloc((size_t)V * S2 * sizeof(float)) : NULL;
            if (!m->uv || (want_lod && !m->lod)) {
                free(m->uv), free(m->lod);
                m->uv = m->lod = NULL;
                return oiqa_fail(OIQA_EXIT_DATA, out, "out of memory for viewport maps");
            }
#pragma omp parallel for schedule(dynamic, 1)
            for (int v = 0; v < V; v++)
                oiqa_viewports_map(o, &views[v], W, H, m->uv + v * S2 * 2, want_lod ? m->lod + v * S2 : NULL);
        }
        used[hit] = 1;
        jobs[b].maps = &caches[hit];
    }
    return OIQA_OK;
}

oiqa_vp_gpu *oiqa_viewports_gpu_open(oiqa_device device)
{
    if (oiqa_device_resolve(device) != OIQA_DEVICE_CUDA) return NULL;
    oiqa_vp_gpu *g = NULL;
    if (oiqa_vp_gpu_create(&g)) {
        oiqa_warn("%s; sampling viewports on the CPU", oiqa_errmsg());
        return NULL;
    }
    return g;
}

/* A GPU sampling failure: one warning naming the image, the context
 * destroyed, the CPU from here on. */
static void gpu_failed(const char *path, oiqa_vp_gpu **gpu)
{
    oiqa_warn("%s: %s; sampling viewports on the CPU from here on", path, oiqa_errmsg());
    oiqa_vp_gpu_destroy(*gpu);
    *gpu = NULL;
}

int oiqa_viewports_image_on(const oiqa_viewports_opts *o, oiqa_vp_gpu **gpu, const char *path, oiqa_vp_source *src,
                            uint8_t *vp)
{
    if (*gpu) {
        if (!oiqa_vp_gpu_sample(*gpu, &src->erp, src->views, src->V, o->size, o->filter, vp)) return OIQA_OK;
        gpu_failed(path, gpu);
        /* prepare left the antialias pyramid to the GPU */
        if (o->filter == OIQA_FILTER_ANTIALIAS && !src->pyr.levels) {
            int rc = oiqa_pyramid_build(&src->erp, OIQA_VP_PYRAMID_LEVELS, &src->pyr);
            if (rc) return rc;
        }
    }
    return oiqa_viewports_image(o, src, vp);
}

/* The GPU context of a run, or NULL for the CPU: --device resolved once
 * (nn/device.h: the fallback line), then the context created and announced;
 * a failure there is one warning and the CPU. */
static oiqa_vp_gpu *gpu_for_run(const oiqa_viewports_opts *o)
{
    oiqa_vp_gpu *g = oiqa_viewports_gpu_open(o->device);
    if (g) oiqa_device_announce();
    return g;
}

/* Samples jobs [0, nb) on the GPU while it works. Returns the first job left
 * to the CPU: nb when all went through; on a GPU failure, one warning, the
 * context destroyed (*gpu = NULL) and that job's index. */
static int sample_on_gpu(const oiqa_viewports_opts *o, oiqa_vp_gpu **gpu, image_job *jobs, int nb, int V)
{
    for (int b = 0; b < nb; b++) {
        image_job *j = &jobs[b];
        if (oiqa_vp_gpu_sample(*gpu, &j->src.erp, j->src.views, V, o->size, o->filter, j->vp)) {
            gpu_failed(j->path, gpu);
            return b;
        }
    }
    return nb;
}

/* Testing hook: OIQA_FAULT_KILL_AFTER_ROWS=N kills the process with SIGKILL
 * after N rows are committed, to test --resume on a really killed run. */
static long fault_kill_after(void)
{
    const char *e = getenv("OIQA_FAULT_KILL_AFTER_ROWS");
    return e && *e ? strtol(e, NULL, 10) : -1;
}

int oiqa_viewports_run(const oiqa_viewports_opts *o, char *const *names, int n_names, const char *out,
                       const oiqa_provenance *prov)
{
    oiqa_view views[OIQA_VIEWPORTS_MAX];
    int V = fixed_views(o, views);
    if (V <= 0 || V > OIQA_VIEWPORTS_MAX)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "a layout needs 1 to %d viewports, got %d", OIQA_VIEWPORTS_MAX, V);

    int rc = precheck_inputs(o, names, n_names);
    if (rc) return rc;
    /* The device is resolved (and announced) at the first sampling, so that
     * a run failing before it (a bad first image, an existing output) still
     * prints its error alone. Until then, whether a GPU would be used (a
     * silent probe) decides if decoding builds the antialias pyramid. */
    oiqa_vp_gpu *gpu = NULL;
    int device_resolved = 0;
    const int gpu_likely = o->device != OIQA_DEVICE_CPU && oiqa_cuda_usable(NULL, 0);

    oiqa_store *store = NULL;
    rc = oiqa_store_open_write(out, prov, o->resume ? OIQA_STORE_RESUME : OIQA_STORE_CREATE, o->force, &store);
    if (rc) return rc;
    if ((rc = define_datasets(o, store, V, views))) goto abandon;

    int threads = oiqa_threads_get();
    int batch = threads < 1 ? 1 : threads > 64 ? 64 : threads; /* images decoded at once */
    size_t S2 = (size_t)o->size * o->size, vp_bytes = S2 * 3;
    int is_vgcn = o->layout == OIQA_LAYOUT_VGCN20, want_lod = o->filter == OIQA_FILTER_ANTIALIAS;
    image_job *jobs = calloc((size_t)batch, sizeof *jobs);
    map_cache *caches = calloc((size_t)batch, sizeof *caches);
    float *vgcn_uv = NULL, *vgcn_lod = NULL; /* per (job, view) maps for vgcn20 */
    for (int b = 0; b < batch && jobs && caches; b++) {
        jobs[b].vp = malloc(V * vp_bytes);
        jobs[b].centers = malloc((size_t)V * 3 * sizeof(float));
        if (!jobs[b].vp || !jobs[b].centers) { rc = oiqa_fail(OIQA_EXIT_DATA, out, "out of memory"); goto cleanup; }
    }
    if (!jobs || !caches) { rc = oiqa_fail(OIQA_EXIT_DATA, out, "out of memory"); goto cleanup; }
    if (is_vgcn) {
        vgcn_uv = malloc((size_t)batch * V * S2 * 2 * sizeof(float));
        vgcn_lod = want_lod ? malloc((size_t)batch * V * S2 * sizeof(float)) : NULL;
        if (!vgcn_uv || (want_lod && !vgcn_lod)) { rc = oiqa_fail(OIQA_EXIT_DATA, out, "out of memory"); goto cleanup; }
    }

    int64_t todo = 0;
    for (int i = 0; i < n_names; i++) todo += !oiqa_store_has_name(store, names[i]);
    if (todo < n_names)
        oiqa_info("resuming %s.partial: %lld of %d images already done", out, (long long)(n_names - todo), n_names);
    oiqa_progress *prog = oiqa_progress_start("viewports", "img", todo);
    long kill_after = fault_kill_after(), committed = 0;

    int next = 0;
    while (next < n_names) {
        /* Gather the next batch of names not yet in the store. */
        int nb = 0;
        while (nb < batch && next < n_names) {
            const char *name = names[next++];
            if (oiqa_store_has_name(store, name)) continue;
            image_job *j = &jobs[nb++];
            j->name = name;
            j->path = oiqa_path_join(o->root, name);
            j->failed = 0;
        }
        if (nb == 0) break;

        const int on_gpu = device_resolved ? gpu != NULL : gpu_likely;
#pragma omp parallel for schedule(dynamic, 1)
        for (int b = 0; b < nb; b++) job_load(o, &jobs[b], V, on_gpu);

        int first_failed = -1;
        for (int b = 0; b < nb && first_failed < 0; b++)
            if (jobs[b].failed) first_failed = b;
        if (first_failed >= 0) {
            rc = oiqa_error_restore(&jobs[first_failed].err);
            goto end_batch;
        }

        if (!device_resolved) {
            gpu = gpu_for_run(o);
            device_resolved = 1;
        }
        /* The GPU samples what it can; jobs [cpu_from, nb) are the CPU's. */
        const int cpu_from = gpu ? sample_on_gpu(o, &gpu, jobs, nb, V) : 0;
        if (cpu_from < nb && on_gpu && want_lod) { /* no GPU after all: the pyramids decoding skipped */
            int first_bad = -1;
#pragma omp parallel for schedule(dynamic, 1)
            for (int b = cpu_from; b < nb; b++)
                if (oiqa_pyramid_build(&jobs[b].src.erp, OIQA_VP_PYRAMID_LEVELS, &jobs[b].src.pyr)) {
                    oiqa_error_capture(&jobs[b].err, OIQA_EXIT_DATA);
                    jobs[b].failed = 1;
                }
            for (int b = cpu_from; b < nb && first_bad < 0; b++)
                if (jobs[b].failed) first_bad = b;
            if (first_bad >= 0) {
                rc = oiqa_error_restore(&jobs[first_bad].err);
                goto end_batch;
            }
        }

        /* Maps of fixed layouts depend only on the ERP size: one cache entry
         * per distinct size in the batch, kept across batches. */
        if (cpu_from < nb && !is_vgcn &&
            (rc = assign_maps(o, views, V, caches, batch, jobs + cpu_from, nb - cpu_from, out)))
            goto end_batch;

#pragma omp parallel for collapse(2) schedule(dynamic, 1)
        for (int b = cpu_from; b < nb; b++)
            for (int v = 0; v < V; v++) {
                image_job *j = &jobs[b];
                const float *uv, *lod = NULL;
                if (is_vgcn) {
                    float *m = vgcn_uv + ((size_t)b * V + v) * S2 * 2;
                    float *l = want_lod ? vgcn_lod + ((size_t)b * V + v) * S2 : NULL;
                    oiqa_viewports_map(o, &j->src.views[v], j->src.erp.w, j->src.erp.h, m, l);
                    uv = m, lod = l;
                } else {
                    uv = j->maps->uv + v * S2 * 2;
                    lod = want_lod ? j->maps->lod + v * S2 : NULL;
                }
                oiqa_viewports_sample(o, &j->src, uv, lod, j->vp + v * vp_bytes);
            }

#pragma omp parallel for schedule(dynamic, 1)
        for (int b = 0; b < nb; b++) {
            image_job *j = &jobs[b];
            const void *rows[2] = {j->vp, j->centers};
            int e = oiqa_store_encode(store, rows, &j->enc);
            if (!e && (o->png_dir || o->sheet_dir)) e = write_pictures(o, j, V);
            if (e) { oiqa_error_capture(&j->err, e); j->failed = 1; }
        }
        for (int b = 0; b < nb && !rc; b++) {
            image_job *j = &jobs[b];
            if (j->failed) { rc = oiqa_error_restore(&j->err); break; }
            rc = oiqa_store_append_encoded(store, j->name, j->path, j->sha256, &j->enc);
            if (rc) break;
            oiqa_progress_add(prog, 1);
            if (kill_after >= 0 && ++committed >= kill_after) raise(SIGKILL);
        }
    end_batch:
        for (int b = 0; b < batch; b++) job_release(&jobs[b]);
        if (rc) break;
    }
    if (rc) oiqa_progress_cancel(prog);
    else oiqa_progress_end(prog);

cleanup:
    for (int b = 0; jobs && b < batch; b++) {
        job_release(&jobs[b]);
        free(jobs[b].vp), free(jobs[b].centers);
    }
    free(jobs);
    for (int c = 0; caches && c < batch; c++) free(caches[c].uv), free(caches[c].lod);
    free(caches), free(vgcn_uv), free(vgcn_lod);
abandon:
    oiqa_vp_gpu_destroy(gpu);
    return oiqa_stage_close(store, rc, out);
}
