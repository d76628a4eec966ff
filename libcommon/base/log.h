/* Logging to stderr, prefixed with the program name ("oiqa-viewports: ").
 * Levels: errors always print; warnings unless silenced; info unless -q;
 * debug with -v or OIQA_LOG=debug. */
#ifndef OIQA_BASE_LOG_H
#define OIQA_BASE_LOG_H

typedef enum { OIQA_LOG_ERROR = 0, OIQA_LOG_WARN, OIQA_LOG_INFO, OIQA_LOG_DEBUG } oiqa_log_level;

void oiqa_log_init(const char *program_name); /* also reads OIQA_LOG=error|warn|info|debug */
const char *oiqa_program_name(void);
void oiqa_log_set_level(oiqa_log_level level);
oiqa_log_level oiqa_log_get_level(void);

void oiqa_log(oiqa_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define oiqa_warn(...) oiqa_log(OIQA_LOG_WARN, __VA_ARGS__)
#define oiqa_info(...) oiqa_log(OIQA_LOG_INFO, __VA_ARGS__)
#define oiqa_debug(...) oiqa_log(OIQA_LOG_DEBUG, __VA_ARGS__)

/* Prints "PROG: error: <this thread's oiqa_errmsg()>" and returns code:
 * the end of every tool's main is `return oiqa_report(rc);` when rc != 0. */
int oiqa_report(int code);

#endif
