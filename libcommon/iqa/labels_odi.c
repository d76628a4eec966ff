/* IQA-ODI (Yang et al., ICME 2021): DMOS, lower is better. 120 references
 * x 8 impaired images: JPEG QF 5/15/35/60 in ERP and QF 15 after the cmp,
 * cpp, isp and ohp projections. Read from Assessor360's
 * iqaodi_ref_dis_label.txt ("ref dis DMOS", 960 rows) or KD-OIQA's
 * IQA-ODI_1080.csv ("name,DMOS", the 120 references with DMOS 0 too) and
 * its fold files. Type and level come from the names "QF<q>_<proj>_<ref>". */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "iqa/labels_internal.h"

/* Splits "QF15_cmp_human_P0[.jpg]" into qf, projection (upper case) and ref;
 * 0 when the name is a reference (no QF prefix). -1 when malformed. */
static int parse_name(const char *name, long *qf, char proj[8], char *ref, size_t ref_cap)
{
    const char *b = oiqa_labels_base(name);
    if (strncmp(b, "QF", 2) != 0) {
        snprintf(ref, ref_cap, "%s", b);
        return 0;
    }
    const char *u1 = strchr(b, '_'), *u2 = u1 ? strchr(u1 + 1, '_') : NULL;
    if (!u2 || u2 - u1 - 1 > 7 || u2 - u1 - 1 < 1) return -1;
    *qf = oiqa_labels_int(b + 2, (int)(u1 - b - 2));
    if (*qf < 0) return -1;
    int k = 0;
    for (const char *p = u1 + 1; p < u2; p++) proj[k++] = (char)toupper((unsigned char)*p);
    proj[k] = '\0';
    snprintf(ref, ref_cap, "%s", u2 + 1);
    return 1;
}

/* With the database's .jpg extension when the source file leaves it out. */
static void with_ext(char *out, size_t cap, const char *name)
{
    const char *b = oiqa_labels_base(name);
    snprintf(out, cap, "%s%s", b, strchr(b, '.') ? "" : ".jpg");
}

static int level_of(long qf)
{
    switch (qf) { /* 1 = mildest */
    case 60: return 1;
    case 35: return 2;
    case 15: return 3;
    case 5: return 4;
    }
    return -1;
}

static int odi_read(char **files, int n_files, const char *score, oiqa_labels *out)
{
    if (score && strcmp(score, "dmos") && strcmp(score, "mos"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for iqa-odi is dmos, not '%s'", score);
    out->lower_better = 1;
    out->alt_name = oiqa_strdup("jpeg_qf");
    int rc = 0;
    for (int f = 0; f < n_files && !rc; f++) {
        oiqa_csv *t;
        if ((rc = oiqa_labels_table(files[f], 0, &t))) break;
        int unified = strcmp(oiqa_csv_cell(t, 0, 0), "ref_image") == 0;
        int cn = unified ? 1 : t->n_cols >= 3 ? 1 : 0, cs = unified ? 5 : t->n_cols >= 3 ? 2 : 1;
        if (t->n_cols < 2) rc = oiqa_labels_unexpected(files[f], t->line[0], "'NAME DMOS' rows", oiqa_csv_cell(t, 0, 0));
        for (int r = unified; r < t->n_rows && !rc; r++) {
            const char *src = oiqa_csv_cell(t, r, cn);
            long qf = -1;
            char proj[8] = "", ref[256], name[300], refname[300];
            int kind = parse_name(src, &qf, proj, ref, sizeof ref);
            if (kind < 0 || (kind == 1 && level_of(qf) < 0)) {
                rc = oiqa_labels_unexpected(files[f], t->line[r], "QF<5|15|35|60>_<projection>_<reference>", src);
                break;
            }
            double v;
            if ((rc = oiqa_csv_double(t, r, cs, &v))) break;
            with_ext(name, sizeof name, src);
            with_ext(refname, sizeof refname, ref);
            if (kind == 0) {
                rc = oiqa_labels_add(out, name, v, refname, "REF", 0);
            } else {
                rc = oiqa_labels_add(out, name, v, refname, proj, level_of(qf));
                if (!rc) out->row[out->n - 1].alt = (double)qf;
            }
            if (rc) oiqa_fail_prefix("%s:%d", files[f], t->line[r]);
        }
        oiqa_csv_free(t);
    }
    return rc;
}

const oiqa_labels_adapter oiqa_labels_iqa_odi = {
    .name = "iqa-odi",
    .files = "iqaodi_ref_dis_label.txt (Assessor360) | IQA-ODI_1080.csv and folds (KD-OIQA)",
    .min_files = 1,
    .max_files = 16,
    .read = odi_read,
};
