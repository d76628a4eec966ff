/* `oiqa-weights ls`: one line per tensor of an open checkpoint. */
#include "io/ckpt_list.h"

#include <string.h>

static void shape_text(const oiqa_ck_tensor *t, char *buf, size_t n)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < t->ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, "%s%lld", d ? "," : "", (long long)t->shape[d]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

void oiqa_ckpt_print_list(const oiqa_ckpt *ck, const char *path, FILE *f)
{
    int n = oiqa_ckpt_count(ck), width = 4;
    for (int i = 0; i < n; i++) {
        int len = (int)strlen(oiqa_ckpt_tensor(ck, i)->name);
        if (len > width) width = len;
    }
    fprintf(f, "# %s: %s, %d tensors, dict '%s'\n", path, oiqa_ckpt_format(ck), n, oiqa_ckpt_prefix(ck));
    for (int i = 0; i < n; i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_tensor(ck, i);
        char shape[OIQA_CK_MAX_DIMS * 21 + 3];
        shape_text(t, shape, sizeof shape);
        fprintf(f, "%-*s  %-7s  %s\n", width, t->name, oiqa_ck_dtype_name(t->dtype), shape);
    }
}
