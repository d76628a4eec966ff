/* SSIM, MS-SSIM and PSNR; definitions in iqa/ssim.h. */
#include "iqa/ssim.h"

#include <math.h>
#include <stdlib.h>

#include "base/error.h"
#include "iqa/filter.h"

#define SSIM_R 5 /* int(3.5 * 1.5 + 0.5): skimage's radius for sigma 1.5 */

int oiqa_ssim_plane(const double *a, const double *b, int w, int h, double *ssim, double *cs)
{
    if (w < 2 * SSIM_R + 1 || h < 2 * SSIM_R + 1)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': %dx%d is below SSIM's 11x11 window", w, h);
    size_t n = (size_t)w * h;
    double *buf = malloc(6 * n * sizeof(double));
    if (!buf) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for SSIM of %dx%d", w, h);
    double *ua = buf, *ub = buf + n, *uaa = buf + 2 * n, *ubb = buf + 3 * n, *uab = buf + 4 * n, *tmp = buf + 5 * n;
    double k[2 * SSIM_R + 1];
    oiqa_gauss_taps(1.5, SSIM_R, k);
    for (size_t i = 0; i < n; i++) uaa[i] = a[i] * a[i], ubb[i] = b[i] * b[i], uab[i] = a[i] * b[i];
    oiqa_sep_filter_d(a, ua, w, h, k, SSIM_R, tmp);
    oiqa_sep_filter_d(b, ub, w, h, k, SSIM_R, tmp);
    oiqa_sep_filter_d(uaa, uaa, w, h, k, SSIM_R, tmp);
    oiqa_sep_filter_d(ubb, ubb, w, h, k, SSIM_R, tmp);
    oiqa_sep_filter_d(uab, uab, w, h, k, SSIM_R, tmp);
    const double c1 = (0.01 * 255) * (0.01 * 255), c2 = (0.03 * 255) * (0.03 * 255);
    double s_sum = 0, cs_sum = 0;
    for (int y = SSIM_R; y < h - SSIM_R; y++)
        for (int x = SSIM_R; x < w - SSIM_R; x++) {
            size_t i = (size_t)y * w + x;
            double va = uaa[i] - ua[i] * ua[i], vb = ubb[i] - ub[i] * ub[i], vab = uab[i] - ua[i] * ub[i];
            double l = (2 * ua[i] * ub[i] + c1) / (ua[i] * ua[i] + ub[i] * ub[i] + c1);
            double c = (2 * vab + c2) / (va + vb + c2);
            s_sum += l * c, cs_sum += c;
        }
    double count = (double)(w - 2 * SSIM_R) * (h - 2 * SSIM_R);
    if (ssim) *ssim = s_sum / count;
    if (cs) *cs = cs_sum / count;
    free(buf);
    return OIQA_OK;
}

static int check_pair(const uint8_t *a, const uint8_t *b, int w, int h)
{
    if (!a || !b) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': no pixels given");
    if (w < 1 || h < 1 || w > 65535 || h > 65535)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': bad size %dx%d", w, h);
    return OIQA_OK;
}

/* Channel c of interleaved RGB into a double plane. */
static void channel(const uint8_t *rgb, int c, size_t n, double *out)
{
    for (size_t i = 0; i < n; i++) out[i] = rgb[3 * i + c];
}

int oiqa_ssim(const uint8_t *a, const uint8_t *b, int w, int h, double *out)
{
    int rc = check_pair(a, b, w, h);
    if (rc) return rc;
    size_t n = (size_t)w * h;
    double *pa = malloc(2 * n * sizeof(double));
    if (!pa) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for SSIM of %dx%d", w, h);
    double *pb = pa + n, total = 0;
    for (int c = 0; c < 3 && !rc; c++) {
        double s = 0;
        channel(a, c, n, pa), channel(b, c, n, pb);
        rc = oiqa_ssim_plane(pa, pb, w, h, &s, NULL);
        total += s;
    }
    free(pa);
    if (!rc) *out = total / 3;
    return rc;
}

/* 2x2 box average, dropping an odd last row / column. */
static void halve(const double *in, int w, int h, double *out)
{
    int ow = w / 2, oh = h / 2;
    for (int y = 0; y < oh; y++)
        for (int x = 0; x < ow; x++) {
            const double *p = in + (size_t)(2 * y) * w + 2 * x;
            out[(size_t)y * ow + x] = 0.25 * (p[0] + p[1] + p[w] + p[w + 1]);
        }
}

int oiqa_ms_ssim(const uint8_t *a, const uint8_t *b, int w, int h, double *out)
{
    static const double weights[5] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};
    int rc = check_pair(a, b, w, h);
    if (rc) return rc;
    int scales = 0;
    for (int s = 0; s < 5; s++)
        if ((w >> s) >= 2 * SSIM_R + 1 && (h >> s) >= 2 * SSIM_R + 1) scales = s + 1;
    if (!scales)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'image': %dx%d is below SSIM's 11x11 window", w, h);
    double wsum = 0;
    for (int s = 0; s < scales; s++) wsum += weights[s];
    size_t n = (size_t)w * h;
    double *buf = malloc(4 * n * sizeof(double));
    if (!buf) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory for MS-SSIM of %dx%d", w, h);
    double cs_sc[5] = {0}, ssim_last = 0;
    for (int c = 0; c < 3 && !rc; c++) {
        double *pa = buf, *pb = buf + n, *ta = buf + 2 * n, *tb = buf + 3 * n;
        channel(a, c, n, pa), channel(b, c, n, pb);
        int sw = w, sh = h;
        for (int s = 0; s < scales && !rc; s++) {
            double ss = 0, cs = 0;
            rc = oiqa_ssim_plane(pa, pb, sw, sh, &ss, &cs);
            cs_sc[s] += cs / 3;
            if (s == scales - 1) ssim_last += ss / 3;
            else {
                halve(pa, sw, sh, ta), halve(pb, sw, sh, tb);
                sw /= 2, sh /= 2;
                double *t = pa; pa = ta, ta = t;
                t = pb; pb = tb, tb = t;
            }
        }
    }
    free(buf);
    if (rc) return rc;
    /* Negative terms are clamped at 0 so fractional powers stay defined. */
    double r = 1;
    for (int s = 0; s < scales; s++) {
        double v = s == scales - 1 ? ssim_last : cs_sc[s];
        r *= pow(v > 0 ? v : 0, weights[s] / wsum);
    }
    *out = r;
    return OIQA_OK;
}

int oiqa_psnr(const uint8_t *a, const uint8_t *b, int w, int h, double *out)
{
    int rc = check_pair(a, b, w, h);
    if (rc) return rc;
    size_t n = (size_t)w * h * 3;
    double se = 0;
    for (size_t i = 0; i < n; i++) {
        double d = (double)a[i] - b[i];
        se += d * d;
    }
    *out = se == 0 ? INFINITY : 10 * log10(255.0 * 255.0 / (se / n));
    return OIQA_OK;
}
