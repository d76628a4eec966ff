/* Progress output in both modes, captured from stderr: the plain lines and
 * their interval, the live bar with its redraw limit, -q silence, and
 * concurrent adds from OpenMP threads. */
#include "check.h"
#include "base/log.h"
#include "base/progress.h"
#include "base/strutil.h"

#include <fcntl.h>
#include <omp.h>
#include <unistd.h>

static char g_path[64];
static int g_saved_stderr = -1;
static char g_out[1 << 20];

/* stderr into a fresh temporary file until capture_end(). */
static void capture_begin(void)
{
    fflush(stderr);
    snprintf(g_path, sizeof g_path, "/tmp/oiqa_test_progress_XXXXXX");
    int fd = mkstemp(g_path);
    g_saved_stderr = dup(2);
    dup2(fd, 2);
    close(fd);
}

/* Restores stderr; returns what was written. */
static const char *capture_end(void)
{
    fflush(stderr);
    dup2(g_saved_stderr, 2);
    close(g_saved_stderr);
    FILE *f = fopen(g_path, "r");
    size_t n = f ? fread(g_out, 1, sizeof g_out - 1, f) : 0;
    if (f) fclose(f);
    g_out[n] = '\0';
    unlink(g_path);
    return g_out;
}

static int count_char(const char *s, char c)
{
    int n = 0;
    for (; *s; s++) n += *s == c;
    return n;
}

/* The n-th line (0-based) copied into buf. */
static const char *line_at(const char *text, int n, char *buf, size_t cap)
{
    for (; n > 0 && text; n--) {
        text = strchr(text, '\n');
        if (text) text++;
    }
    if (!text) return "";
    size_t len = strcspn(text, "\n");
    if (len >= cap) len = cap - 1;
    memcpy(buf, text, len);
    buf[len] = '\0';
    return buf;
}

static int starts_with(const char *s, const char *prefix) { return !strncmp(s, prefix, strlen(prefix)); }

static void t_plain_lines(void)
{
    oiqa_progress_force_tty(0);
    oiqa_progress_set_interval(0); /* a line per update */
    capture_begin();
    oiqa_progress *p = oiqa_progress_start("viewports", "img", 4);
    oiqa_progress_add(p, 1);
    oiqa_progress_add(p, 1);
    oiqa_progress_note(p, "loss 0.5");
    oiqa_progress_add(p, 1);
    oiqa_progress_add(p, 1);
    oiqa_progress_end(p);
    const char *out = capture_end();
    char l[256];
    CHECK_MSG(count_char(out, '\n') == 5 && !strchr(out, '\r'), "%s", out);
    CHECK_MSG(starts_with(line_at(out, 0, l, sizeof l), "viewports: 1/4 img (25%), "), "%s", l);
    CHECK_MSG(strstr(l, " img/s, ETA ") != NULL, "%s", l);
    CHECK_MSG(starts_with(line_at(out, 1, l, sizeof l), "viewports: 2/4 img (50%), "), "%s", l);
    line_at(out, 2, l, sizeof l);
    CHECK_MSG(starts_with(l, "viewports: 3/4 img (75%), ") && strstr(l, ", loss 0.5") == l + strlen(l) - 10, "%s", l);
    line_at(out, 3, l, sizeof l); /* done: no ETA */
    CHECK_MSG(starts_with(l, "viewports: 4/4 img (100%), ") && !strstr(l, "ETA"), "%s", l);
    line_at(out, 4, l, sizeof l);
    CHECK_MSG(starts_with(l, "viewports: 4/4 img in ") && strstr(l, " s, ") && strstr(l, " img/s, loss 0.5"), "%s", l);
}

static void t_plain_interval(void)
{
    oiqa_progress_force_tty(0);
    oiqa_progress_set_interval(5);
    capture_begin();
    oiqa_progress *p = oiqa_progress_start("hash", "file", 10);
    for (int i = 0; i < 10; i++) oiqa_progress_add(p, 1);
    oiqa_progress_end(p);
    const char *out = capture_end();
    /* Faster than the interval: only the final line. */
    CHECK_MSG(count_char(out, '\n') == 1 && starts_with(out, "hash: 10/10 file in "), "%s", out);

    oiqa_progress_set_interval(0.05);
    capture_begin();
    p = oiqa_progress_start("slow", "img", 3);
    oiqa_progress_add(p, 1); /* too soon: nothing */
    usleep(80000);
    oiqa_progress_add(p, 1); /* a line */
    oiqa_progress_end(p);
    out = capture_end();
    char l[256];
    int lines = count_char(out, '\n'); /* 2, or 3 on a machine too busy to be quick */
    CHECK_MSG(lines == 2 || lines == 3, "%s", out);
    CHECK_MSG(starts_with(line_at(out, lines - 2, l, sizeof l), "slow: 2/3 img (66%), "), "%s", out);
    CHECK_MSG(strstr(l, ", ETA 0:0") != NULL, "%s", l);
}

static void t_unknown_total(void)
{
    oiqa_progress_force_tty(0);
    oiqa_progress_set_interval(0);
    capture_begin();
    oiqa_progress *p = oiqa_progress_start("scan", "file", 0);
    oiqa_progress_add(p, 3);
    oiqa_progress_end(p);
    const char *out = capture_end();
    char l[256];
    CHECK_MSG(starts_with(line_at(out, 0, l, sizeof l), "scan: 3 file, ") && !strstr(l, "ETA"), "%s", out);
    CHECK_MSG(starts_with(line_at(out, 1, l, sizeof l), "scan: 3 file in "), "%s", out);
}

static void t_tty_bar(void)
{
    oiqa_progress_force_tty(1);
    capture_begin();
    double t0 = oiqa_now_seconds();
    oiqa_progress *p = oiqa_progress_start("viewports", "img", 40); /* draws 0/40 */
    for (int i = 0; i < 5; i++) oiqa_progress_add(p, 1); /* normally too soon to redraw */
    double quick = oiqa_now_seconds() - t0;
    usleep(150000);
    oiqa_progress_add(p, 5); /* 10/40: a quarter of the bar */
    oiqa_progress_note(p, "loss 0.25");
    usleep(150000);
    oiqa_progress_add(p, 30);
    oiqa_progress_end(p);
    const char *out = capture_end();
    int redraws = count_char(out, '\r');
    CHECK_MSG(redraws >= 4 && redraws <= 4 + (int)(quick / 0.1), "%d redraws: %s", redraws, out);
    CHECK_MSG(count_char(out, '\n') == 1 && out[strlen(out) - 1] == '\n', "%s", out);
    CHECK_MSG(starts_with(out, "\rviewports [....................] 0/40 img 0 img/s\r"), "%s", out);
    const char *quarter = strstr(out, "\rviewports [#####...............] 10/40 img ");
    CHECK_MSG(quarter && strstr(quarter, " img/s ETA 0:0"), "%s", out);
    const char *full = strstr(out, "\rviewports [####################] 40/40 img ");
    CHECK_MSG(full && strstr(full, " img/s loss 0.25"), "%s", out);
    const char *last = strrchr(out, '\r');
    CHECK_MSG(starts_with(last, "\rviewports: 40/40 img in ") && strstr(last, " s, ") &&
                  strstr(last, " img/s, loss 0.25"),
              "%s", last);
    /* The final line blanks what is left of the longer bar before it. */
    if (full) {
        size_t bar_len = strcspn(full + 1, "\r"), final_len = strlen(last) - 2;
        CHECK_MSG(final_len >= bar_len, "final %zu < bar %zu", final_len, bar_len);
    }
    oiqa_progress_force_tty(-1);
}

/* Many fast adds redraw at most about ten times a second. */
static void t_tty_rate_limit(void)
{
    oiqa_progress_force_tty(1);
    capture_begin();
    double t0 = oiqa_now_seconds();
    oiqa_progress *p = oiqa_progress_start("fast", "img", 0);
    for (int i = 0; i < 200000; i++) oiqa_progress_add(p, 1);
    double elapsed = oiqa_now_seconds() - t0;
    oiqa_progress_end(p);
    const char *out = capture_end();
    int redraws = count_char(out, '\r');
    CHECK_MSG(redraws >= 2 && redraws <= 3 + (int)(elapsed / 0.1), "%d redraws in %.2f s", redraws, elapsed);
    const char *last = strrchr(out, '\r');
    CHECK_MSG(starts_with(last, "\rfast: 200000 img in "), "%s", last);
    oiqa_progress_force_tty(-1);
}

static void t_quiet(void)
{
    oiqa_log_level before = oiqa_log_get_level();
    oiqa_log_set_level(OIQA_LOG_WARN); /* what -q does */
    oiqa_progress_set_interval(0);
    for (int tty = 0; tty <= 1; tty++) {
        oiqa_progress_force_tty(tty);
        capture_begin();
        oiqa_progress *p = oiqa_progress_start("quiet", "img", 2);
        oiqa_progress_add(p, 2);
        oiqa_progress_note(p, "x");
        oiqa_progress_end(p);
        const char *out = capture_end();
        CHECK_MSG(out[0] == '\0', "tty %d: '%s'", tty, out);
    }
    oiqa_log_set_level(before);
    oiqa_progress_force_tty(-1);
    /* NULL is accepted everywhere. */
    oiqa_progress_add(NULL, 1);
    oiqa_progress_note(NULL, "x");
    oiqa_progress_end(NULL);
}

/* Adds from many threads: the count is exact and lines never interleave. */
static void t_threads(void)
{
    oiqa_progress_force_tty(0);
    oiqa_progress_set_interval(0);
    capture_begin();
    oiqa_progress *p = oiqa_progress_start("par", "img", 2000);
#pragma omp parallel for num_threads(4) schedule(dynamic, 7)
    for (int i = 0; i < 1000; i++) oiqa_progress_add(p, 2);
    oiqa_progress_end(p);
    const char *out = capture_end();
    int lines = count_char(out, '\n');
    CHECK(lines >= 2);
    char l[256];
    int prev = 0;
    for (int i = 0; i < lines; i++) {
        int done = -1, total = -1;
        char unit[8] = "";
        line_at(out, i, l, sizeof l);
        /* Draws are serialised and read the count when drawing: never down. */
        CHECK_MSG(sscanf(l, "par: %d/%d %7s", &done, &total, unit) == 3 && total == 2000 && !strcmp(unit, "img") &&
                      done >= prev && done <= 2000,
                  "line %d: '%s'", i, l);
        if (check_case_failed) break;
        prev = done;
    }
    CHECK_MSG(starts_with(line_at(out, lines - 1, l, sizeof l), "par: 2000/2000 img in "), "%s", l);
}

int main(void)
{
    RUN(t_plain_lines);
    RUN(t_plain_interval);
    RUN(t_unknown_total);
    RUN(t_tty_bar);
    RUN(t_tty_rate_limit);
    RUN(t_quiet);
    RUN(t_threads);
    return check_done();
}
