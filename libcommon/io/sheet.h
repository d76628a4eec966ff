/* Contact sheets: the viewports of one image in a grid, each labelled with
 * its centre, under an optional overview of the ERP with the centres marked
 * and numbered, so a person can see what the model sees. Text is drawn with
 * stb_easy_font. */
#ifndef OIQA_IO_SHEET_H
#define OIQA_IO_SHEET_H

#include <stdint.h>
#include "io/image.h"

typedef struct {
    const uint8_t *rgb;   /* tile pixels, HWC RGB */
    int w, h;
    char label[64];       /* e.g. "#3 lon 36.0 lat 52.6" */
    double lon, lat;      /* centre, for the overview marker (degrees) */
} oiqa_sheet_tile;

/* Composes and writes a PNG (via PATH.partial + rename). erp may be NULL (no
 * overview). columns <= 0 picks a near-square grid. */
int oiqa_sheet_write(const char *path, const char *title, const oiqa_image *erp,
                     const oiqa_sheet_tile *tiles, int n_tiles, int columns);

/* Text into an RGB buffer at (x, y), `scale` pixels per font unit. */
void oiqa_draw_text(uint8_t *rgb, int w, int h, int x, int y, const char *text,
                    const uint8_t color[3], int scale);

#endif
