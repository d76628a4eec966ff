/* Pieces shared by stage/pseudoref.c (the run) and stage/pseudoref_output.c
 * (attributes and pictures); not part of the public API. */
#ifndef OIQA_STAGE_PSEUDOREF_INTERNAL_H
#define OIQA_STAGE_PSEUDOREF_INTERNAL_H

#include <stdint.h>

#include "base/error.h"
#include "io/h5store.h"
#include "stage/pseudoref.h"

/* degrade-level auto with an explicit family: the middle of the table */
#define OIQA_PR_DEFAULT_LEVEL 3

typedef struct {
    const oiqa_pseudoref_opts *o;
    const char *vp_path;
    oiqa_store_reader *vp;
    char vp_sha[65];
    int V, S;
    int detects; /* restore or degrade is auto: /detected is written */
} pr_run;

/* One image of a batch. */
typedef struct {
    const char *name;              /* row name (owned by the reader) */
    uint8_t *vp, *rest, *deg;      /* V*S*S*3 each */
    int32_t *det, *applied;        /* V*2: (family code, level) */
    float *det_strength;           /* V */
    uint16_t *err_r, *err_d;       /* V*S*S float16, error_maps only */
    float *scratch;                /* V*S*S, error_maps only */
    oiqa_encoded_row enc;
    oiqa_error err;
    int failed;
} pr_job;

/* Root and dataset attributes naming the operators and their parameters. */
int oiqa_pseudoref_set_attrs(const pr_run *st, oiqa_store *s);
/* --png and --sheet pictures of one finished image (thread-safe). */
int oiqa_pseudoref_pictures(const pr_run *st, const pr_job *j);

#endif
