/* The architectures checkpoints are checked against (models/arch.h): the
 * extractor registry, and the one check that is not a backbone. */
#include "models/arch.h"

#include "base/error.h"
#include "models/extractor.h"
#include "models/vmamba.h"

#include <stdio.h>
#include <string.h>

/* "vmamba": the loader infers depths, widths and version from the keys, so
 * any official VMamba checkpoint fits; the presets are extractors. */
#define ANY_VMAMBA "vmamba"

static int check_any_vmamba(const oiqa_ckpt *ck, const char *path)
{
    oiqa_vmamba net;
    int rc = oiqa_vmamba_load(ck, path, NULL, &net);
    oiqa_vmamba_free(&net);
    return rc;
}

int oiqa_arch_known(const char *name)
{
    return name && (!strcmp(name, ANY_VMAMBA) || oiqa_extractor_find(name));
}

const char *oiqa_arch_names(void)
{
    static char names[512];
    names[0] = '\0'; /* rebuilt: rows may be registered at run time */
    for (int i = 0; i < oiqa_extractor_count(); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s, ", oiqa_extractor_at(i)->name);
    snprintf(names + strlen(names), sizeof names - strlen(names), "%s", ANY_VMAMBA);
    return names;
}

int oiqa_arch_check(const char *name, const oiqa_ckpt *ck, const char *path)
{
    if (name && !strcmp(name, ANY_VMAMBA)) return check_any_vmamba(ck, path);
    const oiqa_extractor_kind *k = oiqa_extractor_find(name);
    if (!k) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown architecture '%s' (known: %s)", name, oiqa_arch_names());
    return oiqa_extractor_check(k, ck, path);
}
