/* OIQA (Duan et al., ISCAS 2018) from the official 360IQA_MOS.mat: MOS and
 * MOSz, 336 x 1 each; rows 1-320 are the distorted img1..img320, 20 per
 * reference in the order JPEG, JPEG2000, Gaussian noise, Gaussian blur x 5
 * levels; rows 321-336 the references 1..16 (database README). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/mat5.h"
#include "iqa/labels_internal.h"

static const char *const OIQA_TYPES[4] = {"JPEG", "JP2K", "GN", "GB"};

/* A numeric column vector variable of n values, or NULL with an error. */
static const oiqa_mat_var *column(const oiqa_mat_file *m, const char *path, const char *name, int *rc)
{
    const oiqa_mat_var *v = oiqa_mat5_find(m, name);
    if (!v) *rc = oiqa_fail(OIQA_EXIT_DATA, path, "no variable '%s' (expected MOS and MOSz)", name);
    else if (!v->re) *rc = oiqa_fail(OIQA_EXIT_DATA, path, "variable '%s' is not numeric", name);
    else if (v->count != 336 || v->ndims != 2 || (v->dims[0] != 1 && v->dims[1] != 1))
        *rc = oiqa_fail(OIQA_EXIT_DATA, path, "variable '%s' has %zu values; OIQA has 336 (320 distorted + 16 "
                        "references)", name, v->count);
    else return v;
    return NULL;
}

static int oiqa_read(char **files, int n_files, const char *score, oiqa_labels *out)
{
    (void)n_files;
    int use_z = 0;
    if (score && strcmp(score, "mos") && strcmp(score, "mosz"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for oiqa is mos or mosz, not '%s'", score);
    if (score && strcmp(score, "mosz") == 0) use_z = 1;
    oiqa_mat_file *m;
    int rc = oiqa_mat5_read(files[0], &m);
    if (rc) return rc;
    const oiqa_mat_var *mos = column(m, files[0], "MOS", &rc), *mosz = mos ? column(m, files[0], "MOSz", &rc) : NULL;
    if (!rc) {
        const oiqa_mat_var *main = use_z ? mosz : mos, *alt = use_z ? mos : mosz;
        out->alt_name = oiqa_strdup(use_z ? "mos" : "mosz");
        for (int i = 0; i < 336 && !rc; i++) {
            char name[32], ref[32];
            int k = i < 320 ? i / 20 + 1 : i - 320 + 1;
            snprintf(ref, sizeof ref, "ref%d.png", k);
            if (i < 320) {
                snprintf(name, sizeof name, "img%d.png", i + 1);
                rc = oiqa_labels_add(out, name, main->re[i], ref, OIQA_TYPES[i % 20 / 5], i % 5 + 1);
            } else {
                rc = oiqa_labels_add(out, ref, main->re[i], ref, "REF", 0);
            }
            if (!rc) out->row[out->n - 1].alt = alt->re[i];
        }
    }
    oiqa_mat5_free(m);
    return rc;
}

const oiqa_labels_adapter oiqa_labels_oiqa = {
    .name = "oiqa",
    .files = "360IQA_MOS.mat (official; --score mos or mosz)",
    .min_files = 1,
    .max_files = 1,
    .read = oiqa_read,
};
