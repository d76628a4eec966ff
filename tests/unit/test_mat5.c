/* io/mat5.h: the real OIQA score file, a hand-built file with every
 * supported element kind (small elements, compression, cells, chars,
 * structs, integers, big-endian), and hostile input (one error, no crash). */
#include <stdint.h>
#include <zlib.h>

#include "base/error.h"
#include "io/mat5.h"
#include "check.h"

/* ---- a tiny MAT-file writer for the tests ----------------------------- */

typedef struct { uint8_t b[8192]; size_t n; int be; } mbuf;

static void put32(mbuf *m, uint32_t v)
{
    for (int k = 0; k < 4; k++) m->b[m->n++] = (uint8_t)(m->be ? v >> (24 - 8 * k) : v >> (8 * k));
}
static void put16(mbuf *m, uint16_t v)
{
    m->b[m->n++] = (uint8_t)(m->be ? v >> 8 : v);
    m->b[m->n++] = (uint8_t)(m->be ? v : v >> 8);
}
static void pad8(mbuf *m) { while (m->n % 8) m->b[m->n++] = 0; }
static void header(mbuf *m)
{
    memset(m->b, ' ', 116);
    memcpy(m->b, "MATLAB 5.0 MAT-file, test", 25);
    memset(m->b + 116, 0, 8);
    m->n = 124;
    put16(m, 0x0100);
    m->b[m->n++] = m->be ? 'M' : 'I';
    m->b[m->n++] = m->be ? 'I' : 'M';
}
static void tag(mbuf *m, uint32_t type, uint32_t len) { put32(m, type); put32(m, len); }
/* Array flags, dims (2-D) and a name (small-element form when short). */
static void matrix_head(mbuf *m, int cls, int r, int c, const char *name)
{
    tag(m, 6, 8);
    put32(m, (uint32_t)cls);
    put32(m, 0);
    tag(m, 5, 8);
    put32(m, (uint32_t)r);
    put32(m, (uint32_t)c);
    uint32_t nl = (uint32_t)strlen(name);
    if (nl <= 4) {
        put32(m, nl << 16 | 1);
        memcpy(m->b + m->n, name, nl);
        m->n += 4;
    } else {
        tag(m, 1, nl);
        memcpy(m->b + m->n, name, nl);
        m->n += nl;
        pad8(m);
    }
}
/* Opens a miMATRIX element; returns where its length goes. */
static size_t open_matrix(mbuf *m) { tag(m, 14, 0); return m->n - 4; }
static void close_matrix(mbuf *m, size_t at)
{
    uint32_t len = (uint32_t)(m->n - at - 4);
    int be = m->be;
    for (int k = 0; k < 4; k++) m->b[at + k] = (uint8_t)(be ? len >> (24 - 8 * k) : len >> (8 * k));
}

static void build(mbuf *m, int be)
{
    memset(m, 0, sizeof *m);
    m->be = be;
    header(m);
    /* x: double 2x2 */
    size_t a = open_matrix(m);
    matrix_head(m, 6, 2, 2, "x");
    tag(m, 9, 32);
    double v[4] = {1.5, -2, 3.25, 1e300};
    for (int i = 0; i < 4; i++) {
        uint64_t u;
        memcpy(&u, &v[i], 8);
        if (be) { put32(m, (uint32_t)(u >> 32)); put32(m, (uint32_t)u); }
        else { put32(m, (uint32_t)u); put32(m, (uint32_t)(u >> 32)); }
    }
    close_matrix(m, a);
    /* word: char 1x2 "hé" as UTF-16 in a small element */
    a = open_matrix(m);
    matrix_head(m, 4, 1, 2, "word");
    put32(m, 4u << 16 | 4);
    put16(m, 'h');
    put16(m, 0xE9);
    close_matrix(m, a);
    /* c: cell 1x2 {int16 [7 -3], uint8 scalar 200}, the second stored as int32 */
    a = open_matrix(m);
    matrix_head(m, 1, 1, 2, "c");
    size_t e = open_matrix(m);
    matrix_head(m, 10, 1, 2, "");
    put32(m, 4u << 16 | 3);
    put16(m, 7);
    put16(m, (uint16_t)-3);
    close_matrix(m, e);
    e = open_matrix(m);
    matrix_head(m, 9, 1, 1, "");
    put32(m, 4u << 16 | 5);
    put32(m, 200);
    close_matrix(m, e);
    close_matrix(m, a);
    /* st: struct 1x1 with fields a (single 0.5), bb (empty cell element) */
    a = open_matrix(m);
    matrix_head(m, 2, 1, 1, "st");
    put32(m, 4u << 16 | 5);
    put32(m, 4);
    tag(m, 1, 8);
    memcpy(m->b + m->n, "a\0\0\0bb\0\0", 8);
    m->n += 8;
    e = open_matrix(m);
    matrix_head(m, 7, 1, 1, "");
    put32(m, 4u << 16 | 7);
    float h = 0.5f;
    uint32_t hu;
    memcpy(&hu, &h, 4);
    put32(m, hu);
    close_matrix(m, e);
    tag(m, 14, 0); /* an empty matrix element */
    close_matrix(m, a);
}

/* Appends the little-endian file's first variable again, compressed, as "z". */
static void add_compressed(mbuf *m)
{
    mbuf inner = {.be = 0};
    size_t a = open_matrix(&inner);
    matrix_head(&inner, 6, 1, 3, "z");
    tag(&inner, 2, 3); /* uint8 data stored for a double array */
    inner.b[inner.n++] = 1, inner.b[inner.n++] = 2, inner.b[inner.n++] = 250;
    pad8(&inner);
    close_matrix(&inner, a);
    uLongf zl = sizeof m->b - m->n - 8;
    CHECK(compress(m->b + m->n + 8, &zl, inner.b, inner.n) == Z_OK);
    tag(m, 15, (uint32_t)zl);
    m->n += zl;
}

static void t_synthetic_file(void)
{
    for (int be = 0; be <= 1; be++) {
        mbuf m;
        build(&m, be);
        if (!be) add_compressed(&m);
        oiqa_mat_file *f = NULL;
        int rc = oiqa_mat5_parse(m.b, m.n, "t.mat", &f);
        CHECK_MSG(rc == 0, "be=%d: %s", be, oiqa_errmsg());
        if (rc) continue;
        CHECK_STR(f->text, "MATLAB 5.0 MAT-file, test");
        const oiqa_mat_var *x = oiqa_mat5_find(f, "x"), *w = oiqa_mat5_find(f, "word"), *c = oiqa_mat5_find(f, "c");
        const oiqa_mat_var *st = oiqa_mat5_find(f, "st");
        CHECK(x && x->count == 4 && x->re && x->re[0] == 1.5 && x->re[1] == -2 && x->re[3] == 1e300);
        CHECK(w && w->mclass == OIQA_MX_CHAR);
        if (w) CHECK_STR(w->str, "h\xC3\xA9");
        CHECK(c && c->mclass == OIQA_MX_CELL && c->count == 2);
        if (c && c->elem) {
            CHECK(c->elem[0]->re && c->elem[0]->re[0] == 7 && c->elem[0]->re[1] == -3);
            CHECK(c->elem[1]->re && c->elem[1]->re[0] == 200);
        }
        CHECK(st && st->n_fields == 2);
        const oiqa_mat_var *fa = oiqa_mat5_field(st, 0, "a"), *fb = oiqa_mat5_field(st, 0, "bb");
        CHECK(fa && fa->re && fa->re[0] == 0.5);
        CHECK(fb && fb->count == 0);
        CHECK(oiqa_mat5_field(st, 0, "zz") == NULL && oiqa_mat5_field(st, 1, "a") == NULL);
        if (!be) {
            const oiqa_mat_var *z = oiqa_mat5_find(f, "z");
            CHECK(z && z->count == 3 && z->re && z->re[2] == 250);
        }
        oiqa_mat5_free(f);
    }
}

static void t_oiqa_official(void)
{
    const char *p = check_shared("data/scores/oiqa/official/360IQA_MOS.mat");
    FILE *probe = fopen(p, "rb");
    if (!probe) { SKIP("%s absent (set OIQA_SHARED)", p); return; }
    fclose(probe);
    oiqa_mat_file *f;
    CHECK_MSG(oiqa_mat5_read(p, &f) == 0, "%s", oiqa_errmsg());
    if (!f) return;
    const oiqa_mat_var *mos = oiqa_mat5_find(f, "MOS"), *z = oiqa_mat5_find(f, "MOSz");
    CHECK(mos && z && mos->count == 336 && z->count == 336 && mos->dims[0] == 336 && mos->dims[1] == 1);
    if (mos && z && mos->re && z->re) {
        CHECK_NEAR(mos->re[0], 8.55, 1e-12);       /* img1, as Assessor360's OIQA_dis_label.txt */
        CHECK_NEAR(z->re[0], 73.9628, 5e-5);      /* and KD-OIQA's MOSz */
        double lo = 1e9, hi = -1e9;
        for (int i = 0; i < 336; i++) lo = fmin(lo, mos->re[i]), hi = fmax(hi, mos->re[i]);
        CHECK(lo >= 1 && hi <= 10);
    }
    oiqa_mat5_free(f);
}

/* Every hostile variant: a failure with one message naming the file, never a crash. */
static void expect_bad(const uint8_t *d, size_t n, const char *what)
{
    oiqa_mat_file *f = (oiqa_mat_file *)1;
    int rc = oiqa_mat5_parse(d, n, "bad.mat", &f);
    CHECK_MSG(rc == OIQA_EXIT_DATA && f == NULL, "%s: rc %d", what, rc);
    CHECK_MSG(strncmp(oiqa_errmsg(), "bad.mat: ", 9) == 0 && !strchr(oiqa_errmsg(), '\n'), "%s: '%s'", what,
              oiqa_errmsg());
    if (rc == 0) oiqa_mat5_free(f);
}

static void t_hostile(void)
{
    mbuf m;
    build(&m, 0);
    add_compressed(&m);
    /* every truncation of the file */
    for (size_t n = 0; n < m.n; n++) {
        oiqa_mat_file *f = NULL;
        int rc = oiqa_mat5_parse(m.b, n, "bad.mat", &f);
        if (rc == 0) oiqa_mat5_free(f); /* cut exactly between elements: a shorter valid file */
        else CHECK_MSG(rc == OIQA_EXIT_DATA && !f, "truncated at %zu", n);
    }
    uint8_t d[sizeof m.b];
    /* every single-byte corruption: parsed or refused, never a crash (run under ASan by make test SANITIZE=1) */
    static const uint8_t flips[3] = {0xff, 0x80, 0x01};
    for (size_t i = 0; i < m.n; i++)
        for (int k = 0; k < 3; k++) {
            memcpy(d, m.b, m.n);
            d[i] ^= flips[k];
            oiqa_mat_file *g = NULL;
            int r = oiqa_mat5_parse(d, m.n, "bad.mat", &g);
            CHECK((r == 0 && g) || (r == OIQA_EXIT_DATA && !g));
            oiqa_mat5_free(g);
        }
    memcpy(d, m.b, m.n);
    d[0] = 'X';
    expect_bad(d, m.n, "magic");
    CHECK(strstr(oiqa_errmsg(), "no MATLAB header") != NULL);
    memcpy(d, m.b, m.n);
    d[126] = 'X';
    expect_bad(d, m.n, "endian");
    memcpy(d, m.b, m.n);
    memcpy(d, "MATLAB 7.3", 10);
    d[125] = 2;
    expect_bad(d, m.n, "v7.3");
    CHECK(strstr(oiqa_errmsg(), "HDF5") != NULL);
    /* absurd sizes: element length, dimensions, cell count */
    memcpy(d, m.b, m.n);
    d[132] = d[133] = d[134] = d[135] = 0xff;
    expect_bad(d, m.n, "element length");
    memcpy(d, m.b, m.n);
    /* x's dims are at 128 + 8 (matrix tag) + 16 (flags) + 8 (dims tag) */
    size_t dims = 128 + 8 + 16 + 8;
    d[dims] = d[dims + 1] = d[dims + 2] = 0xff, d[dims + 3] = 0x7f;
    d[dims + 4] = d[dims + 5] = d[dims + 6] = 0xff, d[dims + 7] = 0x7f;
    expect_bad(d, m.n, "dimensions");
    d[dims + 3] = 0xff; /* negative */
    expect_bad(d, m.n, "negative dimension");
    /* corrupt compressed stream */
    memcpy(d, m.b, m.n);
    d[m.n - 5] ^= 0x55;
    d[m.n - 9] ^= 0x55;
    oiqa_mat_file *f = NULL;
    int rc = oiqa_mat5_parse(d, m.n, "bad.mat", &f);
    CHECK(rc == OIQA_EXIT_DATA || (rc == 0 && f));
    if (!rc) oiqa_mat5_free(f);
    expect_bad(m.b, 100, "shorter than the header");
    /* deep nesting: cells inside cells past the limit */
    mbuf deep = {.be = 0};
    header(&deep);
    size_t at[40];
    for (int k = 0; k < 40; k++) { at[k] = open_matrix(&deep); matrix_head(&deep, 1, 1, 1, k ? "" : "d"); }
    for (int k = 39; k >= 0; k--) close_matrix(&deep, at[k]);
    expect_bad(deep.b, deep.n, "nesting");
    CHECK(strstr(oiqa_errmsg(), "nested too deeply") != NULL);
    /* a cell claiming a billion elements in a few bytes */
    mbuf big = {.be = 0};
    header(&big);
    size_t b0 = open_matrix(&big);
    matrix_head(&big, 1, 1000000, 1000, "c");
    close_matrix(&big, b0);
    expect_bad(big.b, big.n, "cell count");
    CHECK(oiqa_mat5_read(check_shared("no/such/file.mat"), &f) == OIQA_EXIT_DATA && !f);
}

int main(void)
{
    RUN(t_synthetic_file);
    RUN(t_oiqa_official);
    RUN(t_hostile);
    return check_done();
}
