/* A small strict JSON parser (RFC 8259) for checkpoint headers: objects,
 * arrays, strings (all escapes, \u surrogate pairs to UTF-8) and integers
 * that fit int64. Floats, true, false and null are refused: safetensors
 * headers do not use them. Nesting is capped at OIQA_JSON_MAX_DEPTH. The
 * tree is owned by its root (oiqa_json_free). */
#ifndef OIQA_IO_JSON_MINI_H
#define OIQA_IO_JSON_MINI_H

#include <stddef.h>
#include <stdint.h>

#define OIQA_JSON_MAX_DEPTH 32

typedef enum { OIQA_JSON_OBJECT, OIQA_JSON_ARRAY, OIQA_JSON_STRING, OIQA_JSON_INT } oiqa_json_type;

typedef struct oiqa_json oiqa_json;
struct oiqa_json {
    oiqa_json_type type;
    char *str;          /* OIQA_JSON_STRING: NUL-terminated UTF-8 */
    size_t len;         /* its bytes */
    int64_t i;          /* OIQA_JSON_INT */
    char **keys;        /* OIQA_JSON_OBJECT: n keys, in file order */
    oiqa_json *kids;    /* n members / elements */
    int n, cap;
};

/* Parses text[0, len) as one value (surrounding whitespace allowed). On
 * failure returns NULL and writes "what at byte N" into err. */
oiqa_json *oiqa_json_parse(const char *text, size_t len, char *err, size_t err_cap);
void oiqa_json_free(oiqa_json *v);
/* Member of an object by key (the first), or NULL. */
const oiqa_json *oiqa_json_get(const oiqa_json *obj, const char *key);

#endif
