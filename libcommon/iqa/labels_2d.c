/* The 2-D image sets of DPAM and SIND (METHODS §4, §5), from the uniform
 * score tables of github icbcbicc/IQA-Dataset (dis_img_path,dis_type
 * [,ref_img_path],score) and KonIQ-10k's official
 * koniq10k_distributions_sets.csv (image_name,...,MOS,SD,set).
 * Names lose the table's leading database folder ("LIVE/jp2k/img2.bmp" ->
 * "jp2k/img2.bmp": relative to the database root); sets without references
 * (LIVE Challenge, KonIQ-10k, SPAQ) have every image as its own content.
 * LIVE and CSIQ give DMOS (lower is better). Levels: TID2013 and KADID-10k
 * from the last "_N" of the name, CSIQ from the last ".N"; LIVE has none. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "iqa/labels_internal.h"

enum { LEVEL_NONE, LEVEL_UNDERSCORE, LEVEL_DOT };

typedef struct {
    int lower_better, level_rule;
} set2d;

static const char *strip_root(const char *p)
{
    const char *s = strchr(p, '/');
    return s && s[1] ? s + 1 : p;
}

/* The number after the last sep of the file name (without extension), or -1. */
static int level_from(const char *name, char sep)
{
    const char *b = oiqa_labels_base(name), *dot = strrchr(b, '.');
    int n = dot ? (int)(dot - b) : (int)strlen(b);
    int k = n - 1;
    while (k >= 0 && b[k] != sep) k--;
    if (k < 0) return -1;
    return (int)oiqa_labels_int(b + k + 1, n - k - 1);
}

static int read_2d(const set2d *s, const char *ds, char **files, const char *score, oiqa_labels *out)
{
    if (score && strcmp(score, "mos") && strcmp(score, "dmos"))
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "--score for %s is its one score column, not '%s'", ds, score);
    oiqa_csv *t;
    int rc = oiqa_csv_read(files[0], ',', 1, &t);
    if (rc) return rc;
    int cn = oiqa_csv_col(t, "dis_img_path"), ct = oiqa_csv_col(t, "dis_type"), cr = oiqa_csv_col(t, "ref_img_path");
    int cs = oiqa_csv_col(t, "score"), official = 0;
    if (cn < 0 && (cn = oiqa_csv_col(t, "image_name")) >= 0) { /* KonIQ's own table: MOS on 0-100 */
        official = 1;
        if ((rc = oiqa_csv_need_col(t, "MOS", &cs))) goto out;
    } else if ((rc = oiqa_csv_need_col(t, "dis_img_path", &cn)) || (rc = oiqa_csv_need_col(t, "score", &cs))) {
        goto out;
    }
    out->lower_better = s->lower_better;
    for (int r = 0; r < t->n_rows && !rc; r++) {
        const char *name = official ? oiqa_csv_cell(t, r, cn) : strip_root(oiqa_csv_cell(t, r, cn));
        const char *ref = cr >= 0 ? strip_root(oiqa_csv_cell(t, r, cr)) : name;
        const char *type = ct >= 0 ? oiqa_csv_cell(t, r, ct) : "Authentic";
        int level = s->level_rule == LEVEL_UNDERSCORE ? level_from(name, '_')
                    : s->level_rule == LEVEL_DOT      ? level_from(name, '.')
                                                      : -1;
        double v;
        if ((rc = oiqa_csv_double(t, r, cs, &v))) break;
        if ((rc = oiqa_labels_add(out, name, v, ref, type, level))) oiqa_fail_prefix("%s:%d", files[0], t->line[r]);
    }
out:
    oiqa_csv_free(t);
    return rc;
}

#define SET2D(ident, dsname, file, lb, rule)                                                                      \
    static int ident##_read(char **files, int n_files, const char *score, oiqa_labels *out)                      \
    {                                                                                                              \
        (void)n_files;                                                                                             \
        static const set2d s = {lb, rule};                                                                         \
        return read_2d(&s, dsname, files, score, out);                                                             \
    }                                                                                                              \
    const oiqa_labels_adapter oiqa_labels_##ident = {                                                              \
        .name = dsname, .files = file, .min_files = 1, .max_files = 1, .read = ident##_read};

SET2D(live, "live", "LIVE.csv (icbcbicc/IQA-Dataset; DMOS)", 1, LEVEL_NONE)
SET2D(csiq, "csiq", "CSIQ.csv (icbcbicc/IQA-Dataset; DMOS)", 1, LEVEL_DOT)
SET2D(tid2013, "tid2013", "TID2013.csv (icbcbicc/IQA-Dataset)", 0, LEVEL_UNDERSCORE)
SET2D(kadid, "kadid-10k", "KADID-10k.csv (icbcbicc/IQA-Dataset)", 0, LEVEL_UNDERSCORE)
SET2D(livec, "livec", "LIVE_Challenge.csv (icbcbicc/IQA-Dataset)", 0, LEVEL_NONE)
SET2D(koniq, "koniq-10k", "KonIQ-10k.csv (icbcbicc) | koniq10k_distributions_sets.csv (official)", 0, LEVEL_NONE)
SET2D(spaq, "spaq", "SPAQ.csv (icbcbicc/IQA-Dataset)", 0, LEVEL_NONE)
