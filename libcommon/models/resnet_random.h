/* Deterministic random weights for ResNet-50 (`--weights random:SEED`), for
 * runs without a pretrained checkpoint (the demo, tests, benchmarks).
 *
 * The weights follow torchvision's own initialisation of resnet50() so that
 * activations keep a sane scale through the 16 blocks: every conv weight
 * ~ N(0, 2 / fan_out) with fan_out = cout * kh * kw (He et al. 2015,
 * "Delving Deep into Rectifiers", kaiming_normal_ mode fan_out for ReLU);
 * BatchNorm weight 1, bias 0, running mean 0, running variance 1; fc weight
 * and bias ~ U(-1/sqrt(2048), 1/sqrt(2048)) (nn.Linear's default). The
 * numbers come from base/rng.h with the given seed, drawn in state-dict key
 * order, so a seed gives the same weights on every machine. */
#ifndef OIQA_MODELS_RESNET_RANDOM_H
#define OIQA_MODELS_RESNET_RANDOM_H

#include <stdint.h>

#include "io/ckpt.h"

/* A torchvision-keyed ResNet-50 state dict in memory (io/ckpt.h,
 * oiqa_ckpt_new), loadable with oiqa_resnet50_load. */
int oiqa_resnet50_random_ckpt(uint64_t seed, oiqa_ckpt **out);

#endif
