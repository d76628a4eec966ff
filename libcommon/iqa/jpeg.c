/* JPEG re-encoding through stb_image_write / stb_image (Debian's libstb,
 * whose library holds both implementations; see io/image.c). */
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "base/error.h"
#include "iqa/distort.h"
#include "iqa/filter.h"

typedef struct {
    uint8_t *data;
    size_t n, cap;
    int oom;
} membuf;

static void append(void *ctx, void *data, int size)
{
    membuf *b = ctx;
    if (b->oom || size <= 0) return;
    if (b->n + (size_t)size > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + (size_t)size) cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->oom = 1;
            return;
        }
        b->data = d, b->cap = cap;
    }
    memcpy(b->data + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

int oiqa_jpeg_recompress(const uint8_t *src, int w, int h, int quality, uint8_t *dst)
{
    int rc = oiqa_iqa_check_image(src, w, h, dst);
    if (rc) return rc;
    if (quality < 1 || quality > 100)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'quality': %d is outside 1..100", quality);
    membuf b = {0};
    int ok = stbi_write_jpg_to_func(append, &b, w, h, 3, src, quality);
    if (!ok || b.oom || b.n > (size_t)0x7fffffff) {
        free(b.data);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "JPEG encoding of a %dx%d image failed", w, h);
    }
    int dw = 0, dh = 0, comp = 0;
    uint8_t *px = stbi_load_from_memory(b.data, (int)b.n, &dw, &dh, &comp, 3);
    free(b.data);
    if (!px || dw != w || dh != h) {
        stbi_image_free(px);
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "JPEG decoding of a re-encoded %dx%d image failed", w, h);
    }
    memcpy(dst, px, (size_t)w * h * 3);
    stbi_image_free(px);
    return OIQA_OK;
}
