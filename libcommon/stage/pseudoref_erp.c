/* The source ERP of the pseudo-reference stage (detect = erp): finding and
 * checking every row's source image before anything is written, recovering
 * the viewports' geometry from viewports.h5, and the per-image ERP step
 * (detection on the ERP, restoration on the ERP, the restored viewports
 * cut with the viewports' geometry). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/error.h"
#include "base/sha256.h"
#include "base/strutil.h"
#include "io/image.h"
#include "iqa/restore.h"
#include "stage/features.h"
#include "stage/pseudoref_internal.h"

const char *const pr_measure_names = "jpeg_quality,blockiness,noise_sigma,blur_width,chroma_pairs,chroma_pattern,"
                                     "wavelet_lattice,detail_decay,crop_width,crop_height";

void pr_measures(const oiqa_detection *d, float *m)
{
    const double v[PR_N_MEASURES] = {d->quality,        d->blockiness,     d->noise_sigma,     d->blur_sigma,
                                     d->chroma_pairs,   d->chroma_pattern, d->wavelet_lattice, d->detail_decay,
                                     d->crop_w,         d->crop_h};
    for (int k = 0; k < PR_N_MEASURES; k++) m[k] = (float)v[k];
}

void pr_erp_free(pr_erp *e)
{
    free(e->rest_vp);
    e->rest_vp = NULL;
}

/* Viewports of an ERP (a copy of erp, with the views of src) into vp. */
static int cut(const oiqa_viewports_opts *vo, const oiqa_image *erp, const oiqa_vp_source *src, uint8_t *vp)
{
    oiqa_image copy = {erp->w, erp->h, malloc((size_t)erp->w * erp->h * 3)};
    if (!copy.rgb) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for a %dx%d ERP", erp->w, erp->h);
    memcpy(copy.rgb, erp->rgb, (size_t)erp->w * erp->h * 3);
    oiqa_vp_source s;
    int rc = oiqa_viewports_source_views(vo, &copy, src->views, src->V, &s);
    if (!rc) rc = oiqa_viewports_image(vo, &s, vp);
    oiqa_vp_source_free(&s);
    return rc;
}

int pr_erp_prepare(const oiqa_pseudoref_opts *o, const char *what, const oiqa_viewports_opts *vo,
                   const oiqa_vp_source *src, const uint8_t *vp, int V, int S, pr_erp *out)
{
    memset(out, 0, sizeof *out);
    int rc = oiqa_detect_erp(src->erp.rgb, src->erp.w, src->erp.h, &out->det);
    if (rc) {
        oiqa_fail_prefix("%s", what);
        return rc;
    }
    if (o->restore != OIQA_PR_RESTORE_AUTO || o->restore_on != OIQA_PR_ON_ERP ||
        !oiqa_restore_is_grid_family(out->det.family))
        return OIQA_OK;
    if (src->V != V || vo->size != S)
        return oiqa_fail(OIQA_EXIT_DATA, what, "%d viewports of %d px from the geometry, the file has %d of %d", src->V,
                         vo->size, V, S);
    size_t n = (size_t)V * S * S * 3, erp_bytes = (size_t)src->erp.w * src->erp.h * 3;
    uint8_t *ve = malloc(n), *vr = malloc(n);
    oiqa_image restored = {src->erp.w, src->erp.h, malloc(erp_bytes)};
    if (!ve || !vr || !restored.rgb) rc = oiqa_fail(OIQA_EXIT_DATA, what, "out of memory for restoring its ERP");
    if (!rc) rc = cut(vo, &src->erp, src, ve);
    /* The ERP and geometry must give back the stored viewports (up to the
     * GPU sampler's rounding ties, geo/viewports_gpu.h). */
    size_t off = 0;
    int worst = 0;
    for (size_t k = 0; k < n && !rc; k++) {
        int d = abs((int)ve[k] - (int)vp[k]);
        off += d > 1, worst = d > worst ? d : worst;
    }
    if (!rc && (worst > 8 || off > n / 1000))
        rc = oiqa_fail(OIQA_EXIT_DATA, what, "its viewports cannot be cut again from the source image (%zu bytes "
                       "differ, by up to %d): the image or the geometry is not the one the viewports came from; use "
                       "--detect viewport", off, worst);
    if (!rc) rc = oiqa_restore_grid(src->erp.rgb, src->erp.w, src->erp.h, &out->det, restored.rgb);
    if (!rc) rc = cut(vo, &restored, src, vr);
    if (!rc) {
        for (size_t k = 0; k < n; k++) {
            int v = (int)vp[k] + (int)vr[k] - (int)ve[k];
            vr[k] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
        out->rest_vp = vr, vr = NULL;
    }
    free(ve), free(vr), free(restored.rgb);
    if (rc) oiqa_fail_prefix("%s", what);
    return rc;
}

/* ---- the stage's sources ----------------------------------------------- */

static int parse_filter(const char *name, oiqa_filter *f)
{
    for (int k = 0; oiqa_filter_names[k]; k++)
        if (name && !strcmp(name, oiqa_filter_names[k])) {
            *f = (oiqa_filter)k;
            return 1;
        }
    return 0;
}

/* The geometry: size, fov, filter from /viewports, the views from /centers. */
static int read_geometry(pr_run *st)
{
    const char *p = st->vp_path;
    if (st->V > OIQA_VIEWPORTS_MAX)
        return oiqa_fail(OIQA_EXIT_DATA, p, "/viewports holds %d viewports per image, more than the %d the ERP path "
                         "re-cuts (oiqa-viewports writes at most that); use --detect viewport", st->V,
                         OIQA_VIEWPORTS_MAX);
    char *filter = oiqa_store_reader_attr_string(st->vp, "/viewports", "filter");
    double fov = 0;
    int ok = parse_filter(filter, &st->vo.filter) &&
             oiqa_store_reader_attr_double(st->vp, "/viewports", "fov_deg", &fov) == OIQA_OK;
    free(filter);
    if (!ok) return oiqa_fail(OIQA_EXIT_DATA, p, "/viewports lacks its filter or fov_deg attribute (not written by "
                              "oiqa-viewports?); use --detect viewport");
    st->vo.layout = OIQA_LAYOUT_LIST, st->vo.size = st->S, st->vo.fov = fov, st->vo.allow_aspect = 1;
    st->vo.max_pixels = 0;
    oiqa_dtype t;
    int nd;
    uint64_t d[OIQA_MAX_DIMS];
    if (oiqa_store_reader_shape(st->vp, "/centers", &t, &nd, d))
        return oiqa_fail(OIQA_EXIT_DATA, p, "no /centers dataset: the viewports' geometry is unknown; use --detect "
                         "viewport");
    int64_t N = oiqa_store_reader_rows(st->vp);
    if (nd == 2 && d[0] == (uint64_t)st->V && d[1] == 3) {
        float c[OIQA_VIEWPORTS_MAX * 3];
        int rc = oiqa_store_reader_read_all(st->vp, "/centers", OIQA_F32, c);
        if (rc) return rc;
        for (int v = 0; v < st->V; v++)
            st->fixed_views[v] = (oiqa_view){c[3 * v], c[3 * v + 1], c[3 * v + 2]};
    } else if (nd == 3 && d[0] == (uint64_t)N && d[1] == (uint64_t)st->V && d[2] == 3) {
        st->row_centers = malloc((size_t)N * st->V * 3 * sizeof(float));
        if (!st->row_centers) return oiqa_fail(OIQA_EXIT_DATA, p, "out of memory");
        int rc = oiqa_store_reader_read_all(st->vp, "/centers", OIQA_F32, st->row_centers);
        if (rc) return rc;
    } else {
        return oiqa_fail(OIQA_EXIT_DATA, p, "/centers is not [V,3] or [N,V,3] for its %d viewports", st->V);
    }
    return OIQA_OK;
}

int pr_sources_open(pr_run *st)
{
    int rc = read_geometry(st);
    if (rc) return rc;
    const char *p = st->vp_path;
    int64_t n_paths = 0, n_shas = 0;
    char **paths = NULL;
    rc = oiqa_store_reader_strings(st->vp, "/input_path", &paths, &n_paths);
    if (!rc) rc = oiqa_store_reader_strings(st->vp, "/input_sha256", &st->src_sha, &n_shas);
    int64_t N = oiqa_store_reader_rows(st->vp);
    if (!rc && (n_paths != N || n_shas != N))
        rc = oiqa_fail(OIQA_EXIT_DATA, p, "/input_path or /input_sha256 has not one entry per row");
    if (!rc) {
        st->src_path = calloc((size_t)N, sizeof *st->src_path);
        st->n_src = N;
        if (!st->src_path) rc = oiqa_fail(OIQA_EXIT_DATA, p, "out of memory");
    }
    for (int64_t i = 0; i < N && !rc; i++) {
        const char *name = oiqa_store_reader_name(st->vp, i);
        st->src_path[i] = st->o->erp_root ? oiqa_path_join(st->o->erp_root, name) : oiqa_strdup(paths[i]);
        struct stat sb;
        if (stat(st->src_path[i], &sb) != 0 || !S_ISREG(sb.st_mode))
            rc = oiqa_fail(OIQA_EXIT_DATA, st->src_path[i], "the source image of row '%s' of %s is missing (moved? give "
                           "--erp-root DIR, the folder its names are relative to; or --detect viewport)", name, p);
    }
    oiqa_store_strings_free(paths, n_paths);
    /* every sha256, in parallel (the files are read in full) */
    oiqa_error err = {0};
    int failed = 0;
#pragma omp parallel for schedule(dynamic, 1) if (!rc)
    for (int64_t i = 0; i < (rc ? 0 : N); i++) {
        char have[65];
        int e = oiqa_sha256_file(st->src_path[i], have);
        if (!e && strcmp(have, st->src_sha[i]))
            e = oiqa_fail(OIQA_EXIT_DATA, st->src_path[i], "sha256 %.12s... differs from the %.12s... %s recorded for "
                          "row '%s' (the image changed after its viewports were cut: cut them again, or use --detect "
                          "viewport)", have, st->src_sha[i], p, oiqa_store_reader_name(st->vp, i));
        if (e) {
#pragma omp critical(pseudoref_sources)
            if (!failed) oiqa_error_capture(&err, e), failed = 1;
        }
    }
    if (!rc && failed) rc = oiqa_error_restore(&err);
    return rc;
}

void pr_sources_free(pr_run *st)
{
    for (int64_t i = 0; st->src_path && i < st->n_src; i++) free(st->src_path[i]);
    free(st->src_path);
    if (st->src_sha) oiqa_store_strings_free(st->src_sha, st->n_src);
    free(st->row_centers);
    st->src_path = st->src_sha = NULL, st->row_centers = NULL;
}

int pr_job_erp(const pr_run *st, pr_job *j)
{
    const char *path = st->src_path[j->row];
    oiqa_viewports_opts vo = st->vo;
    oiqa_view views[OIQA_VIEWPORTS_MAX];
    if (st->row_centers) {
        const float *c = st->row_centers + (size_t)j->row * st->V * 3;
        for (int v = 0; v < st->V; v++) views[v] = (oiqa_view){c[3 * v], c[3 * v + 1], c[3 * v + 2]};
    } else {
        memcpy(views, st->fixed_views, (size_t)st->V * sizeof *views);
    }
    vo.list = views, vo.n_list = st->V;
    oiqa_image_load_opts lo = {.max_pixels = 0};
    oiqa_image erp = {0};
    int rc = oiqa_image_load(path, &lo, &erp);
    if (!rc && strcmp(lo.sha256, st->src_sha[j->row]))
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "changed while the stage ran (sha256 differs from the one checked)");
    oiqa_vp_source src;
    memset(&src, 0, sizeof src);
    oiqa_viewports_opts plain = vo; /* the source needs no pyramid: cut() builds its own */
    plain.filter = OIQA_FILTER_BILINEAR;
    if (!rc) rc = oiqa_viewports_source_views(&plain, &erp, views, st->V, &src);
    oiqa_image_free(&erp);
    if (!rc) rc = pr_erp_prepare(st->o, path, &vo, &src, j->vp, st->V, st->S, &j->erp);
    oiqa_vp_source_free(&src);
    if (!rc) {
        j->erp_det[0] = j->erp.det.family, j->erp_det[1] = j->erp.det.level;
        j->erp_strength = (float)j->erp.det.strength;
        pr_measures(&j->erp.det, j->erp_measures);
    }
    return rc;
}
