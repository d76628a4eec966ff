/* Two smaller omnidirectional sets.
 * MVAQD (Jiang et al., TIP 2021): Assessor360's MVAQD_ref_dis_label.txt,
 * "ref.png dis.png MOS", 300 rows, MOS 1-5; the file names no distortion
 * type or level (dist_type empty, dist_level -1).
 * OIQ-10K (Yan et al., TIP 2025): MTAOIQA's OIQ-10K_{train,test}_info.csv
 * (8 viewport paths "IMAGE/LON.png", range class, MOS 1-3); every image is
 * its own content; dist_type from the range class: 1 global, 2 region1,
 * 3 region2, 4 none. */
#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "iqa/labels_internal.h"

static int mvaqd_read(char **files, int n_files, const char *score, oiqa_labels *out)
{
    (void)n_files;
    if (score && strcmp(score, "mos"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for mvaqd is mos, not '%s'", score);
    oiqa_csv *t;
    int rc = oiqa_labels_table(files[0], 0, &t);
    if (rc) return rc;
    if (t->n_cols != 3) rc = oiqa_labels_unexpected(files[0], t->line[0], "'ref.png dis.png MOS' rows", oiqa_csv_cell(t, 0, 0));
    for (int r = 0; r < t->n_rows && !rc; r++) {
        double v;
        if ((rc = oiqa_csv_double(t, r, 2, &v))) break;
        if ((rc = oiqa_labels_add(out, oiqa_csv_cell(t, r, 1), v, oiqa_csv_cell(t, r, 0), "", -1)))
            oiqa_fail_prefix("%s:%d", files[0], t->line[r]);
    }
    oiqa_csv_free(t);
    return rc;
}

static int oiq10k_read(char **files, int n_files, const char *score, oiqa_labels *out)
{
    static const char *const RANGE[5] = {"", "global", "region1", "region2", "none"};
    if (score && strcmp(score, "mos"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for oiq-10k is mos, not '%s'", score);
    int rc = 0;
    for (int f = 0; f < n_files && !rc; f++) {
        oiqa_csv *t;
        if ((rc = oiqa_csv_read(files[f], ',', 0, &t))) break;
        if (t->n_cols != 10)
            rc = oiqa_fail(OIQA_EXIT_DATA, files[f], "expected 10 columns (8 viewports, range class, MOS), got %d",
                           t->n_cols);
        for (int r = 0; r < t->n_rows && !rc; r++) {
            const char *vp = oiqa_csv_cell(t, r, 0), *slash = strchr(vp, '/');
            char name[256];
            if (!slash || slash == vp || slash - vp >= (long)sizeof name) {
                rc = oiqa_labels_unexpected(files[f], t->line[r], "IMAGE/LON.png", vp);
                break;
            }
            snprintf(name, sizeof name, "%.*s", (int)(slash - vp), vp);
            long range;
            double v;
            if ((rc = oiqa_csv_long(t, r, 8, &range)) || (rc = oiqa_csv_double(t, r, 9, &v))) break;
            if (range < 1 || range > 4) {
                rc = oiqa_labels_unexpected(files[f], t->line[r], "range class 1-4", oiqa_csv_cell(t, r, 8));
                break;
            }
            if ((rc = oiqa_labels_add(out, name, v, name, RANGE[range], -1)))
                oiqa_fail_prefix("%s:%d", files[f], t->line[r]);
        }
        oiqa_csv_free(t);
    }
    return rc;
}

const oiqa_labels_adapter oiqa_labels_mvaqd = {
    .name = "mvaqd", .files = "MVAQD_ref_dis_label.txt (Assessor360)", .min_files = 1, .max_files = 1,
    .read = mvaqd_read,
};

const oiqa_labels_adapter oiqa_labels_oiq10k = {
    .name = "oiq-10k", .files = "OIQ-10K_train_info.csv OIQ-10K_test_info.csv (MTAOIQA)", .min_files = 1,
    .max_files = 4, .read = oiq10k_read,
};
