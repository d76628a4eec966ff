/* Evaluation of predictions against labels (oiqa-eval; docs/eval.md).
 *
 * predictions.csv: a header, then one row per image:
 *   name,score[,level][,type][,p_level_<L>...][,p_type_<T>...]
 * score: the predicted quality; level: the predicted distortion level (an
 * integer, compared with labels' dist_level); type: the predicted
 * distortion type (a name, compared with labels' dist_type); p_level_<L> /
 * p_type_<T>: class probabilities (or logits), whose argmax gives the
 * predicted level L / type T when level / type are absent. Other columns are
 * ignored.
 *
 * Rows evaluated: the names in both files (and, with splits, in the chosen
 * part of the repeat). Per run: SRCC, KRCC and the raw PLCC / RMSE on the
 * raw scores, PLCC / SRCC / RMSE after the 4-parameter logistic (and the
 * 5-parameter one on request), the same per distortion type, and the head
 * accuracies. Several predictions files are several repeats: their median
 * and mean are reported. */
#ifndef OIQA_IQA_EVAL_H
#define OIQA_IQA_EVAL_H

#include "iqa/labels.h"
#include "iqa/metrics.h"
#include "iqa/split.h"

typedef struct {
    char **pred_paths;    /* one per repeat */
    int n_pred;
    const char *splits_path; /* or NULL: every common name is evaluated */
    int repeat;           /* split column for a single predictions file (-1: s0 when only one) */
    int part;             /* OIQA_PART_TEST by default */
    int lower_better;     /* labels are DMOS and scores quality: correlate with -label */
    int scores_lower_better; /* the scores are lower-is-better too: correlate -score */
    int with5;
    int per_type;         /* per-distortion-type breakdown */
} oiqa_eval_opts;

typedef struct {
    char *type;
    oiqa_iqa_metrics m;
} oiqa_eval_group;

typedef struct {
    char *pred_path;
    int split_col;        /* -1 without splits */
    oiqa_iqa_metrics m;   /* correlations signed for the direction (see lower_better) */
    double srcc_p, krcc_p, plcc_p;
    double level_acc, type_acc; /* NAN when the head is absent */
    int n_level, n_type;  /* rows the accuracies were computed on */
    oiqa_eval_group *group;
    int n_group;
    double *x, *y;        /* the evaluated pairs (score, label), n = m.n */
} oiqa_eval_run;

typedef struct {
    oiqa_eval_run *run;
    int n_run;
    int lower_better;
    int median_run;       /* the run with the median SRCC (plotted) */
} oiqa_eval_result;

int oiqa_eval(const oiqa_labels *l, const oiqa_eval_opts *o, oiqa_eval_result *res);
void oiqa_eval_free(oiqa_eval_result *res);

/* Reports (eval_report.c). The JSON and markdown list each run, the median
 * and the mean over runs, and the per-type breakdown. */
char *oiqa_eval_json(const oiqa_eval_result *r, const oiqa_eval_opts *o, const char *labels_path, const char *tool);
char *oiqa_eval_table(const oiqa_eval_result *r, const oiqa_eval_opts *o);

/* Scatter plot of score vs label with the fitted 4-parameter curve
 * (eval_plot.c): SVG text, and an RGB raster (w x h) for PNG. */
char *oiqa_eval_svg(const oiqa_eval_run *run, const char *title);
unsigned char *oiqa_eval_raster(const oiqa_eval_run *run, int w, int h);

#endif
