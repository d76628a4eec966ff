/* torchvision's ResNet (He et al. 2016, the v1.5 stride placement) on the
 * autograd tape (nn/ag.h): the trainable form of the backbone, for the
 * methods that fine-tune it (issue 17; KD-OIQA's ResNet-18 teacher and
 * student). BasicBlock networks (ResNet-18, -34) and Bottleneck ones
 * (ResNet-50, -101, -152) are read from a torchvision state dict (any stem
 * width, from conv1; the block counts from the keys), parameters named by their state-dict
 * keys so gradients and checkpoints line up with PyTorch's.
 *
 * BatchNorm runs in train mode (batch statistics; running statistics
 * updated with momentum 0.1 and the unbiased variance, num_batches_tracked
 * counted) or with the running statistics (eval, and frozen-statistics
 * fine-tuning), as the caller asks per forward.
 *
 * The structure comes from the ResNet plan (models/resnet_desc.h) that the
 * fast inference form (models/resnet.h: BN folded, Winograd, CUDA) is built
 * from too; tests/unit/test_resnet_tape.c holds the two forms to each other
 * in eval mode and to the fixtures. */
#ifndef OIQA_MODELS_RESNET_TAPE_H
#define OIQA_MODELS_RESNET_TAPE_H

#include "io/ckpt.h"
#include "models/resnet_desc.h"
#include "nn/ag.h"

typedef struct {
    oiqa_param weight, bias;           /* gamma, beta [C] */
    oiqa_param stats[2];               /* running_mean, running_var [C]: frozen parameters (buffers) */
    float *running_mean, *running_var; /* = stats[0].w, stats[1].w */
    long num_batches_tracked;
    int C;
} oiqa_tape_bn;

typedef struct {
    oiqa_param w; /* OIHW */
    int stride, pad;
    oiqa_tape_bn bn;
} oiqa_tape_conv_bn;

typedef struct {
    oiqa_tape_conv_bn conv[3]; /* conv1..conv2 (BasicBlock) or conv1..conv3 (Bottleneck) with their BNs */
    int n_conv;
    int has_down;
    oiqa_tape_conv_bn down; /* downsample.0 (1x1 conv) and downsample.1 (BN) */
} oiqa_tape_block;

#define OIQA_RESNET_TAPE_MAX_PARAMS 512

typedef struct {
    oiqa_resnet_depth depth; /* as the checkpoint has it (a table entry's copy when one matches) */
    int bottleneck;
    int n_blocks[4];
    int channels[4]; /* output channels of layer1..layer4 */
    oiqa_tape_conv_bn stem; /* conv1, bn1 */
    oiqa_tape_block *layer[4];
    int has_fc;
    oiqa_param fc_w, fc_b;
    oiqa_param *params[OIQA_RESNET_TAPE_MAX_PARAMS]; /* every trainable tensor, state-dict order */
    int n_params;
    /* BatchNorm's running statistics as frozen parameters named by their
     * keys ("layer4.0.bn1.running_mean"): what a fine-tuned model saves and
     * restores with its weights. */
    oiqa_param *buffers[OIQA_RESNET_TAPE_MAX_PARAMS];
    int n_buffers;
} oiqa_resnet_tape;

/* Builds the network from a torchvision ResNet state dict (fc optional). A
 * checkpoint that is not one names its first missing or mis-shaped key. */
int oiqa_resnet_tape_load(const oiqa_ckpt *ck, const char *path, oiqa_resnet_tape *net);
void oiqa_resnet_tape_free(oiqa_resnet_tape *net);

/* The parameter with this state-dict name, NULL when none. */
oiqa_param *oiqa_resnet_tape_param(oiqa_resnet_tape *net, const char *name);
/* The BN of this state-dict prefix ("layer1.0.bn1", "layer2.0.downsample.1"), NULL when none. */
oiqa_tape_bn *oiqa_resnet_tape_bn(oiqa_resnet_tape *net, const char *prefix);

typedef struct {
    oiqa_agv layer[4]; /* [B, h, w, C] */
    oiqa_agv pool;     /* [B, C4]: global average of layer4 */
    oiqa_agv logits;   /* fc(pool), or -1 without fc */
} oiqa_resnet_tape_out;

/* x: [B, H, W, 3] normalised, NHWC. batch_stats: BatchNorm in train mode. */
int oiqa_resnet_tape_forward(oiqa_ag *ag, oiqa_resnet_tape *net, oiqa_agv x, int batch_stats,
                             oiqa_resnet_tape_out *out);

/* The network above a cached cut: x is the output of layer `after` (1..4,
 * e.g. the float16 layer3 maps a backbone stage stored, [B, h, w, C]), and
 * only layer after+1 .. layer4, the pooling and fc run (and learn); out's
 * layers up to `after` are -1. after = 0 is the whole network from the
 * stem's input. The staged-cache way to fine-tune the last blocks. */
int oiqa_resnet_tape_forward_from(oiqa_ag *ag, oiqa_resnet_tape *net, int after, oiqa_agv x, int batch_stats,
                                  oiqa_resnet_tape_out *out);

#endif
