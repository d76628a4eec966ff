/* Transformers on the tape (models/transformer_tape.h) and their ops
 * (nn/ag_attention.c, nn/ag_seq.c):
 *  - attention (separate q/k/v with L != S, fused qkv, a causal mask),
 *    narrow, concatenation along an axis, repeat, row gathers and stochastic
 *    depth against central finite differences on awkward shapes (odd sizes,
 *    batch 1, 3 heads of 3 channels); the fused attention against the same
 *    attention composed of matmul, softmax and permutes, values and
 *    gradients;
 *  - timm's ViT (../shared/fixtures/vit_timm) and CLIP's image and text
 *    towers (../shared/fixtures/clip) against the originals' forward
 *    outputs, and one backward against PyTorch's gradients of every
 *    parameter and of the input (tests/fixtures/transformer_grads.h5,
 *    written by tests/gen_transformer_grads.py);
 *  - bad checkpoints. */
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "base/log.h"
#include "base/rng.h"
#include "io/ckpt.h"
#include "models/transformer_tape.h"
#include "nn/ag.h"
#include "check.h"
#include "ag_check.h"
#include "fixture_h5.h"

static oiqa_rng rng;

static double fd(const char *what, ag_build_fn build, const int (*shapes)[5], int np)
{
    return ag_fd_normal(what, build, shapes, np, &rng);
}

/* ---- ops: finite differences ------------------------------------------- */

static float causal5[25];

static oiqa_agv b_attn_cross(oiqa_ag *ag, oiqa_agv *p) /* q [2,5,9], k v [2,7,9], 3 heads */
{
    return ag_scalarize(ag, oiqa_ag_attention(ag, p[0], p[1], p[2], 3, NULL));
}
static oiqa_agv b_attn_qkv_causal(oiqa_ag *ag, oiqa_agv *p) /* qkv [1,5,27] */
{
    return ag_scalarize(ag, oiqa_ag_attention_qkv(ag, p[0], 3, causal5));
}
static oiqa_agv b_narrow(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_narrow(ag, p[0], 1, 1, 3)); }
static oiqa_agv b_concat1(oiqa_ag *ag, oiqa_agv *p)
{
    oiqa_agv parts[3] = {p[0], p[1], p[0]};
    return ag_scalarize(ag, oiqa_ag_concat_axis(ag, parts, 3, 1));
}
static oiqa_agv b_repeat(oiqa_ag *ag, oiqa_agv *p) { return ag_scalarize(ag, oiqa_ag_repeat(ag, p[0], 3)); }
static oiqa_agv b_take_rows(oiqa_ag *ag, oiqa_agv *p)
{
    static const int rows[5] = {4, 0, 4, 2, 4};
    return ag_scalarize(ag, oiqa_ag_take_rows(ag, p[0], rows, 5));
}
static oiqa_agv b_drop_path(oiqa_ag *ag, oiqa_agv *p)
{
    oiqa_rng r; /* the same draws at every evaluation */
    oiqa_rng_seed(&r, 5);
    return ag_scalarize(ag, oiqa_ag_drop_path(ag, p[0], 0.5f, &r));
}

static void t_finite_differences(void)
{
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) causal5[i * 5 + j] = j > i ? -INFINITY : 0.0f;
    static const int cross[3][5] = {{3, 2, 5, 9}, {3, 2, 7, 9}, {3, 2, 7, 9}};
    CHECK(fd("attention L5 S7", b_attn_cross, cross, 3) < AG_GRAD_TOL);
    static const int qkv[1][5] = {{3, 1, 5, 27}};
    CHECK(fd("attention qkv causal", b_attn_qkv_causal, qkv, 1) < AG_GRAD_TOL);
    static const int seq[1][5] = {{3, 2, 5, 3}};
    CHECK(fd("narrow axis 1", b_narrow, seq, 1) < AG_GRAD_TOL);
    static const int two[2][5] = {{3, 2, 3, 5}, {3, 2, 1, 5}};
    CHECK(fd("concat axis 1", b_concat1, two, 2) < AG_GRAD_TOL);
    static const int one[1][5] = {{2, 1, 5}};
    CHECK(fd("repeat", b_repeat, one, 1) < AG_GRAD_TOL);
    static const int table[1][5] = {{2, 5, 3}};
    CHECK(fd("take_rows", b_take_rows, table, 1) < AG_GRAD_TOL);
    static const int batch[1][5] = {{3, 6, 2, 3}};
    CHECK(fd("drop_path", b_drop_path, batch, 1) < AG_GRAD_TOL);
}

/* Attention from the tape's matmul, softmax and permutes. */
static oiqa_agv composed_attention(oiqa_ag *ag, oiqa_agv q, oiqa_agv k, oiqa_agv v, int heads, const float *mask)
{
    const int *qs = oiqa_ag_shape(ag, q), *ks = oiqa_ag_shape(ag, k);
    int B = qs[0], L = qs[1], S = ks[1], C = qs[2], d = C / heads, perm[4] = {0, 2, 1, 3};
    int q4[4] = {B, L, heads, d}, k4[4] = {B, S, heads, d}, q3[3] = {B * heads, L, d}, k3[3] = {B * heads, S, d};
    oiqa_agv qh = oiqa_ag_reshape(ag, oiqa_ag_permute(ag, oiqa_ag_reshape(ag, q, 4, q4), perm), 3, q3);
    oiqa_agv kh = oiqa_ag_reshape(ag, oiqa_ag_permute(ag, oiqa_ag_reshape(ag, k, 4, k4), perm), 3, k3);
    oiqa_agv vh = oiqa_ag_reshape(ag, oiqa_ag_permute(ag, oiqa_ag_reshape(ag, v, 4, k4), perm), 3, k3);
    oiqa_agv s = oiqa_ag_scale(ag, oiqa_ag_matmul(ag, qh, oiqa_ag_transpose(ag, kh)), 1.0f / sqrtf((float)d));
    if (mask) {
        int ms[2] = {L, S};
        s = oiqa_ag_add(ag, s, oiqa_ag_input(ag, mask, 2, ms));
    }
    oiqa_agv o = oiqa_ag_matmul(ag, oiqa_ag_softmax(ag, s), vh);
    int o4[4] = {B, heads, L, d}, o3[3] = {B, L, C};
    return oiqa_ag_reshape(ag, oiqa_ag_permute(ag, oiqa_ag_reshape(ag, o, 4, o4), perm), 3, o3);
}

static double max_abs_diff(const float *a, const float *b, size_t n)
{
    double m = 0;
    for (size_t k = 0; k < n; k++) m = fmax(m, fabs((double)a[k] - b[k]));
    return m;
}

/* Fused against composed on a larger case (B 3, L = S = 11, 4 heads of 5),
 * with and without the causal mask; the fused qkv against separate slices. */
static void t_attention_vs_composed(void)
{
    float mask[121];
    for (int i = 0; i < 11; i++)
        for (int j = 0; j < 11; j++) mask[i * 11 + j] = j > i ? -INFINITY : 0.0f;
    for (int masked = 0; masked < 2; masked++) {
        oiqa_param x;
        int xs[3] = {3, 11, 60};
        oiqa_param_init(&x, "qkv", 3, xs);
        for (size_t k = 0; k < x.numel; k++) x.w[k] = (float)oiqa_rng_normal(&rng);
        float *grad[2] = {NULL, NULL}, *val[2] = {NULL, NULL};
        for (int fused = 0; fused < 2; fused++) {
            oiqa_ag *ag = oiqa_ag_new();
            oiqa_param_zero_grad(&x);
            oiqa_agv p = oiqa_ag_param(ag, &x), o;
            const float *m = masked ? mask : NULL;
            if (fused) o = oiqa_ag_attention_qkv(ag, p, 4, m);
            else
                o = composed_attention(ag, oiqa_ag_slice(ag, p, 0, 20), oiqa_ag_slice(ag, p, 20, 20),
                                       oiqa_ag_slice(ag, p, 40, 20), 4, m);
            CHECK(o >= 0 && !oiqa_ag_backward(ag, ag_scalarize(ag, o)));
            size_t n = oiqa_ag_numel(ag, o);
            val[fused] = malloc(n * sizeof(float)), grad[fused] = malloc(x.numel * sizeof(float));
            memcpy(val[fused], oiqa_ag_data(ag, o), n * sizeof(float));
            memcpy(grad[fused], x.g, x.numel * sizeof(float));
            oiqa_ag_free(ag);
        }
        double dv = max_abs_diff(val[0], val[1], 3 * 11 * 20), dg = max_abs_diff(grad[0], grad[1], x.numel);
        printf("  fused vs composed%s: values %.2e, gradients %.2e\n", masked ? " (causal)" : "", dv, dg);
        CHECK(dv < 1e-5 && dg < 1e-6);
        for (int f = 0; f < 2; f++) free(val[f]), free(grad[f]);
        oiqa_param_free(&x);
    }
}

static void t_drop_path_and_shapes(void)
{
    oiqa_ag *ag = oiqa_ag_new();
    float ones[8 * 6];
    for (int k = 0; k < 48; k++) ones[k] = 1.0f;
    int s[2] = {8, 6};
    oiqa_agv x = oiqa_ag_input(ag, ones, 2, s);
    oiqa_rng r;
    oiqa_rng_seed(&r, 1);
    oiqa_agv y = oiqa_ag_drop_path(ag, x, 0.25f, &r);
    const float *v = oiqa_ag_data(ag, y);
    int zeroed = 0, whole = 1;
    for (int b = 0; b < 8; b++) {
        float first = v[b * 6];
        zeroed += first == 0.0f;
        whole &= first == 0.0f || fabsf(first - 1.0f / 0.75f) < 1e-6f;
        for (int c = 1; c < 6; c++) whole &= v[b * 6 + c] == first;
    }
    CHECK_MSG(whole && zeroed > 0 && zeroed < 8, "each sample is dropped whole or scaled by 1/(1-p): %d of 8 zeroed",
              zeroed);
    oiqa_ag_set_training(ag, 0);
    CHECK(oiqa_ag_drop_path(ag, x, 0.25f, &r) == x);
    oiqa_ag_set_training(ag, 1);
    CHECK(oiqa_ag_drop_path(ag, x, 1.0f, &r) == -1);
    CHECK(oiqa_ag_narrow(ag, x, 1, 4, 3) == -1);
    CHECK(oiqa_ag_narrow(ag, x, 2, 0, 1) == -1);
    int bad_rows[1] = {8};
    CHECK(oiqa_ag_take_rows(ag, x, bad_rows, 1) == -1);
    int s3[3] = {2, 4, 6};
    oiqa_agv t = oiqa_ag_reshape(ag, x, 3, s3);
    CHECK(oiqa_ag_attention_qkv(ag, t, 4, NULL) == -1); /* 6 channels are not 3 x C with 4 heads */
    oiqa_agv parts[2] = {x, t};
    CHECK(oiqa_ag_concat_axis(ag, parts, 2, 0) == -1);
    oiqa_ag_free(ag);
}

/* ---- networks against the fixtures -------------------------------------- */

static float *rd(hid_t f, const char *name, size_t want) { return fixture_read_f32(f, name, want); }

static const char *grads_path(void)
{
    static char buf[4096];
    const char *root = getenv("OIQA_ROOT");
    snprintf(buf, sizeof buf, "%s/tests/fixtures/transformer_grads.h5", root && *root ? root : ".");
    return buf;
}

/* max |c - ref| - (2e-5 + 1e-5 |ref|) over the tensor: <= 0 passes (the fixtures' tolerance). */
static int near_fixture(const char *what, const float *c, const float *ref, size_t n)
{
    double worst = -1, maxerr = 0;
    for (size_t k = 0; k < n; k++) {
        double e = fabs((double)c[k] - ref[k]);
        maxerr = fmax(maxerr, e);
        worst = fmax(worst, e - (2e-5 + 1e-5 * fabs(ref[k])));
    }
    printf("  %-28s max |c - ref| %.2e\n", what, maxerr);
    return ref && worst <= 0;
}

/* max |g - ref| / max |ref| over a tensor (gradients). */
static double rel_err(const float *g, const float *ref, size_t n)
{
    double num = 0, den = 0;
    for (size_t k = 0; k < n; k++) num = fmax(num, fabs((double)g[k] - ref[k])), den = fmax(den, fabs(ref[k]));
    return den > 0 ? num / den : num;
}

/* sum(v * R) with R from the gradient fixture. */
static oiqa_agv weighted_sum(oiqa_ag *ag, oiqa_agv v, const float *R)
{
    int n = (int)oiqa_ag_numel(ag, v), flat[1] = {n}, row[2] = {1, n};
    oiqa_agv prod = oiqa_ag_mul(ag, oiqa_ag_reshape(ag, v, 1, flat), oiqa_ag_input(ag, R, 1, flat));
    return oiqa_ag_scale(ag, oiqa_ag_mean_axis(ag, oiqa_ag_reshape(ag, prod, 2, row), 1), (float)n);
}

static int open_net(const char *rel, oiqa_tower tower, int heads, oiqa_ckpt **ck, oiqa_transformer_tape *net)
{
    const char *path = check_shared(rel);
    if (access(path, R_OK)) return 0;
    oiqa_transformer_opts o = {.heads = heads};
    int ok = !oiqa_ckpt_open(path, ck) && !oiqa_transformer_tape_load(*ck, path, tower, &o, net);
    CHECK_MSG(ok, "%s: %s", path, oiqa_errmsg());
    if (!ok && *ck) oiqa_ckpt_close(*ck), *ck = NULL;
    return ok;
}

/* The image input as a parameter (so its gradient is computed), NCHW -> NHWC. */
static void image_param(oiqa_param *x, const float *nchw, int B, int H, int W)
{
    int s[4] = {B, H, W, 3};
    oiqa_param_init(x, "input", 4, s);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < H * W; i++) x->w[((size_t)b * H * W + i) * 3 + c] = nchw[((size_t)b * 3 + c) * H * W + i];
}

/* Every parameter's gradient (and the input's, images) against PyTorch's. */
static void check_grads(hid_t g, oiqa_transformer_tape *net, const oiqa_param *x, int B, int H, int W)
{
    double worst = 0;
    const char *worst_name = "";
    int missing = 0;
    for (int i = 0; i < net->n_params; i++) {
        oiqa_param *p = net->params[i];
        char name[256];
        snprintf(name, sizeof name, "grad/%s", p->name);
        const float *mine = p->g;
        size_t n = p->numel;
        float *rows_g = NULL;
        if (!strcmp(p->name, "token_embedding.weight")) { /* only the rows of the ids that occur */
            size_t nr;
            int *rows = fixture_read_dataset(g, "token_rows", H5T_NATIVE_INT, sizeof(int), NULL, &nr);
            int D = p->shape[1];
            rows_g = malloc(nr * (size_t)D * sizeof(float));
            for (size_t r = 0; rows && r < nr; r++) memcpy(rows_g + r * D, p->g + (size_t)rows[r] * D, D * sizeof(float));
            size_t nonzero = 0; /* and no other row is touched */
            for (size_t k = 0; k < p->numel; k++) nonzero += p->g[k] != 0.0f;
            CHECK_MSG(nonzero <= nr * (size_t)D, "token embedding: %zu gradient entries outside the used rows",
                      nonzero - nr * (size_t)D);
            free(rows);
            mine = rows_g, n = nr * (size_t)D;
        }
        float *ref = rd(g, name, n);
        if (!ref) {
            missing++;
            printf("  no reference gradient of %s\n", p->name);
        } else {
            double e = rel_err(mine, ref, n);
            if (e > worst) worst = e, worst_name = p->name;
        }
        free(ref), free(rows_g);
    }
    printf("  %d parameter gradients: worst relative error %.2e (%s)\n", net->n_params, worst, worst_name);
    CHECK(missing == 0 && worst < 1e-4);
    if (!x) return;
    float *ref = rd(g, "input_grad", x->numel), *mine = malloc(x->numel * sizeof(float));
    for (int b = 0; b < B; b++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < H * W; i++)
                mine[((size_t)b * 3 + c) * H * W + i] = x->g[((size_t)b * H * W + i) * 3 + c];
    double e = ref ? rel_err(mine, ref, x->numel) : INFINITY;
    printf("  input gradient: relative error %.2e\n", e);
    CHECK(e < 1e-4);
    free(ref), free(mine);
}

static void check_loss(hid_t g, oiqa_ag *ag, oiqa_agv loss)
{
    float *ref = rd(g, "loss", 1);
    CHECK_MSG(ref && fabs(oiqa_ag_data(ag, loss)[0] - ref[0]) <= 1e-5 * fabs(ref[0]) + 1e-5, "loss %.7g, torch %.7g",
              oiqa_ag_data(ag, loss)[0], ref ? ref[0] : NAN);
    free(ref);
}

/* The fixture's loss sum(R_norm * norm) + sum(R_embed * embed) of group
 * `tower`, its backward, and the loss and every gradient against PyTorch's. */
static void backward_against_torch(hid_t gf, const char *tower, oiqa_ag *ag, const oiqa_transformer_tape_out *out,
                                   oiqa_transformer_tape *net, const oiqa_param *x, int B, int H, int W)
{
    hid_t g = H5Gopen2(gf, tower, H5P_DEFAULT);
    float *rn = rd(g, "R_norm", oiqa_ag_numel(ag, out->norm)), *re = rd(g, "R_embed", oiqa_ag_numel(ag, out->embed));
    CHECK(rn && re);
    if (rn && re) {
        oiqa_agv loss = oiqa_ag_add(ag, weighted_sum(ag, out->norm, rn), weighted_sum(ag, out->embed, re));
        CHECK(!oiqa_ag_backward(ag, loss));
        check_loss(g, ag, loss);
        check_grads(g, net, x, B, H, W);
    }
    free(rn), free(re);
    H5Gclose(g);
}

static void t_timm_vit(void)
{
    oiqa_ckpt *ck = NULL;
    oiqa_transformer_tape net;
    hid_t io = -1, gf = -1;
    if (!open_net("fixtures/vit_timm/vit_small_p8_64.safetensors", OIQA_TOWER_IMAGE, 2, &ck, &net)) {
        if (!ck && !check_case_failed) SKIP("%s absent", check_shared("fixtures/vit_timm"));
        return;
    }
    CHECK(net.depth == 4 && net.width == 64 && net.mlp == 256 && net.tokens == 65 && net.patch == 8 &&
          net.embed_dim == 10 && !net.quick_gelu && net.eps == 1e-6f && net.n_params == 56);
    io = H5Fopen(check_shared("fixtures/vit_timm/vit_small_io.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    gf = H5Fopen(grads_path(), H5F_ACC_RDONLY, H5P_DEFAULT);
    float *in = rd(io, "input", 2 * 3 * 64 * 64);
    CHECK(in && gf >= 0);
    if (!in || gf < 0) goto done;
    oiqa_param x;
    image_param(&x, in, 2, 64, 64);
    oiqa_ag *ag = oiqa_ag_new();
    oiqa_transformer_tape_out out;
    CHECK(!oiqa_transformer_tape_forward_image(ag, &net, oiqa_ag_param(ag, &x), &out));
    size_t seqn = 2 * 65 * 64;
    for (int i = 0; i < 4; i++) {
        char name[32];
        snprintf(name, sizeof name, "block%d", i);
        float *ref = rd(io, name, seqn);
        CHECK(near_fixture(name, oiqa_ag_data(ag, out.block[i]), ref, seqn));
        free(ref);
    }
    float *ref = rd(io, "norm", seqn), *logits = rd(io, "head_logits_cls", 20), *dpam = rd(io, "forward_dpam", 2 * 64 * 64);
    CHECK(near_fixture("norm", oiqa_ag_data(ag, out.norm), ref, seqn));
    CHECK(near_fixture("head logits", oiqa_ag_data(ag, out.embed), logits, 20));
    oiqa_agv patches = oiqa_ag_narrow(ag, out.norm, 1, 1, 64); /* DPAM's forward: norm(x)[:, 1:] */
    CHECK(near_fixture("forward_dpam", oiqa_ag_data(ag, patches), dpam, 2 * 64 * 64));
    free(ref), free(logits), free(dpam);
    backward_against_torch(gf, "vit", ag, &out, &net, &x, 2, 64, 64);
    oiqa_ag_free(ag);
    oiqa_param_free(&x);
done:
    free(in);
    if (io >= 0) H5Fclose(io);
    if (gf >= 0) H5Fclose(gf);
    oiqa_transformer_tape_free(&net);
    oiqa_ckpt_close(ck);
}

static void t_clip_image(void)
{
    oiqa_ckpt *ck = NULL;
    oiqa_transformer_tape net;
    if (!open_net("fixtures/clip/clip_small_fp32.pth", OIQA_TOWER_IMAGE, 2, &ck, &net)) {
        if (!ck && !check_case_failed) SKIP("%s absent", check_shared("fixtures/clip"));
        return;
    }
    CHECK(net.dialect == OIQA_TRANSFORMER_CLIP && net.depth == 2 && net.tokens == 17 && net.patch == 16 &&
          net.embed_dim == 32 && net.quick_gelu && net.has_pre && !net.has_patch_b && net.n_params == 32);
    hid_t io = H5Fopen(check_shared("fixtures/clip/clip_small_io.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t gf = H5Fopen(grads_path(), H5F_ACC_RDONLY, H5P_DEFAULT);
    float *in = rd(io, "image_input", 2 * 3 * 64 * 64);
    CHECK(in && gf >= 0);
    if (in && gf >= 0) {
        oiqa_param x;
        image_param(&x, in, 2, 64, 64);
        oiqa_ag *ag = oiqa_ag_new();
        oiqa_transformer_tape_out out;
        CHECK(!oiqa_transformer_tape_forward_image(ag, &net, oiqa_ag_param(ag, &x), &out));
        size_t seqn = 2 * 17 * 64;
        static const char *names[] = {"vision/ln_pre", "vision/block0", "vision/block1"};
        oiqa_agv vals[] = {out.tokens, out.block[0], out.block[1]};
        for (int i = 0; i < 3; i++) {
            float *ref = rd(io, names[i], seqn);
            CHECK(near_fixture(names[i], oiqa_ag_data(ag, vals[i]), ref, seqn));
            free(ref);
        }
        float *cls = rd(io, "vision/cls_ln_post", 128), *patches = rd(io, "vision/patch_tokens_ln_post", 2 * 16 * 64);
        float *emb = rd(io, "image_embed", 64);
        CHECK(near_fixture("cls_ln_post", oiqa_ag_data(ag, out.pooled), cls, 128));
        CHECK(near_fixture("patch_tokens_ln_post", oiqa_ag_data(ag, oiqa_ag_narrow(ag, out.norm, 1, 1, 16)), patches,
                           2 * 16 * 64));
        CHECK(near_fixture("image_embed", oiqa_ag_data(ag, out.embed), emb, 64));
        free(cls), free(patches), free(emb);
        backward_against_torch(gf, "clip_image", ag, &out, &net, &x, 2, 64, 64);
        oiqa_ag_free(ag);
        oiqa_param_free(&x);
    }
    free(in);
    if (io >= 0) H5Fclose(io);
    if (gf >= 0) H5Fclose(gf);
    oiqa_transformer_tape_free(&net);
    oiqa_ckpt_close(ck);
}

static void t_clip_text(void)
{
    oiqa_ckpt *ck = NULL;
    oiqa_transformer_tape net;
    if (!open_net("fixtures/clip/clip_small_fp32.safetensors", OIQA_TOWER_TEXT, 2, &ck, &net)) {
        if (!ck && !check_case_failed) SKIP("%s absent", check_shared("fixtures/clip"));
        return;
    }
    CHECK(net.tower == OIQA_TOWER_TEXT && net.depth == 2 && net.tokens == 77 && net.vocab == 49408 &&
          net.embed_dim == 32 && net.n_params == 29);
    hid_t io = H5Fopen(check_shared("fixtures/clip/clip_small_io.h5"), H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t gf = H5Fopen(grads_path(), H5F_ACC_RDONLY, H5P_DEFAULT);
    size_t nt;
    int *tokens = fixture_read_dataset(io, "text_tokens", H5T_NATIVE_INT, sizeof(int), NULL, &nt);
    CHECK(tokens && nt == 4 * 77 && gf >= 0);
    if (tokens && nt == 4 * 77 && gf >= 0) {
        oiqa_ag *ag = oiqa_ag_new();
        oiqa_transformer_tape_out out;
        CHECK(!oiqa_transformer_tape_forward_text(ag, &net, tokens, 4, &out));
        size_t seqn = 4 * 77 * 64;
        static const char *names[] = {"text/block0", "text/block1", "text/ln_final"};
        oiqa_agv vals[] = {out.block[0], out.block[1], out.norm};
        for (int i = 0; i < 3; i++) {
            float *ref = rd(io, names[i], seqn);
            CHECK(near_fixture(names[i], oiqa_ag_data(ag, vals[i]), ref, seqn));
            free(ref);
        }
        float *emb = rd(io, "text_embed", 128);
        CHECK(near_fixture("text_embed", oiqa_ag_data(ag, out.embed), emb, 128));
        free(emb);
        backward_against_torch(gf, "clip_text", ag, &out, &net, NULL, 0, 0, 0);
        int bad[77] = {49408};
        CHECK(oiqa_transformer_tape_forward_text(ag, &net, bad, 1, &out) && strstr(oiqa_errmsg(), "vocabulary"));
        oiqa_ag_free(ag);
    }
    free(tokens);
    if (io >= 0) H5Fclose(io);
    if (gf >= 0) H5Fclose(gf);
    oiqa_transformer_tape_free(&net);
    oiqa_ckpt_close(ck);
}

/* Training-mode draws: drop_path changes the stream, the same seed repeats it. */
static void t_drop_path_in_blocks(void)
{
    const char *path = check_shared("fixtures/vit_timm/vit_small_p8_64.pth");
    if (access(path, R_OK)) {
        SKIP("%s absent", path);
        return;
    }
    oiqa_ckpt *ck = NULL;
    CHECK(!oiqa_ckpt_open(path, &ck));
    float out[2][2 * 65 * 64];
    float img[2 * 64 * 64 * 3];
    for (size_t k = 0; k < sizeof img / sizeof *img; k++) img[k] = (float)oiqa_rng_normal(&rng);
    for (int run = 0; run < 2; run++) {
        oiqa_transformer_tape net;
        oiqa_transformer_opts o = {.heads = 2, .drop_path = 0.5f, .seed = 7};
        CHECK(!oiqa_transformer_tape_load(ck, path, OIQA_TOWER_IMAGE, &o, &net));
        CHECK(net.blocks[0].drop_path == 0.0f && fabsf(net.blocks[3].drop_path - 0.5f) < 1e-7f);
        oiqa_ag *ag = oiqa_ag_new();
        int s[4] = {2, 64, 64, 3};
        oiqa_transformer_tape_out r;
        CHECK(!oiqa_transformer_tape_forward_image(ag, &net, oiqa_ag_input(ag, img, 4, s), &r));
        memcpy(out[run], oiqa_ag_data(ag, r.norm), sizeof out[run]);
        oiqa_ag_set_training(ag, 0); /* eval: no draws, the deterministic stream */
        oiqa_ag_reset(ag);
        CHECK(!oiqa_transformer_tape_forward_image(ag, &net, oiqa_ag_input(ag, img, 4, s), &r));
        CHECK(max_abs_diff(out[run], oiqa_ag_data(ag, r.norm), 2 * 65 * 64) > 1e-3);
        oiqa_ag_free(ag);
        oiqa_transformer_tape_free(&net);
    }
    CHECK(!memcmp(out[0], out[1], sizeof out[0]));
    oiqa_ckpt_close(ck);
}

static void t_bad_checkpoints(void)
{
    oiqa_ckpt *ck = NULL;
    oiqa_transformer_tape net;
    CHECK(!oiqa_ckpt_new("mem", &ck));
    int64_t s1[1] = {8};
    oiqa_ckpt_add_f32(ck, "fc.weight", 1, s1);
    CHECK(oiqa_transformer_tape_load(ck, "mem", OIQA_TOWER_IMAGE, NULL, &net) &&
          strstr(oiqa_errmsg(), "mem: not a timm ViT or CLIP state dict"));
    oiqa_ckpt_close(ck);
    const char *path = check_shared("fixtures/vit_timm/vit_small_p8_64.pth");
    if (access(path, R_OK)) return;
    CHECK(!oiqa_ckpt_open(path, &ck));
    CHECK(oiqa_transformer_tape_load(ck, path, OIQA_TOWER_TEXT, NULL, &net) && strstr(oiqa_errmsg(), "no text tower"));
    oiqa_transformer_opts three = {.heads = 3};
    CHECK(oiqa_transformer_tape_load(ck, path, OIQA_TOWER_IMAGE, &three, &net) &&
          strstr(oiqa_errmsg(), "does not split into 3 heads"));
    oiqa_ckpt_close(ck);
    /* a CLIP dict without one block tensor names the key */
    path = check_shared("fixtures/clip/clip_small_fp32.pth");
    oiqa_ckpt *full = NULL;
    if (access(path, R_OK) || oiqa_ckpt_open(path, &full)) return;
    CHECK(!oiqa_ckpt_new("partial.pth", &ck));
    for (int i = 0; i < oiqa_ckpt_count(full); i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_tensor(full, i);
        if (!strcmp(t->name, "visual.transformer.resblocks.1.mlp.c_fc.bias")) continue;
        float *dst = oiqa_ckpt_add_f32(ck, t->name, t->ndim, t->shape);
        if (dst) oiqa_ckpt_read_f32(full, t, dst);
    }
    oiqa_transformer_opts two = {.heads = 2};
    CHECK(oiqa_transformer_tape_load(ck, "partial.pth", OIQA_TOWER_IMAGE, &two, &net) &&
          strstr(oiqa_errmsg(), "partial.pth: not a CLIP (image tower) state dict: no "
                                "visual.transformer.resblocks.1.mlp.c_fc.bias"));
    CHECK(!oiqa_transformer_tape_load(ck, "partial.pth", OIQA_TOWER_TEXT, &two, &net));
    oiqa_transformer_tape_free(&net);
    oiqa_ckpt_close(ck);
    oiqa_ckpt_close(full);
}

int main(void)
{
    oiqa_log_set_level(OIQA_LOG_WARN);
    oiqa_rng_seed(&rng, 17);
    RUN(t_finite_differences);
    RUN(t_attention_vs_composed);
    RUN(t_drop_path_and_shapes);
    RUN(t_timm_vit);
    RUN(t_clip_image);
    RUN(t_clip_text);
    RUN(t_drop_path_in_blocks);
    RUN(t_bad_checkpoints);
    return check_done();
}
