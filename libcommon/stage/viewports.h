/* The viewport stage (oiqa-viewports): ERP images -> viewports.h5.
 * For each image: V gnomonic viewports of S x S (geo/viewport.h) at the
 * layout's centres, sampled with the chosen filter (geo/sample.h), stored as
 * /viewports uint8 [N,V,S,S,3] with /centers (lon, lat, fov) in degrees:
 * [V,3] for fixed layouts, [N,V,3] for the content-adaptive vgcn20. */
#ifndef OIQA_STAGE_VIEWPORTS_H
#define OIQA_STAGE_VIEWPORTS_H

#include <stdint.h>
#include "geo/layout.h"
#include "geo/sample.h"
#include "geo/viewports_gpu.h"
#include "io/h5store.h"
#include "nn/device.h"
#include "base/yaml.h"

typedef struct {
    oiqa_layout_kind layout;
    int size;              /* S */
    double fov;            /* degrees; default FoV of list entries without one */
    oiqa_filter filter;
    const oiqa_view *list; /* LIST layout */
    int n_list;
    double vgcn_min_sep;   /* degrees */
    int allow_aspect;      /* accept ERPs that are not 2:1 */
    int64_t max_pixels;
    int deflate;           /* 0..9 */
    const char *root;      /* dataset root; NULL: names are paths */
    const char *png_dir;   /* NULL or a directory for every viewport as PNG */
    const char *sheet_dir; /* NULL or a directory for one contact sheet per image */
    int force, resume;
    oiqa_device device;    /* where to sample (nn/device.h); resolved by the stage */
} oiqa_viewports_opts;

extern const char *const oiqa_layout_names[];  /* "icosa20", "cube6", "vgcn20", "list", NULL */
extern const char *const oiqa_filter_names[];  /* "bilinear", "bicubic", "antialias", NULL */

/* Reads a YAML list of {lon, lat, fov} (fov optional: default_fov) into a
 * malloc'ed array; errors name the source line and key. */
int oiqa_views_from_yaml(const oiqa_yaml_node *list, double default_fov, oiqa_view **views, int *n);

/* Runs the stage over `names` and writes `out` (via out.partial). */
int oiqa_viewports_run(const oiqa_viewports_opts *o, char *const *names, int n_names, const char *out,
                       const oiqa_provenance *prov);

/* ---- one image in memory (the stage's per-image steps; oiqa-score's raw
 * mode runs them without a file) ---- */

/* The most viewports per image a layout may have (fixed arrays size by it). */
#define OIQA_VIEWPORTS_MAX 64

/* A decoded ERP with its views placed and what its filter needs. */
typedef struct {
    oiqa_image erp;
    oiqa_pyramid pyr;   /* antialias only */
    oiqa_view views[OIQA_VIEWPORTS_MAX];
    int V;
} oiqa_vp_source;

/* The number of viewports of the layout (vgcn20: 20). */
int oiqa_viewports_count(const oiqa_viewports_opts *o);
/* Takes the decoded erp (moved into src: freed by oiqa_vp_source_free, also
 * on failure), checks its size and aspect, places the layout's views
 * (vgcn20: from this image's content) and builds the antialias pyramid.
 * path names the image in errors. */
int oiqa_viewports_prepare(const oiqa_viewports_opts *o, const char *path, oiqa_image *erp, oiqa_vp_source *src);
/* The same; build_pyramid 0 leaves the antialias pyramid out, for sampling
 * on the GPU (geo/viewports_gpu.h builds its own); a CPU fallback then
 * builds it with oiqa_pyramid_build(&src->erp, OIQA_VP_PYRAMID_LEVELS, ...). */
int oiqa_viewports_prepare_source(const oiqa_viewports_opts *o, const char *path, oiqa_image *erp,
                                  oiqa_vp_source *src, int build_pyramid);
void oiqa_vp_source_free(oiqa_vp_source *src);
/* A source from a decoded erp (moved into src) and given views (those of
 * another source of the same geometry, e.g. the ERP before restoration):
 * no layout is placed, the antialias pyramid is built when o->filter
 * needs it. */
int oiqa_viewports_source_views(const oiqa_viewports_opts *o, oiqa_image *erp, const oiqa_view *views, int V,
                                oiqa_vp_source *src);
/* The sampling map of view v for a W x H ERP: uv (S*S*2) and, for the
 * antialias filter, lod (S*S; NULL otherwise). */
void oiqa_viewports_map(const oiqa_viewports_opts *o, const oiqa_view *v, int W, int H, float *uv, float *lod);
/* Samples one viewport of src with its map into out (S*S*3). */
void oiqa_viewports_sample(const oiqa_viewports_opts *o, const oiqa_vp_source *src, const float *uv,
                           const float *lod, uint8_t *out);
/* Every viewport of a prepared source into vp (V*S*S*3), the views in
 * parallel: the same bytes as the stage writes in /viewports. */
int oiqa_viewports_image(const oiqa_viewports_opts *o, const oiqa_vp_source *src, uint8_t *vp);

/* ---- the GPU (geo/viewports_gpu.h), with the CPU fallback every caller shares ---- */
/* The GPU context for sampling on `device` (resolved here: nn/device.h's
 * fallback line), NULL for the CPU; a context that cannot be made is one
 * warning and NULL. */
oiqa_vp_gpu *oiqa_viewports_gpu_open(oiqa_device device);
/* oiqa_viewports_image on *gpu when there is one (src prepared without the
 * pyramid is fine); a GPU failure is one warning naming path, the context
 * destroyed (*gpu = NULL), the pyramid built if the filter needs it, and the
 * CPU samples this image and, through *gpu, the rest. */
int oiqa_viewports_image_on(const oiqa_viewports_opts *o, oiqa_vp_gpu **gpu, const char *path, oiqa_vp_source *src,
                            uint8_t *vp);

/* Whether an ERP of w x h is 2:1 within 1% (the tolerance for rounding in exports). */
int oiqa_erp_aspect_ok(int w, int h);

#endif
