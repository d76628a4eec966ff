/* iqa/split.h: content-disjoint random and k-fold splits (deterministic,
 * ratios, validation from the training references), splits.csv round trip,
 * and the refusal of a split that leaks a reference into test. */
#include "base/error.h"
#include "iqa/split.h"
#include "check.h"

/* 20 references x 5 images ("r07_3.png"), added in an interleaved order. */
static void make_labels(oiqa_labels *l)
{
    memset(l, 0, sizeof *l);
    for (int k = 0; k < 5; k++)
        for (int r = 0; r < 20; r++) {
            char name[32], ref[16];
            snprintf(name, sizeof name, "r%02d_%d.png", r, k);
            snprintf(ref, sizeof ref, "r%02d", r);
            oiqa_labels_add(l, name, r + k * 0.1, ref, k ? "JPEG" : "REF", k);
        }
}

/* For repeat r: every reference in one part; counts of references per part. */
static int disjoint(const oiqa_splits *s, const oiqa_labels *l, int r, int count[3])
{
    int part_of[20];
    for (int k = 0; k < 20; k++) part_of[k] = -1;
    count[0] = count[1] = count[2] = 0;
    for (int i = 0; i < s->n; i++) {
        int ref = atoi(l->row[oiqa_labels_find(l, s->name[i])].ref + 1), p = s->part[(size_t)i * s->n_rep + r];
        if (part_of[ref] >= 0 && part_of[ref] != p) return 0;
        if (part_of[ref] < 0) count[p]++;
        part_of[ref] = p;
    }
    return 1;
}

static void t_random_splits(void)
{
    oiqa_labels l;
    make_labels(&l);
    oiqa_splits a, b, c;
    oiqa_split_opts o = {.train = 0.7, .val = 0.1, .test = 0.2, .repeats = 5, .seed = 42};
    CHECK(oiqa_split_make(&l, &o, &a) == 0 && a.n == 100 && a.n_rep == 5);
    CHECK(oiqa_split_make(&l, &o, &b) == 0);
    CHECK(memcmp(a.part, b.part, 500) == 0); /* deterministic */
    o.seed = 43;
    CHECK(oiqa_split_make(&l, &o, &c) == 0 && memcmp(a.part, c.part, 500) != 0);
    for (int r = 0; r < 5; r++) {
        int n[3];
        CHECK(disjoint(&a, &l, r, n));
        CHECK(n[OIQA_PART_TEST] == 4 && n[OIQA_PART_VAL] == 2 && n[OIQA_PART_TRAIN] == 14);
    }
    int same01 = 1;
    for (int i = 0; i < a.n; i++) same01 &= a.part[i * 5] == a.part[i * 5 + 1];
    CHECK(!same01); /* repeats differ */
    CHECK(oiqa_splits_check(&a, &l) == 0);
    oiqa_splits_free(&a);
    oiqa_splits_free(&b);
    oiqa_splits_free(&c);
    oiqa_labels_free(&l);
}

static void t_kfold(void)
{
    oiqa_labels l;
    make_labels(&l);
    oiqa_splits s;
    oiqa_split_opts o = {.train = 0.8, .val = 0.1, .test = 0.2, .folds = 5, .seed = 7};
    CHECK(oiqa_split_make(&l, &o, &s) == 0 && s.n_rep == 5);
    int tested[100] = {0};
    for (int r = 0; r < 5; r++) {
        int n[3];
        CHECK(disjoint(&s, &l, r, n));
        CHECK(n[OIQA_PART_TEST] == 4 && n[OIQA_PART_VAL] == 2 && n[OIQA_PART_TRAIN] == 14);
        for (int i = 0; i < s.n; i++) tested[i] += s.part[(size_t)i * 5 + r] == OIQA_PART_TEST;
    }
    for (int i = 0; i < 100; i++) CHECK(tested[i] == 1); /* every image tested exactly once */
    oiqa_split_opts bad = {.train = 0.8, .test = 0.2, .folds = 30};
    oiqa_splits t;
    CHECK(oiqa_split_make(&l, &bad, &t) == OIQA_EXIT_USAGE);
    oiqa_splits_free(&s);
    oiqa_labels_free(&l);
}

static void t_file_and_check(void)
{
    check_tmp_init();
    oiqa_labels l;
    make_labels(&l);
    oiqa_splits s, r;
    oiqa_split_opts o = {.train = 0.8, .test = 0.2, .repeats = 3, .seed = 1};
    CHECK(oiqa_split_make(&l, &o, &s) == 0);
    const char *p = check_tmp("splits.csv");
    CHECK(oiqa_splits_write(&s, p, 0) == 0);
    CHECK(oiqa_splits_write(&s, p, 0) == OIQA_EXIT_USAGE);
    CHECK(oiqa_splits_read(p, &r) == 0 && r.n == 100 && r.n_rep == 3 && memcmp(r.part, s.part, 300) == 0);
    CHECK(oiqa_splits_check(&r, &l) == 0);
    CHECK(oiqa_splits_part(&r, "r00_0.png", 2) == s.part[2] && oiqa_splits_part(&r, "nope", 0) == OIQA_PART_NONE);
    oiqa_splits_free(&r);

    /* a leak: r03_0 in train and r03_1 in test of s0 */
    FILE *f = fopen(p, "w");
    fputs("name,s0\nr03_0.png,train\nr03_1.png,test\nr04_0.png,test\n", f);
    fclose(f);
    CHECK(oiqa_splits_read(p, &r) == 0);
    CHECK(oiqa_splits_check(&r, &l) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s: s0 puts reference 'r03' in train ('r03_0.png') and in test ('r03_1.png'): "
                                       "splits must be content-disjoint", p));
    oiqa_splits_free(&r);
    f = fopen(p, "w");
    fputs("name,s0\nr03_0.png,train\nzz.png,test\n", f);
    fclose(f);
    CHECK(oiqa_splits_read(p, &r) == 0 && oiqa_splits_check(&r, &l) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "'zz.png' is not in") != NULL);
    oiqa_splits_free(&r);
    f = fopen(p, "w");
    fputs("name,s0\nr03_0.png,training\n", f);
    fclose(f);
    CHECK(oiqa_splits_read(p, &r) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s:2: column 's0': 'training' is not train, val or test", p));
    f = fopen(p, "w");
    fputs("name,s0\na,test\na,train\n", f);
    fclose(f);
    CHECK(oiqa_splits_read(p, &r) == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "duplicated name 'a'"));
    oiqa_splits_free(&s);
    oiqa_labels_free(&l);
    check_tmp_cleanup();
}

int main(void)
{
    RUN(t_random_splits);
    RUN(t_kfold);
    RUN(t_file_and_check);
    return check_done();
}
