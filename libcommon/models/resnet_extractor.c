/* ResNet-50 as a registered feature extractor (models/extractor.h): its four
 * stages layer1..layer4 are the blocks; MTFI uses layer2..layer4. */
#include <stdlib.h>

#include "base/error.h"
#include "models/extractor.h"
#include "models/imagenet.h"
#include "models/resnet.h"
#include "models/resnet_random.h"

typedef struct {
    oiqa_resnet50 net;
    oiqa_resnet50_out out;
    oiqa_tensor x;
    oiqa_backend *dev_be;       /* the backend dev_out lives on (NULL: none yet) */
    oiqa_resnet50_out dev_out;  /* forward_on's maps */
} resnet_state;

static const oiqa_extractor_block BLOCKS[OIQA_RESNET50_STAGES] = {
    {"layer1", 256}, {"layer2", 512}, {"layer3", 1024}, {"layer4", 2048}};

/* Every stride-2 op (stem conv 7/2 pad 3, max-pool 3/2 pad 1, the 3x3/2 pad 1
 * of layer2..4) maps a side s to ceil(s / 2). */
static void map_shape(int b, int h, int w, int *mh, int *mw)
{
    for (int halvings = 0; halvings < b + 2; halvings++) h = (h + 1) / 2, w = (w + 1) / 2;
    *mh = h, *mw = w;
}

static int open_resnet(const oiqa_ckpt *ck, const char *path, const void *opts, void **state)
{
    (void)opts;
    resnet_state *s = calloc(1, sizeof *s);
    if (!s) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    int rc = oiqa_resnet50_load(ck, path, &s->net);
    if (rc) {
        oiqa_resnet50_free(&s->net);
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
    if (!rc) rc = oiqa_resnet50_forward(&s->net, &s->x, &s->out, 0);
    for (int b = 0; !rc && b < OIQA_RESNET50_STAGES; b++) maps[b] = &s->out.layer[b];
    return rc;
}

static int forward_on_resnet(void *state, oiqa_backend *be, const oiqa_tensor *x, const oiqa_tensor **maps)
{
    resnet_state *s = state;
    s->dev_be = be;
    int rc = oiqa_resnet50_forward_on(be, &s->net, x, &s->dev_out);
    for (int b = 0; !rc && b < OIQA_RESNET50_STAGES; b++) maps[b] = &s->dev_out.layer[b];
    return rc;
}

static void close_resnet(void *state)
{
    resnet_state *s = state;
    for (int b = 0; s->dev_be && b < OIQA_RESNET50_STAGES; b++) oiqa_be_tensor_free(s->dev_be, &s->dev_out.layer[b]);
    oiqa_resnet50_free(&s->net);
    oiqa_resnet50_out_free(&s->out);
    oiqa_tensor_free(&s->x);
    free(s);
}

const oiqa_extractor_kind oiqa_resnet50_extractor = {
    .name = "resnet50",
    .description = "torchvision ResNet-50 (v1.5), ImageNet weights as users bring them",
    .input = OIQA_INPUT_VIEWPORT,
    .input_h = 224,
    .input_w = 224,
    .normalisation = "imagenet: (v/255 - mean) / std, mean 0.485,0.456,0.406, std 0.229,0.224,0.225 (RGB)",
    .init = "torchvision resnet50 init: conv ~ N(0, 2/fan_out), BN identity, fc ~ U(+-1/sqrt(2048))",
    .n_blocks = OIQA_RESNET50_STAGES,
    .blocks = BLOCKS,
    .default_blocks = "layer2,layer3,layer4",
    .weights_help = "torchvision ResNet-50 weights (.pth, .safetensors, oiqa .h5)",
    .map_shape = map_shape,
    .random_ckpt = oiqa_resnet50_random_ckpt,
    .open = open_resnet,
    .forward = forward_resnet,
    .forward_on = forward_on_resnet,
    .close = close_resnet,
};
