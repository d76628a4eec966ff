/* VMamba (models/vmamba.h) against the official implementation
 * (MzeroMiko/VMamba 2ed52ea, pure-PyTorch path) on ../shared/fixtures/vmamba
 * (random weights, see its README):
 *   - selective_scan_case.h5: the scan alone (with and without D and bias);
 *   - ss2d_block_debug.h5: every intermediate of one v0 block and one
 *     v05_noz block (with its MLP), each step fed with the reference's own
 *     input to that step, so a failure names the step that is wrong;
 *   - vmamba_small_io.h5: the three small models, loaded from .pth and from
 *     .safetensors with the architecture inferred from the checkpoint: the
 *     four stages, pooled features and logits for the 1 x 128 x 256 ERP
 *     input (both files) and 2 x 224 x 224 (the .pth; the same weights);
 *   - first-release key names (a renamed copy of the v0 checkpoint) give the
 *     same network; a preset that does not fit is refused with its keys named.
 * vmamba_fullsize_io.h5 holds no weights (they must be regenerated with
 * torch 1.13), so it is used only when OIQA_VMAMBA_FULLSIZE_DIR names a
 * folder with v0_tiny.safetensors / v2s1l8_tiny.safetensors.
 * Tolerance (DESIGN §6): max|d| <= 1e-4 max|ref| per tensor; printed. */
#include <hdf5.h>
#include <stdint.h>
#include <unistd.h>

#include "base/error.h"
#include "check.h"
#include "fixture_h5.h"
#include "io/ckpt_h5.h"
#include "models/vmamba.h"
#include "models/vmamba_random.h"
#include "nn/activation.h"
#include "nn/dwconv.h"
#include "nn/layernorm.h"
#include "nn/linear.h"
#include "nn/selective_scan.h"
#include "nn/ss2d.h"

#define REL_TOL 1e-4
#define FIX "fixtures/vmamba/"

static float *read_f32(hid_t f, const char *name, hsize_t d[4])
{
    return fixture_read_dataset(f, name, H5T_NATIVE_FLOAT, sizeof(float), d, NULL);
}

static hid_t open_h5(const char *rel)
{
    const char *path = check_shared(rel);
    if (access(path, R_OK) != 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", path);
        return -1;
    }
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (f < 0) SKIP("fixture %s cannot be opened as HDF5", path);
    return f;
}

/* max|a - ref| / max|ref| over n values; printed with the label; checked. */
static double compare(const char *label, const float *a, const float *ref, size_t n)
{
    double diff = 0, peak = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]);
        diff = d > diff || d != d ? d : diff;
        peak = fmax(peak, fabs((double)ref[i]));
    }
    double rel = peak > 0 ? diff / peak : diff;
    printf("  %-34s max|d| %.3e  max|ref| %.3e  rel %.3e\n", label, diff, peak, rel);
    CHECK_MSG(rel <= REL_TOL, "%s: relative error %.3e > %g", label, rel, REL_TOL);
    return rel;
}

/* Compares ours with dataset `name` (n values expected). */
static void compare_ds(hid_t f, const char *name, const char *label, const float *ours, size_t n)
{
    hsize_t d[4];
    size_t count = 0;
    float *ref = fixture_read_dataset(f, name, H5T_NATIVE_FLOAT, sizeof(float), d, &count);
    CHECK_MSG(ref && count == n, "dataset %s missing or of %zu values, expected %zu", name, count, n);
    if (ref && count == n) compare(label ? label : name, ours, ref, n);
    free(ref);
}

/* (c, h, w) planes -> (h*w, c) positions, for n images. */
static float *chw_to_hwc(const float *src, int n, int c, int hw)
{
    float *dst = malloc(sizeof(float) * (size_t)n * c * hw);
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++)
                dst[((size_t)b * hw + p) * c + ch] = src[((size_t)b * c + ch) * hw + p];
    return dst;
}

static float *hwc_to_chw(const float *src, int n, int c, int hw)
{
    float *dst = malloc(sizeof(float) * (size_t)n * c * hw);
    for (int b = 0; b < n; b++)
        for (int ch = 0; ch < c; ch++)
            for (int p = 0; p < hw; p++)
                dst[((size_t)b * c + ch) * hw + p] = src[((size_t)b * hw + p) * c + ch];
    return dst;
}

/* Compares an NHWC map (n images of hw positions x c) with an NCHW or NHWC dataset. */
static void compare_map(hid_t f, const char *name, const char *label, const float *ours, int n, int hw, int c,
                        int ref_nchw)
{
    float *t = ref_nchw ? hwc_to_chw(ours, n, c, hw) : NULL;
    compare_ds(f, name, label, t ? t : ours, (size_t)n * hw * c);
    free(t);
}

/* route order: dst (d, t) = src[pos(route, t) * ld + off + d] */
static void to_route(float *dst, const float *src, size_t ld, size_t off, int route, int h, int w, int d)
{
    size_t L = (size_t)h * w;
    for (size_t t = 0; t < L; t++) {
        size_t p = oiqa_scan_position(route, t, h, w);
        for (int c = 0; c < d; c++) dst[(size_t)c * L + t] = src[p * ld + off + c];
    }
}

static void from_route(float *dst, size_t ld, size_t off, const float *src, int route, int h, int w, int d)
{
    size_t L = (size_t)h * w;
    for (size_t t = 0; t < L; t++) {
        size_t p = oiqa_scan_position(route, t, h, w);
        for (int c = 0; c < d; c++) dst[p * ld + off + c] = src[(size_t)c * L + t];
    }
}

/* ---------------------------------------------------------------- scan */

static void t_selective_scan_case(void)
{
    hid_t f = open_h5(FIX "selective_scan_case.h5");
    if (f < 0) return;
    hsize_t d[4];
    float *u = read_f32(f, "u", d), *delta = read_f32(f, "delta", d), *A = read_f32(f, "A", d);
    float *B = read_f32(f, "B", d), *C = read_f32(f, "C", d), *D = read_f32(f, "D", d);
    float *bias = read_f32(f, "delta_bias", d);
    CHECK(u && delta && A && B && C && D && bias);
    enum { NB = 2, K = 4, DI = 8, CH = 32, N = 4, L = 50 };
    float *ut = chw_to_hwc(u, NB, CH, L), *dt = chw_to_hwc(delta, NB, CH, L);
    float *y = malloc(sizeof(float) * NB * CH * L), *bc = malloc(sizeof(float) * L * 2 * N);
    for (int variant = 0; variant < 2 && u && delta && A && B && C && D && bias; variant++) {
        for (int b = 0; b < NB; b++)
            for (int k = 0; k < K; k++) {
                for (int t = 0; t < L; t++)
                    for (int n = 0; n < N; n++) {
                        bc[t * 2 * N + n] = B[(((size_t)b * K + k) * N + n) * L + t];
                        bc[t * 2 * N + N + n] = C[(((size_t)b * K + k) * N + n) * L + t];
                    }
                oiqa_scan_args a = {
                    .h = 1, .w = L, .route = OIQA_SCAN_ROW, .channels = DI, .d_state = N,
                    .u = ut + (size_t)b * L * CH + k * DI, .ld_u = CH,
                    .delta = dt + (size_t)b * L * CH + k * DI, .ld_delta = CH,
                    .delta_bias = variant ? NULL : bias + k * DI, .A = A + (size_t)k * DI * N,
                    .B = bc, .C = bc + N, .ld_bc = 2 * N, .D = variant ? NULL : D + k * DI,
                    .y = y + (size_t)b * L * CH + k * DI, .ld_y = CH, .accumulate = 0,
                };
                CHECK(oiqa_selective_scan(&a) == OIQA_OK);
            }
        float *yc = hwc_to_chw(y, NB, CH, L);
        compare_ds(f, variant ? "out_noD_nobias" : "out", NULL, yc, (size_t)NB * CH * L);
        free(yc);
    }
    free(ut), free(dt), free(y), free(bc);
    free(u), free(delta), free(A), free(B), free(C), free(D), free(bias);
    H5Fclose(f);
}

/* ---------------------------------------------------------------- one block, step by step */

static int load_small(const char *variant, const char *ext, oiqa_vmamba *net)
{
    char rel[128];
    snprintf(rel, sizeof rel, FIX "vmamba_%s.%s", variant, ext);
    const char *path = check_shared(rel);
    if (access(path, R_OK) != 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", path);
        return 0;
    }
    int rc = oiqa_vmamba_load_file(path, NULL, net);
    CHECK_MSG(rc == OIQA_OK, "loading %s: %s", path, oiqa_errmsg());
    return rc == OIQA_OK;
}

/* The block steps shared by v0 and v05_noz; g is the group, chw whether the
 * group's maps are NCHW (v2) or NHWC (v0; its conv maps are NCHW anyway). */
static void check_block_steps(hid_t f, const char *g, const oiqa_vmamba_block *blk, int h, int w, int chw)
{
    const int C = blk->dim, Di = blk->d_inner, N = blk->ss2d.d_state, R = blk->ss2d.dt_rank, pr = R + 2 * N;
    const int gated = blk->forward_type == OIQA_VMAMBA_V0, in_rows = gated ? 2 * Di : Di;
    const size_t L = (size_t)h * w;
    char name[128];
    hsize_t d[4];
#define REF(var, ds, ch)                                                              \
    snprintf(name, sizeof name, "%s/%s", g, ds);                                      \
    float *var##_raw = read_f32(f, name, d);                                          \
    CHECK_MSG(var##_raw != NULL, "dataset %s missing", name);                         \
    if (!var##_raw) return;                                                           \
    float *var = chw ? chw_to_hwc(var##_raw, 1, ch, (int)L) : var##_raw;
#define REF_CHW(var, ds, ch) /* conv maps: NCHW in both groups */                     \
    snprintf(name, sizeof name, "%s/%s", g, ds);                                      \
    float *var##_raw = read_f32(f, name, d);                                          \
    CHECK_MSG(var##_raw != NULL, "dataset %s missing", name);                         \
    if (!var##_raw) return;                                                           \
    float *var = chw_to_hwc(var##_raw, 1, ch, (int)L);
#define DS(ds) (snprintf(name, sizeof name, "%s/%s", g, ds), name)
    REF(block_input, "block_input", C);
    REF(ln_out, "ln_out", C);
    REF(in_proj_out, "in_proj_out", in_rows);
    REF_CHW(conv_out, "conv_out", Di);
    REF_CHW(conv_silu, "conv_silu", Di);
    REF(y_merged, "y_merged", Di);
    REF(y_norm, "y_norm", Di);
    float *ours = malloc(sizeof(float) * L * (in_rows > 4 * pr ? in_rows : 4 * pr) * 4);
    float *route = malloc(sizeof(float) * 4 * L * (Di > pr ? Di : pr));

    oiqa_layernorm(block_input, ours, L, C, blk->norm_w, blk->norm_b, OIQA_LN_EPS);
    compare_map(f, DS("ln_out"), NULL, ours, 1, (int)L, C, chw);
    oiqa_linear(ln_out, C, L, C, blk->in_proj, NULL, in_rows, ours, in_rows, 0);
    compare_map(f, DS("in_proj_out"), NULL, ours, 1, (int)L, in_rows, chw);
    if (gated) {
        for (size_t p = 0; p < L; p++)
            for (int c = 0; c < Di; c++) ours[p * Di + c] = oiqa_silu(in_proj_out[p * in_rows + Di + c]);
        compare_map(f, DS("z_silu"), NULL, ours, 1, (int)L, Di, 0);
    }
    /* depthwise conv of the x part */
    oiqa_tensor xin = {0}, xout = {0};
    if (oiqa_tensor_create(&xin, 1, h, w, Di) || oiqa_tensor_create(&xout, 1, h, w, Di)) abort();
    for (size_t p = 0; p < L; p++) memcpy(xin.data + p * Di, in_proj_out + p * in_rows, sizeof(float) * Di);
    CHECK(oiqa_dwconv3x3(&xin, blk->conv_w, blk->conv_b, &xout) == OIQA_OK);
    compare_map(f, DS("conv_out"), NULL, xout.data, 1, (int)L, Di, 1);
    memcpy(ours, conv_out, sizeof(float) * L * Di);
    oiqa_silu_inplace(ours, L * Di);
    compare_map(f, DS("conv_silu"), NULL, ours, 1, (int)L, Di, 1);
    /* cross scan: the four routes of conv_silu */
    for (int k = 0; k < 4; k++) to_route(route + (size_t)k * Di * L, conv_silu, Di, 0, k, h, w, Di);
    compare_ds(f, DS("xs"), NULL, route, 4 * (size_t)Di * L);
    /* x_proj of all routes: positions x 4(R+2N); then per route (pr, L) */
    float *dbl = malloc(sizeof(float) * L * 4 * pr);
    oiqa_linear(conv_silu, Di, L, Di, blk->x_proj, NULL, 4 * pr, dbl, 4 * pr, 0);
    for (int k = 0; k < 4; k++) to_route(route + (size_t)k * pr * L, dbl, 4 * pr, (size_t)k * pr, k, h, w, pr);
    compare_ds(f, DS("x_dbl"), NULL, route, 4 * (size_t)pr * L);
    /* dt_proj from the reference x_dbl, back in map order */
    float *ref_dbl = read_f32(f, DS("x_dbl"), d), *dts = malloc(sizeof(float) * 4 * L * Di);
    float *ref_dts = read_f32(f, DS("dts"), d), *ref_bs = read_f32(f, DS("Bs"), d), *ref_cs = read_f32(f, DS("Cs"), d);
    CHECK(ref_dbl && ref_dts && ref_bs && ref_cs);
    if (ref_dbl && ref_dts && ref_bs && ref_cs) {
        for (int k = 0; k < 4; k++) from_route(dbl, 4 * pr, (size_t)k * pr, ref_dbl + (size_t)k * pr * L, k, h, w, pr);
        for (int k = 0; k < 4; k++) {
            float *dt_k = malloc(sizeof(float) * L * Di);
            oiqa_linear(dbl + (size_t)k * pr, 4 * pr, L, R, blk->dt_w + (size_t)k * Di * R, NULL, Di, dt_k, Di, 0);
            to_route(dts + (size_t)k * Di * L, dt_k, Di, 0, k, h, w, Di);
            free(dt_k);
        }
        compare_ds(f, DS("dts"), NULL, dts, 4 * (size_t)Di * L);
        compare_ds(f, DS("As"), NULL, blk->A, 4 * (size_t)Di * N);
        compare_ds(f, DS("Ds"), NULL, blk->Ds, 4 * (size_t)Di);
        compare_ds(f, DS("delta_bias"), NULL, blk->dt_b, 4 * (size_t)Di);
        /* each route's scan from the reference u, delta, B, C */
        float *dt_map = malloc(sizeof(float) * L * Di), *bc = malloc(sizeof(float) * L * 2 * N);
        float *y_k = malloc(sizeof(float) * L * Di);
        for (int k = 0; k < 4; k++) {
            from_route(dt_map, Di, 0, ref_dts + (size_t)k * Di * L, k, h, w, Di);
            from_route(bc, 2 * N, 0, ref_bs + (size_t)k * N * L, k, h, w, N);
            from_route(bc, 2 * N, N, ref_cs + (size_t)k * N * L, k, h, w, N);
            oiqa_scan_args a = {
                .h = h, .w = w, .route = k, .channels = Di, .d_state = N, .u = conv_silu, .ld_u = Di,
                .delta = dt_map, .ld_delta = Di, .delta_bias = blk->dt_b + (size_t)k * Di,
                .A = blk->A + (size_t)k * Di * N, .B = bc, .C = bc + N, .ld_bc = 2 * N,
                .D = blk->Ds + (size_t)k * Di, .y = y_k, .ld_y = Di, .accumulate = 0,
            };
            CHECK(oiqa_selective_scan(&a) == OIQA_OK);
            to_route(route + (size_t)k * Di * L, y_k, Di, 0, k, h, w, Di);
        }
        compare_ds(f, DS("ys"), NULL, route, 4 * (size_t)Di * L);
        free(dt_map), free(bc), free(y_k);
    }
    free(ref_dbl), free(dts), free(ref_dts), free(ref_bs), free(ref_cs), free(dbl);
    /* the whole 2-D scan (projections, four routes, merge) */
    CHECK(oiqa_ss2d_core(&blk->ss2d, conv_silu, h, w, ours) == OIQA_OK);
    compare_map(f, DS("y_merged"), NULL, ours, 1, (int)L, Di, chw);
    oiqa_layernorm(y_merged, ours, L, Di, blk->out_norm_w, blk->out_norm_b, OIQA_LN_EPS);
    compare_map(f, DS("y_norm"), NULL, ours, 1, (int)L, Di, chw);
    if (gated) {
        REF(z_silu, "z_silu", Di);
        REF(y_gated, "y_gated", Di);
        for (size_t i = 0; i < L * Di; i++) ours[i] = y_norm[i] * z_silu[i];
        compare_map(f, DS("y_gated"), NULL, ours, 1, (int)L, Di, 0);
        oiqa_linear(y_gated, Di, L, Di, blk->out_proj, NULL, C, ours, C, 0);
        free(z_silu_raw), free(y_gated_raw);
    } else {
        oiqa_linear(y_norm, Di, L, Di, blk->out_proj, NULL, C, ours, C, 0);
    }
    compare_map(f, DS("ss2d_out"), NULL, ours, 1, (int)L, C, chw);
    if (blk->hidden > 0) {
        const int H = blk->hidden;
        REF(resid, "after_ssm_residual", C);
        REF(ln2, "ln2_out", C);
        REF(fc1, "mlp_fc1_out", H);
        REF(gelu, "mlp_gelu_out", H);
        oiqa_layernorm(resid, ours, L, C, blk->norm2_w, blk->norm2_b, OIQA_LN_EPS);
        compare_map(f, DS("ln2_out"), NULL, ours, 1, (int)L, C, chw);
        float *hid = malloc(sizeof(float) * L * H);
        oiqa_linear(ln2, C, L, C, blk->fc1_w, blk->fc1_b, H, hid, H, 0);
        compare_map(f, DS("mlp_fc1_out"), NULL, hid, 1, (int)L, H, chw);
        memcpy(hid, fc1, sizeof(float) * L * H);
        oiqa_gelu_inplace(hid, L * H);
        compare_map(f, DS("mlp_gelu_out"), NULL, hid, 1, (int)L, H, chw);
        oiqa_linear(gelu, H, L, H, blk->fc2_w, blk->fc2_b, C, ours, C, 0);
        compare_map(f, DS("mlp_out"), NULL, ours, 1, (int)L, C, chw);
        free(hid);
        free(resid_raw), free(ln2_raw), free(fc1_raw), free(gelu_raw);
        if (chw) free(resid), free(ln2), free(fc1), free(gelu);
    }
    /* the block as the model runs it */
    oiqa_tensor x = {0};
    if (oiqa_tensor_create(&x, 1, h, w, C)) abort();
    memcpy(x.data, block_input, sizeof(float) * L * C);
    CHECK(oiqa_vmamba_block_forward(blk, &x) == OIQA_OK);
    compare_map(f, DS("block_output"), NULL, x.data, 1, (int)L, C, chw);
    oiqa_tensor_free(&x);
    oiqa_tensor_free(&xin);
    oiqa_tensor_free(&xout);
    free(ours), free(route);
    float *raws[] = {block_input_raw, ln_out_raw,   in_proj_out_raw, conv_out_raw,
                     conv_silu_raw,   y_merged_raw, y_norm_raw};
    for (int i = 0; i < 7; i++) free(raws[i]);
    if (chw) free(block_input), free(ln_out), free(in_proj_out), free(y_merged), free(y_norm);
    free(conv_out), free(conv_silu);
#undef REF
#undef REF_CHW
#undef DS
}

/* Index of block j of stage s in net->blocks. */
static const oiqa_vmamba_block *block_at(const oiqa_vmamba *net, int s, int j)
{
    int i = j;
    for (int k = 0; k < s; k++) i += net->cfg.depths[k];
    return &net->blocks[i];
}

static void t_ss2d_block_v0(void)
{
    hid_t f = open_h5(FIX "ss2d_block_debug.h5");
    if (f < 0) return;
    oiqa_vmamba net;
    if (load_small("v0_small", "pth", &net)) {
        CHECK(net.cfg.forward_type == OIQA_VMAMBA_V0 && net.cfg.d_state == 16);
        check_block_steps(f, "v0_small_layers2_block1", block_at(&net, 2, 1), 8, 16, 0);
    }
    oiqa_vmamba_free(&net);
    H5Fclose(f);
}

static void t_ss2d_block_v2(void)
{
    hid_t f = open_h5(FIX "ss2d_block_debug.h5");
    if (f < 0) return;
    oiqa_vmamba net;
    if (load_small("v2_small", "pth", &net)) {
        CHECK(net.cfg.forward_type == OIQA_VMAMBA_V05_NOZ && net.cfg.d_state == 1);
        check_block_steps(f, "v2_small_layers3_block0", block_at(&net, 3, 0), 4, 8, 1);
    }
    oiqa_vmamba_free(&net);
    H5Fclose(f);
}

/* ---------------------------------------------------------------- whole models */

/* NCHW float input dataset -> NHWC tensor. */
static int load_input(hid_t f, const char *name, oiqa_tensor *x)
{
    hsize_t d[4];
    float *raw = read_f32(f, name, d);
    CHECK_MSG(raw && d[1] == 3, "dataset %s missing", name);
    if (!raw) return 0;
    int rc = oiqa_tensor_create(x, (int)d[0], (int)d[2], (int)d[3], 3);
    if (!rc) {
        float *t = chw_to_hwc(raw, (int)d[0], 3, (int)(d[2] * d[3]));
        memcpy(x->data, t, sizeof(float) * oiqa_tensor_numel(x));
        free(t);
    }
    free(raw);
    return rc == OIQA_OK;
}

/* The model on one input against group/{prefix}stage0..3, pooled, logits. */
static void compare_model(hid_t f, const oiqa_vmamba *net, const char *group, const char *input, const char *prefix,
                          const char *fmt_label)
{
    oiqa_tensor x = {0};
    if (!load_input(f, input, &x)) return;
    oiqa_vmamba_out out = {0};
    int rc = oiqa_vmamba_forward(net, &x, &out, 1);
    CHECK_MSG(rc == OIQA_OK, "forward: %s", oiqa_errmsg());
    char name[96], label[128];
    for (int s = 0; s < OIQA_VMAMBA_STAGES && !rc; s++) {
        const oiqa_tensor *t = &out.stage[s];
        snprintf(name, sizeof name, "%s/%sstage%d", group, prefix, s);
        snprintf(label, sizeof label, "%s %s", name, fmt_label);
        compare_map(f, name, label, t->data, t->n, t->h * t->w, t->c, 1);
    }
    const char *heads[2] = {"pooled", "logits"};
    const oiqa_tensor *outs[2] = {&out.pooled, &out.logits};
    for (int k = 0; k < 2 && !rc; k++) {
        snprintf(name, sizeof name, "%s/%s%s", group, prefix, heads[k]);
        snprintf(label, sizeof label, "%s %s", name, fmt_label);
        compare_ds(f, name, label, outs[k]->data, oiqa_tensor_numel(outs[k]));
    }
    oiqa_vmamba_out_free(&out);
    oiqa_tensor_free(&x);
}

static void check_small(const char *variant, const char *group, const char *ext)
{
    hid_t f = open_h5(FIX "vmamba_small_io.h5");
    if (f < 0) return;
    oiqa_vmamba net;
    if (load_small(variant, ext, &net)) {
        const oiqa_vmamba_config *c = &net.cfg;
        CHECK(c->depths[0] == 1 && c->depths[1] == 1 && c->depths[2] == 2 && c->depths[3] == 1);
        CHECK(c->dims[0] == 16 && c->dims[3] == 128 && c->num_classes == 10);
        /* the batch of two once (from the .pth); the ERP input from both files */
        if (!strcmp(ext, "pth")) compare_model(f, &net, group, "input/images_f32", "", ext);
        compare_model(f, &net, group, "input/erp_f32", "erp_", ext);
    }
    oiqa_vmamba_free(&net);
    H5Fclose(f);
}

static void t_small_v0_pth(void) { check_small("v0_small", "v0_small", "pth"); }
static void t_small_v0_safetensors(void) { check_small("v0_small", "v0_small", "safetensors"); }
static void t_small_v2_pth(void) { check_small("v2_small", "v2_small", "pth"); }
static void t_small_v2_safetensors(void) { check_small("v2_small", "v2_small", "safetensors"); }
static void t_small_v2s1_pth(void) { check_small("v2s1_small", "v2s1_small", "pth"); }
static void t_small_v2s1_safetensors(void) { check_small("v2s1_small", "v2s1_small", "safetensors"); }

/* The same weights through an oiqa HDF5 weight file (io/ckpt_h5.h). */
static void t_small_v2s1_oiqa_h5(void)
{
    const char *src = check_shared(FIX "vmamba_v2s1_small.pth");
    hid_t f = open_h5(FIX "vmamba_small_io.h5");
    if (f < 0) return;
    oiqa_ckpt *ck = NULL;
    char path[] = "/tmp/oiqa_vmamba_h5_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) close(fd);
    oiqa_weights_write_opts o = {
        .source_path = src, .arch = "vmamba", .tool = "test_vmamba_parity", .command = "", .force = 1};
    int rc = oiqa_ckpt_open(src, &ck);
    if (!rc) rc = oiqa_ckpt_write_h5(ck, path, &o);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    oiqa_ckpt_close(ck);
    oiqa_vmamba net;
    if (!rc) {
        rc = oiqa_vmamba_load_file(path, NULL, &net);
        CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
        if (!rc) compare_model(f, &net, "v2s1_small", "input/erp_f32", "erp_", "oiqa-h5");
        oiqa_vmamba_free(&net);
    }
    unlink(path);
    H5Fclose(f);
}

/* Odd and tiny inputs (no reference): the stage sizes of the official code
 * (v1: floor(h/4), then ceil halvings from the zero-padded patch merging; v2:
 * ceil halvings of the stride-2 convs) and finite values. */
static void t_odd_sizes(void)
{
    static const char *variants[2] = {"v0_small", "v2s1_small"};
    static const int sizes[3][2] = {{100, 60}, {4, 4}, {37, 9}};
    for (int v = 0; v < 2; v++) {
        oiqa_vmamba net;
        if (!load_small(variants[v], "safetensors", &net)) return;
        for (int k = 0; k < 3; k++) {
            oiqa_tensor x = {0};
            oiqa_vmamba_out out = {0};
            if (oiqa_tensor_create(&x, 1, sizes[k][0], sizes[k][1], 3)) abort();
            for (size_t i = 0; i < oiqa_tensor_numel(&x); i++) x.data[i] = (float)((i * 7919) % 211) / 100.0f - 1.0f;
            int rc = oiqa_vmamba_forward(&net, &x, &out, 1);
            CHECK_MSG(rc == OIQA_OK, "%s: %s", variants[v], oiqa_errmsg());
            int h = v == 0 ? sizes[k][0] / 4 : (sizes[k][0] + 1) / 2;
            int w = v == 0 ? sizes[k][1] / 4 : (sizes[k][1] + 1) / 2;
            if (v == 1) h = (h + 1) / 2, w = (w + 1) / 2;
            for (int s = 0; s < OIQA_VMAMBA_STAGES && !rc; s++) {
                CHECK_MSG(out.stage[s].h == h && out.stage[s].w == w, "%s %dx%d stage %d: %dx%d, expected %dx%d",
                          variants[v], sizes[k][0], sizes[k][1], s, out.stage[s].h, out.stage[s].w, h, w);
                h = (h + 1) / 2, w = (w + 1) / 2;
            }
            for (size_t i = 0; !rc && i < oiqa_tensor_numel(&out.logits); i++) CHECK(isfinite(out.logits.data[i]));
            oiqa_vmamba_out_free(&out);
            oiqa_tensor_free(&x);
        }
        oiqa_vmamba_free(&net);
    }
}

/* ---------------------------------------------------------------- key names */

/* The name a current key had in VMamba's first release (written out here
 * independently of the loader's table). */
static void first_release_name(const char *name, char *out, size_t n)
{
    static const char *rules[][2] = {
        {"patch_embed.0.", "patch_embed.proj."}, {"patch_embed.2.", "patch_embed.norm."},
        {"classifier.norm.", "norm."},           {"classifier.head.", "head."},
        {".norm.", ".ln_1."},                    {".op.", ".self_attention."},
    };
    snprintf(out, n, "%s", name);
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        const char *hit = strstr(name, rules[r][0]);
        if (!hit || (r < 4 && hit != name) || (r >= 4 && !strstr(name, ".blocks."))) continue;
        if (r == 4 && strstr(name, ".op.")) continue; /* op.out_norm stays */
        snprintf(out, n, "%.*s%s%s", (int)(hit - name), name, rules[r][1], hit + strlen(rules[r][0]));
        return;
    }
}

/* Writes every tensor of src as F32 safetensors under first-release names,
 * plus an extra tensor when asked. 0 on failure. */
static int write_renamed(const char *src, const char *dst, int extra)
{
    oiqa_ckpt *ck = NULL;
    if (oiqa_ckpt_open(src, &ck)) return 0;
    int count = oiqa_ckpt_count(ck);
    size_t cap = 1 << 20, len = 0, off = 0;
    char *json = malloc(cap);
    len += (size_t)snprintf(json + len, cap - len, "{");
    for (int i = 0; i <= count; i++) {
        const oiqa_ck_tensor *t = i < count ? oiqa_ckpt_tensor(ck, i) : NULL;
        if (!t && !extra) break;
        char name[160], shape[96] = "";
        if (t) first_release_name(t->name, name, sizeof name);
        else snprintf(name, sizeof name, "extra.weight");
        size_t numel = t ? (size_t)t->numel : 2, sl = 0;
        for (int dd = 0; t && dd < t->ndim; dd++)
            sl += (size_t)snprintf(shape + sl, sizeof shape - sl, dd ? ",%lld" : "%lld", (long long)t->shape[dd]);
        if (!t) snprintf(shape, sizeof shape, "2");
        len += (size_t)snprintf(json + len, cap - len,
                                "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%s],\"data_offsets\":[%zu,%zu]}",
                                i ? "," : "", name, shape, off, off + 4 * numel);
        off += 4 * numel;
    }
    len += (size_t)snprintf(json + len, cap - len, "}");
    while (len % 8) json[len++] = ' ';
    FILE *fp = fopen(dst, "wb");
    int ok = fp != NULL;
    unsigned char n8[8];
    for (int k = 0; k < 8; k++) n8[k] = (unsigned char)((uint64_t)len >> (8 * k));
    ok = ok && fwrite(n8, 1, 8, fp) == 8 && fwrite(json, 1, len, fp) == len;
    for (int i = 0; ok && i < count; i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_tensor(ck, i);
        float *buf = malloc(sizeof(float) * (size_t)t->numel);
        ok = oiqa_ckpt_read_f32(ck, t, buf) == OIQA_OK && fwrite(buf, 4, (size_t)t->numel, fp) == (size_t)t->numel;
        free(buf);
    }
    float two[2] = {0, 0};
    if (ok && extra) ok = fwrite(two, 4, 2, fp) == 2;
    if (fp && fclose(fp) != 0) ok = 0;
    free(json);
    oiqa_ckpt_close(ck);
    return ok;
}

static void t_first_release_names(void)
{
    const char *src = check_shared(FIX "vmamba_v0_small.pth");
    hid_t f = open_h5(FIX "vmamba_small_io.h5");
    if (f < 0) return;
    if (access(src, R_OK) != 0) {
        SKIP("fixture %s not found", src);
        H5Fclose(f);
        return;
    }
    char path[] = "/tmp/oiqa_vmamba_old_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0) return;
    close(fd);
    CHECK(write_renamed(src, path, 0));
    oiqa_ckpt *ck = NULL;
    CHECK(oiqa_ckpt_open(path, &ck) == OIQA_OK);
    CHECK(ck && oiqa_ckpt_find(ck, "layers.0.blocks.0.self_attention.A_logs") && oiqa_ckpt_find(ck, "head.weight") &&
          oiqa_ckpt_find(ck, "patch_embed.proj.weight") && oiqa_ckpt_find(ck, "layers.0.blocks.0.ln_1.bias"));
    oiqa_ckpt_close(ck);
    oiqa_vmamba net;
    int rc = oiqa_vmamba_load_file(path, NULL, &net);
    CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
    if (rc == OIQA_OK) compare_model(f, &net, "v0_small", "input/erp_f32", "erp_", "(first-release names)");
    oiqa_vmamba_free(&net);
    /* an extra tensor is named as unexpected */
    CHECK(write_renamed(src, path, 1));
    rc = oiqa_vmamba_load_file(path, NULL, &net);
    const char *msg = oiqa_errmsg();
    printf("  message: %s\n", msg);
    CHECK(rc == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(msg, path) == msg, "message does not start with the file: %s", msg);
    CHECK_MSG(strstr(msg, "0 missing, 1 unexpected, 0 mis-shaped keys: unexpected extra.weight") != NULL, "%s", msg);
    oiqa_vmamba_free(&net);
    unlink(path);
    H5Fclose(f);
}

static void t_preset_mismatch_refused(void)
{
    const char *path = check_shared(FIX "vmamba_v0_small.safetensors");
    if (access(path, R_OK) != 0) {
        SKIP("fixture %s not found (set OIQA_SHARED)", path);
        return;
    }
    oiqa_vmamba_config cfg;
    CHECK(oiqa_vmamba_preset("vmamba_t_v0", &cfg) == OIQA_OK);
    CHECK(oiqa_vmamba_preset("vmamba_huge", &cfg) == OIQA_EXIT_USAGE);
    CHECK(oiqa_vmamba_preset("vmamba_t_v0", &cfg) == OIQA_OK);
    oiqa_vmamba net;
    int rc = oiqa_vmamba_load_file(path, &cfg, &net);
    const char *msg = oiqa_errmsg();
    printf("  message: %s\n", msg);
    CHECK(rc == OIQA_EXIT_DATA);
    CHECK_MSG(strstr(msg, path) == msg, "message does not start with the file: %s", msg);
    CHECK_MSG(strstr(msg, "mis-shaped patch_embed.0.weight is [16,3,4,4], expected [96,3,4,4]") != NULL, "%s", msg);
    CHECK_MSG(strstr(msg, "missing layers.0.blocks.1.norm.weight [96]") != NULL, "%s", msg);
    CHECK_MSG(strstr(msg, "0 unexpected") != NULL, "%s", msg);
    CHECK(net.blocks == NULL);
    oiqa_vmamba_free(&net);
    /* the s1l8 preset on the v0 file: wrong form (in_proj 2 Di wide, no MLP) */
    CHECK(oiqa_vmamba_preset("vmamba_t_s1l8", &cfg) == OIQA_OK);
    rc = oiqa_vmamba_load_file(path, &cfg, &net);
    CHECK(rc == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "v05_noz") != NULL);
    oiqa_vmamba_free(&net);
}

/* Random weights (models/vmamba_random.h) for a shrunken copy of each
 * preset: the state dict has exactly the keys the loader expects, the
 * inferred configuration equals the preset's, and a forward runs. */
static void t_random_weights(void)
{
    static const char *presets[3] = {"vmamba_t_v0", "vmamba_t_s2l5", "vmamba_t_s1l8"};
    for (int i = 0; i < 3; i++) {
        oiqa_vmamba_config cfg, inferred;
        CHECK(oiqa_vmamba_preset(presets[i], &cfg) == OIQA_OK);
        for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) cfg.depths[s] = 1, cfg.dims[s] = 8 << s;
        cfg.num_classes = 3;
        oiqa_ckpt *ck = NULL;
        oiqa_vmamba net;
        int rc = oiqa_vmamba_random_ckpt(&cfg, 7, &ck);
        if (!rc) rc = oiqa_vmamba_infer_config(ck, "random", &inferred);
        if (!rc) rc = oiqa_vmamba_load(ck, "random", &cfg, &net);
        CHECK_MSG(rc == OIQA_OK, "%s: %s", presets[i], oiqa_errmsg());
        if (rc) {
            oiqa_ckpt_close(ck);
            continue;
        }
        CHECK_MSG(!memcmp(&cfg, &inferred, sizeof cfg), "%s: inferred configuration differs", presets[i]);
        oiqa_tensor x = {0};
        oiqa_vmamba_out out = {0};
        if (oiqa_tensor_create(&x, 2, 32, 48, 3)) abort();
        for (size_t k = 0; k < oiqa_tensor_numel(&x); k++) x.data[k] = (float)((k * 37) % 101) / 50.0f - 1.0f;
        CHECK(oiqa_vmamba_forward(&net, &x, &out, 1) == OIQA_OK);
        CHECK(out.stage[3].h == 1 && out.stage[3].w == 2 && out.stage[3].c == 64 && out.logits.c == 3);
        for (size_t k = 0; k < oiqa_tensor_numel(&out.logits); k++) CHECK(isfinite(out.logits.data[k]));
        oiqa_vmamba_out_free(&out);
        oiqa_tensor_free(&x);
        oiqa_vmamba_free(&net);
        oiqa_ckpt_close(ck);
    }
}

/* configs/models/<preset>.yaml describes exactly the preset of that name. */
static void t_config_files(void)
{
    const char *root = getenv("OIQA_ROOT");
    static const char *presets[3] = {"vmamba_t_v0", "vmamba_t_s2l5", "vmamba_t_s1l8"};
    for (int i = 0; i < 3; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/configs/models/%s.yaml", root && *root ? root : ".", presets[i]);
        if (access(path, R_OK) != 0) {
            SKIP("%s not found (run from the repository root or set OIQA_ROOT)", path);
            return;
        }
        oiqa_vmamba_config from_file, preset;
        int rc = oiqa_vmamba_config_from_yaml(path, &from_file);
        CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
        CHECK(oiqa_vmamba_preset(presets[i], &preset) == OIQA_OK);
        CHECK_MSG(rc || !memcmp(&from_file, &preset, sizeof preset), "%s differs from the preset", path);
    }
    /* a value the loader cannot run is refused with the file and line */
    char bad[] = "/tmp/oiqa_vmamba_cfg_XXXXXX";
    int fd = mkstemp(bad);
    CHECK(fd >= 0);
    if (fd < 0) return;
    const char *text = "depths: [1, 1, 1, 1]\ndims: 8\nforward_type: v0\nssm_d_state: 4\nssm_ratio: 2\n"
                       "ssm_dt_rank: 3\nssm_conv_bias: true\nmlp_ratio: 0\nnorm_layer: ln\npatch_size: 4\n"
                       "patchembed_version: v1\ndownsample_version: v1\nnum_classes: 0\n";
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    oiqa_vmamba_config cfg;
    CHECK(oiqa_vmamba_config_from_yaml(bad, &cfg) == OIQA_EXIT_USAGE);
    CHECK_MSG(strstr(oiqa_errmsg(), ":6: key 'ssm_dt_rank'") != NULL, "%s", oiqa_errmsg());
    unlink(bad);
}

/* Full-size VMamba-T: only with regenerated weights (see the file comment). */
static void t_fullsize(void)
{
    const char *dir = getenv("OIQA_VMAMBA_FULLSIZE_DIR");
    if (!dir || !*dir) {
        SKIP("vmamba_fullsize_io.h5 ships no weights; set OIQA_VMAMBA_FULLSIZE_DIR to a folder with "
             "v0_tiny.safetensors and v2s1l8_tiny.safetensors regenerated by its README's recipe");
        return;
    }
    hid_t f = open_h5(FIX "vmamba_fullsize_io.h5");
    if (f < 0) return;
    static const char *groups[2] = {"v0_tiny", "v2s1l8_tiny"}, *presets[2] = {"vmamba_t_v0", "vmamba_t_s1l8"};
    for (int m = 0; m < 2; m++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.safetensors", dir, groups[m]);
        oiqa_vmamba_config cfg;
        oiqa_vmamba net;
        oiqa_vmamba_preset(presets[m], &cfg);
        int rc = oiqa_vmamba_load_file(path, &cfg, &net);
        CHECK_MSG(rc == OIQA_OK, "%s", oiqa_errmsg());
        oiqa_tensor x = {0};
        if (rc == OIQA_OK && load_input(f, "input/image_f32", &x)) {
            oiqa_vmamba_out out = {0};
            CHECK(oiqa_vmamba_forward(&net, &x, &out, 1) == OIQA_OK);
            char name[64];
            for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) {
                const oiqa_tensor *t = &out.stage[s];
                float *mean = calloc((size_t)t->c, sizeof(float));
                for (size_t p = 0; p < (size_t)t->h * t->w; p++)
                    for (int c = 0; c < t->c; c++) mean[c] += t->data[p * t->c + c] / (float)(t->h * t->w);
                snprintf(name, sizeof name, "%s/stage%d_mean", groups[m], s);
                compare_ds(f, name, NULL, mean, (size_t)t->c);
                free(mean);
            }
            snprintf(name, sizeof name, "%s/pooled", groups[m]);
            compare_ds(f, name, NULL, out.pooled.data, oiqa_tensor_numel(&out.pooled));
            snprintf(name, sizeof name, "%s/logits", groups[m]);
            compare_ds(f, name, NULL, out.logits.data, oiqa_tensor_numel(&out.logits));
            oiqa_vmamba_out_free(&out);
        }
        oiqa_tensor_free(&x);
        oiqa_vmamba_free(&net);
    }
    H5Fclose(f);
}

int main(void)
{
    RUN(t_selective_scan_case);
    RUN(t_ss2d_block_v0);
    RUN(t_ss2d_block_v2);
    RUN(t_small_v0_pth);
    RUN(t_small_v0_safetensors);
    RUN(t_small_v2_pth);
    RUN(t_small_v2_safetensors);
    RUN(t_small_v2s1_pth);
    RUN(t_small_v2s1_safetensors);
    RUN(t_small_v2s1_oiqa_h5);
    RUN(t_odd_sizes);
    RUN(t_first_release_names);
    RUN(t_preset_mismatch_refused);
    RUN(t_random_weights);
    RUN(t_config_files);
    RUN(t_fullsize);
    return check_done();
}
