/* Shared between the VMamba loader files (not a public header). */
#ifndef OIQA_MODELS_VMAMBA_INTERNAL_H
#define OIQA_MODELS_VMAMBA_INTERNAL_H

#include <stdint.h>

#include "models/keycheck.h"
#include "models/vmamba.h"

/* R = ceil(C / 16), the official dt_rank "auto". */
static inline int vmamba_dt_rank(int dim) { return (dim + 15) / 16; }
static inline int vmamba_d_inner(const oiqa_vmamba_config *c, int dim) { return (int)(c->ssm_ratio * dim); }
static inline int vmamba_mlp_hidden(const oiqa_vmamba_config *c, int dim) { return (int)(c->mlp_ratio * dim); }

/* Expected keys (current names) with their shapes: models/keycheck.h. */
typedef oiqa_expected_key vmamba_key;
typedef oiqa_key_list vmamba_key_list;

/* Appends every key of the state dict of VSSM(cfg), in its order, with its
 * shape. The caller frees l->keys (also on failure). */
int vmamba_expected_keys(vmamba_key_list *l, const oiqa_vmamba_config *cfg);

/* The tensor stored under `name` (current key name) or under its name in
 * VMamba's first release (models/vmamba.h); NULL when neither exists. */
const oiqa_ck_tensor *vmamba_find(const oiqa_ckpt *ck, const char *name);

/* The first-release name of a current key into out ("" when it has none). */
void vmamba_legacy_name(const char *name, char *out, size_t n);

/* Checks the checkpoint's keys and shapes against those cfg expects; fails
 * naming path with the mismatches (models/vmamba.h). */
int vmamba_check_keys(const oiqa_ckpt *ck, const char *path, const oiqa_vmamba_config *cfg);

/* "v0, depths 2,2,9,2, dims 96,192,384,768, d_state 16, ssm_ratio 2, mlp_ratio 0, 1000 classes" */
void vmamba_describe(const oiqa_vmamba_config *cfg, char *out, size_t n);

#endif
