/* The architectures checkpoints are checked against (models/arch.h): the
 * extractor registry's rows and their families. */
#include "models/arch.h"

#include "base/error.h"
#include "models/extractor.h"

#include <stdio.h>
#include <string.h>

/* The first row of the family `name`, NULL when no row has it. */
static const oiqa_extractor_kind *family_row(const char *name)
{
    for (int i = 0; name && i < oiqa_extractor_count(); i++) {
        const oiqa_extractor_kind *k = oiqa_extractor_at(i);
        if (k->family && !strcmp(k->family, name)) return k;
    }
    return NULL;
}

int oiqa_arch_known(const char *name)
{
    return name && (oiqa_extractor_find(name) || family_row(name));
}

const char *oiqa_arch_names(void)
{
    static char names[1024];
    names[0] = '\0'; /* rebuilt: rows may be registered at run time */
    for (int i = 0; i < oiqa_extractor_count(); i++)
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", i ? ", " : "",
                 oiqa_extractor_at(i)->name);
    for (int i = 0; i < oiqa_extractor_count(); i++) {
        const oiqa_extractor_kind *k = oiqa_extractor_at(i);
        if (k->family && family_row(k->family) == k)
            snprintf(names + strlen(names), sizeof names - strlen(names), ", %s", k->family);
    }
    return names;
}

int oiqa_arch_check(const char *name, const oiqa_ckpt *ck, const char *path)
{
    const oiqa_extractor_kind *k = oiqa_extractor_find(name);
    if (k) return oiqa_extractor_check(k, ck, path);
    if ((k = family_row(name))) return k->family_check(ck, path);
    return oiqa_fail(OIQA_EXIT_USAGE, NULL, "unknown architecture '%s' (known: %s)", name, oiqa_arch_names());
}
