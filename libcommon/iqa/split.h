/* Content-disjoint train / val / test splits (DESIGN §4, METHODS §6).
 *
 * splits.csv: `name,s0,s1,...`, one column per repeat holding train, val or
 * test. Images of one reference content (labels' ref) always share a part,
 * so no content is seen in training and testing.
 *
 * Random splits: for repeat r the references (in order of first
 * appearance in labels.csv) are shuffled by a Fisher-Yates shuffle driven by
 * oiqa_rng seeded with seed + r; the first round(R*test) are test, the next
 * round(R*val) val, the rest train, with at least one test and one train
 * reference. K folds: one shuffle (seed), reference j of the shuffled order
 * is in fold floor(j*K/R); repeat k tests fold k, and its val references are
 * taken from the training ones (the first round(R_train*val) of them in a
 * second shuffle with seed + 1 + k). The same labels, options and seed give
 * the same file on every machine. */
#ifndef OIQA_IQA_SPLIT_H
#define OIQA_IQA_SPLIT_H

#include <stdint.h>

#include "io/nameindex.h"
#include "iqa/labels.h"

enum { OIQA_PART_TRAIN = 0, OIQA_PART_VAL = 1, OIQA_PART_TEST = 2, OIQA_PART_NONE = 3 };
extern const char *const oiqa_part_names[]; /* "train", "val", "test", NULL */

typedef struct {
    int n, n_rep;
    char **name;          /* n names */
    unsigned char *part;  /* part[i * n_rep + r] */
    int *line;            /* line of each name in the file read (NULL when made) */
    char *path;           /* file read, for messages */
    oiqa_name_index index;
} oiqa_splits;

typedef struct {
    double train, val, test; /* ratios (normalised by their sum) */
    int repeats;             /* random splits (ignored with folds) */
    int folds;               /* > 1: k-fold instead */
    uint64_t seed;
} oiqa_split_opts;

int oiqa_split_make(const oiqa_labels *l, const oiqa_split_opts *o, oiqa_splits *out);
int oiqa_splits_read(const char *path, oiqa_splits *s);
int oiqa_splits_write(const oiqa_splits *s, const char *path, int force);
/* Refuses (OIQA_EXIT_DATA, one line) a split with a name missing from the
 * labels or a reference in test and also in train or val of one repeat. */
int oiqa_splits_check(const oiqa_splits *s, const oiqa_labels *l);
/* Part of a name in a repeat (OIQA_PART_NONE when the name is absent). */
int oiqa_splits_part(const oiqa_splits *s, const char *name, int rep);
void oiqa_splits_free(oiqa_splits *s);

#endif
