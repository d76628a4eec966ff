/* Viewport maps and bilinear sampling against the reference fixture
 * ../shared/fixtures/viewports/viewports.h5 (NumPy float64 geometry sampled
 * with OpenCV 4.6 cv2.remap; see its README for the formulas and tolerances).
 *
 * Checks: the (u, v) map of viewport 0 at every pixel and of all 7 viewports
 * on a subgrid (<= 1e-3 px, u modulo W); our exact bilinear f32 against the
 * fixture's exact-weight bilinear (<= 1e-2); our bilinear u8 and f32 against
 * OpenCV's INTER_LINEAR output (mean |diff| <= 0.5, max <= 4: OpenCV
 * quantises positions to 1/32 pixel). The measured errors are printed. */
#include <hdf5.h>
#include <stdint.h>
#include <unistd.h>

#include "check.h"
#include "fixture_h5.h"
#include "geo/sample.h"
#include "geo/viewport.h"

#define N_SPECS 7

static hid_t fixture = -1;
static double specs[N_SPECS][4]; /* S, fov, lon0, lat0 */

/* Reads a whole dataset converted to mem_type into a malloc'ed buffer;
 * dims (up to 4) and the element count are returned. NULL if absent. */
static void *read_dataset(const char *name, hid_t mem_type, size_t elem, hsize_t dims[4], size_t *count)
{
    return fixture_read_dataset(fixture, name, mem_type, elem, dims, count);
}

/* Opens the fixture once; returns 0 (after SKIP) when it is absent. */
static int open_fixture(void)
{
    if (fixture >= 0) return 1;
    const char *path = check_shared("fixtures/viewports/viewports.h5");
    if (access(path, R_OK) != 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", path);
        return 0;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    fixture = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (fixture < 0) {
        SKIP("fixture %s cannot be opened as HDF5", path);
        return 0;
    }
    double *sp = read_dataset("specs", H5T_NATIVE_DOUBLE, sizeof(double), NULL, NULL);
    if (!sp) {
        H5Fclose(fixture);
        fixture = -1;
        SKIP("fixture %s has no specs dataset", path);
        return 0;
    }
    memcpy(specs, sp, sizeof specs);
    free(sp);
    return 1;
}

static oiqa_view spec_view(int k) { return (oiqa_view){specs[k][2], specs[k][3], specs[k][1]}; }

static double du_mod(double a, double b, int W)
{
    double d = fmod(fabs(a - b), W);
    return d < W - d ? d : W - d;
}

/* The fixture's ERP of one image as an oiqa_image (rgb malloc'ed). */
static int load_erp(const char *img, oiqa_image *erp)
{
    char name[64];
    hsize_t dims[4];
    snprintf(name, sizeof name, "%s/erp_u8", img);
    erp->rgb = read_dataset(name, H5T_NATIVE_UINT8, 1, dims, NULL);
    erp->h = (int)dims[0];
    erp->w = (int)dims[1];
    return erp->rgb != NULL;
}

static void t_map_vp0_every_pixel(void)
{
    if (!open_fixture()) return;
    hsize_t dims[4];
    float *ref = read_dataset("maps/vp0_uv", H5T_NATIVE_FLOAT, sizeof(float), dims, NULL);
    CHECK(ref != NULL);
    if (!ref) return;
    const int S = (int)specs[0][0], W = 1024, H = 512;
    CHECK(dims[0] == (hsize_t)S && dims[1] == (hsize_t)S && dims[2] == 2);
    float *uv = malloc(sizeof *uv * S * S * 2);
    oiqa_view v = spec_view(0);
    oiqa_view_map(&v, S, W, H, uv);
    double du = 0, dv = 0;
    for (int p = 0; p < S * S; p++) {
        du = fmax(du, du_mod(uv[2 * p], ref[2 * p], W));
        dv = fmax(dv, fabs(uv[2 * p + 1] - ref[2 * p + 1]));
    }
    printf("  maps/vp0_uv: max |du| %.2e px, max |dv| %.2e px\n", du, dv);
    CHECK_MSG(du <= 1e-3 && dv <= 1e-3, "map error du %g dv %g px", du, dv);
    free(uv);
    free(ref);
}

static void t_map_all_views_subgrid(void)
{
    if (!open_fixture()) return;
    const int W = 1024, H = 512;
    for (int k = 0; k < N_SPECS; k++) {
        char name[64];
        hsize_t dims[4];
        size_t n_idx;
        snprintf(name, sizeof name, "maps/vp%d_sub_index", k);
        int *idx = read_dataset(name, H5T_NATIVE_INT, sizeof(int), NULL, &n_idx);
        snprintf(name, sizeof name, "maps/vp%d_uv_sub", k);
        double *ref = read_dataset(name, H5T_NATIVE_DOUBLE, sizeof(double), dims, NULL);
        CHECK(idx && ref);
        if (!idx || !ref) {
            free(idx), free(ref);
            return;
        }
        const int S = (int)specs[k][0], n = (int)n_idx;
        float *uv = malloc(sizeof *uv * S * S * 2);
        oiqa_view v = spec_view(k);
        oiqa_view_map(&v, S, W, H, uv);
        double du = 0, dv = 0;
        for (int a = 0; a < n; a++)
            for (int b = 0; b < n; b++) {
                const float *m = uv + 2 * ((size_t)idx[a] * S + idx[b]);
                const double *r = ref + 2 * ((size_t)a * n + b);
                du = fmax(du, du_mod(m[0], r[0], W));
                dv = fmax(dv, fabs(m[1] - r[1]));
            }
        printf("  maps/vp%d_uv_sub (S %d fov %g lon %g lat %g): max |du| %.2e px, max |dv| %.2e px\n", k, S,
               specs[k][1], specs[k][2], specs[k][3], du, dv);
        CHECK_MSG(du <= 1e-3 && dv <= 1e-3, "vp%d: map error du %g dv %g px", k, du, dv);
        free(uv);
        free(idx);
        free(ref);
    }
}

static void t_exact_bilinear_f32(void)
{
    if (!open_fixture()) return;
    oiqa_image erp;
    CHECK(load_erp("forest", &erp));
    if (!erp.rgb) return;
    const int views[2] = {0, 5};
    for (int q = 0; q < 2; q++) {
        int k = views[q], S = (int)specs[k][0];
        char name[64];
        snprintf(name, sizeof name, "forest/vp%d_exact_bilinear_f32", k);
        float *ref = read_dataset(name, H5T_NATIVE_FLOAT, sizeof(float), NULL, NULL);
        CHECK(ref != NULL);
        if (!ref) break;
        float *uv = malloc(sizeof *uv * S * S * 2), *out = malloc(sizeof *out * S * S * 3);
        oiqa_view v = spec_view(k);
        oiqa_view_map(&v, S, erp.w, erp.h, uv);
        oiqa_sample_bilinear_f32(&erp, uv, (int64_t)S * S, out);
        double mx = 0, sum = 0;
        for (int p = 0; p < S * S * 3; p++) {
            double d = fabs(out[p] - ref[p]);
            mx = fmax(mx, d);
            sum += d;
        }
        printf("  forest/vp%d_exact_bilinear_f32: max |diff| %.2e, mean %.2e grey levels\n", k, mx,
               sum / (S * S * 3));
        CHECK_MSG(mx <= 1e-2, "vp%d: max diff %g vs exact bilinear", k, mx);
        free(uv), free(out), free(ref);
    }
    free(erp.rgb);
}

static void t_opencv_linear_u8_f32(void)
{
    if (!open_fixture()) return;
    const char *images[2] = {"forest", "city"};
    double worst_mean = 0, worst_max = 0;
    for (int im = 0; im < 2; im++) {
        oiqa_image erp;
        CHECK(load_erp(images[im], &erp));
        if (!erp.rgb) return;
        for (int k = 0; k < N_SPECS; k++) {
            const int S = (int)specs[k][0];
            const size_t n = (size_t)S * S * 3;
            char name[64];
            snprintf(name, sizeof name, "%s/vp%d_u8", images[im], k);
            uint8_t *ref_u8 = read_dataset(name, H5T_NATIVE_UINT8, 1, NULL, NULL);
            snprintf(name, sizeof name, "%s/vp%d_f32", images[im], k);
            float *ref_f32 = read_dataset(name, H5T_NATIVE_FLOAT, sizeof(float), NULL, NULL);
            CHECK(ref_u8 && ref_f32);
            float *uv = malloc(sizeof *uv * S * S * 2), *out_f = malloc(sizeof *out_f * n);
            uint8_t *out_u8 = malloc(n);
            oiqa_view v = spec_view(k);
            oiqa_view_map(&v, S, erp.w, erp.h, uv);
            oiqa_sample_bilinear_u8(&erp, uv, (int64_t)S * S, out_u8);
            oiqa_sample_bilinear_f32(&erp, uv, (int64_t)S * S, out_f);
            double mx_u = 0, sum_u = 0, mx_f = 0, sum_f = 0;
            for (size_t p = 0; ref_u8 && ref_f32 && p < n; p++) {
                double du = fabs((double)out_u8[p] - ref_u8[p]), df = fabs((double)out_f[p] - ref_f32[p]);
                mx_u = fmax(mx_u, du), sum_u += du;
                mx_f = fmax(mx_f, df), sum_f += df;
            }
            double mean_u = sum_u / n, mean_f = sum_f / n;
            printf("  %s/vp%d vs OpenCV: u8 mean %.4f max %.0f | f32 mean %.4f max %.3f grey levels\n", images[im],
                   k, mean_u, mx_u, mean_f, mx_f);
            CHECK_MSG(mean_u <= 0.5 && mx_u <= 4, "%s/vp%d u8: mean %g max %g", images[im], k, mean_u, mx_u);
            CHECK_MSG(mean_f <= 0.5 && mx_f <= 4, "%s/vp%d f32: mean %g max %g", images[im], k, mean_f, mx_f);
            worst_mean = fmax(worst_mean, fmax(mean_u, mean_f));
            worst_max = fmax(worst_max, fmax(mx_u, mx_f));
            free(uv), free(out_f), free(out_u8), free(ref_u8), free(ref_f32);
        }
        free(erp.rgb);
    }
    printf("  vs OpenCV INTER_LINEAR, all 28 comparisons: worst mean %.4f, worst max %.3f grey levels\n",
           worst_mean, worst_max);
}

int main(void)
{
    RUN(t_map_vp0_every_pixel);
    RUN(t_map_all_views_subgrid);
    RUN(t_exact_bilinear_f32);
    RUN(t_opencv_linear_u8_f32);
    if (fixture >= 0) H5Fclose(fixture);
    return check_done();
}
