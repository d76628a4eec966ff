/* Progress on stderr: on a terminal a live bar redrawn in place with rate and
 * ETA; otherwise a plain line every few seconds (and at 100%). Silent with -q.
 * oiqa_progress_add is thread-safe. */
#ifndef OIQA_BASE_PROGRESS_H
#define OIQA_BASE_PROGRESS_H

#include <stdint.h>

typedef struct oiqa_progress oiqa_progress;

/* label: "viewports"; unit: "img". total may be 0 when unknown. */
oiqa_progress *oiqa_progress_start(const char *label, const char *unit, int64_t total);
void oiqa_progress_add(oiqa_progress *p, int64_t n);
/* Sets an extra text shown after the counts (e.g. "loss 0.123"). */
void oiqa_progress_note(oiqa_progress *p, const char *note);
/* Final line ("viewports: 8/8 img in 1.2 s, 6.6 img/s"); frees p. NULL is fine. */
void oiqa_progress_end(oiqa_progress *p);
/* After a failure: no final line (a live bar is wiped); frees p. NULL is fine. */
void oiqa_progress_cancel(oiqa_progress *p);

/* Plain-line interval in seconds (tests set it to 0 for a line per update). */
void oiqa_progress_set_interval(double seconds);
/* For tests: force terminal (1) or plain (0) mode; -1 = detect with isatty. */
void oiqa_progress_force_tty(int tty);

#endif
