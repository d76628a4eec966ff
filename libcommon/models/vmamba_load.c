/* Loading VMamba weights (models/vmamba.h): presets, reading a checked
 * state dict into the kernels' layouts, and freeing. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "models/vmamba_internal.h"
#include "nn/dwconv.h"

/* The official yaml files (classification/configs/vssm/): vmambav0_tiny_224,
 * vmambav2_tiny_224 (VMamba-T s2l5) and vmambav2v_tiny_224 (VMamba-T s1l8). */
static const struct {
    const char *name;
    oiqa_vmamba_config cfg;
} PRESETS[] = {
    {"vmamba_t_v0", {{2, 2, 9, 2}, {96, 192, 384, 768}, 16, 2.0f, 0.0f, OIQA_VMAMBA_V0, 1, 4, 1, 1, 1000}},
    {"vmamba_t_s2l5", {{2, 2, 5, 2}, {96, 192, 384, 768}, 1, 2.0f, 4.0f, OIQA_VMAMBA_V05_NOZ, 0, 4, 2, 3, 1000}},
    {"vmamba_t_s1l8", {{2, 2, 8, 2}, {96, 192, 384, 768}, 1, 1.0f, 4.0f, OIQA_VMAMBA_V05_NOZ, 0, 4, 2, 3, 1000}},
};
#define N_PRESETS ((int)(sizeof PRESETS / sizeof PRESETS[0]))

const char *oiqa_vmamba_preset_names(void) { return "vmamba_t_v0, vmamba_t_s2l5, vmamba_t_s1l8"; }

int oiqa_vmamba_preset(const char *name, oiqa_vmamba_config *cfg)
{
    for (int i = 0; name && i < N_PRESETS; i++)
        if (!strcmp(PRESETS[i].name, name)) {
            *cfg = PRESETS[i].cfg;
            return OIQA_OK;
        }
    return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown VMamba preset '%s' (known: %s)", name ? name : "(null)",
                     oiqa_vmamba_preset_names());
}

/* Reads the (checked) tensor `name` into a new array of its numel floats. */
static float *read_new(const oiqa_ckpt *ck, const char *path, int *rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static float *read_new(const oiqa_ckpt *ck, const char *path, int *rc, const char *fmt, ...)
{
    if (*rc) return NULL;
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    const oiqa_ck_tensor *t = vmamba_find(ck, name);
    if (!t) {
        *rc = oiqa_fail(OIQA_EXIT_DATA, path, "missing %s", name);
        return NULL;
    }
    float *dst = malloc(sizeof(float) * (size_t)t->numel);
    if (!dst) {
        *rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory for %s", name);
        return NULL;
    }
    *rc = oiqa_ckpt_read_f32(ck, t, dst);
    if (*rc) {
        oiqa_fail_prefix("reading %s", name);
        free(dst);
        return NULL;
    }
    return dst;
}

/* A conv read as OIHW, kept as HWIO (nn/conv2d.h). */
static int load_conv(const oiqa_ckpt *ck, const char *path, const char *prefix, int cout, int cin, int k,
                     int stride, int pad, oiqa_conv2d *cv, float **w, float **b)
{
    int rc = OIQA_OK;
    float *oihw = read_new(ck, path, &rc, "%s.weight", prefix);
    *b = read_new(ck, path, &rc, "%s.bias", prefix);
    if (!rc && !(*w = malloc(sizeof(float) * (size_t)cout * cin * k * k)))
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    if (!rc) {
        oiqa_conv2d_weight_from_oihw(oihw, cout, cin, k, k, *w);
        *cv = (oiqa_conv2d){.kh = k, .kw = k, .cin = cin, .cout = cout, .stride = stride, .pad = pad,
                            .weight = *w, .bias = *b};
    }
    free(oihw);
    return rc;
}

static int load_block(const oiqa_ckpt *ck, const char *path, const oiqa_vmamba_config *cfg, int s, int j,
                      oiqa_vmamba_block *b)
{
    const int C = cfg->dims[s], Di = vmamba_d_inner(cfg, C), N = cfg->d_state, R = vmamba_dt_rank(C);
    char p[64];
    snprintf(p, sizeof p, "layers.%d.blocks.%d", s, j);
    int rc = OIQA_OK;
    b->dim = C;
    b->d_inner = Di;
    b->hidden = vmamba_mlp_hidden(cfg, C);
    b->forward_type = cfg->forward_type;
    b->norm_w = read_new(ck, path, &rc, "%s.norm.weight", p);
    b->norm_b = read_new(ck, path, &rc, "%s.norm.bias", p);
    b->in_proj = read_new(ck, path, &rc, "%s.op.in_proj.weight", p);
    float *conv = read_new(ck, path, &rc, "%s.op.conv2d.weight", p);
    if (!rc && !(b->conv_w = malloc(sizeof(float) * 9 * Di))) rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    if (!rc) oiqa_dwconv3x3_weight_from_torch(conv, Di, b->conv_w);
    free(conv);
    if (cfg->conv_bias) b->conv_b = read_new(ck, path, &rc, "%s.op.conv2d.bias", p);
    b->x_proj = read_new(ck, path, &rc, "%s.op.x_proj_weight", p);
    b->dt_w = read_new(ck, path, &rc, "%s.op.dt_projs_weight", p);
    b->dt_b = read_new(ck, path, &rc, "%s.op.dt_projs_bias", p);
    b->A = read_new(ck, path, &rc, "%s.op.A_logs", p);
    for (size_t i = 0; !rc && i < (size_t)4 * Di * N; i++) b->A[i] = -expf(b->A[i]);
    b->Ds = read_new(ck, path, &rc, "%s.op.Ds", p);
    b->out_norm_w = read_new(ck, path, &rc, "%s.op.out_norm.weight", p);
    b->out_norm_b = read_new(ck, path, &rc, "%s.op.out_norm.bias", p);
    b->out_proj = read_new(ck, path, &rc, "%s.op.out_proj.weight", p);
    if (b->hidden > 0) {
        b->norm2_w = read_new(ck, path, &rc, "%s.norm2.weight", p);
        b->norm2_b = read_new(ck, path, &rc, "%s.norm2.bias", p);
        b->fc1_w = read_new(ck, path, &rc, "%s.mlp.fc1.weight", p);
        b->fc1_b = read_new(ck, path, &rc, "%s.mlp.fc1.bias", p);
        b->fc2_w = read_new(ck, path, &rc, "%s.mlp.fc2.weight", p);
        b->fc2_b = read_new(ck, path, &rc, "%s.mlp.fc2.bias", p);
    }
    b->ss2d = (oiqa_ss2d_weights){Di, N, R, b->x_proj, b->dt_w, b->dt_b, b->A, b->Ds};
    return rc;
}

static int load_weights(const oiqa_ckpt *ck, const char *path, oiqa_vmamba *net)
{
    const oiqa_vmamba_config *cfg = &net->cfg;
    const int C0 = cfg->dims[0];
    int rc;
    if (cfg->patch_embed_version == 1) {
        rc = load_conv(ck, path, "patch_embed.0", C0, 3, cfg->patch_size, cfg->patch_size, 0, &net->embed_conv[0],
                       &net->embed_w[0], &net->embed_b[0]);
        net->embed_norm_w[0] = read_new(ck, path, &rc, "patch_embed.2.weight");
        net->embed_norm_b[0] = read_new(ck, path, &rc, "patch_embed.2.bias");
    } else {
        rc = load_conv(ck, path, "patch_embed.0", C0 / 2, 3, 3, 2, 1, &net->embed_conv[0], &net->embed_w[0],
                       &net->embed_b[0]);
        net->embed_norm_w[0] = read_new(ck, path, &rc, "patch_embed.2.weight");
        net->embed_norm_b[0] = read_new(ck, path, &rc, "patch_embed.2.bias");
        if (!rc)
            rc = load_conv(ck, path, "patch_embed.5", C0, C0 / 2, 3, 2, 1, &net->embed_conv[1], &net->embed_w[1],
                           &net->embed_b[1]);
        net->embed_norm_w[1] = read_new(ck, path, &rc, "patch_embed.7.weight");
        net->embed_norm_b[1] = read_new(ck, path, &rc, "patch_embed.7.bias");
    }
    int total = 0;
    for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) total += cfg->depths[s];
    if (!rc && !(net->blocks = calloc((size_t)total, sizeof *net->blocks)))
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    oiqa_vmamba_block *blk = net->blocks;
    for (int s = 0; s < OIQA_VMAMBA_STAGES && !rc; s++) {
        for (int j = 0; j < cfg->depths[s] && !rc; j++) rc = load_block(ck, path, cfg, s, j, blk++);
        if (s == OIQA_VMAMBA_STAGES - 1 || rc) continue;
        oiqa_vmamba_downsample *d = &net->down[s];
        if (cfg->downsample_version == 1) {
            d->norm_w = read_new(ck, path, &rc, "layers.%d.downsample.norm.weight", s);
            d->norm_b = read_new(ck, path, &rc, "layers.%d.downsample.norm.bias", s);
            d->reduction = read_new(ck, path, &rc, "layers.%d.downsample.reduction.weight", s);
        } else {
            char p[48];
            snprintf(p, sizeof p, "layers.%d.downsample.1", s);
            rc = load_conv(ck, path, p, cfg->dims[s + 1], cfg->dims[s], 3, 2, 1, &d->conv, &d->conv_w, &d->conv_b);
            d->norm_w = read_new(ck, path, &rc, "layers.%d.downsample.3.weight", s);
            d->norm_b = read_new(ck, path, &rc, "layers.%d.downsample.3.bias", s);
        }
    }
    if (cfg->num_classes > 0) {
        net->head_norm_w = read_new(ck, path, &rc, "classifier.norm.weight");
        net->head_norm_b = read_new(ck, path, &rc, "classifier.norm.bias");
        net->head_w = read_new(ck, path, &rc, "classifier.head.weight");
        net->head_b = read_new(ck, path, &rc, "classifier.head.bias");
    }
    return rc;
}

static int config_valid(const oiqa_vmamba_config *c, const char *path)
{
    int ok = c->d_state >= 1 && c->ssm_ratio > 0 && c->mlp_ratio >= 0 && c->patch_size >= 1 &&
             (c->patch_embed_version == 1 || c->patch_embed_version == 2) &&
             (c->downsample_version == 1 || c->downsample_version == 3) && c->num_classes >= 0 &&
             (c->forward_type == OIQA_VMAMBA_V0 || c->forward_type == OIQA_VMAMBA_V05_NOZ);
    for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) ok = ok && c->depths[s] >= 1 && c->dims[s] >= 2;
    if (ok) return OIQA_OK;
    char what[200];
    vmamba_describe(c, what, sizeof what);
    return oiqa_fail(OIQA_EXIT_DATA, path, "unsupported VMamba configuration (%s)", what);
}

int oiqa_vmamba_load(const oiqa_ckpt *ck, const char *path, const oiqa_vmamba_config *cfg, oiqa_vmamba *net)
{
    memset(net, 0, sizeof *net);
    int rc = cfg ? OIQA_OK : oiqa_vmamba_infer_config(ck, path, &net->cfg);
    if (cfg) net->cfg = *cfg;
    if (!rc) rc = config_valid(&net->cfg, path);
    if (!rc) rc = vmamba_check_keys(ck, path, &net->cfg);
    if (!rc) rc = load_weights(ck, path, net);
    if (rc) oiqa_vmamba_free(net);
    return rc;
}

int oiqa_vmamba_load_file(const char *path, const oiqa_vmamba_config *cfg, oiqa_vmamba *net)
{
    memset(net, 0, sizeof *net);
    oiqa_ckpt *ck = NULL;
    int rc = oiqa_ckpt_open(path, &ck);
    if (rc) return rc;
    rc = oiqa_vmamba_load(ck, path, cfg, net);
    oiqa_ckpt_close(ck);
    return rc;
}

static void free_block(oiqa_vmamba_block *b)
{
    float *arrays[] = {b->norm_w, b->norm_b, b->in_proj, b->conv_w, b->conv_b, b->x_proj, b->dt_w, b->dt_b,
                       b->A, b->Ds, b->out_norm_w, b->out_norm_b, b->out_proj, b->norm2_w, b->norm2_b,
                       b->fc1_w, b->fc1_b, b->fc2_w, b->fc2_b};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; i++) free(arrays[i]);
}

void oiqa_vmamba_free(oiqa_vmamba *net)
{
    if (net->blocks) {
        int total = 0;
        for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) total += net->cfg.depths[s];
        for (int i = 0; i < total; i++) free_block(&net->blocks[i]);
        free(net->blocks);
    }
    for (int k = 0; k < 2; k++) {
        free(net->embed_w[k]);
        free(net->embed_b[k]);
        free(net->embed_norm_w[k]);
        free(net->embed_norm_b[k]);
    }
    for (int s = 0; s < OIQA_VMAMBA_STAGES - 1; s++) {
        oiqa_vmamba_downsample *d = &net->down[s];
        free(d->conv_w);
        free(d->conv_b);
        free(d->reduction);
        free(d->norm_w);
        free(d->norm_b);
    }
    free(net->head_norm_w);
    free(net->head_norm_b);
    free(net->head_w);
    free(net->head_b);
    oiqa_vmamba_config cfg = net->cfg;
    memset(net, 0, sizeof *net);
    net->cfg = cfg;
}
