/* Deterministic random weights for the ResNet family (`--weights
 * random:SEED`), for runs without a pretrained checkpoint (the demo, tests,
 * benchmarks).
 *
 * The weights follow torchvision's own initialisation of resnet*() so that
 * activations keep a sane scale through the blocks: every conv weight
 * ~ N(0, 2 / fan_out) with fan_out = cout * kh * kw (He et al. 2015,
 * "Delving Deep into Rectifiers", kaiming_normal_ mode fan_out for ReLU);
 * BatchNorm weight 1, bias 0, running mean 0, running variance 1; fc weight
 * and bias ~ U(-1/sqrt(features), 1/sqrt(features)) (nn.Linear's default),
 * 1000 classes. The numbers come from base/rng.h with the given seed, drawn
 * in state-dict key order (the plan's, models/resnet_desc.h), so a seed
 * gives the same weights on every machine. */
#ifndef OIQA_MODELS_RESNET_RANDOM_H
#define OIQA_MODELS_RESNET_RANDOM_H

#include <stdint.h>

#include "io/ckpt.h"
#include "models/resnet_desc.h"

/* A torchvision-keyed state dict of the depth at width 64 in memory
 * (io/ckpt.h, oiqa_ckpt_new), loadable with oiqa_resnet_load. */
int oiqa_resnet_random_ckpt(const oiqa_resnet_depth *depth, uint64_t seed, oiqa_ckpt **out);

#endif
