/* PNG writer over zlib: 8-bit RGB, adaptive row filters, deflate `level` (0-9).
 * oiqa_image_save uses level 1: contact sheets and viewport PNGs are for
 * looking at, and level 1 is twice as fast as stb_image_write with smaller files. */
#ifndef OIQA_IO_PNG_WRITE_H
#define OIQA_IO_PNG_WRITE_H

#include <stdint.h>
#include <stdio.h>

/* Writes a whole PNG to f; 0 on success, -1 on failure (errno from stdio). */
int oiqa_png_write_rgb(FILE *f, const uint8_t *rgb, int w, int h, int level);

#endif
