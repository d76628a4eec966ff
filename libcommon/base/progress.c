#include "base/progress.h"
#include "base/log.h"
#include "base/strutil.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BAR_WIDTH 20
#define TTY_REDRAW_GAP 0.1 /* seconds: at most ~10 redraws a second */

struct oiqa_progress {
    char label[64], unit[16];
    int64_t total;
    _Atomic int64_t done;
    double t0;
    int tty, silent;
    double interval;      /* seconds between plain lines */
    pthread_mutex_t lock; /* guards the fields below and the drawing */
    double last_draw;
    size_t last_width;    /* tty: length of the bar on screen, to blank it */
    char note[128];
};

static double g_interval = 5.0;
static int g_force_tty = -1;

void oiqa_progress_set_interval(double seconds) { g_interval = seconds >= 0 ? seconds : 0; }
void oiqa_progress_force_tty(int tty) { g_force_tty = tty; }

/* "0:08", "12:34" or "1:02:03". */
static void format_clock(double seconds, char *out, size_t cap)
{
    if (!isfinite(seconds) || seconds < 0 || seconds > 1e8) {
        snprintf(out, cap, "?");
        return;
    }
    long s = lround(seconds);
    if (s >= 3600) snprintf(out, cap, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60, s % 60);
    else snprintf(out, cap, "%ld:%02ld", s / 60, s % 60);
}

/* "250", "33.1", "0.25": a steady width for steady rates. */
static void format_rate(double rate, char *out, size_t cap)
{
    if (!(rate > 0)) snprintf(out, cap, "0");
    else if (rate >= 100) snprintf(out, cap, "%.0f", rate);
    else if (rate >= 1) snprintf(out, cap, "%.1f", rate);
    else snprintf(out, cap, "%.2g", rate);
}

/* Rate, ETA and note as shared by both modes; sep is " " (bar) or ", " (plain). */
static void append_rate_eta_note(oiqa_sbuf *b, const oiqa_progress *p, int64_t done, double elapsed,
                                 const char *sep)
{
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char r[32], eta[32];
    format_rate(rate, r, sizeof r);
    oiqa_sbuf_appendf(b, "%s%s %s/s", sep, r, p->unit);
    if (p->total > 0 && done > 0 && done < p->total) {
        format_clock((double)(p->total - done) / rate, eta, sizeof eta);
        oiqa_sbuf_appendf(b, "%sETA %s", sep, eta);
    }
    if (p->note[0]) oiqa_sbuf_appendf(b, "%s%s", sep, p->note);
}

/* "label [#####.....] 12/40 img 3.4 img/s ETA 0:08 note" */
static void format_bar(oiqa_sbuf *b, const oiqa_progress *p, int64_t done, double elapsed)
{
    oiqa_sbuf_append(b, p->label);
    if (p->total > 0) {
        int64_t shown = done < p->total ? done : p->total;
        int filled = (int)(shown * BAR_WIDTH / p->total);
        char bar[BAR_WIDTH + 1];
        memset(bar, '#', (size_t)filled);
        memset(bar + filled, '.', (size_t)(BAR_WIDTH - filled));
        bar[BAR_WIDTH] = '\0';
        oiqa_sbuf_appendf(b, " [%s] %lld/%lld %s", bar, (long long)done, (long long)p->total, p->unit);
    } else {
        oiqa_sbuf_appendf(b, " %lld %s", (long long)done, p->unit);
    }
    append_rate_eta_note(b, p, done, elapsed, " ");
}

/* "label: 12/40 img (30%), 3.4 img/s, ETA 0:08, note" */
static void format_plain(oiqa_sbuf *b, const oiqa_progress *p, int64_t done, double elapsed)
{
    if (p->total > 0)
        oiqa_sbuf_appendf(b, "%s: %lld/%lld %s (%d%%)", p->label, (long long)done, (long long)p->total,
                          p->unit, (int)(100 * (double)done / (double)p->total));
    else
        oiqa_sbuf_appendf(b, "%s: %lld %s", p->label, (long long)done, p->unit);
    append_rate_eta_note(b, p, done, elapsed, ", ");
}

/* Writes the bar over the previous one: '\r', the text, blanks over any
 * leftover of a longer previous bar. Called with p->lock held. */
static void draw_tty(oiqa_progress *p, const char *text, const char *end)
{
    size_t len = strlen(text);
    int pad = p->last_width > len ? (int)(p->last_width - len) : 0;
    fprintf(stderr, "\r%s%*s%s", text, pad, "", end);
    fflush(stderr);
    p->last_width = len;
}

/* Draws the current state (lock held). */
static void draw(oiqa_progress *p, double now)
{
    int64_t done = atomic_load(&p->done);
    oiqa_sbuf b = {0};
    if (p->tty) {
        format_bar(&b, p, done, now - p->t0);
        draw_tty(p, b.s, "");
    } else {
        format_plain(&b, p, done, now - p->t0);
        fprintf(stderr, "%s\n", b.s);
        fflush(stderr);
    }
    free(b.s);
    p->last_draw = now;
}

oiqa_progress *oiqa_progress_start(const char *label, const char *unit, int64_t total)
{
    oiqa_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL; /* progress is optional: every call accepts NULL */
    snprintf(p->label, sizeof p->label, "%s", label ? label : "progress");
    snprintf(p->unit, sizeof p->unit, "%s", unit ? unit : "");
    p->total = total > 0 ? total : 0;
    atomic_init(&p->done, 0);
    p->t0 = oiqa_now_seconds();
    p->tty = g_force_tty >= 0 ? g_force_tty : isatty(STDERR_FILENO);
    p->silent = oiqa_log_get_level() < OIQA_LOG_INFO;
    p->interval = p->tty ? TTY_REDRAW_GAP : g_interval;
    p->last_draw = p->t0;
    pthread_mutex_init(&p->lock, NULL);
    if (p->tty && !p->silent) {
        pthread_mutex_lock(&p->lock);
        draw(p, p->t0);
        pthread_mutex_unlock(&p->lock);
    }
    return p;
}

void oiqa_progress_add(oiqa_progress *p, int64_t n)
{
    if (!p) return;
    atomic_fetch_add(&p->done, n);
    if (p->silent) return;
    double now = oiqa_now_seconds();
    /* Only one thread draws; the others carry on rather than wait for it. */
    if (pthread_mutex_trylock(&p->lock) != 0) return;
    if (now - p->last_draw >= p->interval) draw(p, now);
    pthread_mutex_unlock(&p->lock);
}

void oiqa_progress_note(oiqa_progress *p, const char *note)
{
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    snprintf(p->note, sizeof p->note, "%s", note ? note : "");
    pthread_mutex_unlock(&p->lock);
}

/* "viewports: 8/8 img in 1.2 s, 6.6 img/s" (elapsed as a clock past a minute). */
static void format_final(oiqa_sbuf *b, const oiqa_progress *p, int64_t done, double elapsed)
{
    if (p->total > 0)
        oiqa_sbuf_appendf(b, "%s: %lld/%lld %s", p->label, (long long)done, (long long)p->total, p->unit);
    else
        oiqa_sbuf_appendf(b, "%s: %lld %s", p->label, (long long)done, p->unit);
    if (elapsed < 60) {
        oiqa_sbuf_appendf(b, " in %.1f s", elapsed);
    } else {
        char clock[32];
        format_clock(elapsed, clock, sizeof clock);
        oiqa_sbuf_appendf(b, " in %s", clock);
    }
    char r[32];
    format_rate(elapsed > 0 ? (double)done / elapsed : 0, r, sizeof r);
    oiqa_sbuf_appendf(b, ", %s %s/s", r, p->unit);
    if (p->note[0]) oiqa_sbuf_appendf(b, ", %s", p->note);
}

void oiqa_progress_end(oiqa_progress *p)
{
    if (!p) return;
    if (!p->silent) {
        pthread_mutex_lock(&p->lock);
        oiqa_sbuf b = {0};
        format_final(&b, p, atomic_load(&p->done), oiqa_now_seconds() - p->t0);
        if (p->tty) draw_tty(p, b.s, "\n");
        else fprintf(stderr, "%s\n", b.s);
        fflush(stderr);
        free(b.s);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}

void oiqa_progress_cancel(oiqa_progress *p)
{
    if (!p) return;
    if (!p->silent && p->tty) {
        /* Wipe the live bar so the error line that follows stands alone. */
        pthread_mutex_lock(&p->lock);
        fprintf(stderr, "\r%*s\r", (int)p->last_width, "");
        fflush(stderr);
        pthread_mutex_unlock(&p->lock);
    }
    pthread_mutex_destroy(&p->lock);
    free(p);
}
