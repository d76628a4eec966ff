/* The ResNet family as one description (He et al. 2016, torchvision's
 * models/resnet.py, the "v1.5" stride placement): which convolutions the
 * network has, with their state-dict names, sizes, strides and paddings, in
 * state-dict order. The inference network (models/resnet.h: BN folded,
 * Winograd, CUDA), the trainable one on the tape (models/resnet_tape.h) and
 * the random weights (models/resnet_random.h) are all built from this plan,
 * so the structure is written once.
 *
 *   stem    conv1 7x7/2 pad 3 (3 -> w) + bn1 + ReLU, maxpool 3x3/2 pad 1
 *   layerK  blocks[K] blocks of planes w, 2w, 4w, 8w; the first of layer2..4
 *           has stride 2; a block whose shape changes has a downsample
 *           (1x1 conv with the stride + BN)
 *   BasicBlock  relu(bn2(conv2_3x3(relu(bn1(conv1_3x3/s(x))))) + skip)
 *   Bottleneck  relu(bn3(conv3_1x1(relu(bn2(conv2_3x3/s(relu(bn1(conv1_1x1(x))))))) + skip),
 *               4 x planes out
 * with w = 64 in torchvision (the fixtures use narrower networks). */
#ifndef OIQA_MODELS_RESNET_DESC_H
#define OIQA_MODELS_RESNET_DESC_H

#define OIQA_RESNET_STAGES 4
#define OIQA_RESNET_MAX_BLOCKS 64 /* ResNet-152 has 50 */

typedef enum { OIQA_RESNET_BASIC = 0, OIQA_RESNET_BOTTLENECK = 1 } oiqa_resnet_block_kind;

typedef struct {
    const char *name;    /* "resnet50" */
    const char *title;   /* "ResNet-50", for messages */
    oiqa_resnet_block_kind kind;
    int blocks[OIQA_RESNET_STAGES];
} oiqa_resnet_depth;

/* torchvision's resnet18, 34, 50, 101, 152, and all of them NULL-terminated. */
extern const oiqa_resnet_depth oiqa_resnet18_depth, oiqa_resnet34_depth, oiqa_resnet50_depth, oiqa_resnet101_depth,
    oiqa_resnet152_depth;
extern const oiqa_resnet_depth *const oiqa_resnet_depths[];
const oiqa_resnet_depth *oiqa_resnet_depth_find(const char *name);
/* The depth with this block kind and these counts, NULL when none has them. */
const oiqa_resnet_depth *oiqa_resnet_depth_match(oiqa_resnet_block_kind kind, const int *blocks);

enum { OIQA_RESNET_ROLE_STEM = -1, OIQA_RESNET_ROLE_DOWN = -2 };

/* One convolution and its BatchNorm. */
typedef struct {
    char conv[48], bn[48]; /* "layer2.0.conv1", "layer2.0.bn1"; "layer2.0.downsample.0", ".1" */
    int cin, cout, k, stride, pad;
    int block; /* index over all blocks (-1: stem) */
    int role;  /* 0, 1, 2: conv1..conv3 of the block; OIQA_RESNET_ROLE_* */
} oiqa_resnet_conv_spec;

#define OIQA_RESNET_MAX_CONVS (1 + 4 * OIQA_RESNET_MAX_BLOCKS)

typedef struct {
    const oiqa_resnet_depth *depth;
    int width;                             /* stem channels (64) */
    int n_blocks;
    int stage_of[OIQA_RESNET_MAX_BLOCKS];  /* block -> stage */
    int convs_per_block;                   /* 2 or 3 */
    int channels[OIQA_RESNET_STAGES];      /* output channels of layer1..4 */
    int n_convs;
    oiqa_resnet_conv_spec conv[OIQA_RESNET_MAX_CONVS]; /* state-dict order */
} oiqa_resnet_plan;

/* The plan of depth d at stem width `width` (64 for torchvision). */
void oiqa_resnet_plan_make(const oiqa_resnet_depth *d, int width, oiqa_resnet_plan *p);
/* The index in p->conv of conv `role` of block b (OIQA_RESNET_ROLE_DOWN: its
 * downsample), -1 when it has none. */
int oiqa_resnet_plan_conv(const oiqa_resnet_plan *p, int block, int role);

#endif
