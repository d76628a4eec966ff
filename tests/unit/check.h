/* A tiny test harness. Each test binary runs named cases; each case prints
 *   PASS name | FAIL name: why | SKIP name: reason
 * and the binary exits 1 if any case failed. tests/run.sh counts the lines.
 *
 *   static void t_wrap(void) { CHECK(x == 1); CHECK_NEAR(a, b, 1e-6); }
 *   int main(void) { RUN(t_wrap); return check_done(); }  */
#ifndef OIQA_TEST_CHECK_H
#define OIQA_TEST_CHECK_H

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int check_case_failed, check_case_skipped, check_failures;
static const char *check_case_name;

#define CHECK(cond)                                                                      \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            if (!check_case_failed)                                                      \
                printf("FAIL %s: %s:%d: %s\n", check_case_name, __FILE__, __LINE__, #cond); \
            check_case_failed = 1;                                                       \
        }                                                                                \
    } while (0)

#define CHECK_MSG(cond, ...)                                                             \
    do {                                                                                 \
        if (!(cond)) {                                                                   \
            if (!check_case_failed) {                                                    \
                printf("FAIL %s: %s:%d: ", check_case_name, __FILE__, __LINE__);         \
                printf(__VA_ARGS__);                                                     \
                printf("\n");                                                            \
            }                                                                            \
            check_case_failed = 1;                                                       \
        }                                                                                \
    } while (0)

#define CHECK_NEAR(a, b, tol)                                                            \
    CHECK_MSG(fabs((double)(a) - (double)(b)) <= (tol), "%s = %.9g, %s = %.9g, tol %g",  \
              #a, (double)(a), #b, (double)(b), (double)(tol))

static inline int check_streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }
static inline const char *check_nonnull(const char *s) { return s ? s : "(null)"; }

#define CHECK_STR(a, b)                                                                  \
    CHECK_MSG(check_streq((a), (b)), "%s = \"%s\", expected \"%s\"", #a,   \
              check_nonnull(a), check_nonnull(b))

/* Marks the running case skipped (call, then return from the case). */
#define SKIP(...)                                                                        \
    do {                                                                                 \
        printf("SKIP %s: ", check_case_name);                                            \
        printf(__VA_ARGS__);                                                             \
        printf("\n");                                                                    \
        check_case_skipped = 1;                                                          \
    } while (0)

#define RUN(fn)                                                                          \
    do {                                                                                 \
        check_case_name = #fn;                                                           \
        check_case_failed = check_case_skipped = 0;                                      \
        fn();                                                                            \
        if (check_case_failed) check_failures++;                                         \
        else if (!check_case_skipped) printf("PASS %s\n", #fn);                          \
        fflush(stdout);                                                                  \
    } while (0)

/* printf into a static buffer, for expected messages. */
static inline const char *check_fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static inline const char *check_fmt(const char *f, ...)
{
    static char buf[1024];
    va_list ap;
    va_start(ap, f);
    vsnprintf(buf, sizeof buf, f, ap);
    va_end(ap);
    return buf;
}

static inline int check_done(void) { return check_failures ? 1 : 0; }

/* Path of a file in the shared fixtures ($OIQA_SHARED, default ../shared).
 * The result lives until 8 more calls (a ring of buffers). */
static inline const char *check_shared(const char *rel)
{
    static char ring[8][4096];
    static int next;
    char *buf = ring[next++ % 8];
    const char *root = getenv("OIQA_SHARED");
    snprintf(buf, sizeof ring[0], "%s/%s", root && *root ? root : "../shared", rel);
    return buf;
}

/* A temporary directory for a test binary's files: check_tmp_init() makes
 * it (exit 1 on failure), check_tmp("x.h5") names a file in it (a ring of 8
 * buffers, so several fit in one call), check_tmp_cleanup() removes it. */
static char check_tmp_dir[256];

static inline void check_tmp_init(void)
{
    snprintf(check_tmp_dir, sizeof check_tmp_dir, "/tmp/oiqa_test_XXXXXX");
    if (!mkdtemp(check_tmp_dir)) {
        printf("FAIL setup: cannot make a temporary directory\n");
        exit(1);
    }
}

static inline const char *check_tmp(const char *name)
{
    static char ring[8][512];
    static int next;
    char *buf = ring[next++ % 8];
    snprintf(buf, sizeof ring[0], "%s/%s", check_tmp_dir, name);
    return buf;
}

static inline int check_tmp_cleanup(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", check_tmp_dir);
    return system(cmd) == 0 ? 0 : 1;
}

#endif
