/* A YAML document read through libyaml into a small tree that remembers
 * where each node came from, so typed getters can say "FILE:LINE: key 'size':
 * expected an integer, got 'big'". Anchors/aliases and tags are refused. */
#ifndef OIQA_BASE_YAML_H
#define OIQA_BASE_YAML_H

#include <stddef.h>

typedef enum { OIQA_YAML_SCALAR, OIQA_YAML_MAP, OIQA_YAML_SEQ } oiqa_yaml_kind;

typedef struct oiqa_yaml_node oiqa_yaml_node;
struct oiqa_yaml_node {
    oiqa_yaml_kind kind;
    int line;                /* 1-based line in the source */
    const char *source;      /* file name or "--set" (owned by the document) */
    char *scalar;            /* SCALAR: the text; NULL otherwise */
    int quoted;              /* SCALAR: written in quotes (always a string) */
    size_t n;                /* MAP: pairs; SEQ: items */
    char **keys;             /* MAP: n keys */
    int *key_lines;          /* MAP: line of each key */
    oiqa_yaml_node **items;  /* MAP: n values; SEQ: n items */
};

typedef struct {
    oiqa_yaml_node *root;    /* NULL for an empty document */
    char *source;
} oiqa_yaml_doc;

/* Parses a file / a string (source names it in messages). Returns OIQA_OK or
 * an exit code (OIQA_EXIT_USAGE for syntax errors, OIQA_EXIT_DATA for I/O)
 * with the message set. Free with oiqa_yaml_free. */
int oiqa_yaml_load_file(const char *path, oiqa_yaml_doc *doc);
int oiqa_yaml_load_string(const char *text, size_t len, const char *source, oiqa_yaml_doc *doc);
void oiqa_yaml_free(oiqa_yaml_doc *doc);

/* MAP lookup; NULL when absent. */
const oiqa_yaml_node *oiqa_yaml_get(const oiqa_yaml_node *map, const char *key);

/* Typed reading of a node. `what` names it in messages (usually the key).
 * Errors: OIQA_EXIT_USAGE, message "SOURCE:LINE: key 'WHAT': expected ..., got '...'".
 * Quoted scalars are strings: `size: "224"` is not an integer. Integers are
 * decimal ("1.5", "12abc" and overflow are refused); numbers are decimal with
 * an optional exponent (no inf/nan, no hex); bools are true/false, yes/no,
 * on/off, 1/0 (any case). as_string gives NULL for a plain null (~, null,
 * nothing after the colon) and refuses maps and lists. */
int oiqa_yaml_as_int(const oiqa_yaml_node *n, const char *what, long *out);
int oiqa_yaml_as_double(const oiqa_yaml_node *n, const char *what, double *out);
int oiqa_yaml_as_bool(const oiqa_yaml_node *n, const char *what, int *out);
int oiqa_yaml_as_string(const oiqa_yaml_node *n, const char *what, const char **out);

/* Refuses keys of `map` not in the NULL-terminated `known` list:
 * "SOURCE:LINE: unknown key 'sise' (known: a, b, c)"; with `where` (may be
 * NULL) "... unknown key 'sise' in WHERE (known: ...)". A `where` ending in
 * '.' is the map's key prefix instead, for nested maps named by dotted keys:
 * "... unknown key 'model.sise' (known: ...)". A NULL map (empty document) is
 * fine; a node that is not a map is refused. */
int oiqa_yaml_check_keys(const oiqa_yaml_node *map, const char *const *known, const char *where);

/* Writes a node as single-line flow YAML ("[{lon: 0, lat: 0}]") into a
 * malloc'ed string; strings are double-quoted where they need it (and quoted
 * scalars that would otherwise read as numbers, bools or null). NULL: "null". */
char *oiqa_yaml_to_flow(const oiqa_yaml_node *n);

/* A string as a YAML scalar that reads back as that same string: plain when
 * safe, else double-quoted with escapes. malloc'ed. */
char *oiqa_yaml_quote_string(const char *s);

/* The scalar rules of the getters above, for text that did not come from a
 * document (the command line): 0 when text is valid, -1 otherwise. */
int oiqa_yaml_parse_int(const char *text, long *out);
int oiqa_yaml_parse_double(const char *text, double *out);
int oiqa_yaml_parse_bool(const char *text, int *out);
int oiqa_yaml_is_null_text(const char *text); /* "", "~", "null", "Null", "NULL" */

/* How messages show a node: "'big'", "'224' (quoted, so a string)",
 * "nothing" (empty or NULL), "a map", "a list". */
void oiqa_yaml_describe(const oiqa_yaml_node *n, char *out, size_t cap);

/* Sets "SOURCE:LINE: key 'WHAT': expected EXPECTED, got 'TEXT'" (or "got a
 * map", "got a list", "got nothing") and returns OIQA_EXIT_USAGE; for callers
 * with their own checks (ranges, choices). */
int oiqa_yaml_type_error(const oiqa_yaml_node *n, const char *what, const char *expected);

#endif
