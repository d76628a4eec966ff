/* The state-dict keys a VMamba configuration expects (models/vmamba.h),
 * the first-release aliases, the missing / unexpected / mis-shaped check,
 * and inferring the configuration from a checkpoint. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "models/vmamba_internal.h"

/* First-release names (MzeroMiko/VMamba, January 2024): PatchEmbed2D had
 * .proj/.norm, VSSBlock had .ln_1/.self_attention, the classifier norm and
 * head sat at the top level. The downsample names did not change. */
void vmamba_legacy_name(const char *name, char *out, size_t n)
{
    out[0] = '\0';
    static const char *top[][2] = {
        {"patch_embed.0.", "patch_embed.proj."},
        {"patch_embed.2.", "patch_embed.norm."},
        {"classifier.norm.", "norm."},
        {"classifier.head.", "head."},
    };
    for (size_t i = 0; i < sizeof top / sizeof top[0]; i++) {
        size_t k = strlen(top[i][0]);
        if (!strncmp(name, top[i][0], k)) {
            snprintf(out, n, "%s%s", top[i][1], name + k);
            return;
        }
    }
    const char *blocks = strstr(name, ".blocks.");
    if (!strncmp(name, "layers.", 7) && blocks) {
        const char *rest = strchr(blocks + 8, '.'); /* after "blocks.J" */
        if (!rest) return;
        int head = (int)(rest - name);
        if (!strncmp(rest, ".norm.", 6)) snprintf(out, n, "%.*s.ln_1.%s", head, name, rest + 6);
        else if (!strncmp(rest, ".op.", 4)) snprintf(out, n, "%.*s.self_attention.%s", head, name, rest + 4);
    }
}

const oiqa_ck_tensor *vmamba_find(const oiqa_ckpt *ck, const char *name)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(ck, name);
    if (t) return t;
    char legacy[128];
    vmamba_legacy_name(name, legacy, sizeof legacy);
    return legacy[0] ? oiqa_ckpt_find(ck, legacy) : NULL;
}

/* Appends a key of ndim dimensions d0.. named by printf(fmt, ...). */
static int add_key(vmamba_key_list *l, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3, const char *fmt,
                   ...) __attribute__((format(printf, 7, 8)));
static int add_key(vmamba_key_list *l, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3, const char *fmt,
                   ...)
{
    char name[sizeof l->keys[0].name + 1];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    int64_t d[4] = {d0, d1, d2, d3};
    return oiqa_key_list_add(l, name, ndim, d);
}

/* PREFIX.weight and PREFIX.bias of a LayerNorm over c channels. */
static int add_norm(vmamba_key_list *l, int64_t c, const char *prefix)
{
    int rc = add_key(l, 1, c, 0, 0, 0, "%s.weight", prefix);
    return rc ? rc : add_key(l, 1, c, 0, 0, 0, "%s.bias", prefix);
}

static int add_block(vmamba_key_list *l, const oiqa_vmamba_config *cfg, int s, int j)
{
    const int64_t C = cfg->dims[s], Di = vmamba_d_inner(cfg, (int)C), N = cfg->d_state;
    const int64_t R = vmamba_dt_rank((int)C), H = vmamba_mlp_hidden(cfg, (int)C);
    const int64_t in_rows = cfg->forward_type == OIQA_VMAMBA_V0 ? 2 * Di : Di;
    char p[64], q[96];
    snprintf(p, sizeof p, "layers.%d.blocks.%d", s, j);
    snprintf(q, sizeof q, "%s.norm", p);
    int rc = add_norm(l, C, q);
    if (!rc) rc = add_key(l, 2, in_rows, C, 0, 0, "%s.op.in_proj.weight", p);
    if (!rc) rc = add_key(l, 4, Di, 1, 3, 3, "%s.op.conv2d.weight", p);
    if (!rc && cfg->conv_bias) rc = add_key(l, 1, Di, 0, 0, 0, "%s.op.conv2d.bias", p);
    if (!rc) rc = add_key(l, 3, 4, R + 2 * N, Di, 0, "%s.op.x_proj_weight", p);
    if (!rc) rc = add_key(l, 3, 4, Di, R, 0, "%s.op.dt_projs_weight", p);
    if (!rc) rc = add_key(l, 2, 4, Di, 0, 0, "%s.op.dt_projs_bias", p);
    if (!rc) rc = add_key(l, 2, 4 * Di, N, 0, 0, "%s.op.A_logs", p);
    if (!rc) rc = add_key(l, 1, 4 * Di, 0, 0, 0, "%s.op.Ds", p);
    snprintf(q, sizeof q, "%s.op.out_norm", p);
    if (!rc) rc = add_norm(l, Di, q);
    if (!rc) rc = add_key(l, 2, C, Di, 0, 0, "%s.op.out_proj.weight", p);
    if (H > 0) {
        snprintf(q, sizeof q, "%s.norm2", p);
        if (!rc) rc = add_norm(l, C, q);
        if (!rc) rc = add_key(l, 2, H, C, 0, 0, "%s.mlp.fc1.weight", p);
        if (!rc) rc = add_key(l, 1, H, 0, 0, 0, "%s.mlp.fc1.bias", p);
        if (!rc) rc = add_key(l, 2, C, H, 0, 0, "%s.mlp.fc2.weight", p);
        if (!rc) rc = add_key(l, 1, C, 0, 0, 0, "%s.mlp.fc2.bias", p);
    }
    return rc;
}

/* Every tensor of the state dict of VSSM(cfg), in its order. */
int vmamba_expected_keys(vmamba_key_list *l, const oiqa_vmamba_config *cfg)
{
    const int64_t C0 = cfg->dims[0];
    int rc;
    if (cfg->patch_embed_version == 1) {
        rc = add_key(l, 4, C0, 3, cfg->patch_size, cfg->patch_size, "patch_embed.0.weight");
        if (!rc) rc = add_key(l, 1, C0, 0, 0, 0, "patch_embed.0.bias");
        if (!rc) rc = add_norm(l, C0, "patch_embed.2");
    } else {
        rc = add_key(l, 4, C0 / 2, 3, 3, 3, "patch_embed.0.weight");
        if (!rc) rc = add_key(l, 1, C0 / 2, 0, 0, 0, "patch_embed.0.bias");
        if (!rc) rc = add_norm(l, C0 / 2, "patch_embed.2");
        if (!rc) rc = add_key(l, 4, C0, C0 / 2, 3, 3, "patch_embed.5.weight");
        if (!rc) rc = add_key(l, 1, C0, 0, 0, 0, "patch_embed.5.bias");
        if (!rc) rc = add_norm(l, C0, "patch_embed.7");
    }
    for (int s = 0; s < OIQA_VMAMBA_STAGES && !rc; s++) {
        for (int j = 0; j < cfg->depths[s] && !rc; j++) rc = add_block(l, cfg, s, j);
        if (s == OIQA_VMAMBA_STAGES - 1 || rc) continue;
        const int64_t C = cfg->dims[s], C2 = cfg->dims[s + 1];
        char p[64];
        if (cfg->downsample_version == 1) {
            snprintf(p, sizeof p, "layers.%d.downsample.norm", s);
            rc = add_norm(l, 4 * C, p);
            if (!rc) rc = add_key(l, 2, C2, 4 * C, 0, 0, "layers.%d.downsample.reduction.weight", s);
        } else {
            rc = add_key(l, 4, C2, C, 3, 3, "layers.%d.downsample.1.weight", s);
            if (!rc) rc = add_key(l, 1, C2, 0, 0, 0, "layers.%d.downsample.1.bias", s);
            snprintf(p, sizeof p, "layers.%d.downsample.3", s);
            if (!rc) rc = add_norm(l, C2, p);
        }
    }
    if (!rc && cfg->num_classes > 0) {
        const int64_t C3 = cfg->dims[OIQA_VMAMBA_STAGES - 1];
        rc = add_norm(l, C3, "classifier.norm");
        if (!rc) rc = add_key(l, 2, cfg->num_classes, C3, 0, 0, "classifier.head.weight");
        if (!rc) rc = add_key(l, 1, cfg->num_classes, 0, 0, 0, "classifier.head.bias");
    }
    return rc;
}

/* Exact shape, or a 2-D Linear weight stored as a 1x1 conv (out, in, 1, 1),
 * which Linear2d accepts too. */
static int shape_matches(const oiqa_ck_tensor *t, const vmamba_key *k)
{
    int ndim = k->ndim;
    if (t->ndim == 4 && ndim == 2 && t->shape[2] == 1 && t->shape[3] == 1) ndim = 2;
    else if (t->ndim != ndim) return 0;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != k->shape[d]) return 0;
    return 1;
}





/* Whether a checkpoint key is one of the expected ones, under either name. */
static int is_expected(const vmamba_key_list *l, const char *name)
{
    char legacy[128];
    for (int j = 0; j < l->count; j++) {
        if (!strcmp(l->keys[j].name, name)) return 1;
        vmamba_legacy_name(l->keys[j].name, legacy, sizeof legacy);
        if (legacy[0] && !strcmp(legacy, name)) return 1;
    }
    return 0;
}

void vmamba_describe(const oiqa_vmamba_config *c, char *out, size_t n)
{
    snprintf(out, n, "%s, depths %d,%d,%d,%d, dims %d,%d,%d,%d, d_state %d, ssm_ratio %g, mlp_ratio %g, %d classes",
             c->forward_type == OIQA_VMAMBA_V0 ? "v0" : "v05_noz", c->depths[0], c->depths[1], c->depths[2],
             c->depths[3], c->dims[0], c->dims[1], c->dims[2], c->dims[3], c->d_state, (double)c->ssm_ratio,
             (double)c->mlp_ratio, c->num_classes);
}

static int report(const oiqa_ckpt *ck, const char *path, const oiqa_vmamba_config *cfg, const vmamba_key_list *l)
{
    char what[240], desc[200];
    vmamba_describe(cfg, desc, sizeof desc);
    snprintf(what, sizeof what, "a VMamba state dict (%s)", desc);
    const oiqa_key_rules rules = {.find = vmamba_find, .expected = is_expected, .shape_ok = shape_matches};
    return oiqa_check_state_dict(ck, path, l, &rules, what);
}

int vmamba_check_keys(const oiqa_ckpt *ck, const char *path, const oiqa_vmamba_config *cfg)
{
    vmamba_key_list keys = {0};
    int rc = vmamba_expected_keys(&keys, cfg);
    if (!rc) rc = report(ck, path, cfg, &keys);
    oiqa_key_list_free(&keys);
    return rc;
}

/* ---- inferring the configuration ---- */

static const oiqa_ck_tensor *find_fmt(const oiqa_ckpt *ck, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static const oiqa_ck_tensor *find_fmt(const oiqa_ckpt *ck, const char *fmt, ...)
{
    char name[128];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    return vmamba_find(ck, name);
}

static int not_vmamba(const char *path, const char *why)
{
    return oiqa_fail(OIQA_EXIT_DATA, path, "not a VMamba state dict: %s", why);
}

int oiqa_vmamba_infer_config(const oiqa_ckpt *ck, const char *path, oiqa_vmamba_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    const oiqa_ck_tensor *embed = find_fmt(ck, "patch_embed.0.weight");
    if (!embed || embed->ndim != 4)
        return not_vmamba(path, "no 4-D patch_embed.0.weight (nor patch_embed.proj.weight)");
    const oiqa_ck_tensor *embed2 = find_fmt(ck, "patch_embed.5.weight");
    cfg->patch_embed_version = embed2 ? 2 : 1;
    cfg->patch_size = embed2 ? 4 : (int)embed->shape[2];
    for (int s = 0; s < OIQA_VMAMBA_STAGES; s++) {
        const oiqa_ck_tensor *t;
        while ((t = find_fmt(ck, "layers.%d.blocks.%d.norm.weight", s, cfg->depths[s])) != NULL) {
            if (cfg->depths[s] == 0) cfg->dims[s] = (int)t->shape[0];
            cfg->depths[s]++;
        }
        if (!cfg->depths[s]) {
            char why[96];
            snprintf(why, sizeof why, "no layers.%d.blocks.0.norm.weight (stage %d has no blocks)", s, s);
            return not_vmamba(path, why);
        }
    }
    const int C0 = cfg->dims[0];
    const oiqa_ck_tensor *xproj = find_fmt(ck, "layers.0.blocks.0.op.x_proj_weight");
    const oiqa_ck_tensor *alogs = find_fmt(ck, "layers.0.blocks.0.op.A_logs");
    const oiqa_ck_tensor *inproj = find_fmt(ck, "layers.0.blocks.0.op.in_proj.weight");
    if (!xproj || xproj->ndim != 3 || !alogs || alogs->ndim != 2 || !inproj || inproj->ndim < 2)
        return not_vmamba(path, "layers.0.blocks.0.op lacks x_proj_weight, A_logs or in_proj.weight "
                                "of the expected rank");
    const int Di = (int)xproj->shape[2];
    cfg->d_state = (int)alogs->shape[1];
    cfg->ssm_ratio = (float)Di / (float)C0;
    cfg->forward_type = inproj->shape[0] == 2 * Di ? OIQA_VMAMBA_V0 : OIQA_VMAMBA_V05_NOZ;
    cfg->conv_bias = find_fmt(ck, "layers.0.blocks.0.op.conv2d.bias") != NULL;
    const oiqa_ck_tensor *fc1 = find_fmt(ck, "layers.0.blocks.0.mlp.fc1.weight");
    cfg->mlp_ratio = fc1 ? (float)fc1->shape[0] / (float)C0 : 0.0f;
    if (find_fmt(ck, "layers.0.downsample.reduction.weight")) cfg->downsample_version = 1;
    else if (find_fmt(ck, "layers.0.downsample.1.weight")) cfg->downsample_version = 3;
    else return not_vmamba(path, "no layers.0.downsample.reduction.weight (v1) nor layers.0.downsample.1.weight (v3)");
    const oiqa_ck_tensor *head = find_fmt(ck, "classifier.head.weight");
    cfg->num_classes = head ? (int)head->shape[0] : 0;
    return OIQA_OK;
}
