/* The options every tool has (base/cli_builtins.h): apart from the parser
 * (cli.c) so that the parser and the help printer (cli_help.c) both take
 * them from here and neither calls into the other for them. */
#include "base/cli_builtins.h"

const oiqa_opt oiqa_cli_builtins[] = {
    {.name = "help", .short_name = 'h', .type = OIQA_OPT_FLAG, .help = "show this help and exit"},
    {.name = "version", .type = OIQA_OPT_FLAG, .help = "print the version and exit"},
    {.name = "config", .type = OIQA_OPT_STRING, .metavar = "FILE",
     .help = "read config keys from a YAML file (command-line options win)"},
    {.name = "set", .type = OIQA_OPT_STRING, .metavar = "KEY=VALUE",
     .help = "set a config key; VALUE is YAML (e.g. --set key=[1, 2])"},
    {.name = "threads", .short_name = 'j', .type = OIQA_OPT_INT, .metavar = "N",
     .help = "threads for OpenMP and BLAS", .min = 1, .max = OIQA_CLI_MAX_THREADS},
    {.name = "quiet", .short_name = 'q', .type = OIQA_OPT_FLAG, .help = "only warnings and errors (no progress)"},
    {.name = "verbose", .short_name = 'v', .type = OIQA_OPT_FLAG, .help = "also debug messages"},
};
const int oiqa_cli_n_builtins = (int)(sizeof oiqa_cli_builtins / sizeof oiqa_cli_builtins[0]);

enum oiqa_cli_builtin oiqa_cli_builtin_id(const oiqa_opt *o)
{
    for (int i = 0; i < oiqa_cli_n_builtins; i++)
        if (o == &oiqa_cli_builtins[i]) return (enum oiqa_cli_builtin)(B_HELP + i);
    return B_NONE;
}

int oiqa_cli_builtin_enabled(const oiqa_tool *tool, const oiqa_opt *o)
{
    return !(oiqa_cli_builtin_id(o) == B_THREADS && tool->no_threads);
}
