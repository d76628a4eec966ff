/* MTFI as a method of the registry (methods/method.h): its `model:` keys,
 * its feature inputs (the local backbone file with its original, restored
 * and degraded streams; the global file), its three outputs and loss parts,
 * and the hooks around the fusion model of methods/mtfi/mtfi_model.h.
 * docs/mtfi.md describes the model and every key. */
#ifndef OIQA_METHODS_MTFI_H
#define OIQA_METHODS_MTFI_H

#include "methods/method.h"

/* The model: section (defaults: METHODS.md's MTFI reference reading). */
typedef struct {
    long hidden;
    double dropout;
    int use_restored, use_degraded, use_global;
    oiqa_opt_strings scales;       /* the local backbone's blocks, finest first */
    int aux_heads;
    oiqa_opt_numbers loss_weights; /* quality, level, type */
} oiqa_mtfi_opts;

extern const oiqa_method oiqa_method_mtfi;

#endif
