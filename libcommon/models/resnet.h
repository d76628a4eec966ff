/* torchvision ResNet-50 (He et al. 2016, "Deep Residual Learning for Image
 * Recognition"), inference only, on NHWC float32 tensors (nn/tensor.h).
 *
 * Architecture (BACKBONES.md §1, torchvision "v1.5": the stride of a
 * downsampling Bottleneck sits on its 3x3 conv, not on the first 1x1):
 *   stem    conv1 7x7/2 pad 3 (3->64) + bn1 + ReLU, maxpool 3x3/2 pad 1
 *   layer1  3 Bottlenecks, 64 planes -> 256 channels, stride 1
 *   layer2  4 Bottlenecks, 128 -> 512, stride 2
 *   layer3  6 Bottlenecks, 256 -> 1024, stride 2
 *   layer4  3 Bottlenecks, 512 -> 2048, stride 2
 *   head    global average pool + fc (2048 -> 1000)
 * Bottleneck: relu(bn3(conv3(relu(bn2(conv2(relu(bn1(conv1(x))))))) + skip),
 * skip = x, or bn(1x1 conv with the stride) ("downsample") in block 0.
 * Every eval-mode BatchNorm is folded into the conv before it (nn/batchnorm.h),
 * so each conv carries a bias and the residual add + ReLU ride in its epilogue.
 * Any input size works: each stride-2 op gives ceil(H/2) rows, e.g. 224 ->
 * 56, 28, 14, 7 and 256 x 512 -> layer4 8 x 16. */
#ifndef OIQA_MODELS_RESNET_H
#define OIQA_MODELS_RESNET_H

#include "io/ckpt.h"
#include "nn/backend.h"
#include "nn/conv2d.h"
#include "nn/tensor.h"

#define OIQA_RESNET50_STAGES 4
#define OIQA_RESNET50_BLOCKS 16 /* 3 + 4 + 6 + 3 */
#define OIQA_RESNET50_FEATURES 2048
#define OIQA_RESNET50_CLASSES 1000

/* Bottlenecks per stage and their planes (stage k outputs 4 planes). */
static const int OIQA_RESNET50_STAGE_BLOCKS[OIQA_RESNET50_STAGES] = {3, 4, 6, 3};
static const int OIQA_RESNET50_STAGE_PLANES[OIQA_RESNET50_STAGES] = {64, 128, 256, 512};

/* A conv with its BatchNorm folded in: conv.weight/conv.bias point into the
 * owned weight (HWIO) and bias arrays, conv.winograd into the owned prepared
 * Winograd weight (oiqa_conv2d_prepare, made at load; NULL unless the conv
 * is 3x3 stride 1 pad 1). */
typedef struct {
    oiqa_conv2d conv;
    float *weight;   /* [kh][kw][cin][cout], owned */
    float *bias;     /* [cout], owned */
    float *prepared; /* NULL or owned (oiqa_nn_alloc) */
} oiqa_folded_conv;

typedef struct {
    oiqa_folded_conv conv1;      /* 1x1, cin -> planes, + bn1 */
    oiqa_folded_conv conv2;      /* 3x3 pad 1 with the block's stride, + bn2 */
    oiqa_folded_conv conv3;      /* 1x1, planes -> 4 planes, + bn3 */
    oiqa_folded_conv downsample; /* block 0 only: 1x1 with the stride + BN */
    int has_downsample;
} oiqa_bottleneck;

typedef struct {
    oiqa_folded_conv stem;                        /* conv1 + bn1 */
    oiqa_bottleneck blocks[OIQA_RESNET50_BLOCKS]; /* layer1.0 .. layer4.2 */
    float *fc_weight; /* [1000][2048] row-major (PyTorch's (out, in)), owned */
    float *fc_bias;   /* [1000], owned */
} oiqa_resnet50;

/* Feature maps of one forward (NHWC, owned; start zeroed {0}):
 *   layer[k]  n x hk x wk x ck, ck = 256, 512, 1024, 2048
 *   logits    n x 1 x 1 x 1000 (only when asked for) */
typedef struct {
    oiqa_tensor layer[OIQA_RESNET50_STAGES];
    oiqa_tensor logits;
} oiqa_resnet50_out;

/* Reads a torchvision ResNet-50 state dict (key names of BACKBONES.md §1)
 * from an open checkpoint and folds its BatchNorms. Every expected key must
 * be present with its exact shape; `num_batches_tracked` entries are
 * optional and ignored; any other key is unexpected. On a mismatch returns
 * OIQA_EXIT_DATA with a message "PATH: not a torchvision ResNet-50 state
 * dict: M missing, U unexpected, S mis-shaped keys: missing layer2.0.conv1.weight
 * [128,256,1,1], ...; mis-shaped conv1.weight is [64,3,3,3], expected
 * [64,3,7,7]; unexpected extra.weight" naming the first three of each kind.
 * path is only used in messages.
 * net is left empty (all NULL) on failure; free it with oiqa_resnet50_free. */
int oiqa_resnet50_load(const oiqa_ckpt *ck, const char *path, oiqa_resnet50 *net);

/* Opens path (oiqa_ckpt_open), loads and closes it. */
int oiqa_resnet50_load_file(const char *path, oiqa_resnet50 *net);

void oiqa_resnet50_free(oiqa_resnet50 *net);

/* The forward pass.
 *   x:   n x h x w x 3, ImageNet-normalised RGB (models/imagenet.h), h, w >= 1
 *   out: layer1..layer4 (and logits when want_logits) are (re)allocated here
 *        when their shape differs, so a caller looping over same-size batches
 *        reuses them.
 * Scratch: four buffers of the largest intermediate map (stem/layer1 size),
 * allocated once per call and reused by every block (ping-pong between two
 * block outputs, two for the inner 1x1/3x3 maps). Calls oiqa_conv2d_forward,
 * so run it from serial code; its threads are the conv's (oiqa_threads_set).
 * Returns OIQA_OK, or OIQA_EXIT_DATA with the message set on a bad input
 * shape or a failed allocation. */
int oiqa_resnet50_forward(const oiqa_resnet50 *net, const oiqa_tensor *x,
                          oiqa_resnet50_out *out, int want_logits);

/* The same network on a backend (nn/backend.h): x and the layer maps live in
 * the backend's memory (out->layer[k] (re)allocated there; free them with
 * oiqa_be_tensor_free of the same backend). No logits: the classifier runs
 * on the host (oiqa_resnet50_forward). Scratch is taken from and returned to
 * the backend on every call. */
int oiqa_resnet50_forward_on(oiqa_backend *be, const oiqa_resnet50 *net, const oiqa_tensor *x,
                             oiqa_resnet50_out *out);

void oiqa_resnet50_out_free(oiqa_resnet50_out *out);

#endif
