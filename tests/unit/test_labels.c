/* iqa/labels.h: labels.csv reading (its refusals) and writing, and every
 * dataset adapter on the real score files of ../shared/data/scores, checked
 * against the row counts, ranges and orderings their SOURCE.txt states. */
#include <math.h>
#include <stdarg.h>

#include "base/error.h"
#include "iqa/labels.h"
#include "check.h"

static int have_scores(void)
{
    FILE *f = fopen(check_shared("data/scores/oiqa/SOURCE.txt"), "r");
    if (f) fclose(f);
    return f != NULL;
}

/* Runs adapter `ds` on files under data/scores; 0 on success. */
static int adapt(const char *ds, const char *score, oiqa_labels *l, int n, ...)
{
    char *files[8];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        char rel[512];
        snprintf(rel, sizeof rel, "data/scores/%s", va_arg(ap, const char *));
        files[i] = strdup(check_shared(rel));
    }
    va_end(ap);
    memset(l, 0, sizeof *l);
    const oiqa_labels_adapter *a = oiqa_labels_adapter_find(ds);
    int rc = a ? a->read(files, n, score, l) : -1;
    if (rc) printf("# %s: %s\n", ds, oiqa_errmsg());
    for (int i = 0; i < n; i++) free(files[i]);
    return rc;
}

static void range(const oiqa_labels *l, double *lo, double *hi)
{
    *lo = INFINITY, *hi = -INFINITY;
    for (int i = 0; i < l->n; i++) *lo = fmin(*lo, l->row[i].mos), *hi = fmax(*hi, l->row[i].mos);
}

static int count_refs(const oiqa_labels *l)
{
    int n = 0;
    for (int i = 0; i < l->n; i++) {
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = strcmp(l->row[i].ref, l->row[j].ref) == 0;
        n += !seen;
    }
    return n;
}

#define NEED_SCORES()                                                                                              \
    if (!have_scores()) { SKIP("%s absent (set OIQA_SHARED)", check_shared("data/scores")); return; }

static void t_oiqa(void)
{
    NEED_SCORES();
    oiqa_labels l, z;
    CHECK(adapt("oiqa", NULL, &l, 1, "oiqa/official/360IQA_MOS.mat") == 0);
    CHECK(adapt("oiqa", "mosz", &z, 1, "oiqa/official/360IQA_MOS.mat") == 0);
    CHECK(l.n == 336 && z.n == 336);
    if (l.n == 336 && z.n == 336) {
        static const char *const T[4] = {"JPEG", "JP2K", "GN", "GB"};
        for (int i = 0; i < 320; i++) { /* 20 per reference, type blocks of 5, levels 1..5 */
            CHECK_STR(l.row[i].name, check_fmt("img%d.png", i + 1));
            CHECK_STR(l.row[i].ref, check_fmt("ref%d.png", i / 20 + 1));
            CHECK_STR(l.row[i].dist_type, T[i % 20 / 5]);
            CHECK(l.row[i].dist_level == i % 5 + 1);
        }
        CHECK_STR(l.row[320].name, "ref1.png");
        CHECK(l.row[335].dist_level == 0 && strcmp(l.row[335].dist_type, "REF") == 0);
        CHECK_NEAR(l.row[0].mos, 8.55, 1e-12);  /* Assessor360 OIQA_dis_label.txt img1 */
        CHECK_NEAR(l.row[2].mos, 5.421052631578948, 1e-12);
        CHECK_NEAR(z.row[0].mos, 73.9628, 5e-5); /* KD-OIQA OIQA.csv 001.png */
        CHECK_NEAR(l.row[0].alt, z.row[0].mos, 0);
        double lo, hi;
        range(&l, &lo, &hi);
        CHECK(lo >= 1 && hi <= 10);
        range(&z, &lo, &hi);
        CHECK(lo > 23 && lo < 24 && hi > 78 && hi < 80); /* "~23-79": 23.41 .. 78.58 */
        CHECK(count_refs(&l) == 16);
    }
    oiqa_labels_free(&l);
    oiqa_labels_free(&z);
}

static void t_cviq(void)
{
    NEED_SCORES();
    oiqa_labels a, k, m;
    CHECK(adapt("cviq", NULL, &a, 2, "cviq/assessor360/CVIQD_dis_label.txt", "cviq/assessor360/CVIQD_ref_label.txt") == 0);
    CHECK(adapt("cviq", NULL, &k, 1, "cviq/kd-oiqa/CVIQ.csv") == 0);
    CHECK(adapt("cviq", NULL, &m, 1, "cviq/mt-nr-oiqa/cviq_mos.csv") == 0); /* cross-checks its type/level columns */
    CHECK(a.n == 544 && k.n == 544 && m.n == 544);
    if (a.n == 544 && k.n == 544 && m.n == 544) {
        static const char *const T[3] = {"JPEG", "AVC", "HEVC"};
        for (int i = 1; i <= 544; i++) {
            const oiqa_label *r = &a.row[i - 1];
            int pos = (i - 1) % 34 + 1;
            CHECK_STR(r->name, check_fmt("%03d.png", i));
            CHECK_STR(r->ref, check_fmt("%03d.png", ((i - 1) / 34 + 1) * 34));
            CHECK_STR(r->dist_type, pos == 34 ? "REF" : T[(pos - 1) / 11]);
            CHECK(r->dist_level == (pos == 34 ? 0 : (pos - 1) % 11 + 1));
            /* "scores identical (to 4 decimals) across the three sources" */
            CHECK(fabs(r->mos - k.row[i - 1].mos) <= 5e-5 + 1e-9 && fabs(r->mos - m.row[i - 1].mos) <= 5e-5 + 1e-9);
        }
        double lo, hi;
        range(&a, &lo, &hi);
        CHECK(lo > 16 && hi < 79 && count_refs(&a) == 16);
    }
    oiqa_labels_free(&a);
    oiqa_labels_free(&k);
    oiqa_labels_free(&m);
    oiqa_labels f;
    CHECK(adapt("cviq", NULL, &f, 1, "cviq/kd-oiqa/CVIQ_testc_1.csv") == 0 && f.n == 102); /* a fold: 442/102 */
    oiqa_labels_free(&f);
}

static void t_iqa_odi(void)
{
    NEED_SCORES();
    oiqa_labels a, k;
    CHECK(adapt("iqa-odi", NULL, &a, 1, "iqa-odi/assessor360/iqaodi_ref_dis_label.txt") == 0);
    CHECK(adapt("iqa-odi", NULL, &k, 1, "iqa-odi/kd-oiqa/IQA-ODI_1080.csv") == 0);
    CHECK(a.n == 960 && k.n == 1080 && a.lower_better && k.lower_better);
    int erp = 0, proj = 0, qf[4] = {0}, refs = 0;
    for (int i = 0; i < a.n; i++) {
        erp += strcmp(a.row[i].dist_type, "ERP") == 0;
        proj += strcmp(a.row[i].dist_type, "ERP") != 0 && a.row[i].alt == 15;
        for (int q = 0; q < 4; q++) qf[q] += a.row[i].alt == (double[]){5, 15, 35, 60}[q];
    }
    CHECK(erp == 480 && proj == 480 && qf[0] == 120 && qf[1] == 600 && qf[2] == 120 && qf[3] == 120);
    CHECK_STR(a.row[0].name, "QF5_ERP_human_P0.jpg");
    CHECK_STR(a.row[0].ref, "human_P0.jpg");
    CHECK(a.row[0].dist_level == 4 && count_refs(&a) == 120);
    for (int i = 0; i < k.n; i++) refs += k.row[i].dist_level == 0 && k.row[i].mos == 0;
    CHECK(refs == 120);
    double lo, hi;
    range(&a, &lo, &hi);
    CHECK(lo >= 0 && hi <= 100);
    oiqa_labels_free(&a);
    oiqa_labels_free(&k);
}

static void t_jufe_mvaqd_10k(void)
{
    NEED_SCORES();
    oiqa_labels l;
    double lo, hi;
    CHECK(adapt("jufe", NULL, &l, 1, "jufe/JUFE_label.csv") == 0);
    CHECK(l.n == 1032 && count_refs(&l) == 258); /* 4128 rows = 1032 images x 4 conditions */
    range(&l, &lo, &hi);
    CHECK(lo >= 1 && hi <= 5);
    oiqa_labels_free(&l);
    CHECK(adapt("jufe", "bad-15s", &l, 1, "jufe/JUFE_label.csv") == 0 && l.n == 1032);
    oiqa_labels_free(&l);
    CHECK(adapt("mvaqd", NULL, &l, 1, "mvaqd/assessor360/MVAQD_ref_dis_label.txt") == 0);
    CHECK(l.n == 300 && count_refs(&l) == 15);
    range(&l, &lo, &hi);
    CHECK(lo >= 1 && hi <= 5);
    oiqa_labels_free(&l);
    CHECK(adapt("jufe-10k", NULL, &l, 2, "jufe-10k/mtaoiqa/train_final_viewport8_mos_type_range_degree_1.csv",
                "jufe-10k/mtaoiqa/test_final_viewport8_mos_type_range_degree_1.csv") == 0);
    CHECK(l.n == 10320);
    oiqa_labels_free(&l);
    CHECK(adapt("oiq-10k", NULL, &l, 2, "oiq-10k/mtaoiqa/OIQ-10K_train_info.csv",
                "oiq-10k/mtaoiqa/OIQ-10K_test_info.csv") == 0);
    CHECK(l.n == 10000);
    int rc[4] = {0};
    static const char *const R[4] = {"global", "region1", "region2", "none"};
    for (int i = 0; i < l.n; i++)
        for (int k = 0; k < 4; k++) rc[k] += strcmp(l.row[i].dist_type, R[k]) == 0;
    CHECK(rc[0] == 2484 && rc[1] == 2508 && rc[2] == 2508 && rc[3] == 2500);
    range(&l, &lo, &hi);
    CHECK(lo >= 1 && hi <= 3);
    oiqa_labels_free(&l);
}

static void t_2d_sets(void)
{
    NEED_SCORES();
    static const struct { const char *ds, *file; int n, lower; double lo, hi; } S[] = {
        {"live", "LIVE.csv", 779, 1, -2.7, 111.9},          {"csiq", "CSIQ.csv", 866, 1, 0, 1},
        {"tid2013", "TID2013.csv", 3000, 0, 0.24, 7.22},     {"kadid-10k", "KADID-10k.csv", 10125, 0, 1, 5},
        {"livec", "LIVE_Challenge.csv", 1161, 0, 3.4, 92.5}, {"koniq-10k", "KonIQ-10k.csv", 10073, 0, 1, 5},
        {"spaq", "SPAQ.csv", 11125, 0, 0, 100},
    };
    for (size_t s = 0; s < sizeof S / sizeof *S; s++) {
        oiqa_labels l;
        double lo, hi;
        CHECK_MSG(adapt(S[s].ds, NULL, &l, 1, check_fmt("iqa2d/icbcbicc/%s", S[s].file)) == 0, "%s", S[s].ds);
        range(&l, &lo, &hi);
        CHECK_MSG(l.n == S[s].n && l.lower_better == S[s].lower && lo >= S[s].lo && hi <= S[s].hi,
                  "%s: n %d, range %g..%g", S[s].ds, l.n, lo, hi);
        if (!strcmp(S[s].ds, "tid2013")) CHECK(count_refs(&l) == 25 && l.row[0].dist_level == 1);
        oiqa_labels_free(&l);
    }
    oiqa_labels l;
    CHECK(adapt("koniq-10k", NULL, &l, 1, "iqa2d/koniq-official/koniq10k_distributions_sets.csv") == 0 && l.n == 10073);
    oiqa_labels_free(&l);
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f);
}

static void t_read_write_refusals(void)
{
    check_tmp_init();
    oiqa_labels l;
    const char *p = check_tmp("l.csv");
    write_text(p, "name,mos,ref,dist_type,dist_level,mosz\na.png,1.5,r1,JPEG,1,40\n\"b,c.png\",2,r1,REF,0,\n");
    CHECK_MSG(oiqa_labels_read(p, &l) == 0, "%s", oiqa_errmsg());
    CHECK(l.n == 2 && l.alt_name && !strcmp(l.alt_name, "mosz") && l.row[0].alt == 40 && isnan(l.row[1].alt));
    const char *q = check_tmp("copy.csv");
    CHECK(oiqa_labels_write(&l, q, 0) == 0);
    CHECK(oiqa_labels_write(&l, q, 0) == OIQA_EXIT_USAGE);
    oiqa_labels_free(&l);
    CHECK(oiqa_labels_read(q, &l) == 0 && l.n == 2 && !strcmp(l.row[1].name, "b,c.png") && l.row[0].mos == 1.5);
    oiqa_labels_free(&l);

    write_text(p, "name,mos,ref,dist_type,dist_level\na.png,1,r,J,1\nb.png,2,r,J,1\na.png,3,r,J,1\n");
    CHECK(oiqa_labels_read(p, &l) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s:4: duplicated name 'a.png' (first on line 2)", p));
    write_text(p, "name,mos\na.png,1\nb.png,nan\n");
    CHECK(oiqa_labels_read(p, &l) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s:3: 'b.png': score is NaN", p));
    write_text(p, "name,mos\na.png,1\nb.png,abc\n");
    CHECK(oiqa_labels_read(p, &l) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s:3: column 'mos': 'abc' is not a number", p));
    write_text(p, "name,score\na.png,1\n");
    CHECK(oiqa_labels_read(p, &l) == OIQA_EXIT_DATA);
    write_text(p, "name,mos,lower_better\na.png,1,1\nb.png,1,0\n");
    CHECK(oiqa_labels_read(p, &l) == OIQA_EXIT_DATA);
    write_text(p, "name,mos,lower_better\na.png,1,1\nb.png,1,1\n");
    CHECK(oiqa_labels_read(p, &l) == 0 && l.lower_better == 1 && !strcmp(l.row[0].ref, "a.png"));
    oiqa_labels_free(&l);
    CHECK(oiqa_labels_adapter_find("nope") == NULL);
    check_tmp_cleanup();
}

int main(void)
{
    RUN(t_oiqa);
    RUN(t_cviq);
    RUN(t_iqa_odi);
    RUN(t_jufe_mvaqd_10k);
    RUN(t_2d_sets);
    RUN(t_read_write_refusals);
    return check_done();
}
