/* Image files through stb_image / stb_image_write: JPEG, PNG and BMP in;
 * PNG, JPEG and BMP out. Pixels are 8-bit RGB, row-major HWC. A 16-bit PNG
 * is read at 16 bits and rounded to 8 (v*255/65535); grey becomes RGB; an
 * alpha channel is dropped (not composited). EXIF orientation is ignored.
 *
 * Bad files are refused before decoding where possible, with one-line
 * errors naming the file: missing, a directory, empty, not JPEG/PNG/BMP,
 * truncated (JPEG without its end-of-image marker, PNG without IEND),
 * declared size above the pixel limit (refused before allocating). */
#ifndef OIQA_IO_IMAGE_H
#define OIQA_IO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* Default limit on width*height: 2^29 pixels (e.g. 32768x16384, 1.5 GiB as
 * RGB); each side also at most 65535. */
#define OIQA_IMAGE_MAX_PIXELS_DEFAULT (1LL << 29)

typedef struct {
    int w, h;            /* width and height in pixels */
    uint8_t *rgb;        /* h*w*3 bytes */
} oiqa_image;

typedef struct {
    int64_t max_pixels;  /* 0: OIQA_IMAGE_MAX_PIXELS_DEFAULT */
    char sha256[65];     /* out: sha256 of the file's bytes (filled by oiqa_image_load) */
} oiqa_image_load_opts;

/* Header check only: format, size, completeness. */
int oiqa_image_probe(const char *path, int64_t max_pixels, int *w, int *h);
/* Full load (and sha256 of the file bytes, computed from the same read). */
int oiqa_image_load(const char *path, oiqa_image_load_opts *opts, oiqa_image *img);
/* The same from memory; `path` only names the data in messages. */
int oiqa_image_decode(const char *path, const uint8_t *data, size_t size, int64_t max_pixels,
                      oiqa_image *img);
void oiqa_image_free(oiqa_image *img);

/* Writes by extension (.png, .jpg/.jpeg, .bmp) to PATH.partial, then renames. */
int oiqa_image_save(const char *path, const uint8_t *rgb, int w, int h, int jpeg_quality);

#endif
