/* Test data shared by the unit tests: a deterministic pseudo-random stream
 * (64-bit LCG, top 53 bits; the including file picks its seed so its data
 * stay what its tolerances were set on), float arrays filled from it, and
 * crops of the shipped panoramas.
 *   #define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
 *   #include "test_data.h" */
#ifndef OIQA_TEST_DATA_H
#define OIQA_TEST_DATA_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/image.h"

#ifndef TEST_RNG_SEED
#define TEST_RNG_SEED 0x9e3779b97f4a7c15ull
#endif

static uint64_t rng_state = TEST_RNG_SEED;

/* [0, 1) */
static inline double rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static inline void fill(float *p, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) p[i] = lo + (hi - lo) * (float)rnd();
}

/* n values in [-1, 1), malloc'ed. */
static inline float *random_array(size_t n)
{
    float *p = malloc(n * sizeof *p);
    if (p) fill(p, n, -1.0f, 1.0f);
    return p;
}

/* $OIQA_ROOT/data/panoramas/NAME_tonemapped.png (1024 x 512) into im; 0 on
 * success, -1 when it cannot be read (im left empty). */
static inline int test_panorama_load(const char *name, oiqa_image *im)
{
    const char *root = getenv("OIQA_ROOT");
    char path[4096];
    snprintf(path, sizeof path, "%s/data/panoramas/%s_tonemapped.png", root && *root ? root : ".", name);
    oiqa_image_load_opts lo = {0};
    *im = (oiqa_image){0};
    return oiqa_image_load(path, &lo, im) ? -1 : 0;
}

/* An s x s RGB crop right of the centre (100 px east) of
 * $OIQA_ROOT/data/panoramas/NAME_tonemapped.png, malloc'ed; NULL when the
 * panorama cannot be read. */
static inline uint8_t *test_panorama_crop(const char *name, int s)
{
    oiqa_image im;
    if (test_panorama_load(name, &im)) return NULL;
    uint8_t *c = malloc((size_t)s * s * 3);
    int x0 = im.w / 2 - s / 2 + 100, y0 = im.h / 2 - s / 2;
    for (int y = 0; c && y < s; y++)
        memcpy(c + (size_t)y * s * 3, im.rgb + ((size_t)(y0 + y) * im.w + x0) * 3, (size_t)s * 3);
    oiqa_image_free(&im);
    return c;
}

#endif
