/* String buffer, escaping, quoting, whole-file reads, mkdir -p and clocks. */
#include "check.h"
#include "base/error.h"
#include "base/strutil.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char g_tmp[64];

static const char *tmp_path(const char *name)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s/%s", g_tmp, name);
    return buf;
}


static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fputs(text, f);
    fclose(f);
}

static void t_dup_and_printf(void)
{
    char *a = oiqa_strdup("hello");
    char *b = oiqa_strndup("hello", 3);
    char *c = oiqa_strndup("hi", 10);
    char *d = oiqa_asprintf("%s=%d/%.2f", "x", 42, 1.5);
    CHECK_STR(a, "hello");
    CHECK_STR(b, "hel");
    CHECK_STR(c, "hi");
    CHECK_STR(d, "x=42/1.50");
    CHECK(oiqa_strdup(NULL) == NULL);
    free(a), free(b), free(c), free(d);
}

static void t_sbuf_grows(void)
{
    oiqa_sbuf b = {0};
    for (int i = 0; i < 1000; i++) oiqa_sbuf_appendf(&b, "%d,", i % 10);
    CHECK(b.len == 2000);
    CHECK(strlen(b.s) == 2000);
    CHECK(!strncmp(b.s, "0,1,2,3,", 8));
    CHECK(!strcmp(b.s + 1990, "5,6,7,8,9,"));
    oiqa_sbuf_append(&b, "");
    CHECK(b.len == 2000);
    free(b.s);
}

static void t_json_string(void)
{
    oiqa_sbuf b = {0};
    oiqa_sbuf_append_json_string(&b, "a\"b\\c\nd\te\x01 \xc3\xa9");
    CHECK_STR(b.s, "\"a\\\"b\\\\c\\nd\\te\\u0001 \xc3\xa9\"");
    b.len = 0;
    oiqa_sbuf_append_json_string(&b, "");
    CHECK_STR(b.s, "\"\"");
    b.len = 0;
    oiqa_sbuf_append_json_string(&b, NULL);
    CHECK_STR(b.s, "null");
    free(b.s);
}

static void t_shell_word(void)
{
    static const struct { const char *in, *out; } cases[] = {
        {"oiqa-viewports", "oiqa-viewports"},
        {"data/x_1.png", "data/x_1.png"},
        {"--set=size=224", "--set=size=224"},
        {"", "''"},
        {"two words", "'two words'"},
        {"it's", "'it'\\''s'"},
        {"$HOME", "'$HOME'"},
        {"centers=[{lon: 0}]", "'centers=[{lon: 0}]'"},
        {"a*b", "'a*b'"},
        {"~user", "'~user'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        oiqa_sbuf b = {0};
        oiqa_sbuf_append_shell_word(&b, cases[i].in);
        CHECK_MSG(b.s && !strcmp(b.s, cases[i].out), "%s -> %s, expected %s", cases[i].in, b.s, cases[i].out);
        free(b.s);
    }
}

static void t_read_file_ok(void)
{
    const char *p = tmp_path("hello.txt");
    write_text(p, "hello\n");
    uint8_t *data = NULL;
    size_t size = 0;
    CHECK(oiqa_read_file(p, 1024, &data, &size) == OIQA_OK);
    CHECK(size == 6);
    CHECK(data && data[6] == '\0'); /* NUL-terminated for text use */
    CHECK(data && !memcmp(data, "hello\n", 6));
    free(data);
    /* Exactly at the bound is fine; one byte less is not. */
    CHECK(oiqa_read_file(p, 6, &data, &size) == OIQA_OK);
    free(data);
    CHECK(oiqa_read_file(p, 5, &data, &size) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s: larger than 5 bytes", p));
    CHECK(data == NULL);
}

static void t_read_file_errors(void)
{
    uint8_t *data = (uint8_t *)"x";
    size_t size = 1;
    const char *missing = tmp_path("missing.txt");
    CHECK(oiqa_read_file(missing, 0, &data, &size) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s: no such file", missing));
    CHECK(data == NULL && size == 0);

    CHECK(oiqa_read_file(g_tmp, 0, &data, &size) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s: is a directory", g_tmp));

    const char *empty = tmp_path("empty.txt");
    write_text(empty, "");
    CHECK(oiqa_read_file(empty, 0, &data, &size) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s: empty file", empty));

    const char *fifo = tmp_path("fifo");
    if (mkfifo(fifo, 0600) == 0) { /* must not block */
        CHECK(oiqa_read_file(fifo, 0, &data, &size) == OIQA_EXIT_DATA);
        CHECK_STR(oiqa_errmsg(), check_fmt("%s: not a regular file", fifo));
        unlink(fifo);
    }
}

/* Expects "PATH: permission denied" for a file mode 000. */
static int permission_denied_reported(const char *p)
{
    uint8_t *data;
    size_t size;
    return oiqa_read_file(p, 0, &data, &size) == OIQA_EXIT_DATA &&
           !strcmp(oiqa_errmsg(), check_fmt("%s: permission denied", p));
}

static void t_read_file_permission(void)
{
    const char *p = tmp_path("secret.txt");
    write_text(p, "x");
    chmod(p, 0);
    if (geteuid() != 0) {
        CHECK_MSG(permission_denied_reported(p), "message: %s", oiqa_errmsg());
        return;
    }
    /* root reads anything: check as an unprivileged user in a child. */
    pid_t pid = fork();
    if (pid == 0) {
        if (setgid(65534) != 0 || setuid(65534) != 0) _exit(3);
        _exit(permission_denied_reported(p) ? 0 : 1);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 3) {
        SKIP("cannot drop root privileges to test permissions");
        return;
    }
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static void t_mkdir(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/a/b//c/", g_tmp);
    CHECK(oiqa_mkdir_p(p) == OIQA_OK);
    CHECK(is_dir(tmp_path("a/b/c")));
    CHECK(oiqa_mkdir_p(p) == OIQA_OK); /* existing is fine */
    CHECK(oiqa_mkdir_p("") == OIQA_OK);

    snprintf(p, sizeof p, "%s/x/y/out.h5", g_tmp);
    CHECK(oiqa_mkdir_parent(p) == OIQA_OK);
    CHECK(is_dir(tmp_path("x/y")));
    CHECK(!is_dir(p));
    CHECK(oiqa_mkdir_parent("plain.h5") == OIQA_OK);

    char file[256];
    snprintf(file, sizeof file, "%s", tmp_path("a/file"));
    write_text(file, "x");
    snprintf(p, sizeof p, "%s/sub", file);
    CHECK(oiqa_mkdir_p(p) == OIQA_EXIT_DATA);
    CHECK_STR(oiqa_errmsg(), check_fmt("%s: exists and is not a directory", file));
}

static void t_clocks(void)
{
    char now[32];
    time_t before = time(NULL);
    oiqa_utc_now(now);
    CHECK(strlen(now) == 20);
    /* YYYY-MM-DDTHH:MM:SSZ */
    const char *shape = "dddd-dd-ddTdd:dd:ddZ";
    for (int i = 0; i < 20; i++)
        CHECK_MSG(shape[i] == 'd' ? isdigit((unsigned char)now[i]) : now[i] == shape[i], "'%s' at %d", now, i);
    struct tm tm;
    gmtime_r(&before, &tm);
    CHECK(atoi(now) == tm.tm_year + 1900 || atoi(now) == tm.tm_year + 1901); /* around New Year */

    double t0 = oiqa_now_seconds();
    usleep(20000);
    double t1 = oiqa_now_seconds();
    CHECK(t1 - t0 >= 0.015);
    CHECK(t1 - t0 < 5);
}

static void cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_tmp);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", g_tmp);
}

/* Atomic text files: written whole or not at all, never over an existing
 * file without force, no .partial left behind either way. */
static void t_atomic_file(void)
{
    char path[300], partial[320];
    snprintf(path, sizeof path, "%s/atomic.csv", g_tmp);
    snprintf(partial, sizeof partial, "%s.partial", path);
    oiqa_atomic_file a;
    CHECK(oiqa_atomic_open(&a, path, 0) == OIQA_OK);
    CHECK(access(partial, F_OK) == 0 && access(path, F_OK) != 0);
    fputs("name,mos\na.png,1\n", a.f);
    CHECK(oiqa_atomic_commit(&a) == OIQA_OK);
    CHECK(access(partial, F_OK) != 0);
    uint8_t *data = NULL;
    size_t n = 0;
    CHECK(oiqa_read_file(path, 1 << 20, &data, &n) == OIQA_OK && n == 17 && !memcmp(data, "name,mos\na.png,1\n", 17));
    free(data);
    CHECK(oiqa_atomic_open(&a, path, 0) == OIQA_EXIT_USAGE && strstr(oiqa_errmsg(), "exists"));
    CHECK(oiqa_atomic_open(&a, path, 1) == OIQA_OK);
    fputs("half", a.f);
    oiqa_atomic_abort(&a);
    CHECK(access(partial, F_OK) != 0);
    CHECK(oiqa_read_file(path, 1 << 20, &data, &n) == OIQA_OK && n == 17); /* the old file is untouched */
    free(data);
    char nodir[320];
    snprintf(nodir, sizeof nodir, "%s/no/such/dir.csv", g_tmp);
    CHECK(oiqa_atomic_open(&a, nodir, 0) == OIQA_EXIT_DATA && strstr(oiqa_errmsg(), "cannot create"));
}

int main(void)
{
    snprintf(g_tmp, sizeof g_tmp, "/tmp/oiqa_test_strutil_XXXXXX");
    if (!mkdtemp(g_tmp)) return 1;
    RUN(t_dup_and_printf);
    RUN(t_sbuf_grows);
    RUN(t_json_string);
    RUN(t_shell_word);
    RUN(t_read_file_ok);
    RUN(t_read_file_errors);
    RUN(t_read_file_permission);
    RUN(t_mkdir);
    RUN(t_clocks);
    RUN(t_atomic_file);
    cleanup();
    return check_done();
}
