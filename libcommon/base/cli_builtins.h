/* The built-in options (cli_builtins.c), shared by the option parser
 * (cli.c) and the help printer (cli_help.c); not public. */
#ifndef OIQA_BASE_CLI_BUILTINS_H
#define OIQA_BASE_CLI_BUILTINS_H

#include "base/cli.h"

#define OIQA_CLI_MAX_THREADS 1024 /* the largest -j */

enum oiqa_cli_builtin { B_NONE, B_HELP, B_VERSION, B_CONFIG, B_SET, B_THREADS, B_QUIET, B_VERBOSE };

/* The options every tool has (--help, --version, --config, --set, -j, -q, -v). */
extern const oiqa_opt oiqa_cli_builtins[];
extern const int oiqa_cli_n_builtins;

/* Which built-in o is (B_NONE for a tool's own option). */
enum oiqa_cli_builtin oiqa_cli_builtin_id(const oiqa_opt *o);

/* Whether a built-in applies to the tool (-j is hidden for tools without threads). */
int oiqa_cli_builtin_enabled(const oiqa_tool *tool, const oiqa_opt *o);

static inline int oiqa_cli_is_config_key(const oiqa_opt *o) { return !(o->flags & OIQA_OPTF_CLI_ONLY); }

#endif
