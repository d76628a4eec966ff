#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char g_msg[OIQA_ERRMSG_MAX];

/* Length actually written by snprintf into a buffer of `cap` bytes. */
static size_t written(int n, size_t cap)
{
    return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

int oiqa_fail(int code, const char *path, const char *fmt, ...)
{
    size_t n = 0;
    if (path && *path) n = written(snprintf(g_msg, sizeof g_msg, "%s: ", path), sizeof g_msg);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_msg + n, sizeof g_msg - n, fmt, ap);
    va_end(ap);
    return code;
}

void oiqa_fail_prefix(const char *fmt, ...)
{
    char old[OIQA_ERRMSG_MAX];
    memcpy(old, g_msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    size_t n = written(vsnprintf(g_msg, sizeof g_msg, fmt, ap), sizeof g_msg);
    va_end(ap);
    /* Then ": " and the old message, cut to what still fits. */
    size_t room = sizeof g_msg - 1 - n, old_len = strnlen(old, sizeof old - 1);
    const char sep[] = ": ";
    size_t k = room < 2 ? room : 2;
    memcpy(g_msg + n, sep, k);
    n += k, room -= k;
    if (old_len > room) old_len = room;
    memcpy(g_msg + n, old, old_len);
    g_msg[n + old_len] = 0;
}

const char *oiqa_errmsg(void) { return g_msg; }

void oiqa_error_capture(oiqa_error *e, int code)
{
    e->code = code;
    memcpy(e->msg, g_msg, sizeof e->msg);
}

int oiqa_error_restore(const oiqa_error *e)
{
    memcpy(g_msg, e->msg, sizeof g_msg);
    return e->code;
}

const char *oiqa_strerror(int errnum)
{
    static _Thread_local char buf[256];
    /* GNU strerror_r may return a static string instead of filling buf. */
#if defined(__GLIBC__) && defined(_GNU_SOURCE)
    return strerror_r(errnum, buf, sizeof buf);
#else
    if (strerror_r(errnum, buf, sizeof buf) != 0)
        snprintf(buf, sizeof buf, "error %d", errnum);
    return buf;
#endif
}
