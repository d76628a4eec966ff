/* Checking a checkpoint against the state dict a model expects: every
 * expected key present with its shape, nothing else there. One report for
 * every model loader (ResNet-50, VMamba, ...):
 *   PATH: not WHAT: M missing, U unexpected, S mis-shaped keys: missing K
 *   [shape], ...; mis-shaped K is [..], expected [..]; unexpected K
 * naming the first three keys of each kind. A model supplies its expected
 * keys in state-dict order and, where it needs them, rules for finding a
 * key under another name (older releases), for keys to ignore, and for
 * shapes that are equivalent. */
#ifndef OIQA_MODELS_KEYCHECK_H
#define OIQA_MODELS_KEYCHECK_H

#include <stdint.h>

#include "io/ckpt.h"

typedef struct {
    char name[96];
    int ndim;
    int64_t shape[4];
} oiqa_expected_key;

typedef struct {
    oiqa_expected_key *keys; /* malloc'ed */
    int count, cap;
} oiqa_key_list;

/* Appends a key; OIQA_EXIT_DATA when out of memory or the name is too long. */
int oiqa_key_list_add(oiqa_key_list *l, const char *name, int ndim, const int64_t *shape);
void oiqa_key_list_free(oiqa_key_list *l);

typedef struct {
    /* The tensor for an expected key name (NULL rule: oiqa_ckpt_find). */
    const oiqa_ck_tensor *(*find)(const oiqa_ckpt *ck, const char *name);
    /* Whether a checkpoint key is one of the expected (NULL: same name). */
    int (*expected)(const oiqa_key_list *l, const char *ckpt_name);
    /* Checkpoint keys that are neither expected nor unexpected (NULL: none). */
    int (*ignored)(const char *ckpt_name);
    /* Whether a tensor's shape fits the key (NULL: the same shape). */
    int (*shape_ok)(const oiqa_ck_tensor *t, const oiqa_expected_key *k);
} oiqa_key_rules;

/* OIQA_OK when ck fits the list; else OIQA_EXIT_DATA with the report, where
 * `what` completes "not ..." ("a torchvision ResNet-50 state dict"). */
int oiqa_check_state_dict(const oiqa_ckpt *ck, const char *path, const oiqa_key_list *l, const oiqa_key_rules *rules,
                          const char *what);

#endif
