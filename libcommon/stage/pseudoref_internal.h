/* Pieces shared by the files of the pseudo-reference stage: pseudoref.c (the
 * run), pseudoref_view.c (one viewport, one image), pseudoref_erp.c (the
 * source ERP) and pseudoref_output.c (attributes and pictures); not part of
 * the public API. */
#ifndef OIQA_STAGE_PSEUDOREF_INTERNAL_H
#define OIQA_STAGE_PSEUDOREF_INTERNAL_H

#include <stdint.h>

#include "base/error.h"
#include "io/h5store.h"
#include "iqa/detect.h"
#include "stage/pseudoref.h"
#include "stage/viewports.h"

/* degrade-level auto with an explicit family: the middle of the table */
#define OIQA_PR_DEFAULT_LEVEL 3
/* /erp_measures columns */
#define PR_N_MEASURES 10

/* The ERP side of one image (detect = erp). */
typedef struct {
    oiqa_detection det; /* the image's detection */
    uint8_t *rest_vp;   /* V*S*S*3: restored viewports cut from the restored ERP, or NULL (restored per viewport) */
} pr_erp;

/* The restore / degrade decisions of the options. */
int pr_needs_detection(const oiqa_pseudoref_opts *o);
/* Whether the options need each image's source ERP. */
int pr_needs_erp(const oiqa_pseudoref_opts *o);

/* Viewport v (S x S RGB `in`) of the row `name`: restored and degraded (S*S*3
 * each); det (family, level) and *strength of the detection it used (family
 * -1 when none), applied (family, level) of the degradation. erp: the
 * image's ERP side (detect = erp), else NULL. A video family's degradation
 * is left to pr_video_degrade (applied is set, d is not written). */
int pr_view(const oiqa_pseudoref_opts *o, const char *name, int v, const uint8_t *in, int S, const pr_erp *erp,
            uint8_t *r, uint8_t *d, int32_t det[2], int32_t applied[2], float *strength);
/* The video degradations of one image (the viewports whose applied family
 * is h264 or hevc), one ffmpeg call per (family, level); without ffmpeg,
 * one warning and JPEG at the same level instead (applied updated). */
int pr_video_degrade(const uint8_t *vp, int V, int S, int32_t *applied, uint8_t *deg);

/* The ERP step of one image: the detection, and for a grid family restored
 * on the ERP, the restored viewports (vp + cut(restored ERP) - cut(ERP), so
 * the viewports' own bytes are kept where the restorer changes nothing).
 * vo / src: the viewports' geometry and the decoded ERP with its views.
 * Refuses (naming `what`) an ERP whose cut does not reproduce vp. */
int pr_erp_prepare(const oiqa_pseudoref_opts *o, const char *what, const oiqa_viewports_opts *vo,
                   const oiqa_vp_source *src, const uint8_t *vp, int V, int S, pr_erp *out);
void pr_erp_free(pr_erp *e);

typedef struct {
    const oiqa_pseudoref_opts *o;
    const char *vp_path;
    oiqa_store_reader *vp;
    char vp_sha[65];
    int V, S;
    int detects; /* restore or degrade is auto: /detected is written */
    int erp;     /* the source ERPs are read (detect = erp and detects) */
    /* detect = erp: the viewports' geometry and every row's source */
    oiqa_viewports_opts vo;
    oiqa_view fixed_views[OIQA_VIEWPORTS_MAX];
    float *row_centers;     /* [N,V,3] for per-image layouts (vgcn20), else NULL */
    char **src_path, **src_sha; /* [N] */
    int64_t n_src;
} pr_run;

/* One image of a batch. */
typedef struct {
    const char *name;              /* row name (owned by the reader) */
    int64_t row;                   /* row in viewports.h5 */
    uint8_t *vp, *rest, *deg;      /* V*S*S*3 each */
    int32_t *det, *applied;        /* V*2: (family code, level) */
    float *det_strength;           /* V */
    int32_t erp_det[2];            /* detect = erp */
    float erp_strength, erp_measures[PR_N_MEASURES];
    pr_erp erp;
    uint16_t *err_r, *err_d;       /* V*S*S float16, error_maps only */
    float *scratch;                /* V*S*S, error_maps only */
    oiqa_encoded_row enc;
    oiqa_error err;
    int failed;
} pr_job;

/* detect = erp: reads the viewports' geometry (attributes, /centers) and
 * every row's source path and sha256, and checks that each source exists
 * and has that sha256, before anything is written. */
int pr_sources_open(pr_run *st);
void pr_sources_free(pr_run *st);
/* Decodes job j's source ERP and runs pr_erp_prepare on it. */
int pr_job_erp(const pr_run *st, pr_job *j);
/* The /erp_measures row of a detection. */
void pr_measures(const oiqa_detection *d, float *m);
extern const char *const pr_measure_names; /* the columns, comma-separated */

/* Root and dataset attributes naming the operators and their parameters. */
int oiqa_pseudoref_set_attrs(const pr_run *st, oiqa_store *s);
/* --png and --sheet pictures of one finished image (thread-safe). */
int oiqa_pseudoref_pictures(const pr_run *st, const pr_job *j);

#endif
