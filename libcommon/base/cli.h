/* One option parser for every tool (DESIGN §7), in the libvmaf style: a
 * table of options (name, type, offsetof into the tool's options struct,
 * default, range, help) drives command-line parsing, YAML config files,
 * --set key=value, --help text, validation and the resolved config text that
 * is stored as provenance.
 *
 * Precedence: defaults < --config FILE < --set and flags, in the order given
 * on the command line (so flags win over the config).
 *
 * Every tool gets these without declaring them: -h/--help, --version,
 * --config FILE, --set KEY=VALUE, -j/--threads N (1..1024; default
 * oiqa_threads_default()), -q/--quiet, -v/--verbose. They are not config keys.
 *
 * Command line: "--size 224", "--size=224", "-s 224", "-s224", "-qv"; "--"
 * ends the options; a lone "-" is an argument; options may follow arguments.
 * Flags take no value on the command line and are YAML bools in a config.
 * Config keys are the options without OIQA_OPTF_CLI_ONLY; a config file's top
 * level must be a map, unknown keys are refused with file and line. --set
 * reads VALUE as YAML ("--set centers=[{lon: 0, lat: 0, fov: 90}]"); an
 * OIQA_OPT_YAML option also takes its value as YAML on the command line
 * ("--centers '[...]'"). In a config or --set, a plain null (~, null, nothing)
 * unsets a STRING or YAML option.
 *
 * A SECTION is a nested map of keys with its own table (`model: {hidden: 3}`
 * or a block map); keys it does not name keep their values, and `model: null`
 * changes nothing. Its keys are reached as dotted names: messages say
 * 'model.hidden', "--set model.hidden=3" sets one (paths recurse: a.b.c),
 * "--set model={hidden: 3}" and the command-line "--model '{hidden: 3}'"
 * apply a map. A section's keys are config keys only (no option of their
 * own). STRINGS and NUMBERS are lists: a YAML list of scalars, one scalar (a
 * list of one) or a plain null or [] (none), also as YAML on the command line
 * ("--scales '[a, b]'", "--scales a"). */
#ifndef OIQA_BASE_CLI_H
#define OIQA_BASE_CLI_H

#include <stddef.h>
#include <stdio.h>
#include "base/yaml.h"

typedef enum {
    OIQA_OPT_FLAG,    /* int 0/1; on the command line takes no value */
    OIQA_OPT_INT,     /* long */
    OIQA_OPT_DOUBLE,  /* double */
    OIQA_OPT_STRING,  /* char * (owned by the parse result; NULL when unset) */
    OIQA_OPT_ENUM,    /* int: index into choices */
    OIQA_OPT_YAML,    /* const oiqa_yaml_node * (e.g. a list; NULL when unset), value read as YAML */
    OIQA_OPT_SECTION, /* a struct whose keys are the `sub` table; def must be NULL */
    OIQA_OPT_STRINGS, /* oiqa_opt_strings */
    OIQA_OPT_NUMBERS, /* oiqa_opt_numbers, each value in [min, max] when min < max */
} oiqa_opt_type;

/* The list types' fields: n values (v is NULL when n is 0), owned by the
 * parse result like a STRING. */
typedef struct {
    int n;
    char **v;
} oiqa_opt_strings;

typedef struct {
    int n;
    double *v;
} oiqa_opt_numbers;

enum {
    OIQA_OPTF_CLI_ONLY = 1, /* not a config key (e.g. -o, --force, --resume) */
};

typedef struct oiqa_opt {
    const char *name;     /* long option and config key, e.g. "size" */
    char short_name;      /* e.g. 'o', or 0 */
    oiqa_opt_type type;
    size_t offset;        /* offsetof(tool options struct, field); in a section's table, of its struct */
    const char *def;      /* default as text (lists as flow YAML, "[a, b]"), NULL for none */
    const char *metavar;  /* "N", "FILE", ... shown in --help */
    const char *help;     /* one line */
    double min, max;      /* INT/DOUBLE/NUMBERS range, checked when min < max */
    const char *const *choices; /* ENUM: NULL-terminated names */
    unsigned flags;
    /* After flags, so that tables written positionally need not name them. */
    const struct oiqa_opt *sub; /* SECTION: its keys, terminated by name == NULL */
    int min_count, max_count;   /* STRINGS/NUMBERS: length, checked when max_count > 0 and min_count <= max_count */
} oiqa_opt;

typedef struct {
    const char *name;       /* "oiqa-viewports" or "oiqa-h5 ls" */
    const char *summary;    /* one line: what it does */
    const char *usage;      /* "[options] IMAGE... -o OUT" */
    const char *example;    /* one or more example lines */
    const oiqa_opt *opts;   /* terminated by an entry with name == NULL */
    int min_args, max_args; /* positional arguments; max_args < 0: unlimited */
    int no_threads;         /* 1: the tool has no use for -j (omit from --help) */
} oiqa_tool;

typedef struct {
    char **args;            /* positional arguments, n_args of them */
    int n_args;
    int threads;            /* -j (resolved: all cores when not given) */
    int quiet, verbose;
    char *config_path;      /* --config, or NULL */
    char *command;          /* argv joined with shell quoting, for provenance */
    char tool_version[96];  /* "oiqa-viewports 0.1.0", for provenance */
    /* internal: owned memory (strings, YAML documents) */
    void *owned;
} oiqa_cli;

/* Parses argv into `opts` (the tool's struct, which the table's offsets
 * index) and `cli`. Returns:
 *   OIQA_OK          continue; STRING fields and YAML nodes (and cli's
 *                    strings) live until oiqa_cli_free(cli);
 *   OIQA_CLI_EXIT_OK --help or --version was printed to stdout: exit 0;
 *   OIQA_EXIT_USAGE  with the message set ("--size: expected an integer in [16, 4096], got 'x'").
 * On any return but OIQA_OK everything is already freed, the STRING and YAML
 * fields of opts are NULL, and oiqa_cli_free(cli) is a harmless no-op.
 * Also sets the log level (-q, -v) and, on OIQA_OK, the thread count (-j). */
#define OIQA_CLI_EXIT_OK (-1)
int oiqa_cli_parse(const oiqa_tool *tool, int argc, char **argv, void *opts, oiqa_cli *cli);
void oiqa_cli_free(oiqa_cli *cli);

/* The resolved configuration of every config key, as YAML text
 * ("layout: icosa20\nsize: 224\n..."), one line per key in table order,
 * malloc'ed: strings quoted where needed, unset ones `null`, YAML options and
 * lists as flow YAML, numbers in their shortest exact form; a section as
 * "model:" followed by its keys indented two spaces per level. Stored as provenance and
 * compared byte for byte on --resume; reads back as a --config file. */
char *oiqa_cli_resolved_config(const oiqa_tool *tool, const void *opts);

/* Sets `opts` from the tool's defaults and then the keys of the YAML config
 * `text` (as a --config file would: unknown keys and bad values refused, the
 * messages naming `source`), without a command line: how a recorded stage
 * config (the `config` attribute of a feature file) becomes the stage's
 * options again. Strings and YAML nodes live until oiqa_cli_free(cli); on an
 * error everything is freed already. Returns OIQA_OK or OIQA_EXIT_USAGE. */
int oiqa_cli_parse_config_text(const oiqa_tool *tool, const char *text, const char *source, void *opts,
                               oiqa_cli *cli);

/* The value of the top-level config key `key` as the command line would
 * finally set it, for a tool that must choose its option table before
 * parsing (oiqa-train's `model:` section follows its `method:`). argv is
 * scanned without a table, long forms only, up to "--": the key in the file
 * of "--config FILE" (the last one given), then in command-line order every
 * "--set KEY=VALUE" (VALUE read as YAML) and "--KEY VALUE" / "--KEY=VALUE"
 * (taken as typed); the last one wins. A plain null counts as not given.
 * *value is malloc'ed, or NULL when the key is given nowhere. Returns OIQA_OK,
 * or OIQA_EXIT_USAGE with the message set when the config file cannot be
 * read (naming it) or the value found is not a single YAML scalar. */
int oiqa_cli_peek_key(int argc, char **argv, const char *key, char **value);

/* Prints --help (every option with its default and the tool's example). */
void oiqa_cli_print_help(const oiqa_tool *tool, FILE *f);

/* Expands positional inputs: "@list.txt" reads one name per line (trailing
 * whitespace and CR trimmed; blank lines and lines starting with '#'
 * skipped), "-" reads names from stdin the same way, other arguments are kept
 * verbatim. Result is a malloc'ed array of malloc'ed strings (possibly none);
 * free with oiqa_strv_free. A list that cannot be read: OIQA_EXIT_DATA,
 * naming the list file. */
int oiqa_cli_expand_inputs(char **args, int n_args, char ***out, int *n_out);
void oiqa_strv_free(char **v, int n);

#endif
