/* The tensor listing of `oiqa-weights ls`. */
#ifndef OIQA_IO_CKPT_LIST_H
#define OIQA_IO_CKPT_LIST_H

#include <stdio.h>

#include "io/ckpt.h"

/* A header line "# PATH: FORMAT, N tensors, dict 'PREFIX'" and then one
 * line per tensor in file order: "NAME DTYPE [d0,d1,...]" ("[]" for a
 * scalar), the columns padded to line up. */
void oiqa_ckpt_print_list(const oiqa_ckpt *ck, const char *path, FILE *f);

#endif
