/* Known architectures a checkpoint can be checked against (oiqa-weights
 * verify, convert --arch): every backbone of the extractor registry
 * (models/extractor.h), checked by its own loader, and every family its rows
 * name with the family's check ("vmamba": any VMamba, whose architecture the
 * loader reads from the checkpoint's keys). A new backbone needs no row
 * here. */
#ifndef OIQA_MODELS_ARCH_H
#define OIQA_MODELS_ARCH_H

#include "io/ckpt.h"

/* 1 when name is a known architecture, else 0. */
int oiqa_arch_known(const char *name);

/* Comma-separated names of the known architectures ("resnet50, vmamba, ..."). */
const char *oiqa_arch_names(void);

/* Checks ck against the named architecture: OIQA_OK when it fits; else
 * OIQA_EXIT_DATA with the loader's one-line message (missing / unexpected /
 * mis-shaped keys; path is for messages). An unknown name is a usage error. */
int oiqa_arch_check(const char *name, const oiqa_ckpt *ck, const char *path);

#endif
