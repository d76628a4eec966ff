#include "base/log.h"
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *g_prog = "oiqa";
static oiqa_log_level g_level = OIQA_LOG_INFO;

void oiqa_log_init(const char *program_name)
{
    if (program_name) {
        const char *slash = strrchr(program_name, '/');
        g_prog = slash ? slash + 1 : program_name;
    }
    const char *env = getenv("OIQA_LOG");
    if (env) {
        if (!strcmp(env, "error")) g_level = OIQA_LOG_ERROR;
        else if (!strcmp(env, "warn")) g_level = OIQA_LOG_WARN;
        else if (!strcmp(env, "info")) g_level = OIQA_LOG_INFO;
        else if (!strcmp(env, "debug")) g_level = OIQA_LOG_DEBUG;
    }
}

const char *oiqa_program_name(void) { return g_prog; }
void oiqa_log_set_level(oiqa_log_level level) { g_level = level; }
oiqa_log_level oiqa_log_get_level(void) { return g_level; }

void oiqa_log(oiqa_log_level level, const char *fmt, ...)
{
    if (level > g_level) return;
    static const char *tag[] = {"error: ", "warning: ", "", "debug: "};
    char line[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One fprintf per line so lines from threads do not interleave. */
    fprintf(stderr, "%s: %s%s\n", g_prog, tag[level], line);
}

int oiqa_report(int code)
{
    if (code != OIQA_OK) {
        const char *m = oiqa_errmsg();
        fprintf(stderr, "%s: error: %s\n", g_prog, *m ? m : "failed (no message)");
    }
    return code;
}
