/* Level and type vocabularies; see methods/classes.h. */
#include "methods/classes.h"

#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/json_mini.h"

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

void oiqa_train_classes_build(oiqa_train_classes *c, const oiqa_labels *l, const int *rows, int n)
{
    memset(c, 0, sizeof *c);
    int *lv = oiqa_xmalloc((size_t)(n ? n : 1) * sizeof *lv);
    char **ty = oiqa_xmalloc((size_t)(n ? n : 1) * sizeof *ty);
    for (int i = 0; i < n; i++) lv[i] = l->row[rows[i]].dist_level, ty[i] = l->row[rows[i]].dist_type;
    qsort(lv, (size_t)n, sizeof *lv, cmp_int);
    qsort(ty, (size_t)n, sizeof *ty, cmp_str);
    c->levels = oiqa_xmalloc((size_t)(n ? n : 1) * sizeof *c->levels);
    c->types = oiqa_xmalloc((size_t)(n ? n : 1) * sizeof *c->types);
    for (int i = 0; i < n; i++)
        if (!i || lv[i] != lv[i - 1]) c->levels[c->n_levels++] = lv[i];
    /* Types in the file's order of first appearance, among the training ones. */
    for (int r = 0; r < l->n; r++) {
        const char *t = l->row[r].dist_type;
        if (oiqa_train_classes_type(c, t) >= 0) continue;
        if (bsearch(&t, ty, (size_t)n, sizeof *ty, cmp_str)) c->types[c->n_types++] = oiqa_strdup(t);
    }
    free(lv), free(ty);
}

int oiqa_train_classes_level(const oiqa_train_classes *c, int level)
{
    for (int i = 0; i < c->n_levels; i++)
        if (c->levels[i] == level) return i;
    return -1;
}

int oiqa_train_classes_type(const oiqa_train_classes *c, const char *type)
{
    for (int i = 0; i < c->n_types; i++)
        if (!strcmp(c->types[i], type)) return i;
    return -1;
}

void oiqa_train_classes_free(oiqa_train_classes *c)
{
    for (int i = 0; i < c->n_types; i++) free(c->types[i]);
    free(c->types), free(c->levels);
    memset(c, 0, sizeof *c);
}

char *oiqa_train_classes_levels_json(const oiqa_train_classes *c)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "[");
    for (int i = 0; i < c->n_levels; i++) oiqa_sbuf_appendf(&b, "%s%d", i ? ", " : "", c->levels[i]);
    oiqa_sbuf_append(&b, "]");
    return b.s;
}

char *oiqa_train_classes_types_json(const oiqa_train_classes *c)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "[");
    for (int i = 0; i < c->n_types; i++) {
        if (i) oiqa_sbuf_append(&b, ", ");
        oiqa_sbuf_append_json_string(&b, c->types[i]);
    }
    oiqa_sbuf_append(&b, "]");
    return b.s;
}

int oiqa_train_classes_parse(oiqa_train_classes *c, const char *levels, const char *types, const char *path)
{
    memset(c, 0, sizeof *c);
    char err[128];
    oiqa_json *lj = levels ? oiqa_json_parse(levels, strlen(levels), err, sizeof err) : NULL;
    oiqa_json *tj = types ? oiqa_json_parse(types, strlen(types), err, sizeof err) : NULL;
    int rc = OIQA_OK;
    if (!lj || !tj || lj->type != OIQA_JSON_ARRAY || tj->type != OIQA_JSON_ARRAY) {
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "attributes 'levels' / 'types' are not JSON lists");
        goto done;
    }
    c->levels = oiqa_xmalloc((size_t)(lj->n + 1) * sizeof *c->levels);
    c->types = oiqa_xcalloc((size_t)(tj->n + 1), sizeof *c->types);
    for (int i = 0; i < lj->n && !rc; i++) {
        if (lj->kids[i].type != OIQA_JSON_INT) rc = oiqa_fail(OIQA_EXIT_DATA, path, "attribute 'levels': not integers");
        else c->levels[c->n_levels++] = (int)lj->kids[i].i;
    }
    for (int i = 0; i < tj->n && !rc; i++) {
        if (tj->kids[i].type != OIQA_JSON_STRING) rc = oiqa_fail(OIQA_EXIT_DATA, path, "attribute 'types': not strings");
        else c->types[c->n_types++] = oiqa_strdup(tj->kids[i].str);
    }
done:
    oiqa_json_free(lj), oiqa_json_free(tj);
    if (rc) oiqa_train_classes_free(c);
    return rc;
}
