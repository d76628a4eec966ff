/* Class vocabularies of MTFI's auxiliary heads (METHODS §1: distortion level
 * and type), from the TRAINING labels: the levels are the sorted unique
 * dist_level values (increasing); the types are the dist_type values of the
 * training images in their order of first appearance in labels.csv, which is
 * the database's (adapter's) order: OIQA JPEG 0, JP2K 1, GN 2, GB 3, as
 * docs/labels.md states. The same labels and split give the same class
 * indices on every machine. Class index i of the level head is levels[i]; a
 * val/test image whose value is not among them gets index -1 (it has no
 * class and is left out of the classification losses). Stored in model.h5
 * as the root attributes `levels` (JSON list of integers) and `types` (JSON
 * list of strings). */
#ifndef OIQA_METHODS_CLASSES_H
#define OIQA_METHODS_CLASSES_H

#include "iqa/labels.h"

typedef struct {
    int n_levels, n_types;
    int *levels;
    char **types;
} oiqa_train_classes;

/* From the labels rows rows[0..n). */
void oiqa_train_classes_build(oiqa_train_classes *c, const oiqa_labels *l, const int *rows, int n);
int oiqa_train_classes_level(const oiqa_train_classes *c, int level);   /* index or -1 */
int oiqa_train_classes_type(const oiqa_train_classes *c, const char *type);
void oiqa_train_classes_free(oiqa_train_classes *c);

/* JSON lists (malloc'ed) and back (errors name path). */
char *oiqa_train_classes_levels_json(const oiqa_train_classes *c);
char *oiqa_train_classes_types_json(const oiqa_train_classes *c);
int oiqa_train_classes_parse(oiqa_train_classes *c, const char *levels, const char *types, const char *path);

#endif
