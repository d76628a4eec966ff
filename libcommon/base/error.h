/* Errors: exit codes of DESIGN §7 and a per-thread one-line message.
 *
 * Library functions return an int: OIQA_OK (0) on success, or the exit code
 * the failure deserves (OIQA_EXIT_DATA for bad data or runtime failures,
 * OIQA_EXIT_USAGE for usage errors). Before returning a failure they set the
 * calling thread's message with oiqa_fail(), which starts with the file it is
 * about: "data/x.png: not an image (truncated PNG)". A tool prints it as
 * "oiqa-viewports: error: data/x.png: ...". */
#ifndef OIQA_BASE_ERROR_H
#define OIQA_BASE_ERROR_H

#include <stddef.h>

enum {
    OIQA_OK = 0,
    OIQA_EXIT_DATA = 1,  /* bad data or runtime failure */
    OIQA_EXIT_USAGE = 2, /* usage error: bad option, bad config, existing output */
};

#define OIQA_ERRMSG_MAX 1024

/* A failure captured for later reporting (e.g. from a worker thread). */
typedef struct {
    int code;
    char msg[OIQA_ERRMSG_MAX];
} oiqa_error;

/* Sets this thread's message to "PATH: FORMAT..." (PATH may be NULL) and
 * returns code, so callers write `return oiqa_fail(OIQA_EXIT_DATA, path, "...")`. */
int oiqa_fail(int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes this thread's message with "PREFIX: " (adds context while unwinding). */
void oiqa_fail_prefix(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* This thread's last message ("" when none). */
const char *oiqa_errmsg(void);

/* Copies this thread's message into e with code; restores it with oiqa_error_restore. */
void oiqa_error_capture(oiqa_error *e, int code);
int oiqa_error_restore(const oiqa_error *e);

/* strerror(errno) without the thread-safety trap of strerror(). */
const char *oiqa_strerror(int errnum);

#endif
