/* The HDF5 feature store: round trips, encoded rows, resume (after an
 * abandon and after a kill), refusals, long provenance.
 *
 * `test_h5store --write-fixtures DIR` writes the small store files the
 * end-to-end test of oiqa-h5 uses (tests/e2e/test_h5.sh) and exits. */
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "io/h5inspect.h"
#include "io/h5store.h"
#include "io/h5util.h"
#include "check.h"

static char g_dir[256];

static const char *path_in(const char *name)
{
    static char buf[8][512];
    static int next;
    char *b = buf[next++ % 8];
    snprintf(b, 512, "%s/%s", g_dir, name);
    return b;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static const oiqa_provenance k_prov = {"test", "test_h5store 0", "test_h5store --run", "size: 4\nlevel: 2\n"};

/* Rows of the three datasets the round-trip stores have. */
enum { V = 2, S = 3, C = 5 };
typedef struct {
    uint8_t u8[V * S];
    uint16_t f16[C];
    float f32[V * C];
} row_data;

static void make_row(row_data *r, int i)
{
    for (int k = 0; k < V * S; k++) r->u8[k] = (uint8_t)(i * 17 + k * 3);
    for (int k = 0; k < C; k++) r->f16[k] = oiqa_f32_to_f16(0.25f * (float)(i * C + k) - 1.5f);
    for (int k = 0; k < V * C; k++) r->f32[k] = (float)i * 1.5f + (float)k / 7.0f;
}

static int define_three(oiqa_store *s, int level)
{
    uint64_t d_u8[2] = {V, S}, d_f16[1] = {C}, d_f32[2] = {V, C};
    int rc = oiqa_store_define(s, "/u8", OIQA_U8, 2, d_u8, level);
    if (!rc) rc = oiqa_store_define(s, "/half/map", OIQA_F16, 1, d_f16, level);
    if (!rc) rc = oiqa_store_define(s, "/f32", OIQA_F32, 2, d_f32, level);
    return rc;
}

static int append_row(oiqa_store *s, int i, int encoded)
{
    row_data r;
    make_row(&r, i);
    char name[64], input[64], sha[65];
    snprintf(name, sizeof name, "dir/img%d.png", i);
    snprintf(input, sizeof input, "/data/dir/img%d.png", i);
    snprintf(sha, sizeof sha, "%064d", i);
    const void *rows[3] = {r.u8, r.f16, r.f32};
    if (!encoded) return oiqa_store_append(s, name, input, sha, rows);
    oiqa_encoded_row enc;
    int rc = oiqa_store_encode(s, rows, &enc);
    if (!rc) rc = oiqa_store_append_encoded(s, name, input, sha, &enc);
    oiqa_encoded_row_free(&enc);
    return rc;
}

/* Writes n rows into a finished store at path. */
static int write_store(const char *path, int n, int level, int encoded, const oiqa_provenance *prov)
{
    oiqa_store *s = NULL;
    int rc = oiqa_store_open_write(path, prov ? prov : &k_prov, OIQA_STORE_CREATE, 1, &s);
    if (rc) return rc;
    if ((rc = define_three(s, level))) goto fail;
    for (int i = 0; i < n; i++)
        if ((rc = append_row(s, i, encoded))) goto fail;
    return oiqa_store_finish(s);
fail:
    oiqa_store_abandon(s);
    return rc;
}

/* Every row of the store at path equals make_row(first + i). */
static int check_rows(const char *path, int n, int first)
{
    oiqa_store_reader *r = NULL;
    if (oiqa_store_open_read(path, "test", 0, &r)) return 0;
    int ok = oiqa_store_reader_rows(r) == n;
    for (int i = 0; ok && i < n; i++) {
        row_data want, got;
        make_row(&want, first + i);
        char name[64];
        snprintf(name, sizeof name, "dir/img%d.png", first + i);
        ok = !strcmp(oiqa_store_reader_name(r, i), name) && oiqa_store_reader_find(r, name) == i &&
             !oiqa_store_reader_read_row(r, "/u8", i, OIQA_U8, got.u8) &&
             !oiqa_store_reader_read_row(r, "/half/map", i, OIQA_F16, got.f16) &&
             !oiqa_store_reader_read_row(r, "/f32", i, OIQA_F32, got.f32) && !memcmp(&want, &got, sizeof want);
    }
    oiqa_store_close(r);
    return ok;
}

/* ---- cases -------------------------------------------------------------- */

static void t_f16_conversion(void)
{
    /* Every finite half survives half -> float -> half. */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = oiqa_f16_to_f32((uint16_t)h);
        if (isnan(f)) continue;
        if (oiqa_f32_to_f16(f) != h) bad++;
    }
    CHECK_MSG(bad == 0, "%d halves do not round-trip", bad);
    CHECK(oiqa_f32_to_f16(1.0f) == 0x3c00);
    CHECK(oiqa_f32_to_f16(-2.0f) == 0xc000);
    CHECK(oiqa_f32_to_f16(65504.0f) == 0x7bff);
    CHECK(oiqa_f32_to_f16(65520.0f) == 0x7c00);       /* rounds up to Inf */
    CHECK(oiqa_f32_to_f16(ldexpf(1, -24)) == 0x0001); /* smallest subnormal */
    CHECK(oiqa_f32_to_f16(ldexpf(1, -25)) == 0x0000); /* tie to even: 0 */
    CHECK(oiqa_f32_to_f16(ldexpf(3, -25)) == 0x0002); /* tie to even: 2 */
    CHECK(oiqa_f32_to_f16(1.0f + ldexpf(1, -11)) == 0x3c00); /* tie, even mantissa */
    CHECK(oiqa_f32_to_f16(1.0f + ldexpf(3, -11)) == 0x3c02);
    CHECK(isnan(oiqa_f16_to_f32(oiqa_f32_to_f16(NAN))));
    CHECK(oiqa_f16_to_f32(oiqa_f32_to_f16(-INFINITY)) == -INFINITY);
    CHECK_NEAR(oiqa_f16_to_f32(0x3555), 0.333251953125, 0);
}

static void t_roundtrip(void)
{
    for (int level = 0; level <= 6; level += 6) {
        const char *p = path_in(level ? "rt_z.h5" : "rt.h5");
        CHECK(write_store(p, 3, level, 0, NULL) == OIQA_OK);
        CHECK(exists(p));
        CHECK(!exists(path_in(level ? "rt_z.h5.partial" : "rt.h5.partial")));
        CHECK(check_rows(p, 3, 0));
    }
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(path_in("rt_z.h5"), NULL, 0, &r) == OIQA_OK);
    if (!r) return;
    char *stage = oiqa_store_reader_attr_string(r, "/", "stage");
    char *tool = oiqa_store_reader_attr_string(r, NULL, "tool");
    char *config = oiqa_store_reader_attr_string(r, NULL, "config");
    char *inputs = oiqa_store_reader_attr_string(r, NULL, "inputs");
    char *created = oiqa_store_reader_attr_string(r, NULL, "created");
    CHECK_STR(stage, "test");
    CHECK_STR(tool, k_prov.tool);
    CHECK_STR(config, k_prov.config);
    CHECK(inputs && strstr(inputs, "{\"path\": \"/data/dir/img2.png\", \"sha256\": \"000"));
    CHECK(created && strlen(created) == 20 && created[10] == 'T' && created[19] == 'Z');
    CHECK(oiqa_store_reader_attr_string(r, NULL, "absent") == NULL);
    free(stage), free(tool), free(config), free(inputs), free(created);
    double v = 0;
    CHECK(oiqa_store_reader_attr_double(r, NULL, "oiqa_schema", &v) == OIQA_OK && v == 1);
    CHECK(oiqa_store_reader_attr_double(r, NULL, "complete", &v) == OIQA_OK && v == 1);
    CHECK(oiqa_store_reader_attr_double(r, "/u8", "per_image", &v) == OIQA_OK && v == 1);
    CHECK(oiqa_store_reader_find(r, "nope") == -1);

    oiqa_dtype t;
    int nd;
    uint64_t dims[OIQA_MAX_DIMS];
    CHECK(oiqa_store_reader_shape(r, "/f32", &t, &nd, dims) == OIQA_OK);
    CHECK(t == OIQA_F32 && nd == 3 && dims[0] == 3 && dims[1] == V && dims[2] == C);
    int64_t want[3] = {-1, V, C};
    CHECK(oiqa_store_reader_expect(r, "/f32", OIQA_F32, 3, want) == OIQA_OK);

    /* Conversions: float16 <-> float32 in C, uint8 -> float by HDF5. */
    row_data want_row;
    make_row(&want_row, 2);
    float f[V * C];
    uint16_t h[V * C];
    CHECK(oiqa_store_reader_read_row(r, "/half/map", 2, OIQA_F32, f) == OIQA_OK);
    for (int k = 0; k < C; k++) CHECK(f[k] == oiqa_f16_to_f32(want_row.f16[k]));
    CHECK(oiqa_store_reader_read_row(r, "/f32", 2, OIQA_F16, h) == OIQA_OK);
    for (int k = 0; k < V * C; k++) CHECK(h[k] == oiqa_f32_to_f16(want_row.f32[k]));
    CHECK(oiqa_store_reader_read_row(r, "/u8", 2, OIQA_F32, f) == OIQA_OK);
    for (int k = 0; k < V * S; k++) CHECK(f[k] == want_row.u8[k]);
    double all[3 * C];
    CHECK(oiqa_store_reader_read_all(r, "/half/map", OIQA_F64, all) == OIQA_OK);
    CHECK(all[2 * C + 1] == oiqa_f16_to_f32(want_row.f16[1]));
    CHECK(oiqa_store_reader_read_row(r, "/f32", 3, OIQA_F32, f) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "row 3 of /f32 is out of range"));
    oiqa_store_close(r);
}

/* HDF5's own float16 -> float conversion agrees with ours (so h5py and
 * h5dump see the values we do), Inf, NaN and subnormals included. */
static void t_hdf5_reads_f16(void)
{
    const char *p = path_in("f16.h5");
    uint16_t bits[8] = {0x3c00, 0xc000, 0x7bff, 0x7c00, 0xfc00, 0x0001, 0x03ff, 0x7e00};
    uint64_t d[1] = {8};
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    if (!s) return;
    CHECK(oiqa_store_define(s, "/h", OIQA_F16, 1, d, 4) == OIQA_OK);
    const void *rows[1] = {bits};
    CHECK(oiqa_store_append(s, "a", "a", "", rows) == OIQA_OK);
    CHECK(oiqa_store_finish(s) == OIQA_OK);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t ds = f >= 0 ? H5Dopen2(f, "/h", H5P_DEFAULT) : -1;
    float got[8] = {0};
    CHECK(ds >= 0 && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, got) >= 0);
    for (int k = 0; k < 8; k++) {
        float ours = oiqa_f16_to_f32(bits[k]);
        CHECK_MSG((isnan(ours) && isnan(got[k])) || ours == got[k], "bits %04x: HDF5 %g, ours %g", bits[k],
                  (double)got[k], (double)ours);
    }
    hid_t type = ds >= 0 ? H5Dget_type(ds) : -1;
    oiqa_dtype t = OIQA_U8;
    CHECK(type >= 0 && oiqa_h5_dtype_of(type, &t) == 0 && t == OIQA_F16 && H5Tget_size(type) == 2);
    if (type >= 0) H5Tclose(type);
    if (ds >= 0) H5Dclose(ds);
    if (f >= 0) H5Fclose(f);
}

/* Encoded rows give the same values and the very chunk bytes HDF5's own
 * shuffle + deflate filters write. */
static void t_encoded_equals_append(void)
{
    for (int level = 0; level <= 4; level += 4) {
        const char *a = path_in("plain.h5"), *b = path_in("enc.h5");
        CHECK(write_store(a, 4, level, 0, NULL) == OIQA_OK);
        CHECK(write_store(b, 4, level, 1, NULL) == OIQA_OK);
        CHECK(check_rows(b, 4, 0));
        hid_t fa = H5Fopen(a, H5F_ACC_RDONLY, H5P_DEFAULT), fb = H5Fopen(b, H5F_ACC_RDONLY, H5P_DEFAULT);
        const char *dsets[3] = {"/u8", "/half/map", "/f32"};
        for (int k = 0; k < 3; k++) {
            hid_t da = H5Dopen2(fa, dsets[k], H5P_DEFAULT), db = H5Dopen2(fb, dsets[k], H5P_DEFAULT);
            for (hsize_t row = 0; row < 4; row++) {
                hsize_t off[3] = {row, 0, 0}, na = 0, nb = 0;
                uint8_t ba[256], bb[256];
                uint32_t ma = 9, mb = 9;
                CHECK(H5Dget_chunk_storage_size(da, off, &na) >= 0 && H5Dget_chunk_storage_size(db, off, &nb) >= 0);
                CHECK_MSG(na == nb && na <= sizeof ba, "%s row %d: %llu vs %llu bytes", dsets[k], (int)row,
                          (unsigned long long)na, (unsigned long long)nb);
                if (na != nb || na > sizeof ba) break;
                CHECK(H5Dread_chunk(da, H5P_DEFAULT, off, &ma, ba) >= 0);
                CHECK(H5Dread_chunk(db, H5P_DEFAULT, off, &mb, bb) >= 0);
                CHECK(ma == 0 && mb == 0 && !memcmp(ba, bb, na));
            }
            H5Dclose(da), H5Dclose(db);
        }
        H5Fclose(fa), H5Fclose(fb);
    }
}

static void t_names_and_duplicates(void)
{
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(path_in("dup.h5"), &k_prov, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    if (!s) return;
    CHECK(define_three(s, 1) == OIQA_OK);
    CHECK(oiqa_store_rows(s) == 0 && !oiqa_store_has_name(s, "dir/img0.png"));
    CHECK(append_row(s, 0, 0) == OIQA_OK);
    CHECK(oiqa_store_has_name(s, "dir/img0.png") && oiqa_store_rows(s) == 1);
    CHECK(append_row(s, 0, 1) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "'dir/img0.png' is already in the file"));
    uint64_t d[1] = {2};
    CHECK(oiqa_store_define(s, "/late", OIQA_F32, 1, d, 0) == OIQA_EXIT_DATA);
    CHECK(oiqa_store_rows(s) == 1);
    oiqa_store_discard(s);
    CHECK(!exists(path_in("dup.h5.partial")) && !exists(path_in("dup.h5")));
}

static void t_define_errors(void)
{
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(path_in("def.h5"), &k_prov, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    if (!s) return;
    uint64_t d[2] = {2, 0};
    CHECK(oiqa_store_define(s, "/names", OIQA_F32, 1, d, 0) == OIQA_EXIT_DATA);
    CHECK(oiqa_store_define(s, "rel", OIQA_F32, 1, d, 0) == OIQA_EXIT_DATA);
    CHECK(oiqa_store_define(s, "/x", OIQA_F32, 1, d, 12) == OIQA_EXIT_DATA);
    CHECK(oiqa_store_define(s, "/x", OIQA_F32, 2, d, 0) == OIQA_EXIT_DATA); /* axis of length 0 */
    CHECK(oiqa_store_define(s, "/x", OIQA_F32, 1, d, 0) == OIQA_OK);
    CHECK(oiqa_store_define(s, "/x", OIQA_F32, 1, d, 0) == OIQA_EXIT_DATA); /* twice */
    float c[6] = {1, 2, 3, 4, 5, 6};
    uint64_t cd[2] = {2, 3};
    CHECK(oiqa_store_write_fixed(s, "/fixed/c", OIQA_F32, 2, cd, c) == OIQA_OK);
    CHECK(oiqa_store_set_attr_string(s, "/fixed/c", "columns", "a,b,c") == OIQA_OK);
    CHECK(oiqa_store_set_attr_double(s, "/fixed", "scale", 0.5) == OIQA_OK);
    CHECK(oiqa_store_set_attr_int(s, NULL, "size", 224) == OIQA_OK);
    CHECK(oiqa_store_set_attr_int(s, NULL, "size", 256) == OIQA_OK); /* replaced */
    CHECK(oiqa_store_set_attr_int(s, "/nope", "size", 1) == OIQA_EXIT_DATA);
    float row[2] = {1, 2};
    const void *rows[1] = {row};
    CHECK(oiqa_store_append(s, "r", NULL, NULL, rows) == OIQA_OK);
    CHECK(oiqa_store_finish(s) == OIQA_OK);
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(path_in("def.h5"), "test", 0, &r) == OIQA_OK);
    if (!r) return;
    double v = 0;
    CHECK(oiqa_store_reader_attr_double(r, "/", "size", &v) == OIQA_OK && v == 256);
    CHECK(oiqa_store_reader_attr_double(r, "/fixed", "scale", &v) == OIQA_OK && v == 0.5);
    char *cols = oiqa_store_reader_attr_string(r, "/fixed/c", "columns");
    CHECK_STR(cols, "a,b,c");
    free(cols);
    float got[6];
    CHECK(oiqa_store_reader_read_all(r, "/fixed/c", OIQA_F32, got) == OIQA_OK && !memcmp(got, c, sizeof c));
    CHECK(oiqa_store_reader_attr_double(r, "/fixed/c", "per_image", &v) == OIQA_EXIT_DATA);
    oiqa_store_close(r);
}

static void t_resume_after_abandon(void)
{
    const char *p = path_in("res.h5"), *pp = path_in("res.h5.partial");
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    if (!s) return;
    CHECK(define_three(s, 3) == OIQA_OK);
    CHECK(append_row(s, 0, 0) == OIQA_OK && append_row(s, 1, 1) == OIQA_OK);
    oiqa_store_abandon(s);
    CHECK(exists(pp) && !exists(p));

    /* A reader sees an unfinished file for what it is. */
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(pp, "test", 0, &r) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "incomplete (complete = 0)"));
    CHECK(oiqa_store_open_read(pp, "test", 1, &r) == OIQA_OK);
    if (r) CHECK(oiqa_store_reader_rows(r) == 2);
    oiqa_store_close(r);

    oiqa_provenance prov = k_prov;
    prov.command = "test_h5store --resume";
    CHECK(oiqa_store_open_write(p, &prov, OIQA_STORE_RESUME, 0, &s) == OIQA_OK);
    if (!s) return;
    CHECK(oiqa_store_rows(s) == 2 && oiqa_store_has_name(s, "dir/img1.png") && !oiqa_store_has_name(s, "dir/img2.png"));
    CHECK(define_three(s, 3) == OIQA_OK);
    CHECK(append_row(s, 2, 1) == OIQA_OK);
    CHECK(oiqa_store_finish(s) == OIQA_OK);
    CHECK(check_rows(p, 3, 0));
    CHECK(oiqa_store_open_read(p, "test", 0, &r) == OIQA_OK);
    if (!r) return;
    char *inputs = oiqa_store_reader_attr_string(r, NULL, "inputs");
    char *cmd = oiqa_store_reader_attr_string(r, NULL, "command");
    CHECK(inputs && strstr(inputs, "img0.png") && strstr(inputs, "img2.png"));
    CHECK_STR(cmd, "test_h5store --resume");
    free(inputs), free(cmd);
    oiqa_store_close(r);
}

/* A run killed after a row's data was written but before its name was:
 * resume drops the half-written row and writes it again. */
static void t_resume_after_kill(void)
{
    const char *p = path_in("kill.h5"), *pp = path_in("kill.h5.partial");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        oiqa_store *s = NULL;
        if (oiqa_store_open_write(p, &k_prov, OIQA_STORE_CREATE, 1, &s) || define_three(s, 2) ||
            append_row(s, 0, 0) || append_row(s, 1, 1))
            _exit(3);
        /* Half a row: every data dataset gets a (garbage) row 2, /names does not. */
        hid_t f = oiqa_store_file_id(s);
        const char *dsets[3] = {"/u8", "/half/map", "/f32"};
        uint8_t junk[256];
        memset(junk, 0xab, sizeof junk);
        for (int k = 0; k < 3; k++) {
            hid_t d = H5Dopen2(f, dsets[k], H5P_DEFAULT), sp = H5Dget_space(d);
            hsize_t dims[3], start[3] = {2, 0, 0};
            int rank = H5Sget_simple_extent_dims(sp, dims, NULL);
            H5Sclose(sp);
            dims[0] = 3;
            H5Dset_extent(d, dims);
            sp = H5Dget_space(d);
            dims[0] = 1;
            H5Sselect_hyperslab(sp, H5S_SELECT_SET, start, NULL, dims, NULL);
            hid_t ms = H5Screate_simple(rank, dims, NULL), t = H5Dget_type(d);
            H5Dwrite(d, t, ms, sp, H5P_DEFAULT, junk);
            H5Tclose(t), H5Sclose(ms), H5Sclose(sp);
            H5Dclose(d);
        }
        H5Fflush(f, H5F_SCOPE_GLOBAL);
        raise(SIGKILL);
        _exit(4);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL, "child status %d", status);
    CHECK(exists(pp));
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_RESUME, 0, &s) == OIQA_OK);
    if (!s) {
        printf("    %s\n", oiqa_errmsg());
        return;
    }
    CHECK(oiqa_store_rows(s) == 2);
    CHECK(define_three(s, 2) == OIQA_OK);
    for (int i = 2; i < 4; i++) CHECK(append_row(s, i, i & 1) == OIQA_OK);
    CHECK(oiqa_store_finish(s) == OIQA_OK);
    CHECK(check_rows(p, 4, 0));
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(p, "test", 0, &r) == OIQA_OK);
    if (!r) return;
    char *inputs = oiqa_store_reader_attr_string(r, NULL, "inputs");
    CHECK(inputs && strstr(inputs, "img3.png") && !strstr(inputs, "img4.png"));
    free(inputs);
    oiqa_store_close(r);
    hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "/input_sha256", H5P_DEFAULT);
    hid_t sp = H5Dget_space(d);
    hsize_t n = 0;
    CHECK(H5Sget_simple_extent_dims(sp, &n, NULL) == 1 && n == 4);
    H5Sclose(sp), H5Dclose(d), H5Fclose(f);
}

static void t_first_differing_line(void)
{
    char a[128], b[128];
    CHECK(oiqa_first_differing_line("x: 1\ny: 2\n", "x: 1\ny: 2\n", a, b, sizeof a) == 0);
    CHECK(oiqa_first_differing_line("x: 1\ny: 2\n", "x: 1\ny: 3\n", a, b, sizeof a) == 2);
    CHECK_STR(a, "y: 2");
    CHECK_STR(b, "y: 3");
    CHECK(oiqa_first_differing_line("x: 1\n", "x: 1\n\nz: 0\n", a, b, sizeof a) == 2);
    CHECK_STR(a, "(end)");
    CHECK_STR(b, "");
    CHECK(oiqa_first_differing_line("", "a", a, b, sizeof a) == 1);
    CHECK_STR(a, "(end)");
    CHECK(oiqa_first_differing_line("a\n", "a", a, b, sizeof a) == 0); /* only the final newline */
}

static void t_resume_refusals(void)
{
    const char *p = path_in("cfg.h5");
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_RESUME, 0, &s) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "cfg.h5.partial: no interrupted run to resume"));
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_CREATE, 0, &s) == OIQA_OK);
    if (!s) return;
    CHECK(define_three(s, 0) == OIQA_OK && append_row(s, 0, 0) == OIQA_OK);
    oiqa_store_abandon(s);

    oiqa_provenance other = k_prov;
    other.config = "size: 4\nlevel: 3\n";
    CHECK(oiqa_store_open_write(p, &other, OIQA_STORE_RESUME, 0, &s) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(),
                     "config differs from the interrupted run at line 2: 'level: 3' now, 'level: 2' there"),
              "%s", oiqa_errmsg());
    other.config = "size: 4\nlevel: 2\nextra: 1\n";
    CHECK(oiqa_store_open_write(p, &other, OIQA_STORE_RESUME, 0, &s) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "line 3: 'extra: 1' now, '(end)' there"), "%s", oiqa_errmsg());
    other = k_prov;
    other.stage = "backbone";
    CHECK(oiqa_store_open_write(p, &other, OIQA_STORE_RESUME, 0, &s) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "stage is 'test', this run writes 'backbone'"));

    /* A dataset of another shape than the one in the interrupted run. */
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_RESUME, 0, &s) == OIQA_OK);
    if (!s) return;
    uint64_t d[2] = {V, S + 1};
    CHECK(oiqa_store_define(s, "/u8", OIQA_U8, 2, d, 0) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "/u8 in the interrupted run is not uint8 [N,2,4]"), "%s", oiqa_errmsg());
    oiqa_store_abandon(s);

    /* CREATE refuses the .partial, and a finished output, unless forced. */
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_CREATE, 0, &s) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "cfg.h5.partial: an interrupted run is there (use --resume to continue it or "
                                    "--force to start over)"), "%s", oiqa_errmsg());
    CHECK(write_store(p, 1, 0, 0, NULL) == OIQA_OK); /* forced */
    CHECK(!exists(path_in("cfg.h5.partial")));
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_CREATE, 0, &s) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), "cfg.h5: exists (use --force to overwrite)"), "%s", oiqa_errmsg());
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_RESUME, 0, &s) == OIQA_EXIT_USAGE);
    CHECK(strstr(oiqa_errmsg(), "is complete; use --force to recompute it"));
}

static void t_unwritable(void)
{
    FILE *f = fopen(path_in("afile"), "w");
    if (f) fclose(f);
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(path_in("afile/out.h5"), &k_prov, OIQA_STORE_CREATE, 0, &s) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "afile/out.h5: cannot create (") && strstr(oiqa_errmsg(), "not a directory"), "%s",
              oiqa_errmsg());
    /* Parent directories are made as needed. */
    CHECK(oiqa_store_open_write(path_in("new/sub/out.h5"), &k_prov, OIQA_STORE_CREATE, 0, &s) == OIQA_OK);
    oiqa_store_discard(s);
    if (geteuid() != 0) {
        mkdir(path_in("ro"), 0555);
        CHECK(oiqa_store_open_write(path_in("ro/out.h5"), &k_prov, OIQA_STORE_CREATE, 0, &s) == OIQA_EXIT_DATA);
        CHECK_MSG(strstr(oiqa_errmsg(), "ro/out.h5: cannot create ") && strstr(oiqa_errmsg(), "(Permission denied)"),
                  "%s",
                  oiqa_errmsg());
    }
}

/* Writes an HDF5 file that is not a store: one dataset, no provenance. */
static void write_plain_hdf5(const char *p, int with_schema)
{
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hsize_t dims[2] = {3, 4};
    hid_t sp = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(f, "/x", H5T_STD_I16LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    short v[12];
    for (int i = 0; i < 12; i++) v[i] = (short)(i - 3);
    H5Dwrite(d, H5T_NATIVE_SHORT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
    if (with_schema) {
        oiqa_h5_attr_write_i64(f, "oiqa_schema", 1);
        oiqa_h5_attr_write_string(f, "stage", "test");
        oiqa_h5_attr_write_i64(f, "complete", 1);
    }
    H5Dclose(d), H5Sclose(sp), H5Fclose(f);
}

static void t_readers_refuse(void)
{
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(path_in("missing.h5"), NULL, 0, &r) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "missing.h5: no such file"));
    FILE *f = fopen(path_in("text.h5"), "w");
    if (f) fputs("hello, not hdf5\n", f), fclose(f);
    CHECK(oiqa_store_open_read(path_in("text.h5"), NULL, 0, &r) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "text.h5: not an HDF5 file"), "%s", oiqa_errmsg());
    CHECK(oiqa_store_open_read(g_dir, NULL, 0, &r) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "is a directory"));

    write_plain_hdf5(path_in("plain_x.h5"), 0);
    CHECK(oiqa_store_open_read(path_in("plain_x.h5"), NULL, 0, &r) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "plain_x.h5: not an oiqa feature file (no oiqa_schema attribute)"), "%s",
              oiqa_errmsg());
    write_plain_hdf5(path_in("nonames.h5"), 1);
    CHECK(oiqa_store_open_read(path_in("nonames.h5"), NULL, 0, &r) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "nonames.h5: no /names dataset"));

    CHECK(write_store(path_in("st.h5"), 2, 1, 0, NULL) == OIQA_OK);
    CHECK(oiqa_store_open_read(path_in("st.h5"), "viewports", 0, &r) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "st.h5: stage is 'test', expected 'viewports'"), "%s", oiqa_errmsg());

    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(path_in("inc.h5"), &k_prov, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    oiqa_store_abandon(s);
    CHECK(oiqa_store_open_read(path_in("inc.h5.partial"), "test", 0, &r) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "inc.h5.partial: incomplete (complete = 0): the run that wrote it did not finish"),
              "%s", oiqa_errmsg());

    CHECK(oiqa_store_open_read(path_in("st.h5"), "test", 0, &r) == OIQA_OK);
    if (!r) return;
    int64_t want[3] = {-1, 2, 4};
    CHECK(oiqa_store_reader_expect(r, "/u8", OIQA_U8, 3, want) == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(oiqa_errmsg(), "st.h5: /u8 is uint8 [2,2,3], expected uint8 [N,2,4]"), "%s", oiqa_errmsg());
    CHECK(oiqa_store_reader_expect(r, "/f32", OIQA_F16, 3, want) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "/f32 is float32 [2,2,5], expected float16 [N,2,4]"));
    CHECK(oiqa_store_reader_expect(r, "/nope", OIQA_F32, 3, want) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "st.h5: no dataset /nope (expected float32 [N,2,4])"));
    CHECK(oiqa_store_reader_read_row(r, "/half", 0, OIQA_F32, NULL) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "/half is not a dataset"));
    CHECK(oiqa_store_reader_read_row(r, "/names", 0, OIQA_F32, NULL) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "/names has a type oiqa does not read"));
    oiqa_store_close(r);
}

/* Hostile files: /names of the wrong kind, datasets of many axes. */
static void t_hostile(void)
{
    const char *p = path_in("hostile.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    oiqa_h5_attr_write_i64(f, "oiqa_schema", 1);
    oiqa_h5_attr_write_string(f, "stage", "test");
    oiqa_h5_attr_write_i64(f, "complete", 1);
    hsize_t dims[10] = {2, 1, 1, 1, 1, 1, 1, 1, 1, 1};
    hid_t sp = H5Screate_simple(10, dims, NULL);
    hid_t d = H5Dcreate2(f, "/names", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d);
    H5Fclose(f);
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(p, NULL, 0, &r) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "/names is not a 1-D string dataset"));

    f = H5Fopen(p, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "/names", H5P_DEFAULT);
    hsize_t one[1] = {0};
    hid_t s1 = H5Screate_simple(1, one, NULL), st = oiqa_h5_vlen_utf8();
    H5Dclose(H5Dcreate2(f, "/names", st, s1, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Dclose(H5Dcreate2(f, "/deep", H5T_STD_I32LE, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    H5Tclose(st), H5Sclose(s1), H5Sclose(sp);
    H5Fclose(f);
    CHECK(oiqa_store_open_read(p, NULL, 0, &r) == OIQA_OK);
    if (!r) return;
    CHECK(oiqa_store_reader_rows(r) == 0);
    CHECK(oiqa_store_reader_shape(r, "/deep", NULL, NULL, NULL) == OIQA_EXIT_DATA);
    CHECK(strstr(oiqa_errmsg(), "/deep has more than 8 axes"));
    oiqa_store_close(r);
}

static void t_long_inputs(void)
{
    const char *p = path_in("long.h5");
    oiqa_store *s = NULL;
    CHECK(oiqa_store_open_write(p, &k_prov, OIQA_STORE_CREATE, 1, &s) == OIQA_OK);
    if (!s) return;
    uint64_t d[1] = {1};
    CHECK(oiqa_store_define(s, "/score", OIQA_F32, 1, d, 0) == OIQA_OK);
    int n = 5000, failed = 0;
    for (int i = 0; i < n && !failed; i++) {
        char name[160], sha[65];
        snprintf(name, sizeof name, "datasets/some-long-directory-name/category-%03d/image-%06d-distorted.png",
                 i % 100, i);
        snprintf(sha, sizeof sha, "%064x", i);
        float v = (float)i;
        const void *rows[1] = {&v};
        failed = oiqa_store_append(s, name, name, sha, rows) != OIQA_OK;
    }
    CHECK(!failed);
    CHECK(oiqa_store_finish(s) == OIQA_OK);
    oiqa_store_reader *r = NULL;
    CHECK(oiqa_store_open_read(p, "test", 0, &r) == OIQA_OK);
    if (!r) return;
    char *inputs = oiqa_store_reader_attr_string(r, NULL, "inputs");
    int count = 0;
    for (const char *q = inputs; q && (q = strstr(q, "\"sha256\"")); q++) count++;
    CHECK_MSG(count == n, "%d inputs", count);
    CHECK(inputs && strlen(inputs) > 500000);
    free(inputs);
    CHECK(oiqa_store_reader_rows(r) == n && oiqa_store_reader_find(r, oiqa_store_reader_name(r, 4321)) == 4321);
    oiqa_store_close(r);
}

/* ---- fixtures for tests/e2e/test_h5.sh -------------------------------- */

enum { FX_V = 2, FX_S = 4, FX_C = 3, FX_N = 6 };

/* Rows of the fixture stores: viewports, a float32 feature, a float16 map. */
static int fixture_store(const char *dir, const char *file, const char *config, int first, int n, int order_rev,
                         float bump, int with_nan)
{
    char path[1024], name[64], input[96], sha[65];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    oiqa_provenance prov = {"test", "test_h5store 0", "test_h5store --write-fixtures", config};
    oiqa_store *s = NULL;
    int rc = oiqa_store_open_write(path, &prov, OIQA_STORE_CREATE, 1, &s);
    if (rc) return rc;
    uint64_t dv[4] = {FX_V, FX_S, FX_S, 3}, df[2] = {FX_V, FX_C}, dm[2] = {2, 2}, dc[2] = {FX_V, 3};
    float centers[FX_V * 3] = {0, 0, 90, 180, 45.5f, 90};
    if ((rc = oiqa_store_define(s, "/viewports", OIQA_U8, 4, dv, 4)) ||
        (rc = oiqa_store_define(s, "/original/layer1/mean", OIQA_F32, 2, df, 4)) ||
        (rc = oiqa_store_define(s, "/original/layer1/map", OIQA_F16, 2, dm, 0)) ||
        (rc = oiqa_store_write_fixed(s, "/centers", OIQA_F32, 2, dc, centers)) ||
        (rc = oiqa_store_set_attr_string(s, "/viewports", "layout", "test2")) ||
        (rc = oiqa_store_set_attr_int(s, "/viewports", "size", FX_S)) ||
        (rc = oiqa_store_set_attr_string(s, "/original", "backbone", "none")))
        goto fail;
    for (int j = 0; j < n; j++) {
        int i = first + (order_rev ? n - 1 - j : j);
        uint8_t vp[FX_V * FX_S * FX_S * 3];
        float feat[FX_V * FX_C];
        uint16_t map[4];
        for (size_t k = 0; k < sizeof vp; k++) vp[k] = (uint8_t)(i * 40 + k * 5);
        for (int k = 0; k < FX_V * FX_C; k++) feat[k] = (float)i + (float)k * 0.125f;
        if (i == 4) feat[1] += bump;
        if (with_nan && i == 1) feat[0] = NAN, feat[2] = INFINITY;
        for (int k = 0; k < 4; k++) map[k] = oiqa_f32_to_f16((float)(i - k) * 0.5f);
        snprintf(name, sizeof name, i % 2 ? "sub/img%d.png" : "img%d.jpg", i);
        snprintf(input, sizeof input, "/data/%s", name);
        snprintf(sha, sizeof sha, "%064x", i * 7919);
        const void *rows[3] = {vp, feat, map};
        if ((rc = oiqa_store_append(s, name, input, sha, rows))) goto fail;
    }
    return oiqa_store_finish(s);
fail:
    oiqa_store_discard(s);
    return rc;
}

/* An HDF5 file of the kinds the inspector must survive: a scalar, an empty
 * dataset, compound, enum, big-endian and fixed-string types, 10 axes, a
 * soft link, a dangling external link, a hard-link cycle, odd attributes. */
static void write_weird(const char *p)
{
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t scalar = H5Screate(H5S_SCALAR);
    double v = 3.5;
    hid_t d = H5Dcreate2(f, "/scalar", H5T_IEEE_F64LE, scalar, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v);
    H5Dclose(d);

    hsize_t e0[2] = {0, 4}, emax[2] = {H5S_UNLIMITED, 4}, ech[2] = {8, 4};
    hid_t es = H5Screate_simple(2, e0, emax), dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, ech);
    H5Dclose(H5Dcreate2(f, "/empty", H5T_IEEE_F32LE, es, H5P_DEFAULT, dcpl, H5P_DEFAULT));
    H5Pclose(dcpl), H5Sclose(es);

    struct { int a; double b; } rec[3] = {{1, 0.5}, {2, 1.5}, {3, -2}};
    hid_t ct = H5Tcreate(H5T_COMPOUND, sizeof rec[0]);
    H5Tinsert(ct, "a", 0, H5T_NATIVE_INT);
    H5Tinsert(ct, "b", sizeof(double), H5T_NATIVE_DOUBLE);
    hsize_t three[1] = {3};
    hid_t s3 = H5Screate_simple(1, three, NULL);
    d = H5Dcreate2(f, "/compound", ct, s3, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, ct, H5S_ALL, H5S_ALL, H5P_DEFAULT, rec);
    H5Dclose(d);
    hid_t ca = H5Acreate2(f, "record", ct, scalar, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(ca, ct, rec);
    H5Aclose(ca), H5Tclose(ct);

    int be[3] = {1, -2, 300};
    d = H5Dcreate2(f, "/big_endian", H5T_STD_I32BE, s3, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, be);
    H5Dclose(d);

    hid_t et = H5Tenum_create(H5T_NATIVE_INT);
    int red = 0, green = 1;
    H5Tenum_insert(et, "red", &red), H5Tenum_insert(et, "green", &green);
    d = H5Dcreate2(f, "/enum", et, s3, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dclose(d), H5Tclose(et);

    hid_t fs = H5Tcopy(H5T_C_S1);
    H5Tset_size(fs, 8);
    hsize_t two2[2] = {2, 2};
    hid_t s22 = H5Screate_simple(2, two2, NULL);
    char strs[4][8] = {"a", "b,c", "say \"hi\"", "12345678"};
    d = H5Dcreate2(f, "/strings", fs, s22, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, fs, H5S_ALL, H5S_ALL, H5P_DEFAULT, strs);
    H5Dclose(d);
    hsize_t four[1] = {4};
    hid_t s4 = H5Screate_simple(1, four, NULL);
    hid_t sa = H5Acreate2(f, "labels", fs, s4, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(sa, fs, strs);
    H5Aclose(sa), H5Sclose(s4), H5Sclose(s22), H5Tclose(fs);

    hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
    H5Pset_create_intermediate_group(lcpl, 1);
    hsize_t deep[10] = {2, 1, 1, 1, 1, 1, 1, 1, 1, 2};
    hid_t sd = H5Screate_simple(10, deep, NULL);
    unsigned short us[4] = {1, 2, 3, 65535};
    d = H5Dcreate2(f, "/deep/a/b/c", H5T_STD_U16LE, sd, lcpl, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_USHORT, H5S_ALL, H5S_ALL, H5P_DEFAULT, us);
    H5Dclose(d), H5Sclose(sd), H5Pclose(lcpl);

    H5Lcreate_soft("/scalar", f, "/soft", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_external("no-such-file.h5", "/x", f, "/external", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_hard(f, "/deep", f, "/deep/a/loop", H5P_DEFAULT, H5P_DEFAULT);

    long long arr[12];
    for (int i = 0; i < 12; i++) arr[i] = i * i;
    hsize_t twelve[1] = {12};
    hid_t s12 = H5Screate_simple(1, twelve, NULL);
    hid_t aa = H5Acreate2(f, "squares", H5T_STD_I64LE, s12, H5P_DEFAULT, H5P_DEFAULT);
    H5Awrite(aa, H5T_NATIVE_LLONG, arr);
    H5Aclose(aa), H5Sclose(s12);
    char long_text[300];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    long_text[10] = '\n';
    oiqa_h5_attr_write_string(f, "long", long_text);
    H5Sclose(s3), H5Sclose(scalar);
    H5Fclose(f);
}

static int write_fixtures(const char *dir)
{
    const char *cfg = "layout: test2\nsize: 4\n";
    int rc;
    if ((rc = fixture_store(dir, "all.h5", cfg, 0, FX_N, 0, 0, 0)) ||
        (rc = fixture_store(dir, "reversed.h5", cfg, 0, FX_N, 1, 0, 0)) ||
        (rc = fixture_store(dir, "bumped.h5", cfg, 0, FX_N, 0, 1e-3f, 0)) ||
        (rc = fixture_store(dir, "nan.h5", cfg, 0, FX_N, 0, 0, 1)) ||
        (rc = fixture_store(dir, "shard1.h5", cfg, 0, 3, 0, 0, 0)) ||
        (rc = fixture_store(dir, "shard2.h5", cfg, 3, 3, 0, 0, 0)) ||
        (rc = fixture_store(dir, "shard2_cfg.h5", "layout: test2\nsize: 5\n", 3, 3, 0, 0, 0)) ||
        (rc = fixture_store(dir, "shard2_dup.h5", cfg, 2, 4, 0, 0, 0)) ||
        (rc = fixture_store(dir, "first4.h5", cfg, 0, 4, 0, 0, 0)))
        return oiqa_report(rc);
    /* An unfinished run, and an HDF5 file that is no store. */
    char path[1024];
    snprintf(path, sizeof path, "%s/partial.h5", dir);
    oiqa_provenance prov = {"test", "test_h5store 0", "test_h5store", cfg};
    oiqa_store *s = NULL;
    if ((rc = oiqa_store_open_write(path, &prov, OIQA_STORE_CREATE, 1, &s))) return oiqa_report(rc);
    oiqa_store_abandon(s);
    snprintf(path, sizeof path, "%s/plain.h5", dir);
    write_plain_hdf5(path, 0);
    snprintf(path, sizeof path, "%s/weird.h5", dir);
    write_weird(path);
    return 0;
}

static int write_fixtures(const char *dir);

/* Every HDF5 object the library opened is closed again (LSan cannot see
 * leaked handles: HDF5 frees them at exit). */
static long open_handles(void) { return (long)H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL); }

static void t_no_handle_leaks(void)
{
    CHECK_MSG(open_handles() == 0, "%ld HDF5 objects open after the store tests", open_handles());
    char fx[512];
    snprintf(fx, sizeof fx, "%s/fx", g_dir);
    mkdir(fx, 0755);
    if (write_fixtures(fx)) {
        CHECK_MSG(0, "fixtures: %s", oiqa_errmsg());
        return;
    }
    FILE *null = fopen("/dev/null", "w");
    if (!null) return;
    const char *files[] = {"all.h5", "weird.h5", "nan.h5", "partial.h5.partial", "plain.h5"};
    char a[600], b[600], out[600];
    for (int i = 0; i < 5; i++) {
        snprintf(a, sizeof a, "%s/%s", fx, files[i]);
        oiqa_h5_ls(a, 1, null);
        oiqa_h5_show(a, 1, null);
        oiqa_h5_stats(a, NULL, 0, 1, null);
        oiqa_h5_dump(a, "/names", NULL, NULL, null);
        oiqa_h5_dump(a, "/strings", NULL, NULL, null);
        oiqa_h5_dump(a, "/original/layer1/mean", "1:", ":,1", null);
        int differ = 0;
        oiqa_h5_diff_opts d = {0, 0, 1};
        snprintf(b, sizeof b, "%s/reversed.h5", fx);
        oiqa_h5_diff(a, b, &d, null, &differ);
        CHECK_MSG(open_handles() == 0, "%s: %ld HDF5 objects left open", files[i], open_handles());
    }
    const char *pairs[][2] = {{"shard1.h5", "shard2.h5"}, {"shard1.h5", "shard2_dup.h5"},
                              {"shard1.h5", "shard2_cfg.h5"}, {"shard1.h5", "plain.h5"}};
    for (int i = 0; i < 4; i++) {
        char sa[600], sb[600];
        snprintf(sa, sizeof sa, "%s/%s", fx, pairs[i][0]);
        snprintf(sb, sizeof sb, "%s/%s", fx, pairs[i][1]);
        snprintf(out, sizeof out, "%s/merged%d.h5", fx, i);
        char *shards[2] = {sa, sb};
        int rc = oiqa_h5_merge(shards, 2, out, 0, "test", "test");
        CHECK_MSG((rc == OIQA_OK) == (i == 0), "merge %d: rc %d: %s", i, rc, oiqa_errmsg());
        CHECK_MSG(open_handles() == 0, "merge %d: %ld HDF5 objects left open", i, open_handles());
    }
    snprintf(a, sizeof a, "%s/all.h5", fx);
    snprintf(out, sizeof out, "%s/png", fx);
    oiqa_h5_png_opts po = {NULL, "0:2", 0};
    long written = 0;
    CHECK(oiqa_h5_export_png(a, out, &po, &written) == OIQA_OK && written == 4);
    CHECK(open_handles() == 0);
    fclose(null);
}

int main(int argc, char **argv)
{
    oiqa_h5_quiet();
    oiqa_log_set_level(OIQA_LOG_WARN); /* no progress lines among the results */
    if (argc == 3 && !strcmp(argv[1], "--write-fixtures")) return write_fixtures(argv[2]);
    snprintf(g_dir, sizeof g_dir, "/tmp/oiqa-h5store.XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    RUN(t_f16_conversion);
    RUN(t_roundtrip);
    RUN(t_hdf5_reads_f16);
    RUN(t_encoded_equals_append);
    RUN(t_names_and_duplicates);
    RUN(t_define_errors);
    RUN(t_resume_after_abandon);
    RUN(t_resume_after_kill);
    RUN(t_first_differing_line);
    RUN(t_resume_refusals);
    RUN(t_unwritable);
    RUN(t_readers_refuse);
    RUN(t_hostile);
    RUN(t_long_inputs);
    RUN(t_no_handle_leaks);
    chmod(path_in("ro"), 0755);
    nftw(g_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return check_done();
}
