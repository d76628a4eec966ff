/* CVIQ / CVIQD2018 (Sun et al.) from the score files users have: the
 * Assessor360 pair "NNN.png MOS" (distorted, references), KD-OIQA's
 * "path/NNN.png,MOS" (no header, also its fold files), MT-NR-OIQA's
 * cviq_mos.csv (fu,compression_type,distortion_level,...,mos), or a table
 * with image and MOS columns. Everything else follows from the image
 * number i (database README): group g = (i-1) div 34 + 1, position
 * k = (i-1) mod 34 + 1; k 1-11 JPEG, 12-22 AVC, 23-33 HEVC, level
 * (k-1) mod 11 + 1; k = 34 is the reference of the group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "iqa/labels_internal.h"

#define CVIQ_N 544

static const char *const CVIQ_TYPES[3] = {"JPEG", "AVC", "HEVC"};

/* The image number of "dir/NNN.png", or -1. */
static long image_number(const char *path)
{
    const char *b = oiqa_labels_base(path), *dot = strrchr(b, '.');
    long i = oiqa_labels_int(b, dot ? (int)(dot - b) : -1);
    return i >= 1 && i <= CVIQ_N ? i : -1;
}

static int cviq_read(char **files, int n_files, const char *score, oiqa_labels *out)
{
    if (score && strcmp(score, "mos"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for cviq is mos, not '%s'", score);
    double mos[CVIQ_N + 1];
    int from[CVIQ_N + 1] = {0}, rc = 0; /* from: 1 + index of the file that gave it */
    for (int f = 0; f < n_files && !rc; f++) {
        oiqa_csv *t;
        if ((rc = oiqa_labels_table(files[f], 0, &t))) break;
        /* MT-NR-OIQA's file (and the unified table of ../shared) has a header naming its columns */
        const char *h0 = oiqa_csv_cell(t, 0, 0);
        int header = !strcmp(h0, "fu") || !strcmp(h0, "image"), cn = 0, cs = 1, ct = -1, cl = -1;
        if (header) {
            for (int c = 0; c < t->n_cols; c++) {
                const char *h = oiqa_csv_cell(t, 0, c);
                if (!strcmp(h, "mos") || !strcmp(h, "MOS")) cs = c;
                if (!strcmp(h, "compression_type")) ct = c;
                if (!strcmp(h, "distortion_level")) cl = c;
            }
        } else if (t->n_cols < 2) {
            rc = oiqa_labels_unexpected(files[f], t->line[0], "'NAME SCORE' rows", oiqa_csv_cell(t, 0, 0));
        }
        for (int r = header; r < t->n_rows && !rc; r++) {
            long i = image_number(oiqa_csv_cell(t, r, cn));
            double v;
            if (i < 0) { rc = oiqa_labels_unexpected(files[f], t->line[r], "an image NNN.png, 1..544", oiqa_csv_cell(t, r, cn)); break; }
            if ((rc = oiqa_csv_double(t, r, cs, &v))) break;
            if (from[i]) {
                rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: image %03ld.png given twice (also in %s)", files[f],
                               t->line[r], i, files[from[i] - 1]);
                break;
            }
            int k = (int)((i - 1) % 34 + 1);
            if (ct >= 0 && cl >= 0) { /* cross-check the file's own type / level columns */
                const char *want = k == 34 ? "ref" : CVIQ_TYPES[(k - 1) / 11];
                long lv = oiqa_labels_int(oiqa_csv_cell(t, r, cl), -1), wl = k == 34 ? 0 : (k - 1) % 11 + 1;
                if (strcmp(oiqa_csv_cell(t, r, ct), want) || lv != wl) {
                    rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: image %03ld.png is %s level %ld by the database's "
                                   "layout, but the file says %s %s", files[f], t->line[r], i, want, wl,
                                   oiqa_csv_cell(t, r, ct), oiqa_csv_cell(t, r, cl));
                    break;
                }
            }
            mos[i] = v;
            from[i] = f + 1;
        }
        oiqa_csv_free(t);
    }
    for (int i = 1; i <= CVIQ_N && !rc; i++) {
        if (!from[i]) continue;
        int g = (i - 1) / 34 + 1, k = (i - 1) % 34 + 1;
        char name[16], ref[16];
        snprintf(name, sizeof name, "%03d.png", i);
        snprintf(ref, sizeof ref, "%03d.png", g * 34);
        rc = oiqa_labels_add(out, name, mos[i], ref, k == 34 ? "REF" : CVIQ_TYPES[(k - 1) / 11],
                             k == 34 ? 0 : (k - 1) % 11 + 1);
    }
    return rc;
}

const oiqa_labels_adapter oiqa_labels_cviq = {
    .name = "cviq",
    .files = "CVIQD_dis_label.txt [CVIQD_ref_label.txt] | CVIQ.csv (KD-OIQA) | cviq_mos.csv (MT-NR-OIQA)",
    .min_files = 1,
    .max_files = 8,
    .read = cviq_read,
};
