/* The method registry; see methods/registry.h. */
#include "methods/registry.h"

#include <stdio.h>
#include <string.h>

#include "base/error.h"
#include "methods/mtfi/mtfi.h"
#include "methods/resnet_ft/resnet_ft.h"

/* The built-in methods, one row each. */
static const oiqa_method *const BUILTIN[] = {
    &oiqa_method_mtfi,
    &oiqa_method_resnet_ft,
};
#define N_BUILTIN ((int)(sizeof BUILTIN / sizeof *BUILTIN))
#define MAX_ADDED 16

static const oiqa_method *added[MAX_ADDED];
static int n_added;

int oiqa_method_count(void) { return N_BUILTIN + n_added; }

const oiqa_method *oiqa_method_at(int i)
{
    if (i < 0 || i >= oiqa_method_count()) return NULL;
    return i < N_BUILTIN ? BUILTIN[i] : added[i - N_BUILTIN];
}

const oiqa_method *oiqa_method_find(const char *name)
{
    for (int i = 0; name && i < oiqa_method_count(); i++)
        if (!strcmp(oiqa_method_at(i)->name, name)) return oiqa_method_at(i);
    return NULL;
}

const char *oiqa_method_names(void)
{
    static char buf[512];
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < oiqa_method_count() && used < sizeof buf; i++)
        used += (size_t)snprintf(buf + used, sizeof buf - used, "%s%s", i ? ", " : "", oiqa_method_at(i)->name);
    return buf;
}

int oiqa_method_validate(const oiqa_method *m)
{
    const char *name = m && m->name ? m->name : "(unnamed)";
    const char *bad = NULL;
    if (!m || !m->name || !*m->name) bad = "no name";
    else if (!m->opts || m->opts_size > OIQA_METHOD_OPTS_MAX) bad = "no options table, or options over OIQA_METHOD_OPTS_MAX bytes";
    else if (m->n_inputs < 1 || m->n_inputs > OIQA_METHOD_MAX_INPUTS || !m->inputs) bad = "1 to OIQA_METHOD_MAX_INPUTS inputs needed";
    else if (m->n_outputs < 1 || m->n_outputs > OIQA_METHOD_MAX_OUTPUTS || !m->outputs ||
             m->outputs[0].kind != OIQA_OUT_SCORE)
        bad = "1 to OIQA_METHOD_MAX_OUTPUTS outputs needed, the first a score";
    else if (m->n_parts < 1 || m->n_parts > OIQA_METHOD_MAX_PARTS || !m->loss_parts) bad = "1 to OIQA_METHOD_MAX_PARTS loss parts needed";
    else if (!m->select || !m->build || !m->params || !m->forward || !m->loss || !m->log_parts || !m->log_total ||
             !m->free)
        bad = "a required hook is missing (select, build, params, forward, loss, log_parts, log_total, free)";
    for (int i = 0; !bad && i < m->n_inputs; i++)
        if (!m->inputs[i].role || !m->inputs[i].stage || !m->inputs[i].streams[0]) bad = "an input without role, stage or stream";
    if (bad) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "method %s: %s", name, bad);
    return OIQA_OK;
}

int oiqa_method_register(const oiqa_method *m)
{
    int rc = oiqa_method_validate(m);
    if (rc) return rc;
    if (oiqa_method_find(m->name)) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "method %s: registered twice", m->name);
    if (n_added == MAX_ADDED) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "method %s: the registry is full", m->name);
    added[n_added++] = m;
    return OIQA_OK;
}
