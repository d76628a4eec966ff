/* PNG writing through zlib (faster and smaller than stb_image_write's own
 * deflate). PNG specification (W3C, 2nd ed.): signature, IHDR, one IDAT
 * holding the zlib stream of filtered scanlines, IEND; each chunk ends with
 * the CRC-32 of its type and data. Rows use the adaptive filter choice the
 * specification recommends (§12.8): the filter type with the smallest sum
 * of absolute differences, taken as signed bytes. */
#include "io/png_write.h"

#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static int write_chunk(FILE *f, const char type[4], const uint8_t *data, uint32_t len)
{
    uint8_t head[8];
    put_be32(head, len);
    memcpy(head + 4, type, 4);
    uLong crc = crc32(0L, (const Bytef *)type, 4);
    if (len) crc = crc32(crc, data, len);
    uint8_t tail[4];
    put_be32(tail, (uint32_t)crc);
    return fwrite(head, 1, 8, f) == 8 && (len == 0 || fwrite(data, 1, len, f) == len) && fwrite(tail, 1, 4, f) == 4;
}

static uint8_t paeth(uint8_t a, uint8_t b, uint8_t c)
{
    int p = a + b - c, pa = abs(p - a), pb = abs(p - b), pc = abs(p - c);
    return (pa <= pb && pa <= pc) ? a : (pb <= pc ? b : c);
}

/* Filters one row of n bytes (bpp bytes per pixel) with filter type t into out. */
static void filter_row(int t, const uint8_t *row, const uint8_t *prev, size_t n, int bpp, uint8_t *out)
{
    for (size_t i = 0; i < n; i++) {
        uint8_t a = i >= (size_t)bpp ? row[i - bpp] : 0, b = prev ? prev[i] : 0;
        uint8_t c = (prev && i >= (size_t)bpp) ? prev[i - bpp] : 0;
        uint8_t pred = t == 0 ? 0 : t == 1 ? a : t == 2 ? b : t == 3 ? (uint8_t)((a + b) / 2) : paeth(a, b, c);
        out[i] = (uint8_t)(row[i] - pred);
    }
}

static uint64_t row_cost(const uint8_t *f, size_t n)
{
    uint64_t s = 0;
    for (size_t i = 0; i < n; i++) s += (uint64_t)abs((int8_t)f[i]);
    return s;
}

int oiqa_png_write_rgb(FILE *f, const uint8_t *rgb, int w, int h, int level)
{
    size_t stride = (size_t)w * 3, raw_size = (stride + 1) * (size_t)h;
    uint8_t *raw = malloc(raw_size), *trial = malloc(stride);
    uLongf z_size = compressBound((uLong)raw_size);
    uint8_t *z = malloc(z_size);
    int ok = raw && trial && z;
    for (int y = 0; ok && y < h; y++) {
        const uint8_t *row = rgb + (size_t)y * stride, *prev = y ? row - stride : NULL;
        uint8_t *dst = raw + (size_t)y * (stride + 1);
        uint64_t best = UINT64_MAX;
        for (int t = 0; t < 5; t++) {
            filter_row(t, row, prev, stride, 3, trial);
            uint64_t cost = row_cost(trial, stride);
            if (cost < best) {
                best = cost;
                dst[0] = (uint8_t)t;
                memcpy(dst + 1, trial, stride);
            }
        }
    }
    ok = ok && compress2(z, &z_size, raw, (uLong)raw_size, level) == Z_OK;
    if (ok) {
        uint8_t ihdr[13];
        put_be32(ihdr, (uint32_t)w);
        put_be32(ihdr + 4, (uint32_t)h);
        ihdr[8] = 8, ihdr[9] = 2, ihdr[10] = ihdr[11] = ihdr[12] = 0; /* 8-bit RGB, deflate, adaptive, no interlace */
        ok = fwrite("\x89PNG\r\n\x1a\n", 1, 8, f) == 8 && write_chunk(f, "IHDR", ihdr, 13) &&
             write_chunk(f, "IDAT", z, (uint32_t)z_size) && write_chunk(f, "IEND", NULL, 0);
    }
    free(raw), free(trial), free(z);
    return ok ? 0 : -1;
}
