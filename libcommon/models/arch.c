/* The table of architectures checkpoints are checked against (models/arch.h). */
#include "models/arch.h"

#include "base/error.h"
#include "models/resnet.h"
#include "models/vmamba.h"

#include <string.h>

static int check_resnet50(const oiqa_ckpt *ck, const char *path)
{
    oiqa_resnet50 net;
    int rc = oiqa_resnet50_load(ck, path, &net);
    oiqa_resnet50_free(&net);
    return rc;
}

/* VMamba: with cfg NULL the loader infers the architecture from the
 * checkpoint; with a preset the checkpoint must be exactly that model. */
static int check_vmamba_with(const oiqa_ckpt *ck, const char *path, const char *preset)
{
    oiqa_vmamba_config cfg;
    if (preset && oiqa_vmamba_preset(preset, &cfg)) return OIQA_EXIT_USAGE;
    oiqa_vmamba net;
    int rc = oiqa_vmamba_load(ck, path, preset ? &cfg : NULL, &net);
    oiqa_vmamba_free(&net);
    return rc;
}

static int check_vmamba(const oiqa_ckpt *ck, const char *path) { return check_vmamba_with(ck, path, NULL); }
static int check_vmamba_t_v0(const oiqa_ckpt *ck, const char *p) { return check_vmamba_with(ck, p, "vmamba_t_v0"); }
static int check_vmamba_t_s2l5(const oiqa_ckpt *ck, const char *p) { return check_vmamba_with(ck, p, "vmamba_t_s2l5"); }
static int check_vmamba_t_s1l8(const oiqa_ckpt *ck, const char *p) { return check_vmamba_with(ck, p, "vmamba_t_s1l8"); }

static const oiqa_arch ARCHS[] = {
    {"resnet50", "torchvision ResNet-50 state dict (models/resnet.h)", check_resnet50},
    {"vmamba", "any VMamba (v0 / v05_noz) state dict, architecture read from its keys (models/vmamba.h)", check_vmamba},
    {"vmamba_t_v0", "VMamba-T v0 (depths 2,2,9,2, dims 96, d_state 16, ssm_ratio 2; models/vmamba.h)",
     check_vmamba_t_v0},
    {"vmamba_t_s2l5", "VMamba-T[s2l5] (depths 2,2,5,2, dims 96, d_state 1, ssm_ratio 2, mlp 4; models/vmamba.h)",
     check_vmamba_t_s2l5},
    {"vmamba_t_s1l8", "VMamba-T[s1l8] (depths 2,2,8,2, dims 96, d_state 1, ssm_ratio 1, mlp 4; models/vmamba.h)",
     check_vmamba_t_s1l8},
};
#define N_ARCHS ((int)(sizeof ARCHS / sizeof ARCHS[0]))

const oiqa_arch *oiqa_arch_find(const char *name)
{
    for (int i = 0; name && i < N_ARCHS; i++)
        if (!strcmp(ARCHS[i].name, name)) return &ARCHS[i];
    return NULL;
}

const char *oiqa_arch_names(void)
{
    static char names[256];
    if (!names[0])
        for (int i = 0; i < N_ARCHS; i++) {
            if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
            strncat(names, ARCHS[i].name, sizeof names - strlen(names) - 1);
        }
    return names;
}

int oiqa_arch_check(const char *name, const oiqa_ckpt *ck, const char *path)
{
    const oiqa_arch *a = oiqa_arch_find(name);
    if (!a) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown architecture '%s' (known: %s)", name, oiqa_arch_names());
    return a->check(ck, path);
}
