/* Deterministic random VMamba weights (models/vmamba.h) for runs without a
 * trained checkpoint: benchmarks of the full-size models and tests.
 *
 * The values follow the recipe of the reference fixtures (their README),
 * which keeps every residual branch at a useful scale: each Linear / Linear2d
 * / x_proj / dt_proj weight ~ N(0, 1 / fan_in); conv weights ~ N(0,
 * 1 / fan_in) as well; A_logs = log(n + 1) (S4D-real, Gu et al.) + 0.2 N(0,1);
 * Ds ~ U(0.5, 1.5); dt_projs_bias = softplus^-1 of a log-uniform step in
 * [0.001, 0.1] (Mamba's dt init) + 0.2 N(0,1); LayerNorm weight 1 + 0.1 N,
 * bias 0.05 N; other biases 0.02 N. Drawn from base/rng.h in state-dict key
 * order, so a seed gives the same weights everywhere. */
#ifndef OIQA_MODELS_VMAMBA_RANDOM_H
#define OIQA_MODELS_VMAMBA_RANDOM_H

#include <stdint.h>

#include "io/ckpt.h"
#include "models/vmamba.h"

/* A state dict for cfg with the official key names, in memory (io/ckpt.h,
 * oiqa_ckpt_new), loadable with oiqa_vmamba_load. */
int oiqa_vmamba_random_ckpt(const oiqa_vmamba_config *cfg, uint64_t seed, oiqa_ckpt **out);

#endif
