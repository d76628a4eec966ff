/* VMamba-T as registered feature extractors (models/extractor.h), one row
 * per preset of models/vmamba.h: stage0..stage3 are the blocks (the outputs
 * of each stage's VSS blocks, before its downsample). MTFI feeds the whole
 * ERP resized to 512 x 1024; the input size is the global stage's default. */
#include <stdlib.h>

#include "base/error.h"
#include "models/extractor.h"
#include "models/imagenet.h"
#include "models/vmamba.h"
#include "models/vmamba_random.h"

typedef struct {
    oiqa_vmamba net;
    oiqa_vmamba_out out;
    oiqa_tensor x;
    oiqa_backend *dev_be;      /* the backend dev_out lives on (NULL: none yet) */
    oiqa_vmamba_out dev_out;   /* forward_on's maps */
} vmamba_state;

/* Stage 0 is the patch embedding's output: v1 a 4x4 stride-4 conv (floor(s/4)),
 * v2 two 3x3 stride-2 pad-1 convs (ceil twice); every downsample (patch
 * merging with odd sides padded, or a 3x3/2 pad-1 conv) halves with ceil. */
static void map_shape_v(int embed_version, int b, int h, int w, int *mh, int *mw)
{
    if (embed_version == 1) h /= 4, w /= 4;
    else h = ((h + 1) / 2 + 1) / 2, w = ((w + 1) / 2 + 1) / 2;
    for (int i = 0; i < b; i++) h = (h + 1) / 2, w = (w + 1) / 2;
    *mh = h, *mw = w;
}
static void map_shape_embed1(int b, int h, int w, int *mh, int *mw) { map_shape_v(1, b, h, w, mh, mw); }
static void map_shape_embed2(int b, int h, int w, int *mh, int *mw) { map_shape_v(2, b, h, w, mh, mw); }

static int open_preset(const char *preset, const oiqa_ckpt *ck, const char *path, void **state)
{
    oiqa_vmamba_config cfg;
    int rc = oiqa_vmamba_preset(preset, &cfg);
    if (rc) return rc;
    vmamba_state *s = calloc(1, sizeof *s);
    if (!s) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    if ((rc = oiqa_vmamba_load(ck, path, &cfg, &s->net))) {
        oiqa_vmamba_free(&s->net);
        free(s);
        return rc;
    }
    *state = s;
    return OIQA_OK;
}

/* The family check (oiqa-weights verify --arch vmamba): the loader infers
 * depths, widths and version from the keys, so any official VMamba
 * checkpoint fits. */
static int check_any_vmamba(const oiqa_ckpt *ck, const char *path)
{
    oiqa_vmamba net;
    int rc = oiqa_vmamba_load(ck, path, NULL, &net);
    oiqa_vmamba_free(&net);
    return rc;
}

static int random_preset(const char *preset, uint64_t seed, oiqa_ckpt **out)
{
    oiqa_vmamba_config cfg;
    int rc = oiqa_vmamba_preset(preset, &cfg);
    return rc ? rc : oiqa_vmamba_random_ckpt(&cfg, seed, out);
}

static int forward_vmamba(void *state, const float *rgb, int n, int h, int w, const oiqa_tensor **maps)
{
    vmamba_state *s = state;
    int rc = oiqa_imagenet_normalize_f32(rgb, n, h, w, &s->x);
    if (!rc) rc = oiqa_vmamba_forward(&s->net, &s->x, &s->out, 0);
    for (int b = 0; !rc && b < OIQA_VMAMBA_STAGES; b++) maps[b] = &s->out.stage[b];
    return rc;
}

static int forward_on_vmamba(void *state, oiqa_backend *be, const oiqa_tensor *x, const oiqa_tensor **maps)
{
    vmamba_state *s = state;
    s->dev_be = be;
    int rc = oiqa_vmamba_forward_on(be, &s->net, x, &s->dev_out);
    for (int b = 0; !rc && b < OIQA_VMAMBA_STAGES; b++) maps[b] = &s->dev_out.stage[b];
    return rc;
}

static void close_vmamba(void *state)
{
    vmamba_state *s = state;
    for (int b = 0; s->dev_be && b < OIQA_VMAMBA_STAGES; b++) oiqa_be_tensor_free(s->dev_be, &s->dev_out.stage[b]);
    oiqa_vmamba_free(&s->net);
    oiqa_vmamba_out_free(&s->out);
    oiqa_tensor_free(&s->x);
    free(s);
}

#define PRESET_FUNCS(tag, name)                                                                                   \
    static int open_##tag(const oiqa_ckpt *ck, const char *path, const void *opts, void **state)                  \
    {                                                                                                              \
        (void)opts;                                                                                                \
        return open_preset(name, ck, path, state);                                                                 \
    }                                                                                                              \
    static int random_##tag(uint64_t seed, oiqa_ckpt **out) { return random_preset(name, seed, out); }
PRESET_FUNCS(v0, "vmamba_t_v0")
PRESET_FUNCS(s2l5, "vmamba_t_s2l5")
PRESET_FUNCS(s1l8, "vmamba_t_s1l8")

static const oiqa_extractor_block BLOCKS_T[OIQA_VMAMBA_STAGES] = {
    {"stage0", 96}, {"stage1", 192}, {"stage2", 384}, {"stage3", 768}};

#define VMAMBA_COMMON                                                                                             \
    .input = OIQA_INPUT_ERP, .input_h = 512, .input_w = 1024,                                                       \
    .normalisation = "imagenet: (v/255 - mean) / std, mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (RGB)",       \
    .init = "fixture recipe (models/vmamba_random.h): linear and conv ~ N(0, 1/fan_in), S4D-real A, Mamba dt",     \
    .n_blocks = OIQA_VMAMBA_STAGES, .blocks = BLOCKS_T, .default_blocks = "stage0,stage1,stage2,stage3",           \
    .weights_help = "official VMamba checkpoint (.pth {'model': ...}, .safetensors, oiqa .h5)",                   \
    .family = "vmamba", .family_check = check_any_vmamba,                                                          \
    .forward = forward_vmamba, .forward_on = forward_on_vmamba, .close = close_vmamba

const oiqa_extractor_kind oiqa_vmamba_t_v0_extractor = {
    .name = "vmamba_t_v0",
    .description = "VMamba-T, first release (v0: depths 2,2,9,2, d_state 16, z gating), official checkpoints",
    .map_shape = map_shape_embed1,
    .random_ckpt = random_v0,
    .open = open_v0,
    VMAMBA_COMMON,
};

const oiqa_extractor_kind oiqa_vmamba_t_s2l5_extractor = {
    .name = "vmamba_t_s2l5",
    .description = "VMamba-T[s2l5] (v05_noz: depths 2,2,5,2, d_state 1, ssm_ratio 2, MLP 4)",
    .map_shape = map_shape_embed2,
    .random_ckpt = random_s2l5,
    .open = open_s2l5,
    VMAMBA_COMMON,
};

const oiqa_extractor_kind oiqa_vmamba_t_s1l8_extractor = {
    .name = "vmamba_t_s1l8",
    .description = "VMamba-T[s1l8] (v05_noz: depths 2,2,8,2, d_state 1, ssm_ratio 1, MLP 4)",
    .map_shape = map_shape_embed2,
    .random_ckpt = random_s1l8,
    .open = open_s1l8,
    VMAMBA_COMMON,
};
