/* Contact sheets (io/sheet.h): a title, an overview of the ERP with the
 * viewport centres marked and numbered, and the viewports in a labelled grid. */
#include "io/sheet.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wmissing-braces"
#include <stb_easy_font.h>
#pragma GCC diagnostic pop

#define FONT_HEIGHT 8 /* stb_easy_font cap height plus descenders, in font units */
#define MARGIN 8

static const uint8_t BG[3] = {28, 28, 30};
static const uint8_t FG[3] = {235, 235, 235};

/* Marker colours, distinguishable on photographs. */
static const uint8_t PALETTE[8][3] = {
    {255, 64, 64}, {64, 200, 255}, {255, 210, 0}, {80, 230, 80},
    {255, 120, 230}, {255, 150, 40}, {170, 140, 255}, {255, 255, 255},
};

static void fill_rect(uint8_t *rgb, int w, int h, int x0, int y0, int x1, int y1, const uint8_t c[3])
{
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > w) x1 = w;
    if (y1 > h) y1 = h;
    for (int y = y0; y < y1; y++)
        for (int x = x0; x < x1; x++) memcpy(rgb + ((size_t)y * w + x) * 3, c, 3);
}

void oiqa_draw_text(uint8_t *rgb, int w, int h, int x, int y, const char *text, const uint8_t color[3],
                    int scale)
{
    /* stb_easy_font emits axis-aligned quads of 4 vertices, 16 bytes each. */
    static _Thread_local float verts[4 * 4 * 2000];
    unsigned char col[4] = {color[0], color[1], color[2], 255};
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    int quads = stb_easy_font_print(0, 0, buf, col, verts, (int)sizeof verts);
    for (int q = 0; q < quads; q++) {
        const float *v0 = verts + (size_t)q * 16, *v2 = v0 + 8;
        int x0 = x + (int)lroundf(v0[0] * scale), y0 = y + (int)lroundf(v0[1] * scale);
        int x1 = x + (int)lroundf(v2[0] * scale), y1 = y + (int)lroundf(v2[1] * scale);
        fill_rect(rgb, w, h, x0, y0, x1, y1, color);
    }
}

static int text_width(const char *text, int scale)
{
    char buf[512];
    snprintf(buf, sizeof buf, "%s", text);
    return stb_easy_font_width(buf) * scale;
}

/* Area-average downsample of src into the dst rectangle (dw x dh at dx, dy). */
static void blit_scaled(const oiqa_image *src, uint8_t *dst, int w, int dx, int dy, int dw, int dh)
{
    for (int y = 0; y < dh; y++) {
        int sy0 = (int)((int64_t)y * src->h / dh), sy1 = (int)((int64_t)(y + 1) * src->h / dh);
        if (sy1 <= sy0) sy1 = sy0 + 1;
        for (int x = 0; x < dw; x++) {
            int sx0 = (int)((int64_t)x * src->w / dw), sx1 = (int)((int64_t)(x + 1) * src->w / dw);
            if (sx1 <= sx0) sx1 = sx0 + 1;
            uint32_t acc[3] = {0, 0, 0}, n = 0;
            for (int sy = sy0; sy < sy1; sy++)
                for (int sx = sx0; sx < sx1; sx++) {
                    const uint8_t *p = src->rgb + ((size_t)sy * src->w + sx) * 3;
                    acc[0] += p[0], acc[1] += p[1], acc[2] += p[2], n++;
                }
            uint8_t *o = dst + ((size_t)(dy + y) * w + dx + x) * 3;
            for (int c = 0; c < 3; c++) o[c] = (uint8_t)((acc[c] + n / 2) / n);
        }
    }
}

static void blit(const uint8_t *src, int sw, int sh, uint8_t *dst, int w, int dx, int dy)
{
    for (int y = 0; y < sh; y++) memcpy(dst + ((size_t)(dy + y) * w + dx) * 3, src + (size_t)y * sw * 3, (size_t)sw * 3);
}

/* A ring-shaped marker with the viewport's number beside it. */
static void draw_marker(uint8_t *rgb, int w, int h, int cx, int cy, int index, int scale)
{
    const uint8_t *c = PALETTE[index % 8];
    int r = 3 * scale + 1;
    for (int y = -r; y <= r; y++)
        for (int x = -r; x <= r; x++) {
            int d2 = x * x + y * y;
            if (d2 <= r * r && d2 >= (r - 2) * (r - 2)) fill_rect(rgb, w, h, cx + x, cy + y, cx + x + 1, cy + y + 1, c);
        }
    char num[16];
    snprintf(num, sizeof num, "%d", index);
    /* The number goes right of the ring, or left of it at the right edge (lon 180). */
    int tx = cx + r + 2, tw = text_width(num, scale);
    if (tx + tw > w - MARGIN) tx = cx - r - 2 - tw;
    oiqa_draw_text(rgb, w, h, tx, cy - r, num, c, scale);
}

/* A label too wide for its tile is split at its first space into two lines. */
static int label_split(const char *label, int tile_w, int scale, char first[64], const char **second)
{
    snprintf(first, 64, "%s", label);
    *second = NULL;
    if (text_width(label, scale) <= tile_w) return 1;
    char *sp = strchr(first, ' ');
    if (!sp) return 1;
    *sp = 0;
    *second = label + (sp - first) + 1;
    return 2;
}

int oiqa_sheet_write(const char *path, const char *title, const oiqa_image *erp, const oiqa_sheet_tile *tiles,
                     int n_tiles, int columns)
{
    if (n_tiles <= 0) return oiqa_fail(OIQA_EXIT_DATA, path, "contact sheet with no viewports");
    int tw = 0, th = 0;
    for (int k = 0; k < n_tiles; k++) {
        if (tiles[k].w > tw) tw = tiles[k].w;
        if (tiles[k].h > th) th = tiles[k].h;
    }
    if (columns <= 0) columns = (int)ceil(sqrt((double)n_tiles * 1.25));
    if (columns > n_tiles) columns = n_tiles;
    int rows = (n_tiles + columns - 1) / columns;
    int scale = tw >= 160 ? 2 : 1;
    int lines = 1;
    for (int k = 0; k < n_tiles; k++) {
        char first[64];
        const char *second;
        int n = label_split(tiles[k].label, tw, scale, first, &second);
        if (n > lines) lines = n;
    }
    int label_h = lines * (FONT_HEIGHT + 2) * scale + 6;
    int grid_w = columns * tw + (columns - 1) * MARGIN;
    int width = grid_w + 2 * MARGIN;
    int title_h = title ? FONT_HEIGHT * 2 + 10 : 0;
    int over_h = erp ? grid_w / 2 : 0;
    int height = MARGIN + title_h + (erp ? over_h + MARGIN : 0) + rows * (th + label_h + MARGIN);

    uint8_t *rgb = malloc((size_t)width * height * 3);
    if (!rgb) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory for a %dx%d contact sheet", width, height);
    fill_rect(rgb, width, height, 0, 0, width, height, BG);

    int y = MARGIN;
    if (title) {
        int title_scale = text_width(title, 2) <= grid_w ? 2 : 1; /* narrow sheets: smaller title */
        oiqa_draw_text(rgb, width, height, MARGIN, y + 2, title, FG, title_scale);
        y += title_h;
    }
    if (erp) {
        blit_scaled(erp, rgb, width, MARGIN, y, grid_w, over_h);
        for (int k = 0; k < n_tiles; k++) {
            /* DESIGN §5: u = (lon/360 + 0.5) W - 0.5, scaled to the overview. */
            double u = (tiles[k].lon / 360.0 + 0.5) * grid_w - 0.5;
            double v = (0.5 - tiles[k].lat / 180.0) * over_h - 0.5;
            draw_marker(rgb, width, height, MARGIN + (int)lround(u), y + (int)lround(v), k, scale);
        }
        y += over_h + MARGIN;
    }
    for (int k = 0; k < n_tiles; k++) {
        int col = k % columns, row = k / columns;
        int x0 = MARGIN + col * (tw + MARGIN);
        int y0 = y + row * (th + label_h + MARGIN);
        blit(tiles[k].rgb, tiles[k].w, tiles[k].h, rgb, width, x0, y0);
        const uint8_t *c = erp ? PALETTE[k % 8] : FG;
        char first[64];
        const char *second;
        int n = label_split(tiles[k].label, tw, scale, first, &second);
        for (int line = 0; line < n; line++) {
            const char *text = line ? second : first;
            int lx = x0 + (tw - text_width(text, scale)) / 2;
            oiqa_draw_text(rgb, width, height, lx < x0 ? x0 : lx, y0 + th + 4 + line * (FONT_HEIGHT + 2) * scale,
                           text, c, scale);
        }
    }
    int rc = oiqa_image_save(path, rgb, width, height, 0);
    free(rgb);
    return rc;
}
