/* A list of row names with hashed lookup: the store's /names (has_name,
 * find), duplicate checks in merge, and row matching in diff. */
#ifndef OIQA_IO_NAMEINDEX_H
#define OIQA_IO_NAMEINDEX_H

#include <stdint.h>

typedef struct {
    char **names;    /* n names in insertion order (owned) */
    int64_t n, cap;
    int64_t *slots;  /* open addressing: index + 1, 0 = empty */
    int64_t nslots;  /* a power of two, at least 2n */
} oiqa_name_index;

/* Appends a copy of name (duplicates are the caller's business: check with
 * find first). 0 on success, -1 when out of memory. */
int oiqa_name_index_add(oiqa_name_index *ix, const char *name);
/* Position of name, or -1. */
int64_t oiqa_name_index_find(const oiqa_name_index *ix, const char *name);
void oiqa_name_index_free(oiqa_name_index *ix);

#endif
