/* torchvision's ResNet family (He et al. 2016, "Deep Residual Learning for
 * Image Recognition"; models/resnet_desc.h: ResNet-18/34 of BasicBlocks,
 * ResNet-50/101/152 of Bottlenecks, the "v1.5" stride placement), the fast
 * inference form, on NHWC float32 tensors (nn/tensor.h).
 *
 * Built from the same plan as the trainable form (models/resnet_tape.h):
 * every eval-mode BatchNorm is folded into the conv before it
 * (nn/batchnorm.h), so each conv carries a bias and the residual add + ReLU
 * ride in its epilogue; 3x3 stride-1 convs run as Winograd F(2x2, 3x3)
 * (nn/winograd.h); the same forward runs on any backend (nn/backend.h: CPU,
 * CUDA). Any input size works: each stride-2 op gives ceil(H/2) rows, e.g.
 * 224 -> 56, 28, 14, 7 and 256 x 512 -> layer4 8 x 16. */
#ifndef OIQA_MODELS_RESNET_H
#define OIQA_MODELS_RESNET_H

#include "io/ckpt.h"
#include "models/resnet_desc.h"
#include "nn/backend.h"
#include "nn/conv2d.h"
#include "nn/tensor.h"

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
    oiqa_folded_conv conv[3];    /* conv1..conv2 (BasicBlock) or conv1..conv3 (Bottleneck), + their BNs */
    oiqa_folded_conv downsample; /* when has_downsample: 1x1 with the stride + BN */
    int has_downsample;
} oiqa_resnet_block;

typedef struct {
    oiqa_resnet_plan plan;  /* the structure, from the depth and the checkpoint's width */
    oiqa_folded_conv stem;  /* conv1 + bn1 */
    oiqa_resnet_block blocks[OIQA_RESNET_MAX_BLOCKS]; /* layer1.0 .. layer4.last */
    int classes;            /* fc outputs; 0 when the checkpoint has no fc */
    float *fc_weight;       /* [classes][features] row-major (PyTorch's (out, in)), owned */
    float *fc_bias;         /* [classes], owned */
} oiqa_resnet;

/* Feature maps of one forward (NHWC, owned; start zeroed {0}):
 *   layer[k]  n x hk x wk x ck (plan.channels)
 *   logits    n x 1 x 1 x classes (only when asked for) */
typedef struct {
    oiqa_tensor layer[OIQA_RESNET_STAGES];
    oiqa_tensor logits;
} oiqa_resnet_out;

/* Reads a torchvision state dict of the given depth (key names of
 * BACKBONES.md §1; the width from conv1.weight, 64 in torchvision) and folds
 * its BatchNorms. Every key of the plan must be present with its exact
 * shape; fc.weight and fc.bias are optional (together); `num_batches_tracked`
 * entries are optional and ignored; any other key is unexpected. On a
 * mismatch returns OIQA_EXIT_DATA with a message "PATH: not a torchvision
 * ResNet-50 state dict: M missing, U unexpected, S mis-shaped keys: missing
 * layer2.0.conv1.weight [128,256,1,1], ...; mis-shaped conv1.weight is
 * [64,3,3,3], expected [64,3,7,7]; unexpected extra.weight" naming the
 * first three of each kind. path is only used in messages.
 * net is left empty (all NULL) on failure; free it with oiqa_resnet_free. */
int oiqa_resnet_load(const oiqa_ckpt *ck, const char *path, const oiqa_resnet_depth *depth, oiqa_resnet *net);

/* Opens path (oiqa_ckpt_open), loads and closes it. */
int oiqa_resnet_load_file(const char *path, const oiqa_resnet_depth *depth, oiqa_resnet *net);

void oiqa_resnet_free(oiqa_resnet *net);

/* The forward pass.
 *   x:   n x h x w x 3, ImageNet-normalised RGB (models/imagenet.h), h, w >= 1
 *   out: layer1..layer4 (and logits when want_logits and the net has fc)
 *        are (re)allocated here when their shape differs, so a caller
 *        looping over same-size batches reuses them.
 * Scratch: four buffers of the largest intermediate map, allocated once per
 * call and reused by every block (ping-pong between two block outputs, two
 * for the inner maps). Calls oiqa_conv2d_forward, so run it from serial
 * code; its threads are the conv's (oiqa_threads_set). Returns OIQA_OK, or
 * OIQA_EXIT_DATA with the message set on a bad input shape or a failed
 * allocation. */
int oiqa_resnet_forward(const oiqa_resnet *net, const oiqa_tensor *x, oiqa_resnet_out *out, int want_logits);

/* The same network on a backend (nn/backend.h): x and the layer maps live in
 * the backend's memory (out->layer[k] (re)allocated there; free them with
 * oiqa_be_tensor_free of the same backend). No logits: the classifier runs
 * on the host (oiqa_resnet_forward). Scratch is taken from and returned to
 * the backend on every call. */
int oiqa_resnet_forward_on(oiqa_backend *be, const oiqa_resnet *net, const oiqa_tensor *x, oiqa_resnet_out *out);

void oiqa_resnet_out_free(oiqa_resnet_out *out);

#endif
