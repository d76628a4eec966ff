/* Pieces shared by stage/synth.c (the run) and stage/synth_io.c (names,
 * option lists, the config file); not part of the public API. */
#ifndef OIQA_STAGE_SYNTH_INTERNAL_H
#define OIQA_STAGE_SYNTH_INTERNAL_H

#include <stdint.h>

#include "io/image.h"

typedef struct {
    char *path;   /* file read */
    char *stem;   /* file name without directory and extension: the ref id */
    oiqa_image erp;
    float *uv;    /* V*S*S*2: viewport maps of this ERP size */
    uint8_t *vp;  /* V*S*S*3: the reference viewports */
    double *mos;  /* per task (index 0: the reference) */
} synth_ref;

/* "dir/sub/a.b.jpg" -> "a.b" (malloc'ed). */
char *synth_stem(const char *name);
/* Output name relative to OUT_DIR: "r.png" (family < 0) or "r_jpeg_3.png". */
char *synth_output_name(const char *stem, int family, int level);
/* OUT_DIR/<output name>. */
char *synth_output_path(const char *out_dir, const char *stem, int family, int level);
/* OUT_DIR/synth.yaml: the resolved config, atomically, after a comment
 * naming the codec programs and libraries used (codecs may be NULL). */
int synth_write_config(const char *out_dir, const char *config, const char *codecs);

#endif
