#include "base/strutil.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- allocation ------------------------------------------------------- */

/* Small allocations failing means the machine is out of memory: there is
 * nothing sensible left to do, and a clear message beats a NULL dereference. */
static void out_of_memory(size_t n)
{
    fprintf(stderr, "oiqa: out of memory (allocating %zu bytes)\n", n);
    abort();
}

void *oiqa_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory(n);
    return p;
}

void *oiqa_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) out_of_memory(count * size);
    return p;
}

void *oiqa_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory(n);
    return q;
}

char *oiqa_strdup(const char *s)
{
    if (!s) return NULL;
    return oiqa_strndup(s, strlen(s));
}

char *oiqa_strndup(const char *s, size_t n)
{
    if (!s) return NULL;
    size_t len = strnlen(s, n);
    char *d = oiqa_xmalloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

static char *vasprintf_alloc(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) n = 0;
    char *s = oiqa_xmalloc((size_t)n + 1);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

char *oiqa_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vasprintf_alloc(fmt, ap);
    va_end(ap);
    return s;
}

/* ---- string buffer ---------------------------------------------------- */

static void sbuf_reserve(oiqa_sbuf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    if (need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < need) cap *= 2;
    b->s = oiqa_xrealloc(b->s, cap);
    b->cap = cap;
}

static void sbuf_append_n(oiqa_sbuf *b, const char *text, size_t n)
{
    sbuf_reserve(b, n);
    memcpy(b->s + b->len, text, n);
    b->len += n;
    b->s[b->len] = '\0';
}

static void sbuf_append_char(oiqa_sbuf *b, char c) { sbuf_append_n(b, &c, 1); }

void oiqa_sbuf_append(oiqa_sbuf *b, const char *text)
{
    sbuf_append_n(b, text ? text : "", text ? strlen(text) : 0);
}

void oiqa_sbuf_appendf(oiqa_sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vasprintf_alloc(fmt, ap);
    va_end(ap);
    oiqa_sbuf_append(b, s);
    free(s);
}

void oiqa_sbuf_append_json_string(oiqa_sbuf *b, const char *text)
{
    if (!text) {
        oiqa_sbuf_append(b, "null");
        return;
    }
    sbuf_append_char(b, '"');
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        switch (*p) {
        case '"': oiqa_sbuf_append(b, "\\\""); break;
        case '\\': oiqa_sbuf_append(b, "\\\\"); break;
        case '\b': oiqa_sbuf_append(b, "\\b"); break;
        case '\f': oiqa_sbuf_append(b, "\\f"); break;
        case '\n': oiqa_sbuf_append(b, "\\n"); break;
        case '\r': oiqa_sbuf_append(b, "\\r"); break;
        case '\t': oiqa_sbuf_append(b, "\\t"); break;
        default:
            /* Other control characters must be escaped; UTF-8 passes through. */
            if (*p < 0x20) oiqa_sbuf_appendf(b, "\\u%04x", *p);
            else sbuf_append_char(b, (char)*p);
        }
    }
    sbuf_append_char(b, '"');
}

/* Characters that no POSIX shell treats specially inside a word. */
static int shell_safe_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           strchr("_@%+=:,./-", c) != NULL;
}

void oiqa_sbuf_append_shell_word(oiqa_sbuf *b, const char *word)
{
    if (!word) word = "";
    int safe = *word != '\0';
    for (const unsigned char *p = (const unsigned char *)word; *p && safe; p++)
        safe = shell_safe_char(*p);
    if (safe) {
        oiqa_sbuf_append(b, word);
        return;
    }
    /* Single quotes keep everything literal; a quote itself becomes '\''. */
    sbuf_append_char(b, '\'');
    for (const char *p = word; *p; p++) {
        if (*p == '\'') oiqa_sbuf_append(b, "'\\''");
        else sbuf_append_char(b, *p);
    }
    sbuf_append_char(b, '\'');
}

/* ---- files ------------------------------------------------------------ */

static int open_failure(const char *path, int err)
{
    if (err == ENOENT || err == ENOTDIR) return oiqa_fail(OIQA_EXIT_DATA, path, "no such file");
    if (err == EACCES || err == EPERM) return oiqa_fail(OIQA_EXIT_DATA, path, "permission denied");
    if (err == EISDIR) return oiqa_fail(OIQA_EXIT_DATA, path, "is a directory");
    return oiqa_fail(OIQA_EXIT_DATA, path, "cannot open (%s)", oiqa_strerror(err));
}

/* Reads exactly `size` bytes (or up to EOF if the file shrank meanwhile). */
static int read_all(int fd, const char *path, uint8_t *buf, size_t size, size_t *got)
{
    size_t off = 0;
    while (off < size) {
        ssize_t r = read(fd, buf + off, size - off);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return oiqa_fail(OIQA_EXIT_DATA, path, "read error (%s)", oiqa_strerror(errno));
        if (r == 0) break;
        off += (size_t)r;
    }
    *got = off;
    return OIQA_OK;
}

int oiqa_read_file(const char *path, size_t max_bytes, uint8_t **data, size_t *size)
{
    *data = NULL;
    *size = 0;
    if (!max_bytes) max_bytes = SIZE_MAX - 1;
    /* open first, then fstat: no window between the checks and the read.
     * O_NONBLOCK so that a FIFO is refused instead of blocking the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) return open_failure(path, errno);
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return oiqa_fail(OIQA_EXIT_DATA, path, "cannot stat (%s)", oiqa_strerror(e));
    }
    int rc = OIQA_OK;
    if (S_ISDIR(st.st_mode)) rc = oiqa_fail(OIQA_EXIT_DATA, path, "is a directory");
    else if (!S_ISREG(st.st_mode)) rc = oiqa_fail(OIQA_EXIT_DATA, path, "not a regular file");
    else if (st.st_size == 0) rc = oiqa_fail(OIQA_EXIT_DATA, path, "empty file");
    else if ((uint64_t)st.st_size > (uint64_t)max_bytes)
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "larger than %zu bytes", max_bytes);
    if (rc) {
        close(fd);
        return rc;
    }
    size_t want = (size_t)st.st_size;
    uint8_t *buf = malloc(want + 1);
    if (!buf) {
        close(fd);
        return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory reading %zu bytes", want);
    }
    size_t got = 0;
    rc = read_all(fd, path, buf, want, &got);
    close(fd);
    if (rc == OIQA_OK && got == 0) rc = oiqa_fail(OIQA_EXIT_DATA, path, "empty file");
    if (rc) {
        free(buf);
        return rc;
    }
    buf[got] = '\0'; /* text parsers may treat the data as a C string */
    *data = buf;
    *size = got;
    return OIQA_OK;
}

static int is_directory(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* mkdir of one level; an existing directory is fine. */
static int make_one_dir(const char *path)
{
    if (mkdir(path, 0777) == 0) return OIQA_OK;
    int e = errno;
    if (e == EEXIST) {
        if (is_directory(path)) return OIQA_OK;
        return oiqa_fail(OIQA_EXIT_DATA, path, "exists and is not a directory");
    }
    if (e == EACCES || e == EPERM)
        return oiqa_fail(OIQA_EXIT_DATA, path, "cannot create directory (permission denied)");
    return oiqa_fail(OIQA_EXIT_DATA, path, "cannot create directory (%s)", oiqa_strerror(e));
}

int oiqa_mkdir_p(const char *path)
{
    if (!path || !*path) return OIQA_OK;
    char *p = oiqa_strdup(path);
    size_t len = strlen(p);
    while (len > 1 && p[len - 1] == '/') p[--len] = '\0';
    int rc = OIQA_OK;
    /* Create each prefix ending before a '/', then the whole path. */
    for (char *s = p + 1; *s && rc == OIQA_OK; s++) {
        if (*s != '/' || s[-1] == '/') continue;
        *s = '\0';
        rc = make_one_dir(p);
        *s = '/';
    }
    /* A failure names the component that could not be made. */
    if (rc == OIQA_OK) rc = make_one_dir(p);
    free(p);
    return rc;
}

int oiqa_mkdir_parent(const char *file_path)
{
    const char *slash = file_path ? strrchr(file_path, '/') : NULL;
    if (!slash) return OIQA_OK; /* in the current directory */
    if (slash == file_path) return OIQA_OK; /* in / */
    char *dir = oiqa_strndup(file_path, (size_t)(slash - file_path));
    int rc = oiqa_mkdir_p(dir);
    free(dir);
    return rc;
}

void oiqa_sbuf_append_double(oiqa_sbuf *b, double v)
{
    char text[40];
    if (v > -1e15 && v < 1e15 && v == (double)(long long)v) { /* NaN and inf fail the range first */
        oiqa_sbuf_appendf(b, "%lld", (long long)v);
        return;
    }
    for (int digits = 1; digits <= 17; digits++) {
        snprintf(text, sizeof text, "%.*g", digits, v);
        if (strtod(text, NULL) == v) break;
    }
    oiqa_sbuf_append(b, text);
}

/* ---- time ------------------------------------------------------------- */

void oiqa_utc_now(char out[32])
{
    time_t t = time(NULL);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(out, 32, "1970-01-01T00:00:00Z");
}

double oiqa_now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int oiqa_atomic_open(oiqa_atomic_file *a, const char *path, int force)
{
    memset(a, 0, sizeof *a);
    if (!force && access(path, F_OK) == 0)
        return oiqa_fail(OIQA_EXIT_USAGE, path, "exists (use --force to overwrite)");
    a->path = oiqa_strdup(path);
    a->tmp = oiqa_asprintf("%s.partial", path);
    if (!(a->f = fopen(a->tmp, "w"))) {
        int rc = oiqa_fail(OIQA_EXIT_DATA, a->tmp, "cannot create: %s", oiqa_strerror(errno));
        oiqa_atomic_abort(a);
        return rc;
    }
    return OIQA_OK;
}

int oiqa_atomic_commit(oiqa_atomic_file *a)
{
    int bad = ferror(a->f) != 0;
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    int rc = OIQA_OK;
    if (bad) rc = oiqa_fail(OIQA_EXIT_DATA, a->path, "cannot write (disk full?)");
    else if (rename(a->tmp, a->path) != 0)
        rc = oiqa_fail(OIQA_EXIT_DATA, a->path, "cannot rename from .partial: %s", oiqa_strerror(errno));
    if (rc) remove(a->tmp);
    free(a->path), free(a->tmp);
    a->path = a->tmp = NULL;
    return rc;
}

void oiqa_atomic_abort(oiqa_atomic_file *a)
{
    if (a->f) fclose(a->f);
    if (a->tmp) remove(a->tmp);
    free(a->path), free(a->tmp);
    memset(a, 0, sizeof *a);
}

char *oiqa_path_join(const char *root, const char *name)
{
    if (!root || !*root) return oiqa_strdup(name);
    size_t n = strlen(root);
    return oiqa_asprintf("%s%s%s", root, root[n - 1] == '/' ? "" : "/", name);
}
