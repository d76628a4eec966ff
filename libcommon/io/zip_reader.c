/* Zip central directory reader (PKWARE APPNOTE.TXT 6.3, sections cited
 * inline). The archive is a buffer; nothing is read outside [0, len). */
#include "io/zip_reader.h"

#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_LOCAL 0x04034b50u /* 4.3.7 local file header */
#define SIG_CENTRAL 0x02014b50u /* 4.3.12 central directory file header */
#define SIG_EOCD 0x06054b50u /* 4.3.16 end of central directory record */
#define SIG_EOCD64 0x06064b50u /* 4.3.14 zip64 end of central directory record */
#define SIG_LOC64 0x07064b50u /* 4.3.15 zip64 end of central directory locator */
#define EOCD_SIZE 22
#define LOC64_SIZE 20
#define EOCD64_MIN 56
#define CENTRAL_SIZE 46
#define LOCAL_SIZE 30
#define ZIP64_EXTRA_ID 0x0001 /* 4.5.3 */

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const uint8_t *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

/* True when [off, off+n) lies inside a buffer of len bytes (no overflow). */
static int fits(uint64_t off, uint64_t n, uint64_t len) { return off <= len && n <= len - off; }

/* The EOCD is the last thing in the file, followed only by its comment
 * (at most 65535 bytes), so it is searched backwards from the end. */
static int find_eocd(const uint8_t *b, uint64_t len, uint64_t *at)
{
    if (len < EOCD_SIZE) return 0;
    uint64_t lo = len - EOCD_SIZE > 65535 ? len - EOCD_SIZE - 65535 : 0;
    for (uint64_t i = len - EOCD_SIZE + 1; i-- > lo;) {
        if (rd32(b + i) == SIG_EOCD && (uint64_t)rd16(b + i + 20) <= len - EOCD_SIZE - i) {
            *at = i;
            return 1;
        }
    }
    return 0;
}

/* Reads the ZIP64 fields of a central header's extra area (4.5.3): each
 * field is present only when its 32-bit counterpart is 0xFFFFFFFF. */
static int read_zip64_extra(const uint8_t *ex, uint32_t ex_len, uint64_t *usize, uint64_t *csize, uint64_t *lho,
                            int need_u, int need_c, int need_o)
{
    uint32_t p = 0;
    while (p + 4 <= ex_len) {
        uint16_t id = rd16(ex + p), sz = rd16(ex + p + 2);
        if ((uint32_t)sz > ex_len - p - 4) return 0;
        if (id == ZIP64_EXTRA_ID) {
            const uint8_t *f = ex + p + 4;
            uint32_t need = 8u * (uint32_t)(need_u + need_c + need_o), q = 0;
            if (sz < need) return 0;
            if (need_u) *usize = rd64(f + q), q += 8;
            if (need_c) *csize = rd64(f + q), q += 8;
            if (need_o) *lho = rd64(f + q);
            return 1;
        }
        p += 4u + sz;
    }
    return !(need_u || need_c || need_o);
}

static int fail(oiqa_zip *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(oiqa_zip *z, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    int rc = oiqa_fail(OIQA_EXIT_DATA, z->path, "not a valid zip archive (%s)", buf);
    oiqa_zip_close(z);
    return rc;
}

/* Reads the central directory location, from the ZIP64 record when the
 * classic EOCD says its fields overflowed (or a locator precedes it). */
static int read_eocd(oiqa_zip *z, uint64_t eocd, uint64_t *n_entries, uint64_t *cd_off, uint64_t *cd_size)
{
    const uint8_t *b = z->base, *e = b + eocd;
    *n_entries = rd16(e + 10);
    *cd_size = rd32(e + 12);
    *cd_off = rd32(e + 16);
    if (rd16(e + 4) != 0 || rd16(e + 6) != 0) return fail(z, "multi-disk archive");
    /* 4.4.1.4: a classic field too small for its value is set to all ones
     * and the ZIP64 record holds it; torch writes both records always, so
     * the two must agree where the classic field is not saturated. */
    if (eocd >= LOC64_SIZE && rd32(b + eocd - LOC64_SIZE) == SIG_LOC64) {
        uint64_t r = rd64(b + eocd - LOC64_SIZE + 8);
        if (!fits(r, EOCD64_MIN, eocd) || rd32(b + r) != SIG_EOCD64)
            return fail(z, "ZIP64 end of central directory record missing at %llu", (unsigned long long)r);
        uint64_t n64 = rd64(b + r + 32), size64 = rd64(b + r + 40), off64 = rd64(b + r + 48);
        if ((*n_entries != 0xFFFF && *n_entries != n64) || (*cd_size != 0xFFFFFFFFu && *cd_size != size64) ||
            (*cd_off != 0xFFFFFFFFu && *cd_off != off64))
            return fail(z,
                        "the end of central directory records disagree on the central directory (offset %llu vs %llu)",
                        (unsigned long long)*cd_off, (unsigned long long)off64);
        *n_entries = n64, *cd_size = size64, *cd_off = off64;
    }
    if (!fits(*cd_off, *cd_size, z->len))
        return fail(z, "central directory at %llu, %llu bytes, runs past the end of the file (%llu bytes)",
                    (unsigned long long)*cd_off, (unsigned long long)*cd_size, (unsigned long long)z->len);
    if (*n_entries > *cd_size / CENTRAL_SIZE)
        return fail(z, "central directory of %llu bytes cannot hold %llu entries", (unsigned long long)*cd_size,
                    (unsigned long long)*n_entries);
    return OIQA_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(((const oiqa_zip_entry *)a)->name, ((const oiqa_zip_entry *)b)->name);
}

int oiqa_zip_open(oiqa_zip *z, const char *path, const uint8_t *base, uint64_t len)
{
    memset(z, 0, sizeof *z);
    z->path = path, z->base = base, z->len = len;
    uint64_t eocd, n, cd_off, cd_size;
    if (!find_eocd(base, len, &eocd)) return fail(z, "no end of central directory record; truncated?");
    int rc = read_eocd(z, eocd, &n, &cd_off, &cd_size);
    if (rc) return rc;
    z->entries = calloc(n ? n : 1, sizeof *z->entries);
    if (!z->entries) return fail(z, "out of memory for %llu entries", (unsigned long long)n);
    uint64_t p = cd_off, cd_end = cd_off + cd_size;
    for (uint64_t i = 0; i < n; i++) {
        if (!fits(p, CENTRAL_SIZE, cd_end) || rd32(base + p) != SIG_CENTRAL)
            return fail(z, "bad central directory header at %llu", (unsigned long long)p);
        const uint8_t *h = base + p;
        uint32_t name_len = rd16(h + 28), ex_len = rd16(h + 30), cm_len = rd16(h + 32);
        if (!fits(p + CENTRAL_SIZE, (uint64_t)name_len + ex_len + cm_len, cd_end))
            return fail(z, "central directory header at %llu overruns the directory", (unsigned long long)p);
        uint64_t csize = rd32(h + 20), usize = rd32(h + 24), lho = rd32(h + 42);
        if (!read_zip64_extra(h + CENTRAL_SIZE + name_len, ex_len, &usize, &csize, &lho, usize == 0xFFFFFFFFu,
                              csize == 0xFFFFFFFFu, lho == 0xFFFFFFFFu))
            return fail(z, "bad ZIP64 extra field at %llu", (unsigned long long)p);
        oiqa_zip_entry *e = &z->entries[z->n];
        e->name = malloc(name_len + 1u);
        if (!e->name) return fail(z, "out of memory");
        memcpy(e->name, h + CENTRAL_SIZE, name_len);
        e->name[name_len] = 0;
        z->n++;
        e->method = rd16(h + 10);
        e->comp_size = csize, e->size = usize;
        /* The data follows the local header, whose name and extra lengths
         * may differ from the central ones (torch pads the local extra). */
        if (!fits(lho, LOCAL_SIZE, len) || rd32(base + lho) != SIG_LOCAL)
            return fail(z, "%s: no local header at offset %llu", e->name, (unsigned long long)lho);
        uint64_t data = lho + LOCAL_SIZE + rd16(base + lho + 26) + rd16(base + lho + 28);
        if (!fits(data, csize, len))
            return fail(z, "%s: %llu bytes of data at %llu run past the end of the file", e->name,
                        (unsigned long long)csize, (unsigned long long)data);
        if (e->method == 0 && csize != usize)
            return fail(z, "%s: stored entry with sizes %llu and %llu", e->name, (unsigned long long)csize,
                        (unsigned long long)usize);
        e->data_offset = data;
        p += CENTRAL_SIZE + (uint64_t)name_len + ex_len + cm_len;
    }
    /* Sorted by name for oiqa_zip_find: a torch file has one entry per
     * storage, and a linear search per tensor would be quadratic. */
    qsort(z->entries, (size_t)z->n, sizeof *z->entries, by_name);
    return OIQA_OK;
}

const oiqa_zip_entry *oiqa_zip_find(const oiqa_zip *z, const char *name)
{
    oiqa_zip_entry key = {.name = (char *)name};
    return z->n ? bsearch(&key, z->entries, (size_t)z->n, sizeof key, by_name) : NULL;
}

const uint8_t *oiqa_zip_stored_data(const oiqa_zip *z, const oiqa_zip_entry *e)
{
    if (e->method != 0) {
        oiqa_fail(OIQA_EXIT_DATA, z->path, "zip entry %s is compressed (method %d); only stored entries are read",
                  e->name, e->method);
        return NULL;
    }
    return z->base + e->data_offset;
}

void oiqa_zip_close(oiqa_zip *z)
{
    for (int i = 0; i < z->n; i++) free(z->entries[i].name);
    free(z->entries);
    z->entries = NULL;
    z->n = 0;
}
