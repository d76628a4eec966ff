/* The state-dict check shared by the model loaders; see models/keycheck.h. */
#include "models/keycheck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"

#define MAX_LISTED 3 /* keys named per kind of mismatch */

int oiqa_key_list_add(oiqa_key_list *l, const char *name, int ndim, const int64_t *shape)
{
    if (strlen(name) >= sizeof l->keys[0].name || ndim < 0 || ndim > 4)
        return oiqa_fail(OIQA_EXIT_DATA, NULL, "expected key %s: name too long or bad rank", name);
    if (l->count == l->cap) {
        int cap = l->cap ? 2 * l->cap : 256;
        oiqa_expected_key *k = realloc(l->keys, sizeof *k * (size_t)cap);
        if (!k) return oiqa_fail(OIQA_EXIT_DATA, NULL, "out of memory");
        l->keys = k, l->cap = cap;
    }
    oiqa_expected_key *k = &l->keys[l->count++];
    memset(k, 0, sizeof *k);
    snprintf(k->name, sizeof k->name, "%s", name);
    k->ndim = ndim;
    for (int d = 0; d < ndim; d++) k->shape[d] = shape[d];
    return OIQA_OK;
}

void oiqa_key_list_free(oiqa_key_list *l)
{
    free(l->keys);
    memset(l, 0, sizeof *l);
}

static int same_shape(const oiqa_ck_tensor *t, const oiqa_expected_key *k)
{
    if (t->ndim != k->ndim) return 0;
    for (int d = 0; d < k->ndim; d++)
        if (t->shape[d] != k->shape[d]) return 0;
    return 1;
}

static int same_name(const oiqa_key_list *l, const char *name)
{
    for (int j = 0; j < l->count; j++)
        if (!strcmp(l->keys[j].name, name)) return 1;
    return 0;
}

static void format_shape(char *buf, size_t n, int ndim, const int64_t *shape)
{
    size_t used = (size_t)snprintf(buf, n, "[");
    for (int d = 0; d < ndim && used < n; d++)
        used += (size_t)snprintf(buf + used, n - used, d ? ",%lld" : "%lld", (long long)shape[d]);
    if (used < n) snprintf(buf + used, n - used, "]");
}

/* The first few mismatches of one kind ("missing", ...) as text. */
typedef struct {
    int count;
    char text[480];
} mismatch_list;

static void note_mismatch(mismatch_list *m, const char *item)
{
    if (m->count++ >= MAX_LISTED) return;
    size_t used = strlen(m->text);
    snprintf(m->text + used, sizeof m->text - used, "%s%s", m->count > 1 ? ", " : "", item);
}

/* "; KIND a, b, c, ..." for a non-empty list (into dst at its end). */
static void append_kind(char *dst, size_t n, const char *kind, const mismatch_list *m)
{
    if (!m->count) return;
    size_t used = strlen(dst);
    snprintf(dst + used, n - used, "%s%s %s%s", used ? "; " : "", kind, m->text, m->count > MAX_LISTED ? ", ..." : "");
}

int oiqa_check_state_dict(const oiqa_ckpt *ck, const char *path, const oiqa_key_list *l, const oiqa_key_rules *rules,
                          const char *what)
{
    static const oiqa_key_rules none = {0};
    if (!rules) rules = &none;
    mismatch_list missing = {0}, misshaped = {0}, unexpected = {0};
    char item[256], sa[48], sb[48];
    for (int i = 0; i < l->count; i++) {
        const oiqa_expected_key *k = &l->keys[i];
        const oiqa_ck_tensor *t = rules->find ? rules->find(ck, k->name) : oiqa_ckpt_find(ck, k->name);
        format_shape(sa, sizeof sa, k->ndim, k->shape);
        if (!t) {
            snprintf(item, sizeof item, "%s %s", k->name, sa);
            note_mismatch(&missing, item);
        } else if (!(rules->shape_ok ? rules->shape_ok(t, k) : same_shape(t, k))) {
            format_shape(sb, sizeof sb, t->ndim, t->shape);
            snprintf(item, sizeof item, "%.120s is %s, expected %s", t->name, sb, sa);
            note_mismatch(&misshaped, item);
        }
    }
    for (int i = 0; i < oiqa_ckpt_count(ck); i++) {
        const oiqa_ck_tensor *t = oiqa_ckpt_tensor(ck, i);
        if (rules->ignored && rules->ignored(t->name)) continue;
        if (!(rules->expected ? rules->expected(l, t->name) : same_name(l, t->name))) {
            snprintf(item, sizeof item, "%.160s", t->name);
            note_mismatch(&unexpected, item);
        }
    }
    if (missing.count + unexpected.count + misshaped.count == 0) return OIQA_OK;
    char listed[1600] = "";
    append_kind(listed, sizeof listed, "missing", &missing);
    append_kind(listed, sizeof listed, "mis-shaped", &misshaped);
    append_kind(listed, sizeof listed, "unexpected", &unexpected);
    return oiqa_fail(OIQA_EXIT_DATA, path, "not %s: %d missing, %d unexpected, %d mis-shaped keys: %s", what,
                     missing.count, unexpected.count, misshaped.count, listed);
}
