/* Helpers shared by the inspector's files (h5inspect*.c); not public. */
#ifndef OIQA_IO_H5INSPECT_INTERNAL_H
#define OIQA_IO_H5INSPECT_INTERNAL_H

#include <hdf5.h>

#include "base/strutil.h"

/* An attribute's value as text: numbers, "quoted strings" with escapes,
 * [lists]; shortened (long strings, more than 8 values) unless full. */
void oiqa_h5_attr_text(hid_t attr, int full, oiqa_sbuf *b);

/* Appends text with \n, \t, \", \\ and control characters escaped. */
void oiqa_h5_append_escaped(oiqa_sbuf *b, const char *text, size_t len);

/* Parses a Python-style slice "A:B", "A:", ":B", ":" or an integer "K"
 * (negative counts from the end) against an axis of length len.
 * 0 on success; *single = 1 for an integer index. */
int oiqa_h5_parse_slice(const char *text, size_t text_len, hsize_t len, hsize_t *start, hsize_t *count,
                        int *single);

/* Elements per block when reading datasets (8 MiB of doubles). */
#define OIQA_H5_BLOCK_ELEMS ((size_t)1 << 20)

#endif
