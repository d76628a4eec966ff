/* JUFE (Fang et al., AAAI 2022) and JUFE-10K (Yan et al.): non-uniformly
 * distorted omnidirectional images (BD brightness discontinuity, ST
 * stitching, GB Gaussian blur, GN Gaussian noise; levels 1-3), MOS 1-5.
 *
 * JUFE_label.csv (the JUFE_label.xls sheet saved as CSV): every image is
 * rated under 4 viewing conditions (starting point good/bad x exploration
 * time 5 s/15 s); --score mean (default) averages them, --score good-5s,
 * good-15s, bad-5s or bad-15s picks one.
 * JUFE-10K: MTAOIQA's {train,test}_final_viewport8_mos_type_range_degree_1.csv
 * (8 viewport paths, MOS, type code 1 bd 2 st 3 gb 4 gn, range, degree). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "iqa/labels_internal.h"

/* "12_len3_bd_3.png" -> "12" (the reference number) into ref. */
static int ref_of(const char *name, char *ref, size_t cap)
{
    const char *u = strchr(name, '_');
    if (!u || oiqa_labels_int(name, (int)(u - name)) < 0) return -1;
    snprintf(ref, cap, "%.*s", (int)(u - name), name);
    return 0;
}

static int jufe_read(char **files, int n_files, const char *score, oiqa_labels *out)
{
    (void)n_files;
    const char *cond = score && strcmp(score, "mean") && strcmp(score, "mos") ? score : NULL;
    if (cond && strcmp(cond, "good-5s") && strcmp(cond, "good-15s") && strcmp(cond, "bad-5s") && strcmp(cond, "bad-15s"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for jufe is mean, good-5s, good-15s, bad-5s or bad-15s, "
                         "not '%s'", score);
    oiqa_csv *t;
    int rc = oiqa_csv_read(files[0], ',', 1, &t);
    if (rc) return rc;
    int cs, cn, ca, ct, cl, ce;
    if ((rc = oiqa_csv_need_col(t, "session", &cs)) || (rc = oiqa_csv_need_col(t, "imgName", &cn)) ||
        (rc = oiqa_csv_need_col(t, "average", &ca)) || (rc = oiqa_csv_need_col(t, "distortionType", &ct)) ||
        (rc = oiqa_csv_need_col(t, "level", &cl)) || (rc = oiqa_csv_need_col(t, "explorationTime", &ce))) {
        oiqa_csv_free(t);
        return rc;
    }
    oiqa_name_index ix = {0};
    double *sum = oiqa_xcalloc((size_t)t->n_rows + 1, sizeof *sum);
    int *cnt = oiqa_xcalloc((size_t)t->n_rows + 1, sizeof *cnt), *first = oiqa_xcalloc((size_t)t->n_rows + 1, sizeof *first);
    for (int r = 0; r < t->n_rows && !rc; r++) {
        const char *name = oiqa_csv_cell(t, r, cn), *sess = oiqa_csv_cell(t, r, cs);
        const char *side = strchr(sess, '_');
        char c[32];
        snprintf(c, sizeof c, "%s-%s", side ? side + 1 : "?", oiqa_csv_cell(t, r, ce));
        if (cond && strcmp(c, cond)) continue;
        double v;
        if ((rc = oiqa_csv_double(t, r, ca, &v))) break;
        int64_t k = oiqa_name_index_find(&ix, name);
        if (k < 0) {
            oiqa_name_index_add(&ix, name);
            k = ix.n - 1;
            first[k] = r;
        } else if (cond) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: '%s' rated twice under %s", files[0], t->line[r], name, cond);
        }
        sum[k] += v;
        cnt[k]++;
    }
    for (int64_t k = 0; k < ix.n && !rc; k++) {
        int r = first[k];
        char ref[32];
        double lv;
        if (ref_of(ix.names[k], ref, sizeof ref)) {
            rc = oiqa_labels_unexpected(files[0], t->line[r], "an image name REF_..., e.g. 12_len3_bd_3.png", ix.names[k]);
            break;
        }
        if ((rc = oiqa_csv_double(t, r, cl, &lv))) break;
        rc = oiqa_labels_add(out, ix.names[k], sum[k] / cnt[k], ref, oiqa_csv_cell(t, r, ct), (int)lrint(lv));
    }
    free(sum);
    free(cnt);
    free(first);
    oiqa_name_index_free(&ix);
    oiqa_csv_free(t);
    return rc;
}

static int jufe10k_read(char **files, int n_files, const char *score, oiqa_labels *out)
{
    static const char *const TYPES[5] = {"", "BD", "ST", "GB", "GN"};
    if (score && strcmp(score, "mos"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for jufe-10k is mos, not '%s'", score);
    int rc = 0;
    for (int f = 0; f < n_files && !rc; f++) {
        oiqa_csv *t;
        if ((rc = oiqa_csv_read(files[f], ',', 0, &t))) break;
        if (t->n_cols != 12) rc = oiqa_fail(OIQA_EXIT_DATA, files[f], "expected 12 columns (8 viewports, MOS, type, "
                                            "range, degree), got %d", t->n_cols);
        for (int r = 0; r < t->n_rows && !rc; r++) {
            const char *vp = oiqa_csv_cell(t, r, 0), *end = strrchr(vp, '/');
            const char *start = end ? end - 1 : NULL;
            while (start && start > vp && start[-1] != '/') start--;
            char name[256], ref[32];
            if (!end || !start || end - start >= (long)sizeof name) {
                rc = oiqa_labels_unexpected(files[f], t->line[r], "viewports_8/IMAGE/LON.png", vp);
                break;
            }
            snprintf(name, sizeof name, "%.*s", (int)(end - start), start);
            double v;
            long type, degree;
            if ((rc = oiqa_csv_double(t, r, 8, &v)) || (rc = oiqa_csv_long(t, r, 9, &type)) ||
                (rc = oiqa_csv_long(t, r, 11, &degree)))
                break;
            if (type < 1 || type > 4 || ref_of(name, ref, sizeof ref)) {
                rc = oiqa_labels_unexpected(files[f], t->line[r], "type code 1-4 and a name REF_...", name);
                break;
            }
            if ((rc = oiqa_labels_add(out, name, v, ref, TYPES[type], (int)degree)))
                oiqa_fail_prefix("%s:%d", files[f], t->line[r]);
        }
        oiqa_csv_free(t);
    }
    return rc;
}

const oiqa_labels_adapter oiqa_labels_jufe = {
    .name = "jufe",
    .files = "JUFE_label.csv (the JUFE_label.xls sheet as CSV; --score mean|good-5s|good-15s|bad-5s|bad-15s)",
    .min_files = 1,
    .max_files = 1,
    .read = jufe_read,
};

const oiqa_labels_adapter oiqa_labels_jufe10k = {
    .name = "jufe-10k",
    .files = "train_/test_final_viewport8_mos_type_range_degree_1.csv (MTAOIQA)",
    .min_files = 1,
    .max_files = 4,
    .read = jufe10k_read,
};
