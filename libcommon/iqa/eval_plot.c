/* Scatter plot of scores against labels with the fitted 4-parameter
 * logistic: SVG (with axes, ticks and a title) and an RGB raster for PNG
 * (points, curve, axes and tick numbers in a built-in 3x5 digit font). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/strutil.h"
#include "iqa/eval.h"

typedef struct {
    double x0, x1, y0, y1;   /* data ranges */
    double l, r, t, b;       /* plot area in pixels */
} frame;

static void frame_make(const oiqa_eval_run *run, double w, double h, double ml, double mr, double mt, double mb,
                       frame *f)
{
    const double *x = run->x, *y = run->y;
    int n = run->m.n;
    f->x0 = f->x1 = x[0];
    f->y0 = f->y1 = y[0];
    for (int i = 1; i < n; i++) {
        f->x0 = fmin(f->x0, x[i]), f->x1 = fmax(f->x1, x[i]);
        f->y0 = fmin(f->y0, y[i]), f->y1 = fmax(f->y1, y[i]);
    }
    double px = (f->x1 - f->x0) * 0.05 + 1e-9, py = (f->y1 - f->y0) * 0.05 + 1e-9;
    f->x0 -= px, f->x1 += px, f->y0 -= py, f->y1 += py;
    f->l = ml, f->r = w - mr, f->t = mt, f->b = h - mb;
}

static double fx(const frame *f, double x) { return f->l + (x - f->x0) / (f->x1 - f->x0) * (f->r - f->l); }
static double fy(const frame *f, double y) { return f->b - (y - f->y0) / (f->y1 - f->y0) * (f->b - f->t); }

/* A "nice" tick step (1, 2 or 5 times a power of ten) for about 5 ticks. */
static double tick_step(double span)
{
    double raw = span / 5, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

char *oiqa_eval_svg(const oiqa_eval_run *run, const char *title)
{
    const double W = 640, H = 480;
    frame f;
    frame_make(run, W, H, 70, 20, 40, 60, &f);
    oiqa_sbuf b = {0};
    oiqa_sbuf_appendf(&b,
                      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
                      "font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"100%%\" height=\"100%%\" "
                      "fill=\"white\"/>\n",
                      W, H);
    oiqa_sbuf_appendf(&b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" stroke=\"black\"/>\n",
                      f.l, f.t, f.r - f.l, f.b - f.t);
    for (int axis = 0; axis < 2; axis++) {
        double lo = axis ? f.y0 : f.x0, hi = axis ? f.y1 : f.x1, st = tick_step(hi - lo);
        for (double v = ceil(lo / st) * st; v <= hi; v += st) {
            double p = axis ? fy(&f, v) : fx(&f, v);
            char lab[32];
            snprintf(lab, sizeof lab, "%g", fabs(v) < st * 1e-6 ? 0.0 : v);
            if (axis)
                oiqa_sbuf_appendf(&b,
                                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
                                  f.l - 5, p, f.l, p, f.l - 8, p + 4, lab);
            else
                oiqa_sbuf_appendf(&b,
                                  "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                                  "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
                                  p, f.b, p, f.b + 5, p, f.b + 18, lab);
        }
    }
    for (int i = 0; i < run->m.n; i++)
        oiqa_sbuf_appendf(&b, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#1f77b4\" fill-opacity=\"0.6\"/>\n",
                          fx(&f, run->x[i]), fy(&f, run->y[i]));
    if (run->m.fit4_ok) {
        oiqa_sbuf_append(&b, "<polyline fill=\"none\" stroke=\"#d62728\" stroke-width=\"2\" points=\"");
        for (int k = 0; k <= 200; k++) {
            double x = f.x0 + (f.x1 - f.x0) * k / 200, y = oiqa_logistic4(run->m.beta4, x);
            double py = fmin(f.b, fmax(f.t, fy(&f, y)));
            oiqa_sbuf_appendf(&b, "%.1f,%.1f ", fx(&f, x), py);
        }
        oiqa_sbuf_append(&b, "\"/>\n");
    }
    oiqa_sbuf_appendf(&b, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">predicted score</text>\n",
                      (f.l + f.r) / 2, H - 15);
    oiqa_sbuf_appendf(&b,
                      "<text transform=\"translate(18,%.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>\n",
                      (f.t + f.b) / 2, "label (negated when lower is better)");
    oiqa_sbuf_append(&b, "<text x=\"70\" y=\"25\" font-size=\"14\">");
    for (const char *p = title ? title : ""; *p; p++) { /* escape for XML */
        if (*p == '<') oiqa_sbuf_append(&b, "&lt;");
        else if (*p == '>') oiqa_sbuf_append(&b, "&gt;");
        else if (*p == '&') oiqa_sbuf_append(&b, "&amp;");
        else { char c[2] = {*p, 0}; oiqa_sbuf_append(&b, c); }
    }
    oiqa_sbuf_appendf(&b, "  (N %d, SRCC %.4f, PLCC %.4f, RMSE %.4f)</text>\n</svg>\n", run->m.n, run->m.srcc,
                      run->m.plcc4, run->m.rmse4);
    return b.s;
}

/* ---- a tiny rasteriser ------------------------------------------------- */

static void put(unsigned char *im, int w, int h, int x, int y, const unsigned char c[3], double a)
{
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    unsigned char *p = im + ((size_t)y * w + x) * 3;
    for (int k = 0; k < 3; k++) p[k] = (unsigned char)lround(p[k] * (1 - a) + c[k] * a);
}

static void disc(unsigned char *im, int w, int h, double cx, double cy, double r, const unsigned char c[3], double a)
{
    for (int y = (int)floor(cy - r); y <= (int)ceil(cy + r); y++)
        for (int x = (int)floor(cx - r); x <= (int)ceil(cx + r); x++) {
            double d = hypot(x + 0.5 - cx, y + 0.5 - cy);
            double cover = fmin(1, fmax(0, r + 0.5 - d)); /* one-pixel soft edge */
            if (cover > 0) put(im, w, h, x, y, c, a * cover);
        }
}

static void line(unsigned char *im, int w, int h, double x0, double y0, double x1, double y1, double r,
                 const unsigned char c[3])
{
    int steps = (int)ceil(fmax(fabs(x1 - x0), fabs(y1 - y0)) * 2) + 1;
    for (int s = 0; s <= steps; s++) {
        double t = (double)s / steps;
        disc(im, w, h, x0 + (x1 - x0) * t, y0 + (y1 - y0) * t, r, c, 0.35);
    }
}

/* 3x5 glyphs for tick numbers, one 3-bit row each (top first, MSB left). */
static const char GLYPH_CHARS[] = "0123456789.-e+";
static const unsigned char GLYPHS[][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 7, 1, 7}, {5, 5, 7, 1, 1}, {7, 4, 7, 1, 7},
    {7, 4, 7, 5, 7}, {7, 1, 1, 1, 1}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}, {0, 0, 0, 0, 2}, {0, 0, 7, 0, 0},
    {0, 7, 7, 4, 7}, {0, 2, 7, 2, 0},
};

/* Draws text with its top-left corner at (x, y), each font pixel s x s. */
static void text(unsigned char *im, int w, int h, double x, double y, const char *t, int s, const unsigned char c[3])
{
    for (; *t; t++, x += 4 * s) {
        const char *g = strchr(GLYPH_CHARS, *t);
        if (!g || !*t) continue;
        const unsigned char *rows = GLYPHS[g - GLYPH_CHARS];
        for (int r = 0; r < 5; r++)
            for (int b = 0; b < 3; b++)
                if (rows[r] >> (2 - b) & 1)
                    for (int dy = 0; dy < s; dy++)
                        for (int dx = 0; dx < s; dx++)
                            put(im, w, h, (int)x + b * s + dx, (int)y + r * s + dy, c, 1);
    }
}

unsigned char *oiqa_eval_raster(const oiqa_eval_run *run, int w, int h)
{
    unsigned char *im = malloc((size_t)w * h * 3);
    if (!im) return NULL;
    memset(im, 255, (size_t)w * h * 3);
    frame f;
    double s = w / 640.0;
    frame_make(run, w, h, 56 * s, 15 * s, 15 * s, 35 * s, &f);
    int fs = s >= 1 ? 2 : 1; /* font pixel size */
    static const unsigned char black[3] = {0, 0, 0}, blue[3] = {31, 119, 180}, red[3] = {214, 39, 40};
    line(im, w, h, f.l, f.b, f.r, f.b, 0.6, black);
    line(im, w, h, f.l, f.t, f.l, f.b, 0.6, black);
    for (int axis = 0; axis < 2; axis++) { /* tick marks */
        double lo = axis ? f.y0 : f.x0, hi = axis ? f.y1 : f.x1, st = tick_step(hi - lo);
        for (double v = ceil(lo / st) * st; v <= hi; v += st) {
            double p = axis ? fy(&f, v) : fx(&f, v);
            char lab[32];
            snprintf(lab, sizeof lab, "%g", fabs(v) < st * 1e-6 ? 0.0 : v);
            double tw = (4.0 * strlen(lab) - 1) * fs;
            if (axis) {
                line(im, w, h, f.l - 6 * s, p, f.l, p, 0.6, black);
                text(im, w, h, f.l - 9 * s - tw, p - 2.5 * fs, lab, fs, black);
            } else {
                line(im, w, h, p, f.b, p, f.b + 6 * s, 0.6, black);
                text(im, w, h, p - tw / 2, f.b + 10 * s, lab, fs, black);
            }
        }
    }
    for (int i = 0; i < run->m.n; i++) disc(im, w, h, fx(&f, run->x[i]), fy(&f, run->y[i]), 3 * s, blue, 0.6);
    if (run->m.fit4_ok) {
        double px = 0, py = 0;
        for (int k = 0; k <= 200; k++) {
            double x = f.x0 + (f.x1 - f.x0) * k / 200;
            double y = fmin(f.b, fmax(f.t, fy(&f, oiqa_logistic4(run->m.beta4, x))));
            if (k) line(im, w, h, px, py, fx(&f, x), y, 1.2 * s, red);
            px = fx(&f, x), py = y;
        }
    }
    return im;
}
