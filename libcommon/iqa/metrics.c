/* Correlation metrics and logistic fits (see metrics.h for the definitions). */
#include "iqa/metrics.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- plain statistics ------------------------------------------------- */

double oiqa_mean(const double *v, int n)
{
    double s = 0;
    int k = 0;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) { s += v[i]; k++; }
    return k ? s / k : NAN;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double oiqa_median(const double *v, int n)
{
    double *t = n > 0 ? malloc((size_t)n * sizeof *t) : NULL;
    int k = 0;
    if (!t) return NAN;
    for (int i = 0; i < n; i++)
        if (!isnan(v[i])) t[k++] = v[i];
    double m = NAN;
    if (k) {
        qsort(t, (size_t)k, sizeof *t, cmp_double);
        m = k % 2 ? t[k / 2] : 0.5 * (t[k / 2 - 1] + t[k / 2]);
    }
    free(t);
    return m;
}

double oiqa_accuracy(const int *pred, const int *truth, int n)
{
    if (n <= 0) return NAN;
    int hit = 0;
    for (int i = 0; i < n; i++) hit += pred[i] == truth[i];
    return (double)hit / n;
}

double oiqa_rmse(const double *a, const double *b, int n)
{
    if (n <= 0) return NAN;
    double s = 0;
    for (int i = 0; i < n; i++) s += (a[i] - b[i]) * (a[i] - b[i]);
    return sqrt(s / n);
}

/* Centred vectors scaled to unit norm before the dot product, as scipy does:
 * it keeps r within [-1, 1] up to rounding and avoids overflow. */
double oiqa_pearson(const double *x, const double *y, int n)
{
    if (n < 2) return NAN;
    double mx = 0, my = 0;
    for (int i = 0; i < n; i++) { mx += x[i]; my += y[i]; }
    mx /= n;
    my /= n;
    double sxx = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    double nx = sqrt(sxx), ny = sqrt(syy);
    if (nx == 0 || ny == 0) return NAN;
    double r = 0;
    for (int i = 0; i < n; i++) r += ((x[i] - mx) / nx) * ((y[i] - my) / ny);
    return fmax(-1.0, fmin(1.0, r));
}

/* ---- ranks ------------------------------------------------------------ */

typedef struct { double v; int i; } keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *p = a, *q = b;
    if (p->v != q->v) return (p->v > q->v) - (p->v < q->v);
    return (p->i > q->i) - (p->i < q->i);
}

void oiqa_rank_average(const double *v, int n, double *rank)
{
    keyed *k = malloc((size_t)(n > 0 ? n : 1) * sizeof *k);
    if (!k) {
        for (int i = 0; i < n; i++) rank[i] = NAN;
        return;
    }
    for (int i = 0; i < n; i++) k[i] = (keyed){v[i], i};
    qsort(k, (size_t)n, sizeof *k, cmp_keyed);
    for (int a = 0; a < n;) {
        int b = a + 1;
        while (b < n && k[b].v == k[a].v) b++;
        double r = 0.5 * ((a + 1) + b); /* mean of the 1-based positions a+1..b */
        for (int j = a; j < b; j++) rank[k[j].i] = r;
        a = b;
    }
    free(k);
}

double oiqa_spearman(const double *x, const double *y, int n)
{
    if (n < 2) return NAN;
    double *rx = malloc(2 * (size_t)n * sizeof *rx);
    if (!rx) return NAN;
    double *ry = rx + n;
    oiqa_rank_average(x, n, rx);
    oiqa_rank_average(y, n, ry);
    double r = oiqa_pearson(rx, ry, n);
    free(rx);
    return r;
}

/* ---- Kendall ---------------------------------------------------------- */

typedef struct { int64_t nc, nd, tx, ty; } pair_counts;

/* O(n^2) pair classification: simple, exact, and fast enough for the
 * largest IQA sets (~10^4 images, 5*10^7 pairs). */
static pair_counts count_pairs(const double *x, const double *y, int n)
{
    pair_counts c = {0, 0, 0, 0};
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            double dx = x[i] - x[j], dy = y[i] - y[j];
            if (dx == 0 && dy == 0) continue;
            if (dx == 0) c.tx++;
            else if (dy == 0) c.ty++;
            else if ((dx > 0) == (dy > 0)) c.nc++;
            else c.nd++;
        }
    return c;
}

double oiqa_kendall_tau_b(const double *x, const double *y, int n)
{
    if (n < 2) return NAN;
    pair_counts c = count_pairs(x, y, n);
    double dx = (double)(c.nc + c.nd + c.tx), dy = (double)(c.nc + c.nd + c.ty);
    if (dx == 0 || dy == 0) return NAN;
    return (double)(c.nc - c.nd) / sqrt(dx) / sqrt(dy);
}

/* Sums over groups of tied values (size t): t(t-1)/2, t(t-1)(t-2), t(t-1)(2t+5). */
static int tie_sums(const double *v, int n, double s[3])
{
    double *t = malloc((size_t)n * sizeof *t);
    if (!t) return -1;
    memcpy(t, v, (size_t)n * sizeof *t);
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    s[0] = s[1] = s[2] = 0;
    for (int a = 0; a < n;) {
        int b = a + 1;
        while (b < n && t[b] == t[a]) b++;
        double g = b - a;
        s[0] += g * (g - 1) / 2;
        s[1] += g * (g - 1) * (g - 2);
        s[2] += g * (g - 1) * (2 * g + 5);
        a = b;
    }
    free(t);
    return 0;
}

/* The normal approximation of nc - nd with Kendall's tie-corrected variance. */
double oiqa_kendall_p(const double *x, const double *y, int n)
{
    if (n < 3) return NAN;
    double tx[3], ty[3];
    if (tie_sums(x, n, tx) || tie_sums(y, n, ty)) return NAN;
    double tot = 0.5 * n * (n - 1.0);
    if (tx[0] == tot || ty[0] == tot) return NAN;
    pair_counts c = count_pairs(x, y, n);
    double m = n * (n - 1.0);
    double var = (m * (2.0 * n + 5) - tx[2] - ty[2]) / 18 + 2 * tx[0] * ty[0] / m +
                 tx[1] * ty[1] / (9 * m * (n - 2.0));
    double z = (double)(c.nc - c.nd) / sqrt(var);
    return erfc(fabs(z) / sqrt(2.0));
}

/* ---- p-values through the regularised incomplete beta function -------- */

/* Continued fraction of I_x(a, b) (DLMF 8.17.22), evaluated by the modified
 * Lentz method; converges fast for x < (a+1)/(a+b+2). */
static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double f = d;
    for (int m = 1; m <= 10000; m++) {
        double e = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)); /* even term */
        d = 1 + e * d;
        c = 1 + e / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        f *= d * c;
        e = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)); /* odd term */
        d = 1 + e * d;
        c = 1 + e / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double step = d * c;
        f *= step;
        if (fabs(step - 1) < 1e-16) break;
    }
    return f;
}

static double ibeta(double a, double b, double x)
{
    if (!(x > 0)) return 0;
    if (x >= 1) return 1;
    double lfront = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lfront) * beta_cf(a, b, x) / a;
    return 1 - exp(lfront) * beta_cf(b, a, 1 - x) / b;
}

/* r of n samples from uncorrelated normals is Beta(n/2-1, n/2-1) on [-1, 1]. */
double oiqa_pearson_p(double r, int n)
{
    if (n < 3 || isnan(r)) return NAN;
    double a = n / 2.0 - 1;
    return fmin(1.0, 2 * ibeta(a, a, 0.5 * (1 - fabs(r))));
}

/* t = rho sqrt(df / ((1+rho)(1-rho))), two-sided Student tail
 * 2 P(T > |t|) = I_{df/(df+t^2)}(df/2, 1/2). */
double oiqa_spearman_p(double rho, int n)
{
    if (n < 3 || isnan(rho)) return NAN;
    double df = n - 2.0;
    double den = (1 + rho) * (1 - rho);
    if (den <= 0) return 0;
    double t2 = rho * rho * df / den;
    return fmin(1.0, ibeta(df / 2, 0.5, df / (df + t2)));
}

/* ---- logistic functions ----------------------------------------------- */

double oiqa_logistic4(const double *b, double x)
{
    return (b[0] - b[1]) / (1 + exp(-(x - b[2]) / fabs(b[3]))) + b[1];
}

double oiqa_logistic5(const double *b, double x)
{
    return b[0] * (0.5 - 1 / (1 + exp(b[1] * (x - b[2])))) + b[3] * x + b[4];
}

/* Value and partial derivatives of the model at x. */
static double model_grad(int np, const double *b, double x, double *g)
{
    if (np == 4) {
        double s4 = fabs(b[3]), u = (x - b[2]) / s4;
        double s = 1 / (1 + exp(-u)), ds = s * (1 - s), amp = b[0] - b[1];
        g[0] = s;
        g[1] = 1 - s;
        g[2] = -amp * ds / s4;
        g[3] = -amp * ds * u / s4 * (b[3] < 0 ? -1 : 1);
        return amp * s + b[1];
    }
    double v = b[1] * (x - b[2]), q = 1 / (1 + exp(v)), dq = q * (1 - q);
    g[0] = 0.5 - q;
    g[1] = b[0] * dq * (x - b[2]);
    g[2] = -b[0] * dq * b[1];
    g[3] = x;
    g[4] = 1;
    return b[0] * (0.5 - q) + b[3] * x + b[4];
}

static double sum_sq(int np, const double *b, const double *x, const double *y, int n)
{
    double s = 0, g[5];
    for (int i = 0; i < n; i++) {
        double r = model_grad(np, b, x[i], g) - y[i];
        s += r * r;
    }
    return s;
}

/* Cholesky solve of the np x np system a d = r; -1 if a is not positive definite. */
static int chol_solve(int np, double a[5][5], const double *r, double *d)
{
    double l[5][5] = {{0}};
    for (int i = 0; i < np; i++)
        for (int j = 0; j <= i; j++) {
            double s = a[i][j];
            for (int k = 0; k < j; k++) s -= l[i][k] * l[j][k];
            if (i == j) {
                if (!(s > 0)) return -1;
                l[i][i] = sqrt(s);
            } else {
                l[i][j] = s / l[j][j];
            }
        }
    double z[5];
    for (int i = 0; i < np; i++) {
        double s = r[i];
        for (int k = 0; k < i; k++) s -= l[i][k] * z[k];
        z[i] = s / l[i][i];
    }
    for (int i = np - 1; i >= 0; i--) {
        double s = z[i];
        for (int k = i + 1; k < np; k++) s -= l[k][i] * d[k];
        d[i] = s / l[i][i];
    }
    return 0;
}

void oiqa_logistic_start(int np, const double *x, const double *y, int n, double *b)
{
    double ymax = -INFINITY, ymin = INFINITY, mx = 0, my = 0, vx = 0;
    for (int i = 0; i < n; i++) {
        ymax = fmax(ymax, y[i]);
        ymin = fmin(ymin, y[i]);
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    for (int i = 0; i < n; i++) vx += (x[i] - mx) * (x[i] - mx);
    double sx = sqrt(vx / n); /* population std, as np.std */
    if (np == 4) {
        b[0] = ymax, b[1] = ymin, b[2] = mx, b[3] = sx / 4;
    } else {
        b[0] = ymax - ymin, b[1] = 1 / sx, b[2] = mx, b[3] = 0, b[4] = my;
    }
}

/* Levenberg-Marquardt with Marquardt's diagonal scaling: solve
 * (J'J + lambda diag(J'J)) d = -J'r, accept d when the sum of squares falls.
 * It stops when steps no longer change the parameters (relative 1e-13) or
 * the sum of squares (relative 1e-15), i.e. at the optimum to machine
 * precision: results then agree with MINPACK's to ~1e-10. */
int oiqa_logistic_fit(int np, const double *x, const double *y, int n, double *b, double *yhat)
{
    if ((np != 4 && np != 5) || n < np) return -1;
    for (int i = 0; i < n; i++)
        if (!isfinite(x[i]) || !isfinite(y[i])) return -1;
    for (int k = 0; k < np; k++)
        if (!isfinite(b[k])) return -1;
    double cost = sum_sq(np, b, x, y, n), lambda = 1e-3;
    int quiet_steps = 0;
    for (int iter = 0; iter < 20000 && quiet_steps < 3; iter++) {
        double a[5][5] = {{0}}, gr[5] = {0}, g[5];
        for (int i = 0; i < n; i++) {
            double r = model_grad(np, b, x[i], g) - y[i];
            for (int p = 0; p < np; p++) {
                gr[p] -= g[p] * r;
                for (int q = 0; q <= p; q++) a[p][q] += g[p] * g[q];
            }
        }
        for (int p = 0; p < np; p++)
            for (int q = 0; q < p; q++) a[q][p] = a[p][q];
        int accepted = 0;
        while (lambda < 1e30) {
            double m[5][5], d[5], nb[5];
            memcpy(m, a, sizeof m);
            for (int p = 0; p < np; p++) m[p][p] += lambda * (a[p][p] > 0 ? a[p][p] : 1e-300);
            if (chol_solve(np, m, gr, d)) { lambda *= 10; continue; }
            double rel = 0;
            for (int p = 0; p < np; p++) {
                nb[p] = b[p] + d[p];
                rel = fmax(rel, fabs(d[p]) / (fabs(b[p]) + 1e-300));
            }
            double nc = sum_sq(np, nb, x, y, n);
            if (isfinite(nc) && nc <= cost) {
                double drop = (cost - nc) / (cost > 0 ? cost : 1);
                memcpy(b, nb, (size_t)np * sizeof *b);
                cost = nc;
                lambda = fmax(lambda / 10, 1e-12);
                accepted = 1;
                quiet_steps = (rel < 1e-13 || drop < 1e-15) ? quiet_steps + 1 : 0;
                break;
            }
            lambda *= 10;
        }
        if (!accepted) break; /* no descent direction left: at the optimum */
    }
    if (np == 4) b[3] = fabs(b[3]);
    if (yhat)
        for (int i = 0; i < n; i++) yhat[i] = np == 4 ? oiqa_logistic4(b, x[i]) : oiqa_logistic5(b, x[i]);
    return isfinite(cost) ? 0 : -1;
}

/* ---- everything together ---------------------------------------------- */

int oiqa_iqa_metrics_compute(const double *x, const double *y, int n, int with5, oiqa_iqa_metrics *m)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->with5 = with5;
    m->plcc4 = m->srcc4 = m->rmse4 = m->plcc5 = m->srcc5 = m->rmse5 = NAN;
    if (n < 2) {
        m->srcc = m->krcc = m->plcc_raw = m->rmse_raw = NAN;
        return -1;
    }
    m->srcc = oiqa_spearman(x, y, n);
    m->krcc = oiqa_kendall_tau_b(x, y, n);
    m->plcc_raw = oiqa_pearson(x, y, n);
    m->rmse_raw = oiqa_rmse(x, y, n);
    double *yhat = malloc((size_t)n * sizeof *yhat);
    if (!yhat) return -1;
    oiqa_logistic_start(4, x, y, n, m->beta4);
    if (oiqa_logistic_fit(4, x, y, n, m->beta4, yhat) == 0) {
        m->fit4_ok = 1;
        m->plcc4 = oiqa_pearson(yhat, y, n);
        m->srcc4 = oiqa_spearman(yhat, y, n);
        m->rmse4 = oiqa_rmse(yhat, y, n);
    }
    if (with5) {
        oiqa_logistic_start(5, x, y, n, m->beta5);
        if (oiqa_logistic_fit(5, x, y, n, m->beta5, yhat) == 0) {
            m->fit5_ok = 1;
            m->plcc5 = oiqa_pearson(yhat, y, n);
            m->srcc5 = oiqa_spearman(yhat, y, n);
            m->rmse5 = oiqa_rmse(yhat, y, n);
        }
    }
    free(yhat);
    return 0;
}
