/* Fine-tuning a torchvision ResNet above a cached cut, as a method of the
 * registry (methods/method.h; issue 17): the backbone stage stored the maps
 * of one layer (`oiqa-backbone --arch resnet18 --blocks layer3 --maps`);
 * training runs only the layers above it on the tape (models/resnet_tape.h),
 * pools each viewport's layer4 globally, averages the viewports and scores
 * with a Linear(C4, 1) head. The staged-cache way to fine-tune the last
 * blocks cheaply. With cut: none the whole network trains from the
 * viewports (viewports.h5; per step a random crop (centre crop in
 * evaluation) and horizontal flip, then ImageNet normalisation).
 * With train_backbone: false only the head learns: the frozen-backbone
 * linear probe to compare with. docs/finetune.md. */
#ifndef OIQA_METHODS_RESNET_FT_H
#define OIQA_METHODS_RESNET_FT_H

#include "methods/method.h"

typedef struct {
    char *weights;      /* the backbone checkpoint the maps came from, or random:SEED */
    int arch;           /* index into the ResNet depths (random weights; checked against a checkpoint) */
    int cut;            /* 0: from the viewports; 1..4: the maps are layer1..layer4 */
    int train_backbone; /* 0: only the head (the linear probe) */
    int bn;             /* 0 train (batch statistics), 1 frozen (the checkpoint's) */
    long crop;          /* cut none: the side of the random crop (centre in evaluation); 0: none */
    int flip;           /* cut none: random horizontal flips in training */
} oiqa_resnet_ft_opts;

extern const oiqa_method oiqa_method_resnet_ft;

#endif
