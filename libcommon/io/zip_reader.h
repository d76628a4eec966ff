/* Reading a zip archive held in memory (a mapped file): the central
 * directory and the place of each entry's data. PKWARE APPNOTE.TXT 6.3:
 * end of central directory record (4.3.16), ZIP64 EOCD locator and record
 * (4.3.14-15), central directory headers (4.3.12), local headers (4.3.7),
 * ZIP64 extended information extra field (4.5.3).
 *
 * Only what torch.save needs: stored entries (method 0) are located in
 * place; other methods are listed with their method so a caller can refuse
 * them. CRCs are not verified (the data is used in place). Every offset and
 * length is checked against the buffer size. */
#ifndef OIQA_IO_ZIP_READER_H
#define OIQA_IO_ZIP_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    char *name;            /* NUL-terminated copy of the entry name */
    int method;            /* 0 stored, 8 deflate, ... */
    uint64_t data_offset;  /* byte offset of the entry's data in the buffer */
    uint64_t comp_size;    /* bytes of data in the buffer */
    uint64_t size;         /* uncompressed size */
} oiqa_zip_entry;

typedef struct {
    const char *path;      /* for messages (not owned) */
    const uint8_t *base;   /* the archive's bytes (not owned) */
    uint64_t len;
    oiqa_zip_entry *entries;  /* sorted by name (not in archive order) */
    int n;
} oiqa_zip;

/* Parses the central directory of base[0, len). Returns OIQA_OK or
 * OIQA_EXIT_DATA with "path: ..." set; z is zeroed on failure. */
int oiqa_zip_open(oiqa_zip *z, const char *path, const uint8_t *base, uint64_t len);

/* The entry called name (binary search), or NULL. With duplicate names, any one of them. */
const oiqa_zip_entry *oiqa_zip_find(const oiqa_zip *z, const char *name);

/* The data of a stored entry (method 0) in place, or NULL with a message
 * naming the entry when it is compressed. */
const uint8_t *oiqa_zip_stored_data(const oiqa_zip *z, const oiqa_zip_entry *e);

void oiqa_zip_close(oiqa_zip *z);

#endif
