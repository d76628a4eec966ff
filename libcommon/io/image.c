/* Image files through stb_image / stb_image_write (Debian's libstb). */
#include "io/image.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "base/error.h"
#include "io/png_write.h"
#include "base/sha256.h"
#include "base/strutil.h"

typedef enum { FMT_UNKNOWN, FMT_JPEG, FMT_PNG, FMT_BMP } image_format;

static image_format sniff_format(const uint8_t *d, size_t n)
{
    if (n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return FMT_JPEG;
    if (n >= 8 && !memcmp(d, "\x89PNG\r\n\x1a\n", 8)) return FMT_PNG;
    if (n >= 2 && d[0] == 'B' && d[1] == 'M') return FMT_BMP;
    return FMT_UNKNOWN;
}

static const char *format_name(image_format f)
{
    return f == FMT_JPEG ? "JPEG" : f == FMT_PNG ? "PNG" : f == FMT_BMP ? "BMP" : "image";
}

/* stb's failure reasons are terse ("outofdata"); say what they mean. */
static int decode_failure(const char *path, image_format f)
{
    const char *why = stbi_failure_reason();
    if (!why) why = "unknown reason";
    if (!strcmp(why, "outofdata") || !strcmp(why, "expected marker") ||
        !strcmp(why, "bad zlib header") || !strcmp(why, "no IDAT") ||
        !strcmp(why, "bad huffman code") || !strcmp(why, "unexpected end"))
        return oiqa_fail(OIQA_EXIT_DATA, path, "not an image (truncated or corrupt %s: %s)",
                         format_name(f), why);
    return oiqa_fail(OIQA_EXIT_DATA, path, "not an image (corrupt %s: %s)", format_name(f), why);
}

static int check_size(const char *path, int w, int h, int64_t max_pixels)
{
    if (max_pixels <= 0) max_pixels = OIQA_IMAGE_MAX_PIXELS_DEFAULT;
    if (w <= 0 || h <= 0)
        return oiqa_fail(OIQA_EXIT_DATA, path, "not an image (declares %dx%d pixels)", w, h);
    if (w > 65535 || h > 65535 || (int64_t)w * h > max_pixels)
        return oiqa_fail(OIQA_EXIT_DATA, path,
                         "declares %dx%d pixels, above the limit of %lld pixels and 65535 per side "
                         "(raise it with --max-pixels)",
                         w, h, (long long)max_pixels);
    return OIQA_OK;
}

static uint32_t be16(const uint8_t *p) { return (uint32_t)p[0] << 8 | p[1]; }
static uint32_t be32(const uint8_t *p) { return be16(p) << 16 | be16(p + 2); }
static int32_t le32(const uint8_t *p) { return (int32_t)((uint32_t)p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24); }

/* The size a file declares, read from its header by hand so that an absurd
 * size is reported as such (stb only says "unknown image type"). PNG: IHDR
 * width/height; JPEG: the first SOFn frame header (ITU T.81 B.2.2); BMP: the
 * BITMAPINFOHEADER (a negative height means top-down rows). 0 when unknown. */
static int declared_size(const uint8_t *d, size_t n, image_format f, int64_t *w, int64_t *h)
{
    *w = *h = 0;
    if (f == FMT_PNG) {
        if (n < 24 || memcmp(d + 12, "IHDR", 4)) return 0;
        *w = be32(d + 16), *h = be32(d + 20);
        return 1;
    }
    if (f == FMT_BMP) {
        if (n < 26) return 0;
        *w = le32(d + 18), *h = le32(d + 22);
        if (*h < 0) *h = -*h;
        return 1;
    }
    if (f == FMT_JPEG) {
        size_t p = 2;
        while (p + 4 <= n) {
            if (d[p] != 0xFF) return 0;
            uint8_t m = d[p + 1];
            if (m == 0xFF) { p++; continue; } /* fill byte */
            if (m == 0xD8 || (m >= 0xD0 && m <= 0xD7) || m == 0x01) { p += 2; continue; }
            uint32_t len = be16(d + p + 2);
            if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
                if (p + 9 > n) return 0;
                *h = be16(d + p + 5), *w = be16(d + p + 7);
                return 1;
            }
            if (len < 2) return 0;
            p += 2 + len;
        }
    }
    return 0;
}


/* Format and declared size from the header, before any pixel is allocated. */
static int probe_memory(const char *path, const uint8_t *data, size_t size, int64_t max_pixels,
                        image_format *fmt, int *w, int *h)
{
    *fmt = sniff_format(data, size);
    if (*fmt == FMT_UNKNOWN)
        return oiqa_fail(OIQA_EXIT_DATA, path, "not an image (not JPEG, PNG or BMP)");
    int64_t dw, dh;
    if (declared_size(data, size, *fmt, &dw, &dh)) {
        int rc = check_size(path, dw, dh, max_pixels);
        if (rc) return rc;
    }
    int comp = 0;
    if (size > (size_t)0x7fffffff)
        return oiqa_fail(OIQA_EXIT_DATA, path, "file too large for the image decoder (over 2 GiB)");
    if (!stbi_info_from_memory(data, (int)size, w, h, &comp))
        return decode_failure(path, *fmt);
    return check_size(path, *w, *h, max_pixels);
}

/* Missing, a directory, unreadable or empty: the same words as oiqa_read_file. */
static int check_regular_file(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return oiqa_fail(OIQA_EXIT_DATA, path, "%s", errno == ENOENT ? "no such file" : oiqa_strerror(errno));
    if (S_ISDIR(st.st_mode)) return oiqa_fail(OIQA_EXIT_DATA, path, "is a directory, not an image");
    if (!S_ISREG(st.st_mode)) return oiqa_fail(OIQA_EXIT_DATA, path, "not a regular file");
    if (st.st_size == 0) return oiqa_fail(OIQA_EXIT_DATA, path, "empty file (0 bytes), not an image");
    return OIQA_OK;
}

int oiqa_image_probe(const char *path, int64_t max_pixels, int *w, int *h)
{
    int rc = check_regular_file(path);
    if (rc) return rc;
    FILE *f = fopen(path, "rb");
    if (!f) return oiqa_fail(OIQA_EXIT_DATA, path, "cannot open (%s)", oiqa_strerror(errno));
    /* Headers sit in the first 64 KiB, but a JPEG's frame header can follow
     * large EXIF blocks: then read up to 1 MiB, which holds it in practice. */
    static const size_t prefix[2] = {64 << 10, 1 << 20};
    uint8_t *buf = malloc(prefix[1]);
    size_t n = 0;
    rc = buf ? OIQA_OK : oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    for (int k = 0; k < 2 && !rc; k++) {
        n += fread(buf + n, 1, prefix[k] - n, f);
        if (ferror(f)) { rc = oiqa_fail(OIQA_EXIT_DATA, path, "read error"); break; }
        int64_t dw, dh;
        int whole_file = n < prefix[k];
        image_format fmt = sniff_format(buf, n);
        if (k == 0 && !whole_file && fmt != FMT_UNKNOWN && !declared_size(buf, n, fmt, &dw, &dh)) continue;
        rc = probe_memory(path, buf, n, max_pixels, &fmt, w, h);
        break;
    }
    fclose(f);
    free(buf);
    return rc;
}

static uint8_t *to_rgb8_from16(const uint16_t *px, int w, int h)
{
    size_t n = (size_t)w * h * 3;
    uint8_t *out = malloc(n);
    if (!out) return NULL;
    for (size_t i = 0; i < n; i++) out[i] = (uint8_t)(((uint32_t)px[i] * 255u + 32767u) / 65535u);
    return out;
}

int oiqa_image_decode(const char *path, const uint8_t *data, size_t size, int64_t max_pixels,
                      oiqa_image *img)
{
    memset(img, 0, sizeof *img);
    image_format fmt;
    int w, h, comp;
    int rc = probe_memory(path, data, size, max_pixels, &fmt, &w, &h);
    if (rc) return rc;
    uint8_t *rgb = NULL;
    if (fmt == FMT_PNG && stbi_is_16_bit_from_memory(data, (int)size)) {
        /* stb's own 16->8 conversion truncates (v >> 8); round instead. */
        uint16_t *px16 = stbi_load_16_from_memory(data, (int)size, &w, &h, &comp, 3);
        if (!px16) return decode_failure(path, fmt);
        rgb = to_rgb8_from16(px16, w, h);
        stbi_image_free(px16);
        if (!rgb) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory for %dx%d pixels", w, h);
    } else {
        uint8_t *px = stbi_load_from_memory(data, (int)size, &w, &h, &comp, 3);
        if (!px) return decode_failure(path, fmt);
        rgb = px; /* stbi_image_free is free() in the default build */
    }
    img->w = w;
    img->h = h;
    img->rgb = rgb;
    return OIQA_OK;
}

int oiqa_image_load(const char *path, oiqa_image_load_opts *opts, oiqa_image *img)
{
    memset(img, 0, sizeof *img);
    int rc = check_regular_file(path);
    if (rc) return rc;
    uint8_t *data = NULL;
    size_t size = 0;
    rc = oiqa_read_file(path, (size_t)1 << 31, &data, &size);
    if (rc) return rc;
    int64_t max_pixels = opts ? opts->max_pixels : 0;
    if (opts) oiqa_sha256_hex(data, size, opts->sha256);
    rc = oiqa_image_decode(path, data, size, max_pixels, img);
    free(data);
    return rc;
}

void oiqa_image_free(oiqa_image *img)
{
    if (!img) return;
    free(img->rgb);
    img->rgb = NULL;
    img->w = img->h = 0;
}

static const char *extension(const char *path)
{
    const char *dot = strrchr(path, '.');
    const char *slash = strrchr(path, '/');
    return (dot && (!slash || dot > slash)) ? dot + 1 : "";
}

int oiqa_image_save(const char *path, const uint8_t *rgb, int w, int h, int jpeg_quality)
{
    const char *ext = extension(path);
    char *tmp = oiqa_asprintf("%s.partial", path);
    if (!tmp) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    int ok;
    if (!strcasecmp(ext, "png")) {
        FILE *f = fopen(tmp, "wb");
        ok = f && oiqa_png_write_rgb(f, rgb, w, h, 1) == 0;
        if (f && fclose(f) != 0) ok = 0;
    }
    else if (!strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg"))
        ok = stbi_write_jpg(tmp, w, h, 3, rgb, jpeg_quality > 0 ? jpeg_quality : 95);
    else if (!strcasecmp(ext, "bmp"))
        ok = stbi_write_bmp(tmp, w, h, 3, rgb);
    else {
        free(tmp);
        return oiqa_fail(OIQA_EXIT_USAGE, path, "unknown image extension '.%s' (use .png, .jpg or .bmp)", ext);
    }
    int rc = OIQA_OK;
    if (!ok) {
        int e = errno;
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "cannot write image (%s)", e ? oiqa_strerror(e) : "write failed");
        unlink(tmp);
    } else if (rename(tmp, path) != 0) {
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "cannot rename %s into place (%s)", tmp, oiqa_strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}
