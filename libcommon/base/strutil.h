/* Small string and file helpers shared by the tools. */
#ifndef OIQA_BASE_STRUTIL_H
#define OIQA_BASE_STRUTIL_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Allocation that aborts with a message when memory runs out (for the small
 * bookkeeping allocations where there is no sensible way to go on). */
void *oiqa_xmalloc(size_t n);
void *oiqa_xcalloc(size_t count, size_t size);
void *oiqa_xrealloc(void *p, size_t n);

/* NULL in, NULL out. */
char *oiqa_strdup(const char *s);
char *oiqa_strndup(const char *s, size_t n);
/* printf into a malloc'ed string. */
char *oiqa_asprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Growable string buffer: start with {0}; b.s is NUL-terminated (NULL while
 * nothing was appended); free(b.s) when done. */
typedef struct { char *s; size_t len, cap; } oiqa_sbuf;
void oiqa_sbuf_append(oiqa_sbuf *b, const char *text);
void oiqa_sbuf_appendf(oiqa_sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void oiqa_sbuf_append_json_string(oiqa_sbuf *b, const char *text); /* with quotes and escapes; NULL: null */
void oiqa_sbuf_append_shell_word(oiqa_sbuf *b, const char *word);  /* single-quoted when needed */
/* The shortest decimal text that reads back as v (integers without exponent: 100, not 1e+02). */
void oiqa_sbuf_append_double(oiqa_sbuf *b, double v);

/* Reads a whole file (regular files only). Errors name the file:
 * "x: no such file", "x: is a directory", "x: empty file", "x: larger than
 * N bytes", "x: permission denied". max_bytes bounds the allocation (0: no
 * bound). *data is malloc'ed with a NUL after the last byte (not counted in
 * *size), so text can be used as a C string. OIQA_OK or OIQA_EXIT_DATA. */
int oiqa_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size);

/* Creates a directory and its parents (like mkdir -p); an existing directory
 * is fine. Errors name the component that could not be made. */
int oiqa_mkdir_p(const char *path);
/* root "/" name, one slash between them (root NULL or "": the name itself);
 * malloc'ed (aborts when out of memory, as oiqa_asprintf). */
char *oiqa_path_join(const char *root, const char *name);

/* mkdir -p of the directory part of a file path. */
int oiqa_mkdir_parent(const char *file_path);

/* Current UTC time as ISO-8601 ("2026-11-23T10:33:00Z"). */
void oiqa_utc_now(char out[32]);
/* Monotonic seconds. */
double oiqa_now_seconds(void);

/* A text file written atomically: the text goes to PATH.partial, which
 * oiqa_atomic_commit renames to PATH only when every write succeeded, so
 * PATH is never half-written (DESIGN §3, §7).
 *   oiqa_atomic_file a;
 *   if ((rc = oiqa_atomic_open(&a, path, force))) return rc;
 *   fprintf(a.f, ...);
 *   return oiqa_atomic_commit(&a);
 * open refuses an existing PATH unless force (a usage error naming it);
 * commit (or abort) closes, frees, and removes the .partial on failure. */
typedef struct {
    FILE *f;
    char *path, *tmp;
} oiqa_atomic_file;

int oiqa_atomic_open(oiqa_atomic_file *a, const char *path, int force);
int oiqa_atomic_commit(oiqa_atomic_file *a);
void oiqa_atomic_abort(oiqa_atomic_file *a);

#endif
