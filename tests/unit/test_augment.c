/* models/augment.h: torchvision's CenterCrop offsets (Python's half-to-even
 * rounding of (H - crop) / 2), RandomCrop offsets (uniform over every valid
 * offset, reproducible for a seed), the crops' contents against a direct
 * index, RandomHorizontalFlip (reverses rows, about half the images, the
 * same draws give the same flips), and the refusal of a crop larger than
 * the images. */
#include <stdlib.h>

#include "base/error.h"
#include "models/augment.h"
#include "check.h"

static void t_centre_offsets(void)
{
    int top, left;
    oiqa_crop_offsets(64, 64, 48, 48, NULL, &top, &left);
    CHECK(top == 8 && left == 8);
    oiqa_crop_offsets(65, 67, 48, 48, NULL, &top, &left); /* round(8.5) = 8, round(9.5) = 10 in Python */
    CHECK_MSG(top == 8 && left == 10, "top %d left %d", top, left);
    oiqa_crop_offsets(256, 300, 224, 224, NULL, &top, &left); /* SIND's 256 -> 224: 16; (300-224)/2 = 38 */
    CHECK(top == 16 && left == 38);
    oiqa_crop_offsets(48, 48, 48, 48, NULL, &top, &left);
    CHECK(top == 0 && left == 0);
}

static void t_random_offsets(void)
{
    oiqa_rng a, b;
    oiqa_rng_seed(&a, 7), oiqa_rng_seed(&b, 7);
    int seen_top[4] = {0}, seen_left[6] = {0}, same = 1;
    for (int k = 0; k < 4000; k++) {
        int t, l, t2, l2;
        oiqa_crop_offsets(10, 12, 7, 7, &a, &t, &l);
        oiqa_crop_offsets(10, 12, 7, 7, &b, &t2, &l2);
        same &= t == t2 && l == l2;
        CHECK_MSG(t >= 0 && t <= 3 && l >= 0 && l <= 5, "offsets %d %d out of range", t, l);
        if (t >= 0 && t <= 3) seen_top[t]++;
        if (l >= 0 && l <= 5) seen_left[l]++;
    }
    CHECK(same);
    for (int i = 0; i < 4; i++) CHECK_MSG(seen_top[i] > 800 && seen_top[i] < 1200, "top %d seen %d", i, seen_top[i]);
    for (int i = 0; i < 6; i++)
        CHECK_MSG(seen_left[i] > 500 && seen_left[i] < 840, "left %d seen %d", i, seen_left[i]);
}

static float code(int i, int y, int x, int c) { return (float)(((i * 100 + y) * 100 + x) * 4 + c); }

static void t_crop_contents(void)
{
    enum { N = 3, H = 9, W = 11, C = 3, CH = 5, CW = 4 };
    float *src = malloc(sizeof(float) * N * H * W * C), *dst = malloc(sizeof(float) * N * CH * CW * C);
    for (int i = 0; i < N; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++) src[(((size_t)i * H + y) * W + x) * C + c] = code(i, y, x, c);
    for (int random = 0; random < 2; random++) {
        oiqa_rng r, replay;
        oiqa_rng_seed(&r, 3), oiqa_rng_seed(&replay, 3);
        CHECK(oiqa_crop_batch(src, N, H, W, C, CH, CW, random ? &r : NULL, dst) == OIQA_OK);
        int bad = 0;
        for (int i = 0; i < N; i++) {
            int top, left;
            oiqa_crop_offsets(H, W, CH, CW, random ? &replay : NULL, &top, &left);
            for (int y = 0; y < CH; y++)
                for (int x = 0; x < CW; x++)
                    for (int c = 0; c < C; c++)
                        bad += dst[(((size_t)i * CH + y) * CW + x) * C + c] != code(i, top + y, left + x, c);
        }
        CHECK_MSG(bad == 0, "%s crop: %d values differ", random ? "random" : "centre", bad);
    }
    free(src), free(dst);
}

static void t_flip(void)
{
    enum { N = 200, H = 2, W = 5, C = 3 };
    size_t per = (size_t)H * W * C;
    float *v = malloc(sizeof(float) * N * per);
    for (int i = 0; i < N; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++) v[i * per + ((size_t)y * W + x) * C + c] = code(i, y, x, c);
    oiqa_rng r, again;
    oiqa_rng_seed(&r, 11), oiqa_rng_seed(&again, 11);
    oiqa_hflip_batch(v, N, H, W, C, &r);
    int flipped = 0, bad = 0;
    for (int i = 0; i < N; i++) {
        int f = v[i * per] != code(i, 0, 0, 0);
        flipped += f;
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++)
                    bad += v[i * per + ((size_t)y * W + x) * C + c] != code(i, y, f ? W - 1 - x : x, c);
    }
    CHECK_MSG(bad == 0, "%d values not where a flip puts them", bad);
    CHECK_MSG(flipped > 70 && flipped < 130, "%d of %d flipped", flipped, N);
    oiqa_hflip_batch(v, N, H, W, C, &again); /* the same draws flip the same images back */
    bad = 0;
    for (int i = 0; i < N; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++)
                for (int c = 0; c < C; c++) bad += v[i * per + ((size_t)y * W + x) * C + c] != code(i, y, x, c);
    CHECK(bad == 0);
    free(v);
}

static void t_crop_refused(void)
{
    float src[4 * 4 * 3] = {0}, dst[5 * 5 * 3];
    CHECK(oiqa_crop_batch(src, 1, 4, 4, 3, 5, 5, NULL, dst) == OIQA_EXIT_USAGE);
    CHECK(oiqa_crop_batch(src, 1, 4, 4, 3, 0, 2, NULL, dst) == OIQA_EXIT_USAGE);
}

int main(void)
{
    RUN(t_centre_offsets);
    RUN(t_random_offsets);
    RUN(t_crop_contents);
    RUN(t_flip);
    RUN(t_crop_refused);
    return check_done();
}
