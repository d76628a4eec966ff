/* labels.csv (DESIGN §4): one row per image,
 *   name,mos,ref,dist_type,dist_level[,lower_better][,ALT]
 * name: the image path relative to the dataset root; mos: the subjective
 * score as the database gives it (MOS, or DMOS for lower-is-better sets);
 * ref: the reference content id (splits are content-disjoint by it);
 * dist_type: a distortion name (REF for references, "authentic" for
 * in-the-wild sets); dist_level: 0 for a reference, 1.. for distortion
 * levels, -1 when the database has none. lower_better: 1 on every row of a
 * DMOS set (written by the adapters; absent means 0). ALT: at most one more
 * numeric column (e.g. mosz) carried along for the record.
 *
 * Reading checks what every later tool relies on: unique names, finite
 * scores, one lower_better value; errors name the file and line. */
#ifndef OIQA_IQA_LABELS_H
#define OIQA_IQA_LABELS_H

#include "io/nameindex.h"

typedef struct {
    char *name, *ref, *dist_type;
    double mos;
    int dist_level;
    double alt;   /* the ALT column, NAN when absent */
    int line;     /* line in the file read (0 when built in memory) */
} oiqa_label;

typedef struct {
    oiqa_label *row;
    int n, cap;
    int lower_better;
    char *alt_name;       /* name of the ALT column, or NULL */
    char *path;           /* file read, for messages (NULL when built in memory) */
    oiqa_name_index index;
} oiqa_labels;

/* Appends a row (copies the strings). Returns 0, or OIQA_EXIT_DATA for a
 * duplicate name or a non-finite score, with the message set. */
int oiqa_labels_add(oiqa_labels *l, const char *name, double mos, const char *ref, const char *dist_type,
                    int dist_level);
/* Row of a name, or -1. */
int oiqa_labels_find(const oiqa_labels *l, const char *name);

/* Reads and validates labels.csv (columns by name; ref, dist_type and
 * dist_level may be absent: ref then is the name, level -1). */
int oiqa_labels_read(const char *path, oiqa_labels *l);
/* Writes atomically (PATH.partial, then renamed); refuses an existing file
 * unless force. */
int oiqa_labels_write(const oiqa_labels *l, const char *path, int force);
void oiqa_labels_free(oiqa_labels *l);

/* The dataset adapters of oiqa-labels (docs/labels.md). */
typedef struct {
    const char *name;    /* --dataset value */
    const char *files;   /* what it reads, for --help */
    int min_files, max_files;
    /* score: "mos" (default) or an adapter-specific alternative ("mosz") */
    int (*read)(char **files, int n_files, const char *score, oiqa_labels *out);
} oiqa_labels_adapter;

/* NULL-terminated registry, and lookup by name (NULL when unknown). */
extern const oiqa_labels_adapter *const oiqa_labels_adapters[];
const oiqa_labels_adapter *oiqa_labels_adapter_find(const char *name);

#endif
