#include "io/nameindex.h"

#include <stdlib.h>
#include <string.h>

static uint64_t hash_name(const char *s)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h;
}

static void place(int64_t *slots, int64_t nslots, uint64_t h, int64_t index)
{
    uint64_t mask = (uint64_t)nslots - 1;
    uint64_t i = h & mask;
    while (slots[i]) i = (i + 1) & mask;
    slots[i] = index + 1;
}

static int grow_slots(oiqa_name_index *ix)
{
    int64_t n = ix->nslots ? ix->nslots * 2 : 64;
    int64_t *slots = calloc((size_t)n, sizeof *slots);
    if (!slots) return -1;
    for (int64_t k = 0; k < ix->n; k++) place(slots, n, hash_name(ix->names[k]), k);
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = n;
    return 0;
}

int oiqa_name_index_add(oiqa_name_index *ix, const char *name)
{
    if (ix->n == ix->cap) {
        int64_t cap = ix->cap ? ix->cap * 2 : 64;
        char **names = realloc(ix->names, (size_t)cap * sizeof *names);
        if (!names) return -1;
        ix->names = names;
        ix->cap = cap;
    }
    if ((ix->n + 1) * 2 > ix->nslots && grow_slots(ix) < 0) return -1;
    size_t len = strlen(name);
    char *copy = malloc(len + 1);
    if (!copy) return -1;
    memcpy(copy, name, len + 1);
    ix->names[ix->n] = copy;
    place(ix->slots, ix->nslots, hash_name(copy), ix->n);
    ix->n++;
    return 0;
}

int64_t oiqa_name_index_find(const oiqa_name_index *ix, const char *name)
{
    if (!ix->nslots || !name) return -1;
    uint64_t mask = (uint64_t)ix->nslots - 1;
    for (uint64_t i = hash_name(name) & mask; ix->slots[i]; i = (i + 1) & mask) {
        int64_t k = ix->slots[i] - 1;
        if (!strcmp(ix->names[k], name)) return k;
    }
    return -1;
}

void oiqa_name_index_free(oiqa_name_index *ix)
{
    for (int64_t k = 0; k < ix->n; k++) free(ix->names[k]);
    free(ix->names);
    free(ix->slots);
    memset(ix, 0, sizeof *ix);
}
