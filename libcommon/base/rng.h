/* A small deterministic random number generator, the same stream on every
 * machine and thread count: xoshiro256** (Blackman & Vigna 2018, "Scrambled
 * linear pseudorandom number generators") seeded through splitmix64, with
 * normal deviates by the Box-Muller transform (both of a pair are used).
 * Used for reproducible random weights (`--weights random:SEED`), dataset
 * synthesis and training; never for anything security-related. */
#ifndef OIQA_BASE_RNG_H
#define OIQA_BASE_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t s[4];
    double spare; /* the second Box-Muller deviate */
    int has_spare;
} oiqa_rng;

/* Seeds the state from one 64-bit seed (any value, 0 included). */
void oiqa_rng_seed(oiqa_rng *r, uint64_t seed);

/* Next 64 random bits. */
uint64_t oiqa_rng_u64(oiqa_rng *r);

/* Uniform double in [0, 1) with 53 random bits. */
double oiqa_rng_uniform(oiqa_rng *r);

/* Uniform integer in [0, n) for n >= 1: floor(uniform * n) (shuffles,
 * random crops). */
int oiqa_rng_below(oiqa_rng *r, int n);

/* Standard normal deviate N(0, 1). */
double oiqa_rng_normal(oiqa_rng *r);

#endif
