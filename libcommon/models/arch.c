/* The table of architectures checkpoints are checked against (models/arch.h). */
#include "models/arch.h"

#include "base/error.h"
#include "models/resnet.h"

#include <string.h>

static int check_resnet50(const oiqa_ckpt *ck, const char *path)
{
    oiqa_resnet50 net;
    int rc = oiqa_resnet50_load(ck, path, &net);
    oiqa_resnet50_free(&net);
    return rc;
}

static const oiqa_arch ARCHS[] = {
    {"resnet50", "torchvision ResNet-50 state dict (models/resnet.h)", check_resnet50},
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
