/* The ResNet family as registered feature extractors (models/extractor.h):
 * one row per depth (resnet18, 34, 50, 101, 152; models/resnet_desc.h),
 * their four stages layer1..layer4 the blocks; MTFI uses layer2..layer4 of
 * ResNet-50. */
#include <stdlib.h>

#include "base/error.h"
#include "models/extractor.h"
#include "models/imagenet.h"
#include "models/resnet.h"
#include "models/resnet_random.h"

typedef struct {
    oiqa_resnet net;
    oiqa_resnet_out out;
    oiqa_tensor x;
    oiqa_backend *dev_be;    /* the backend dev_out lives on (NULL: none yet) */
    oiqa_resnet_out dev_out; /* forward_on's maps */
} resnet_state;

/* Every stride-2 op (stem conv 7/2 pad 3, max-pool 3/2 pad 1, the stride-2
 * 3x3 of layer2..4) maps a side s to ceil(s / 2). */
static void map_shape(int b, int h, int w, int *mh, int *mw)
{
    for (int halvings = 0; halvings < b + 2; halvings++) h = (h + 1) / 2, w = (w + 1) / 2;
    *mh = h, *mw = w;
}

static int open_depth(const oiqa_resnet_depth *d, const oiqa_ckpt *ck, const char *path, void **state)
{
    resnet_state *s = calloc(1, sizeof *s);
    if (!s) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    int rc = oiqa_resnet_load(ck, path, d, &s->net);
    int expansion = d->kind == OIQA_RESNET_BOTTLENECK ? 4 : 1;
    if (!rc && s->net.plan.width != 64) /* the rows' block channels (and the stored features) are torchvision's */
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "a %s of stem width %d (layer4 %d channels): the %s backbone needs "
                       "torchvision's width 64 (layer4 %d)", d->title, s->net.plan.width, s->net.plan.channels[3],
                       d->name, 512 * expansion);
    if (rc) {
        oiqa_resnet_free(&s->net);
        free(s);
        return rc;
    }
    *state = s;
    return OIQA_OK;
}

static int forward_resnet(void *state, const float *rgb, int n, int h, int w, const oiqa_tensor **maps)
{
    resnet_state *s = state;
    int rc = oiqa_imagenet_normalize_f32(rgb, n, h, w, &s->x);
    if (!rc) rc = oiqa_resnet_forward(&s->net, &s->x, &s->out, 0);
    for (int b = 0; !rc && b < OIQA_RESNET_STAGES; b++) maps[b] = &s->out.layer[b];
    return rc;
}

static int forward_on_resnet(void *state, oiqa_backend *be, const oiqa_tensor *x, const oiqa_tensor **maps)
{
    resnet_state *s = state;
    s->dev_be = be;
    int rc = oiqa_resnet_forward_on(be, &s->net, x, &s->dev_out);
    for (int b = 0; !rc && b < OIQA_RESNET_STAGES; b++) maps[b] = &s->dev_out.layer[b];
    return rc;
}

static void close_resnet(void *state)
{
    resnet_state *s = state;
    for (int b = 0; s->dev_be && b < OIQA_RESNET_STAGES; b++) oiqa_be_tensor_free(s->dev_be, &s->dev_out.layer[b]);
    oiqa_resnet_free(&s->net);
    oiqa_resnet_out_free(&s->out);
    oiqa_tensor_free(&s->x);
    free(s);
}

#define IMAGENET_NORM "imagenet: (v/255 - mean) / std, mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (RGB)"

/* One row: N the depth (18, 50, ...), E the channel expansion of its blocks
 * (1 BasicBlock, 4 Bottleneck), TITLE "ResNet-50". */
#define RESNET_ROW(N, E, TITLE, KIND)                                                                          \
    static const oiqa_extractor_block blocks##N[OIQA_RESNET_STAGES] = {                                        \
        {"layer1", 64 * (E)}, {"layer2", 128 * (E)}, {"layer3", 256 * (E)}, {"layer4", 512 * (E)}};             \
    static int open##N(const oiqa_ckpt *ck, const char *path, const void *opts, void **state)                  \
    {                                                                                                          \
        (void)opts;                                                                                            \
        return open_depth(&oiqa_resnet##N##_depth, ck, path, state);                                           \
    }                                                                                                          \
    static int random##N(uint64_t seed, oiqa_ckpt **out)                                                       \
    {                                                                                                          \
        return oiqa_resnet_random_ckpt(&oiqa_resnet##N##_depth, seed, out);                                    \
    }                                                                                                          \
    const oiqa_extractor_kind oiqa_resnet##N##_extractor = {                                                   \
        .name = "resnet" #N,                                                                                   \
        .description = "torchvision " TITLE " (" KIND ", v1.5), ImageNet weights as users bring them",       \
        .input = OIQA_INPUT_VIEWPORT,                                                                          \
        .input_h = 224,                                                                                        \
        .input_w = 224,                                                                                        \
        .normalisation = IMAGENET_NORM,                                                                        \
        .init = "torchvision resnet" #N " init: conv ~ N(0, 2/fan_out), BN identity, fc ~ U(+-1/sqrt(" #E      \
                "*512))",                                                                                      \
        .n_blocks = OIQA_RESNET_STAGES,                                                                        \
        .blocks = blocks##N,                                                                                   \
        .default_blocks = "layer2,layer3,layer4",                                                              \
        .weights_help = "torchvision " TITLE " weights (.pth, .safetensors, oiqa .h5)",                        \
        .map_shape = map_shape,                                                                                \
        .random_ckpt = random##N,                                                                              \
        .open = open##N,                                                                                       \
        .forward = forward_resnet,                                                                             \
        .forward_on = forward_on_resnet,                                                                       \
        .close = close_resnet,                                                                                 \
    };

RESNET_ROW(18, 1, "ResNet-18", "BasicBlock")
RESNET_ROW(34, 1, "ResNet-34", "BasicBlock")
RESNET_ROW(50, 4, "ResNet-50", "Bottleneck")
RESNET_ROW(101, 4, "ResNet-101", "Bottleneck")
RESNET_ROW(152, 4, "ResNet-152", "Bottleneck")
