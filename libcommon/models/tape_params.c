/* Checkpoint tensors into tape parameters; see models/tape_params.h. */
#include "models/tape_params.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"

int oiqa_tape_load_param(oiqa_tape_loader *l, const char *name, int ndim, const int *want, oiqa_param *p)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(l->ck, name);
    if (!t) return oiqa_fail(OIQA_EXIT_DATA, l->path, "not %s state dict: no %s", l->what, name);
    int shape[OIQA_AG_MAX_DIMS];
    if (t->ndim != ndim || ndim > OIQA_AG_MAX_DIMS)
        return oiqa_fail(OIQA_EXIT_DATA, l->path, "%s has %d axes, expected %d", name, t->ndim, ndim);
    for (int d = 0; d < ndim; d++) {
        shape[d] = (int)t->shape[d];
        if (want && want[d] > 0 && want[d] != shape[d])
            return oiqa_fail(OIQA_EXIT_DATA, l->path, "%s: axis %d is %d, expected %d", name, d, shape[d], want[d]);
    }
    if (*l->n == l->cap) return oiqa_fail(OIQA_EXIT_DATA, l->path, "more than %d parameters", l->cap);
    int rc = oiqa_param_init(p, name, ndim, shape);
    if (!rc) rc = oiqa_ckpt_read_f32(l->ck, t, p->w);
    if (!rc) l->list[(*l->n)++] = p;
    else oiqa_param_free(p);
    return rc;
}

int oiqa_tape_load_buffer(oiqa_tape_loader *l, const char *name, size_t numel, oiqa_param *p)
{
    const oiqa_ck_tensor *t = oiqa_ckpt_find(l->ck, name);
    if (!t || (size_t)t->numel != numel)
        return oiqa_fail(OIQA_EXIT_DATA, l->path, "not %s state dict: no %s of %zu values", l->what, name, numel);
    if (l->buffers && *l->n_buffers == l->buffers_cap)
        return oiqa_fail(OIQA_EXIT_DATA, l->path, "more than %d buffers", l->buffers_cap);
    int shape[1] = {(int)numel};
    int rc = oiqa_param_init(p, name, 1, shape);
    if (!rc) rc = oiqa_ckpt_read_f32(l->ck, t, p->w);
    if (rc) {
        oiqa_param_free(p);
        return rc;
    }
    p->frozen = 1;
    if (l->buffers) l->buffers[(*l->n_buffers)++] = p;
    return OIQA_OK;
}

oiqa_param *oiqa_tape_find_param(oiqa_param *const *list, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(list[i]->name, name)) return list[i];
    return NULL;
}
