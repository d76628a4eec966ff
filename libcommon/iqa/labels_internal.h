/* Helpers shared by the dataset adapters of oiqa-labels (labels_*.c). */
#ifndef OIQA_IQA_LABELS_INTERNAL_H
#define OIQA_IQA_LABELS_INTERNAL_H

#include "io/csv.h"
#include "iqa/labels.h"

/* Reads a score table, comma-separated when its first line holds a comma,
 * whitespace-separated otherwise; header: whether the first row is one. */
int oiqa_labels_table(const char *path, int header, oiqa_csv **out);
/* The part of a path after its last '/'. */
const char *oiqa_labels_base(const char *path);
/* Parses an integer that fills [s, s+n) exactly (n < 0: the whole string); -1 otherwise. */
long oiqa_labels_int(const char *s, int n);
/* An error for a score file whose content the adapter does not recognise. */
int oiqa_labels_unexpected(const char *path, int line, const char *what, const char *got);

#endif
