/* The content-adaptive vgcn20 layout (geo/layout.h).
 *
 * After the viewport selection of VGCN (J. Xu, W. Zhou, Z. Chen, "Blind
 * omnidirectional image quality assessment with viewport oriented graph
 * convolutional networks", IEEE TCSVT 31(5), 2021): viewports are centred
 * where the image has the most local structure, found as corner keypoints.
 * VGCN's exact detector and parameters are not public; ours:
 *   1. grey ERP (BT.601 luma), box-downsampled by an integer factor to
 *      about 1024 x 512;
 *   2. Shi-Tomasi corner response (J. Shi and C. Tomasi, "Good features to
 *      track", CVPR 1994): the smaller eigenvalue of the structure tensor of
 *      Sobel gradients summed over 3 x 3 pixels (columns wrap, rows clamp);
 *   3. keypoints: 3 x 3 local maxima (non-maximum suppression; equal values
 *      broken by raster index) with response >= 1% of the image's maximum,
 *      each weighted by cos(lat) for the ERP's oversampling near the poles;
 *   4. candidate centres on a 2 degree lon/lat grid (plus the two poles),
 *      each scored by the total weight of the keypoints within fov/2
 *      great-circle distance;
 *   5. greedy picks by descending score (ties: lower candidate index) among
 *      candidates with a positive score at least min_sep from every pick;
 *   6. if fewer than n fit, the rest are placed farthest-first: each next
 *      centre is the candidate farthest from all picks so far (the first one,
 *      on an image without keypoints, is lon 0, lat 0). Only then, and only
 *      when the sphere has no room left, can two centres be closer than
 *      min_sep.
 * Everything runs on one thread in a fixed order, so results are
 * reproducible bit for bit. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "geo/layout.h"
#include "geo/sphere.h"

#define VGCN_TARGET_WIDTH 1024 /* width of the grey map the corners are found on */
#define VGCN_QUALITY 0.01f     /* keypoint threshold relative to the maximum response */
#define VGCN_GRID_DEG 2        /* candidate centre spacing in lon and lat */

/* Grey map w x h of an ERP erp_w x erp_h; its column x, row y is centred on
 * ERP pixel (x f + (f-1)/2, y f + (f-1)/2). */
typedef struct {
    int w, h, f, erp_w, erp_h;
    float *px;
} grey_map;

/* Latitude (degrees) of the centre of grey row y. */
static double grey_row_lat(const grey_map *g, int y)
{
    double lon_unused, lat;
    oiqa_erp_pixel_to_lonlat(g->erp_w, g->erp_h, 0.0, y * g->f + 0.5 * (g->f - 1), &lon_unused, &lat);
    return lat;
}

/* erp W x H x 3 uint8 -> grey gw x gh float (0..255), f x f box average. */
static void grey_downsample(const oiqa_image *erp, grey_map *g)
{
    const int W = erp->w, H = erp->h, f = g->f;
    for (int y = 0; y < g->h; y++) {
        int r0 = y * f, r1 = r0 + f < H ? r0 + f : H;
        for (int x = 0; x < g->w; x++) {
            int c0 = x * f, c1 = c0 + f < W ? c0 + f : W;
            float s = 0.0f;
            for (int r = r0; r < r1; r++) {
                const uint8_t *p = erp->rgb + ((size_t)r * W + c0) * 3;
                for (int c = c0; c < c1; c++, p += 3)
                    s += 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
            }
            g->px[(size_t)y * g->w + x] = s / (float)((r1 - r0) * (c1 - c0));
        }
    }
}

/* 3 x 3 box sum in place (w x h float, columns wrap, rows clamp); tmp w x h. */
static void box3(float *a, float *tmp, int w, int h)
{
    for (int y = 0; y < h; y++) {
        const float *r = a + (size_t)y * w;
        float *t = tmp + (size_t)y * w;
        for (int x = 0; x < w; x++) {
            int xl = x == 0 ? w - 1 : x - 1, xr = x + 1 == w ? 0 : x + 1;
            t[x] = r[xl] + r[x] + r[xr];
        }
    }
    for (int y = 0; y < h; y++) {
        const float *up = tmp + (size_t)(y > 0 ? y - 1 : 0) * w;
        const float *mid = tmp + (size_t)y * w;
        const float *dn = tmp + (size_t)(y + 1 < h ? y + 1 : y) * w;
        float *o = a + (size_t)y * w;
        for (int x = 0; x < w; x++) o[x] = up[x] + mid[x] + dn[x];
    }
}

/* Shi-Tomasi response: grey w x h -> resp w x h, the smaller eigenvalue
 * (a + c)/2 - sqrt(((a - c)/2)^2 + b^2) of [[a, b], [b, c]], the 3 x 3 sums of
 * gx^2, gx gy, gy^2 (Sobel). work: 3 w h floats. */
static void shi_tomasi(const float *grey, int w, int h, float *resp, float *work)
{
    size_t n = (size_t)w * h;
    float *sxx = work, *sxy = work + n, *syy = work + 2 * n;
    for (int y = 0; y < h; y++) {
        const float *up = grey + (size_t)(y > 0 ? y - 1 : 0) * w;
        const float *mid = grey + (size_t)y * w;
        const float *dn = grey + (size_t)(y + 1 < h ? y + 1 : y) * w;
        for (int x = 0; x < w; x++) {
            int xl = x == 0 ? w - 1 : x - 1, xr = x + 1 == w ? 0 : x + 1;
            float gx = (up[xr] + 2.0f * mid[xr] + dn[xr]) - (up[xl] + 2.0f * mid[xl] + dn[xl]);
            float gy = (dn[xl] + 2.0f * dn[x] + dn[xr]) - (up[xl] + 2.0f * up[x] + up[xr]);
            size_t i = (size_t)y * w + x;
            sxx[i] = gx * gx;
            sxy[i] = gx * gy;
            syy[i] = gy * gy;
        }
    }
    box3(sxx, resp, w, h);
    box3(sxy, resp, w, h);
    box3(syy, resp, w, h);
    for (size_t i = 0; i < n; i++) {
        float hd = 0.5f * (sxx[i] - syy[i]);
        resp[i] = 0.5f * (sxx[i] + syy[i]) - sqrtf(hd * hd + sxy[i] * sxy[i]);
    }
}

/* Keypoint weights: kw[i] = cos(lat of row) at the 3 x 3 local maxima of resp
 * above VGCN_QUALITY * max, else 0. Returns the number of keypoints. */
static int keypoints(const float *resp, const grey_map *g, double *kw)
{
    const int w = g->w, h = g->h;
    float rmax = 0.0f;
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (resp[i] > rmax) rmax = resp[i];
    memset(kw, 0, sizeof *kw * (size_t)w * h);
    if (!(rmax > 0.0f)) return 0;
    const float thr = VGCN_QUALITY * rmax;
    int count = 0;
    for (int y = 0; y < h; y++) {
        double weight = cos(grey_row_lat(g, y) * OIQA_DEG2RAD);
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            float r = resp[i];
            if (!(r >= thr) || r <= 0.0f) continue;
            int is_max = 1;
            for (int dy = -1; dy <= 1 && is_max; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= h) continue;
                for (int dx = -1; dx <= 1; dx++) {
                    if (!dx && !dy) continue;
                    int xx = (x + dx + w) % w;
                    size_t j = (size_t)yy * w + xx;
                    /* neighbour j beats i if larger, or equal with a smaller index */
                    if (resp[j] > r || (resp[j] == r && j < i)) { is_max = 0; break; }
                }
            }
            if (is_max) {
                kw[i] = weight;
                count++;
            }
        }
    }
    return count;
}

typedef struct {
    double lon, lat, dir[3], score;
} candidate;

/* Builds the candidate grid: lat -90..90 step VGCN_GRID_DEG, lon -180 < lon <= 180
 * step VGCN_GRID_DEG (one candidate at each pole). Returns the count; NULL-safe
 * counting when c is NULL. */
static int candidate_grid(candidate *c)
{
    int n = 0;
    for (int la = -90; la <= 90; la += VGCN_GRID_DEG) {
        int lon_start = (la == -90 || la == 90) ? 0 : -180 + VGCN_GRID_DEG;
        int lon_end = (la == -90 || la == 90) ? 0 : 180;
        for (int lo = lon_start; lo <= lon_end; lo += VGCN_GRID_DEG, n++) {
            if (!c) continue;
            c[n].lon = lo;
            c[n].lat = la;
            c[n].score = 0.0;
            oiqa_lonlat_to_dir(lo, la, c[n].dir);
        }
    }
    return n;
}

/* Scores every candidate: the sum of kw over grey pixels whose centre lies
 * within radius (degrees) of it. For a candidate at latitude lc and a grey row
 * at latitude ly, the cap test cos(d) >= cos(R) becomes
 *   cos(dlon) >= (cos R - sin lc sin ly) / (cos lc cos ly),
 * an interval of columns around the candidate, summed from per-row prefix
 * sums (wrapping). Cost: one acos per (candidate latitude, row) and O(1) per
 * (candidate, row). prefix: h rows of w+1 sums; rowtab: 3h doubles of scratch. */
static void score_candidates(const grey_map *g, const double *prefix, double radius, candidate *c,
                             int nc, double *rowtab)
{
    const int w = g->w, h = g->h, f = g->f, W = g->erp_w;
    const double cos_r = cos(radius * OIQA_DEG2RAD);
    double *row_sin = rowtab, *row_cos = rowtab + h, *half = rowtab + 2 * h;
    for (int y = 0; y < h; y++) {
        double lat = grey_row_lat(g, y) * OIQA_DEG2RAD;
        row_sin[y] = sin(lat);
        row_cos[y] = cos(lat);
    }
    /* half[y]: half-width in grey columns of the cap on row y (-1: none,
     * INFINITY: the whole row), recomputed when the candidate latitude changes. */
    double half_lat = NAN;
    for (int k = 0; k < nc; k++) {
        if (c[k].lat != half_lat) {
            half_lat = c[k].lat;
            double sc = sin(half_lat * OIQA_DEG2RAD), cc = cos(half_lat * OIQA_DEG2RAD);
            for (int y = 0; y < h; y++) {
                double num = cos_r - sc * row_sin[y], den = cc * row_cos[y];
                if (den < 1e-12) half[y] = num <= 0.0 ? INFINITY : -1.0;
                else if (num >= den) half[y] = num > den ? -1.0 : 0.0;
                else if (num <= -den) half[y] = INFINITY;
                else half[y] = acos(num / den) / (2.0 * OIQA_PI) * W / f;
            }
        }
        /* the candidate's continuous grey column */
        double cx = ((c[k].lon / 360.0 + 0.5) * W - 0.5 - 0.5 * (f - 1)) / f;
        double s = 0.0;
        for (int y = 0; y < h; y++) {
            const double *p = prefix + (size_t)y * (w + 1);
            if (half[y] < 0.0) continue;
            if (half[y] >= w) { s += p[w]; continue; }
            long lo = (long)ceil(cx - half[y]), hi = (long)floor(cx + half[y]);
            long len = hi - lo + 1;
            if (len <= 0) continue;
            if (len >= w) { s += p[w]; continue; }
            long st = ((lo % w) + w) % w;
            s += st + len <= w ? p[st + len] - p[st] : (p[w] - p[st]) + p[st + len - w];
        }
        c[k].score = s;
    }
}

typedef struct {
    double score;
    int idx;
} ranked;

static int by_score_desc(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->score != b->score) return a->score < b->score ? 1 : -1;
    return (a->idx > b->idx) - (a->idx < b->idx);
}

static double dot3(const double a[3], const double b[3])
{
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2];
}

/* Steps 5 and 6 of the file comment: fills pick[0..n) with candidate indices. */
static void pick_centres(const candidate *c, int nc, int n, double min_sep, int *pick, ranked *order,
                         double *max_dot)
{
    const double cos_sep = cos(min_sep * OIQA_DEG2RAD) + 1e-12;
    int np = 0;
    for (int k = 0; k < nc; k++) order[k] = (ranked){c[k].score, k};
    qsort(order, (size_t)nc, sizeof *order, by_score_desc);
    for (int r = 0; r < nc && np < n && order[r].score > 0.0; r++) {
        const candidate *cand = &c[order[r].idx];
        int fits = 1;
        for (int q = 0; q < np && fits; q++)
            if (dot3(cand->dir, c[pick[q]].dir) > cos_sep) fits = 0;
        if (fits) pick[np++] = order[r].idx;
    }
    /* Farthest-first fill: max_dot[k] is the cosine to the nearest pick. */
    for (int k = 0; k < nc; k++) {
        max_dot[k] = -2.0;
        for (int q = 0; q < np; q++) {
            double d = dot3(c[k].dir, c[pick[q]].dir);
            if (d > max_dot[k]) max_dot[k] = d;
        }
    }
    while (np < n) {
        int best = -1;
        if (np == 0) {
            for (int k = 0; k < nc; k++)
                if (c[k].lon == 0.0 && c[k].lat == 0.0) best = k;
        } else {
            for (int k = 0; k < nc; k++) {
                if (best < 0 || max_dot[k] < max_dot[best] ||
                    (max_dot[k] == max_dot[best] && c[k].score > c[best].score))
                    best = k;
            }
        }
        pick[np++] = best;
        for (int k = 0; k < nc; k++) {
            double d = dot3(c[k].dir, c[best].dir);
            if (d > max_dot[k]) max_dot[k] = d;
        }
    }
}

int oiqa_layout_vgcn(const oiqa_image *erp, int n, double fov, double min_sep_deg, oiqa_view *views)
{
    const int nc = candidate_grid(NULL);
    if (!erp || !erp->rgb || erp->w < 1 || erp->h < 1) {
        oiqa_fail(OIQA_EXIT_DATA, NULL, "vgcn layout: empty image");
        return -1;
    }
    if (!(fov > 0.0 && fov < 180.0)) {
        oiqa_fail(OIQA_EXIT_USAGE, NULL, "vgcn layout: fov %g outside (0, 180)", fov);
        return -1;
    }
    if (n < 0 || n > nc) {
        oiqa_fail(OIQA_EXIT_USAGE, NULL, "vgcn layout: %d viewports (allowed 0..%d)", n, nc);
        return -1;
    }
    if (n == 0) return 0;

    grey_map g;
    g.f = (int)lround(erp->w / (double)VGCN_TARGET_WIDTH);
    if (g.f < 1) g.f = 1;
    g.w = erp->w / g.f > 0 ? erp->w / g.f : 1;
    g.h = erp->h / g.f > 0 ? erp->h / g.f : 1;
    g.erp_w = erp->w;
    g.erp_h = erp->h;
    const size_t np = (size_t)g.w * g.h;

    int rc = -1;
    float *fbuf = malloc(sizeof *fbuf * np * 5);
    double *kw = malloc(sizeof *kw * np);
    double *prefix = malloc(sizeof *prefix * (size_t)(g.w + 1) * g.h);
    double *rowtab = malloc(sizeof *rowtab * 3 * (size_t)g.h);
    candidate *c = malloc(sizeof *c * (size_t)nc);
    ranked *order = malloc(sizeof *order * (size_t)nc);
    double *max_dot = malloc(sizeof *max_dot * (size_t)nc);
    int *pick = malloc(sizeof *pick * (size_t)n);
    if (!fbuf || !kw || !prefix || !rowtab || !c || !order || !max_dot || !pick) {
        oiqa_fail(OIQA_EXIT_DATA, NULL, "vgcn layout: out of memory (%dx%d image)", erp->w, erp->h);
        goto done;
    }
    g.px = fbuf;
    grey_downsample(erp, &g);
    shi_tomasi(g.px, g.w, g.h, fbuf + np, fbuf + 2 * np);
    keypoints(fbuf + np, &g, kw);
    for (int y = 0; y < g.h; y++) {
        double *p = prefix + (size_t)y * (g.w + 1);
        const double *k = kw + (size_t)y * g.w;
        p[0] = 0.0;
        for (int x = 0; x < g.w; x++) p[x + 1] = p[x] + k[x];
    }
    candidate_grid(c);
    score_candidates(&g, prefix, 0.5 * fov, c, nc, rowtab);
    pick_centres(c, nc, n, min_sep_deg, pick, order, max_dot);
    for (int k = 0; k < n; k++) {
        views[k].lon = c[pick[k]].lon;
        views[k].lat = c[pick[k]].lat;
        views[k].fov = fov;
    }
    rc = n;
done:
    free(pick);
    free(max_dot);
    free(order);
    free(c);
    free(rowtab);
    free(prefix);
    free(kw);
    free(fbuf);
    return rc;
}
