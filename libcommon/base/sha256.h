/* SHA-256 (FIPS 180-4) for provenance: the sha256 of every input file. */
#ifndef OIQA_BASE_SHA256_H
#define OIQA_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t h[8];
    uint64_t nbytes;
    uint8_t buf[64];
    size_t nbuf;
} oiqa_sha256;

void oiqa_sha256_init(oiqa_sha256 *s);
void oiqa_sha256_update(oiqa_sha256 *s, const void *data, size_t n);
void oiqa_sha256_final(oiqa_sha256 *s, uint8_t digest[32]);

/* Hex digest (64 chars + NUL) of a buffer / of a file's contents. */
void oiqa_sha256_hex(const void *data, size_t n, char hex[65]);
int oiqa_sha256_file(const char *path, char hex[65]); /* OIQA_OK or OIQA_EXIT_DATA */

#endif
