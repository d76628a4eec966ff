/* Known architectures a checkpoint can be checked against (oiqa-weights
 * verify, convert --arch). One table row per architecture: its name and a
 * function that loads the open checkpoint into that model and discards it,
 * so the check is exactly what the model's loader accepts. */
#ifndef OIQA_MODELS_ARCH_H
#define OIQA_MODELS_ARCH_H

#include "io/ckpt.h"

/* OIQA_OK when ck fits; else OIQA_EXIT_DATA with the loader's one-line
 * message (missing / unexpected / mis-shaped keys). path is for messages. */
typedef int (*oiqa_arch_check_fn)(const oiqa_ckpt *ck, const char *path);

typedef struct {
    const char *name;        /* "resnet50" */
    const char *description; /* one line, for --help */
    oiqa_arch_check_fn check;
} oiqa_arch;

/* NULL when name is not known. */
const oiqa_arch *oiqa_arch_find(const char *name);

/* Comma-separated names of the known architectures ("resnet50"). */
const char *oiqa_arch_names(void);

/* Checks ck against the named architecture. An unknown name is a usage
 * error (OIQA_EXIT_USAGE) whose message lists the known ones. */
int oiqa_arch_check(const char *name, const oiqa_ckpt *ck, const char *path);

#endif
