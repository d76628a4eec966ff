/* Names, option lists and the config file of the synthesis stage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "stage/synth.h"
#include "stage/synth_internal.h"

char *synth_stem(const char *name)
{
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    size_t len = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    char *s = malloc(len + 1);
    if (!s) return NULL;
    memcpy(s, base, len);
    s[len] = 0;
    return s;
}

char *synth_output_name(const char *stem, int family, int level)
{
    if (family < 0) return oiqa_asprintf("%s.png", stem);
    return oiqa_asprintf("%s_%s_%d.png", stem, oiqa_dist_name((oiqa_dist_family)family), level);
}

char *synth_output_path(const char *out_dir, const char *stem, int family, int level)
{
    char *name = synth_output_name(stem, family, level);
    char *p = oiqa_asprintf("%s/%s", out_dir, name);
    free(name);
    return p;
}

int synth_write_config(const char *out_dir, const char *config, const char *codecs)
{
    char *path = oiqa_asprintf("%s/synth.yaml", out_dir);
    oiqa_atomic_file a;
    int rc = oiqa_atomic_open(&a, path, 1);
    if (!rc) {
        fprintf(a.f, "# oiqa-synth %s: the resolved configuration of this dataset\n", OIQA_VERSION);
        if (codecs && *codecs) fprintf(a.f, "# coded with: %s\n", codecs);
        fputs(config, a.f);
        rc = oiqa_atomic_commit(&a);
    }
    free(path);
    return rc;
}

/* Splits a comma-separated list into trimmed items, calling `each` on every
 * one; stops at its first error. */
static int for_items(const char *text, const char *key, int (*each)(const char *item, void *ctx), void *ctx)
{
    if (!text || !*text) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key '%s': empty list", key);
    char *copy = oiqa_strdup(text);
    int rc = OIQA_OK;
    for (char *tok = copy, *next; tok && !rc; tok = next) {
        next = strchr(tok, ',');
        if (next) *next++ = 0;
        while (*tok == ' ') tok++;
        char *end = tok + strlen(tok);
        while (end > tok && end[-1] == ' ') *--end = 0;
        rc = *tok ? each(tok, ctx) : oiqa_fail(OIQA_EXIT_USAGE, NULL, "key '%s': empty item in '%s'", key, text);
    }
    free(copy);
    return rc;
}

typedef struct {
    int *v, n;
} int_list;

/* Presets: the families of a real database, in its order (METHODS §6). */
static const struct {
    const char *name, *families;
} PRESETS[] = {
    {"cviq", "jpeg,h264,hevc"},
    {"oiqa", "jpeg,jpeg2000,noise,blur"},
    {"all", "jpeg,blur,noise,resample,jpeg2000,h264,hevc"},
};

static int add_family(const char *item, void *ctx)
{
    int_list *l = ctx;
    for (size_t k = 0; k < sizeof PRESETS / sizeof *PRESETS; k++)
        if (!strcmp(item, PRESETS[k].name)) return for_items(PRESETS[k].families, "families", add_family, ctx);
    int f = -1;
    for (int k = 0; k < OIQA_DIST_COUNT; k++)
        if (!strcmp(item, oiqa_dist_name((oiqa_dist_family)k))) f = k;
    if (f < 0)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL,
                         "key 'families': unknown family '%s' (known: jpeg, blur, noise, resample, jpeg2000, h264, "
                         "hevc; presets cviq, oiqa, all)",
                         item);
    for (int k = 0; k < l->n; k++)
        if (l->v[k] == f) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'families': '%s' given twice", item);
    l->v[l->n++] = f;
    return OIQA_OK;
}

static int add_level(const char *item, void *ctx)
{
    int_list *l = ctx;
    char *end;
    long a = strtol(item, &end, 10), b = a;
    if (end != item && *end == '-') {
        const char *second = end + 1;
        b = strtol(second, &end, 10);
        if (end == second) end = (char *)item;
    }
    if (end == item || *end || a < 1 || b > OIQA_DIST_LEVELS || a > b)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'levels': '%s' is not a level or range within 1..%d", item,
                         OIQA_DIST_LEVELS);
    for (long x = a; x <= b; x++) {
        for (int k = 0; k < l->n; k++)
            if (l->v[k] == x) return oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'levels': %ld given twice", x);
        l->v[l->n++] = (int)x;
    }
    return OIQA_OK;
}

int oiqa_synth_parse_families(const char *text, int *families, int *n)
{
    int_list l = {families, 0};
    int rc = for_items(text, "families", add_family, &l);
    *n = l.n;
    return rc;
}

static int cmp_int(const void *a, const void *b) { return *(const int *)a - *(const int *)b; }

int oiqa_synth_parse_levels(const char *text, int *levels, int *n)
{
    int_list l = {levels, 0};
    int rc = for_items(text, "levels", add_level, &l);
    if (!rc) qsort(levels, (size_t)l.n, sizeof *levels, cmp_int);
    *n = l.n;
    return rc;
}
