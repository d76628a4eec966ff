/* Correlation metrics of image-quality evaluation (METHODS §6), defined as
 * scipy 1.10 defines them, so that numbers compare with published tables:
 *
 *   PLCC  scipy.stats.pearsonr; p = 2 I_{(1-|r|)/2}(n/2-1, n/2-1) (its beta form)
 *   SRCC  scipy.stats.spearmanr: Pearson of average ranks (ties share the
 *         mean rank); p from Student's t with n-2 degrees of freedom
 *   KRCC  scipy.stats.kendalltau, tau-b (nc-nd)/sqrt((nc+nd+tx)(nc+nd+ty)),
 *         with the asymptotic (tie-corrected normal) p-value
 *   RMSE  sqrt(mean((a-b)^2))
 *
 * and the logistic mappings fitted by least squares (Levenberg-Marquardt,
 * analytic Jacobian) before PLCC / RMSE:
 *   4-parameter  yhat = (b1-b2)/(1+exp(-(x-b3)/|b4|)) + b2,
 *                start [max y, min y, mean x, std x/4] (population std)
 *   5-parameter  yhat = b1 (0.5 - 1/(1+exp(b2 (x-b3)))) + b4 x + b5 (VQEG),
 *                start [max y - min y, 1/std x, mean x, 0, mean y]
 * Functions taking arrays need n >= 2 (n >= 3 for p-values); degenerate
 * input (constant x or y) gives NAN, as scipy does. */
#ifndef OIQA_IQA_METRICS_H
#define OIQA_IQA_METRICS_H

double oiqa_pearson(const double *x, const double *y, int n);
double oiqa_spearman(const double *x, const double *y, int n);
double oiqa_kendall_tau_b(const double *x, const double *y, int n);
double oiqa_rmse(const double *a, const double *b, int n);

/* Two-sided p-values of the three correlations (NAN when undefined). */
double oiqa_pearson_p(double r, int n);
double oiqa_spearman_p(double rho, int n);
double oiqa_kendall_p(const double *x, const double *y, int n); /* recomputes tau-b's statistic */

/* Average ranks (1-based, ties get the mean of their positions) of v into rank. */
void oiqa_rank_average(const double *v, int n, double *rank);

/* The logistic functions; b holds 4 or 5 parameters. */
double oiqa_logistic4(const double *b, double x);
double oiqa_logistic5(const double *b, double x);

/* Starting parameters as documented above (np = 4 or 5). */
void oiqa_logistic_start(int np, const double *x, const double *y, int n, double *b);

/* Fits the np-parameter logistic (np 4 or 5) from b's initial values (in
 * place) and writes the mapped predictions into yhat (may be NULL).
 * Returns 0 on convergence, -1 when the fit could not be done (n < np,
 * non-finite values). The 4-parameter b4 is returned as |b4|. */
int oiqa_logistic_fit(int np, const double *x, const double *y, int n, double *b, double *yhat);

/* Fraction of pred[i] == truth[i]; NAN for n == 0. */
double oiqa_accuracy(const int *pred, const int *truth, int n);

/* Median (the mean of the middle two for even n) and mean, ignoring NANs;
 * NAN when nothing is left. */
double oiqa_median(const double *v, int n);
double oiqa_mean(const double *v, int n);

/* Every number oiqa-eval reports for one set of (prediction, target) pairs. */
typedef struct {
    int n;
    double srcc, krcc, plcc_raw, rmse_raw; /* on the raw predictions */
    double beta4[4], plcc4, srcc4, rmse4;  /* after the 4-parameter fit */
    int fit4_ok;
    int with5, fit5_ok;                    /* the 5-parameter fit, on request */
    double beta5[5], plcc5, srcc5, rmse5;
} oiqa_iqa_metrics;

/* Computes everything above; x are predictions, y targets. 0, or -1 when
 * n < 2 (the fits may still fail: see fit4_ok / fit5_ok, NAN values then). */
int oiqa_iqa_metrics_compute(const double *x, const double *y, int n, int with5, oiqa_iqa_metrics *m);

#endif
