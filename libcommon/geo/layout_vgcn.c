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
 *   4. a keypoint density grid: the weights summed over 2 x 2 grey pixels
 *      (about 0.7 degree cells at 1024 x 512);
 *   5. candidate centres on a 2 degree lon/lat grid (plus the two poles),
 *      each scored by the density within fov/2 great-circle distance,
 *      tapered toward the rim by (cos d - cos R)/(1 - cos R) (about
 *      1 - (d/R)^2), so that the best centre is on the texture, not merely
 *      near it;
 *   6. greedy picks by descending score (ties: lower candidate index) among
 *      candidates with a positive score at least min_sep from every pick;
 *   7. if fewer than n fit, the rest are placed farthest-first: each next
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
#define VGCN_DENSITY_BIN 2     /* grey pixels per density cell, each way */

/* A grid of w x h cells over an ERP erp_w x erp_h: cell (x, y) is centred on
 * ERP pixel (offset + x step, offset + y step). */
typedef struct {
    int w, h, erp_w, erp_h;
    double step, offset;
} cell_grid;

static double cell_lon(const cell_grid *g, int x)
{
    return ((g->offset + x * g->step + 0.5) / g->erp_w - 0.5) * 360.0;
}

static double cell_lat(const cell_grid *g, int y)
{
    return (0.5 - (g->offset + y * g->step + 0.5) / g->erp_h) * 180.0;
}

/* The grey map: f x f ERP pixels per cell, so step f and offset (f-1)/2. */
typedef struct {
    cell_grid grid;
    int f;
    float *px;
} grey_map;

/* erp W x H x 3 uint8 -> grey gw x gh float (0..255), f x f box average. */
static void grey_downsample(const oiqa_image *erp, grey_map *g)
{
    const int W = erp->w, H = erp->h, f = g->f;
    for (int y = 0; y < g->grid.h; y++) {
        int r0 = y * f, r1 = r0 + f < H ? r0 + f : H;
        for (int x = 0; x < g->grid.w; x++) {
            int c0 = x * f, c1 = c0 + f < W ? c0 + f : W;
            float s = 0.0f;
            for (int r = r0; r < r1; r++) {
                const uint8_t *p = erp->rgb + ((size_t)r * W + c0) * 3;
                for (int c = c0; c < c1; c++, p += 3)
                    s += 0.299f * p[0] + 0.587f * p[1] + 0.114f * p[2];
            }
            g->px[(size_t)y * g->grid.w + x] = s / (float)((r1 - r0) * (c1 - c0));
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

/* Keypoints: the 3 x 3 local maxima of resp (grey grid g) above
 * VGCN_QUALITY * max. Each adds cos(lat) to its cell of the density grid d
 * (VGCN_DENSITY_BIN x VGCN_DENSITY_BIN grey pixels per cell), density
 * d->w x d->h, zeroed here. Returns the number of keypoints. */
static int keypoint_density(const float *resp, const cell_grid *g, const cell_grid *d, double *density)
{
    const int w = g->w, h = g->h;
    float rmax = 0.0f;
    for (size_t i = 0; i < (size_t)w * h; i++)
        if (resp[i] > rmax) rmax = resp[i];
    memset(density, 0, sizeof *density * (size_t)d->w * d->h);
    if (!(rmax > 0.0f)) return 0;
    const float thr = VGCN_QUALITY * rmax;
    int count = 0;
    for (int y = 0; y < h; y++) {
        double weight = cos(cell_lat(g, y) * OIQA_DEG2RAD);
        double *drow = density + (size_t)(y / VGCN_DENSITY_BIN) * d->w;
        for (int x = 0; x < w; x++) {
            size_t i = (size_t)y * w + x;
            float r = resp[i];
            if (!(r >= thr) || r <= 0.0f) continue;
            /* neighbour j beats i if larger, or equal with a smaller index */
            const int xs[3] = {x == 0 ? w - 1 : x - 1, x, x + 1 == w ? 0 : x + 1};
            int is_max = 1;
            for (int dy = -1; dy <= 1 && is_max; dy++) {
                int yy = y + dy;
                if (yy < 0 || yy >= h) continue;
                for (int k = 0; k < 3; k++) {
                    size_t j = (size_t)yy * w + xs[k];
                    if (j != i && (resp[j] > r || (resp[j] == r && j < i))) { is_max = 0; break; }
                }
            }
            if (is_max) {
                drow[x / VGCN_DENSITY_BIN] += weight;
                count++;
            }
        }
    }
    return count;
}

typedef struct {
    double lon, lat, dir[3], score;
} candidate;

/* The candidate centres, by ascending lat then lon: lat -90..90 and
 * -180 < lon <= 180, both in steps of VGCN_GRID_DEG, one candidate at each
 * pole (16022 for 2 degrees). Returns the count; with c NULL only counts. */
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

/* floor(a) for |a| well inside the range of long, without a libm call. */
static inline long floor_to_long(double a)
{
    long i = (long)a;
    return i - (a < (double)i);
}

/* Per-row prefix sums of the density and of density * cos(lon), * sin(lon):
 * prefix[(y (w+1) + x) 3 + {0, 1, 2}] sums cells [0, x) of row y.
 * colsc: 2w doubles of scratch. */
static void build_prefix(const cell_grid *d, const double *density, double *prefix, double *colsc)
{
    const int w = d->w;
    for (int x = 0; x < w; x++) {
        double lon = cell_lon(d, x) * OIQA_DEG2RAD;
        colsc[2 * x] = cos(lon);
        colsc[2 * x + 1] = sin(lon);
    }
    for (int y = 0; y < d->h; y++) {
        double *p = prefix + (size_t)y * (w + 1) * 3;
        const double *k = density + (size_t)y * w;
        p[0] = p[1] = p[2] = 0.0;
        for (int x = 0; x < w; x++, p += 3) {
            p[3] = p[0] + k[x];
            p[4] = p[1] + k[x] * colsc[2 * x];
            p[5] = p[2] + k[x] * colsc[2 * x + 1];
        }
    }
}

/* Adds the three sums of columns [lo, lo + len) of one prefix row (wrapping;
 * -w < lo < 2w, 0 < len < w) to s. */
static inline void add_interval(const double *p, int w, long lo, long len, double s[3])
{
    long st = lo < 0 ? lo + w : (lo >= w ? lo - w : lo);
    const double *a = p + 3 * st;
    if (st + len <= w) {
        const double *b = p + 3 * (st + len);
        s[0] += b[0] - a[0], s[1] += b[1] - a[1], s[2] += b[2] - a[2];
    } else {
        const double *e = p + 3 * (size_t)w, *b = p + 3 * (st + len - w);
        s[0] += (e[0] - a[0]) + b[0], s[1] += (e[1] - a[1]) + b[1], s[2] += (e[2] - a[2]) + b[2];
    }
}

/* Scores every candidate with a spherical Epanechnikov-like kernel over the
 * density cells within radius R of it:
 *   score = sum_cells density (cos d - cos R) / (1 - cos R),   d <= R
 * (about 1 - (d/R)^2: 1 at the centre, 0 at the rim, so the best centre sits
 * on the densest texture rather than anywhere that merely contains it).
 * For a candidate at latitude lc and a grid row at latitude ly, d <= R is
 *   cos(dlon) >= (cos R - sin lc sin ly) / (cos lc cos ly),
 * an interval of columns around the candidate; and with
 *   cos d = sin lc sin ly + cos lc cos ly (cos lon_c cos lon + sin lon_c sin lon)
 * the kernel sum over an interval comes from the prefix sums of the density
 * and of density * cos lon, density * sin lon. Cost: one acos per (candidate
 * latitude, row), O(1) per (candidate, row); the candidates of one latitude
 * run along a row together.
 * rowtab: 2h doubles; acc: 4 * (number of longitudes) doubles of scratch. */
static void score_candidates(const cell_grid *g, const double *prefix, double radius, candidate *c,
                             int nc, double *rowtab, double *acc)
{
    const int w = g->w, h = g->h, W = g->erp_w;
    const double cos_r = cos(radius * OIQA_DEG2RAD);
    double *row_sin = rowtab, *row_cos = rowtab + h;
    for (int y = 0; y < h; y++) {
        double lat = cell_lat(g, y) * OIQA_DEG2RAD;
        row_sin[y] = sin(lat);
        row_cos[y] = cos(lat);
    }
    for (int first = 0, n_lon; first < nc; first += n_lon) {
        n_lon = 1;
        while (first + n_lon < nc && c[first + n_lon].lat == c[first].lat) n_lon++;
        const double lat_c = c[first].lat * OIQA_DEG2RAD;
        const double sc = sin(lat_c), cc = cos(lat_c);
        /* grid columns of the first candidate and between candidates */
        const double cx0 = ((c[first].lon / 360.0 + 0.5) * W - 0.5 - g->offset) / g->step;
        const double dcx = n_lon > 1 ? (c[first + 1].lon - c[first].lon) / 360.0 * W / g->step : 0.0;
        double *a0 = acc, *a1 = acc + n_lon, *ac = acc + 2 * n_lon, *as = acc + 3 * n_lon;
        memset(acc, 0, sizeof *acc * 4 * (size_t)n_lon);
        for (int y = 0; y < h; y++) {
            /* half-width of the cap on row y in grid columns */
            double num = cos_r - sc * row_sin[y], den = cc * row_cos[y], hw;
            if (den < 1e-12) hw = num <= 0.0 ? INFINITY : -1.0;
            else if (num > den) hw = -1.0;
            else if (num <= -den) hw = INFINITY;
            else hw = acos(num / den) / (2.0 * OIQA_PI) * W / g->step;
            if (hw < 0.0) continue;
            const double *p = prefix + (size_t)y * (w + 1) * 3;
            for (int k = 0; k < n_lon; k++) {
                double s[3] = {0.0, 0.0, 0.0}, cx = cx0 + k * dcx;
                long lo = 0, len = w;
                if (hw < w) {
                    lo = -floor_to_long(hw - cx); /* ceil(cx - hw) */
                    len = floor_to_long(cx + hw) - lo + 1;
                }
                if (len <= 0) continue;
                if (len >= w) {
                    const double *e = p + 3 * (size_t)w;
                    s[0] = e[0], s[1] = e[1], s[2] = e[2];
                } else {
                    add_interval(p, w, lo, len, s);
                }
                a0[k] += s[0];
                a1[k] += row_sin[y] * s[0];
                ac[k] += row_cos[y] * s[1];
                as[k] += row_cos[y] * s[2];
            }
        }
        for (int k = 0; k < n_lon; k++) {
            const double lon_c = c[first + k].lon * OIQA_DEG2RAD;
            double sum_cos = sc * a1[k] + cc * (cos(lon_c) * ac[k] + sin(lon_c) * as[k]);
            double score = (sum_cos - cos_r * a0[k]) / (1.0 - cos_r);
            c[first + k].score = score > 0.0 ? score : 0.0; /* rounding at the rim */
        }
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
    g.grid = (cell_grid){erp->w / g.f > 0 ? erp->w / g.f : 1, erp->h / g.f > 0 ? erp->h / g.f : 1,
                         erp->w, erp->h, g.f, 0.5 * (g.f - 1)};
    const cell_grid d = {(g.grid.w + VGCN_DENSITY_BIN - 1) / VGCN_DENSITY_BIN,
                         (g.grid.h + VGCN_DENSITY_BIN - 1) / VGCN_DENSITY_BIN, erp->w, erp->h,
                         (double)g.f * VGCN_DENSITY_BIN, 0.5 * (g.f - 1) + 0.5 * g.f * (VGCN_DENSITY_BIN - 1)};
    const size_t np = (size_t)g.grid.w * g.grid.h, nd = (size_t)d.w * d.h;

    int rc = -1;
    float *fbuf = malloc(sizeof *fbuf * np * 5);
    double *density = malloc(sizeof *density * nd);
    double *prefix = malloc(sizeof *prefix * (size_t)(d.w + 1) * d.h * 3);
    double *scratch = malloc(sizeof *scratch * (2 * (size_t)d.h + 2 * (size_t)d.w + 4 * (360 / VGCN_GRID_DEG)));
    candidate *c = malloc(sizeof *c * (size_t)nc);
    ranked *order = malloc(sizeof *order * (size_t)nc);
    double *max_dot = malloc(sizeof *max_dot * (size_t)nc);
    int *pick = malloc(sizeof *pick * (size_t)n);
    if (!fbuf || !density || !prefix || !scratch || !c || !order || !max_dot || !pick) {
        oiqa_fail(OIQA_EXIT_DATA, NULL, "vgcn layout: out of memory (%dx%d image)", erp->w, erp->h);
        goto done;
    }
    g.px = fbuf;
    grey_downsample(erp, &g);
    shi_tomasi(g.px, g.grid.w, g.grid.h, fbuf + np, fbuf + 2 * np);
    keypoint_density(fbuf + np, &g.grid, &d, density);
    build_prefix(&d, density, prefix, scratch);
    candidate_grid(c);
    score_candidates(&d, prefix, 0.5 * fov, c, nc, scratch, scratch + 2 * d.h);
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
    free(scratch);
    free(prefix);
    free(density);
    free(fbuf);
    return rc;
}
