/* Input lists of every tool (cli.h): arguments, @list.txt files and stdin. */
#include "base/cli.h"
#include "base/error.h"
#include "base/strutil.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- inputs ---------------------------------------------------------------- */

typedef struct {
    char **v;
    int n, cap;
} strv;

static void strv_push(strv *s, char *item)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 16;
        s->v = oiqa_xrealloc(s->v, (size_t)s->cap * sizeof *s->v);
    }
    s->v[s->n++] = item;
}

void oiqa_strv_free(char **v, int n)
{
    if (!v) return;
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* One name per line: trailing whitespace (and a CR) trimmed, blank lines and
 * '#' comments skipped. `name` is the list's name in messages. */
static int read_name_list(FILE *f, const char *name, strv *out)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = OIQA_OK;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)len)) {
            rc = oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: line contains a NUL byte (not a text list)", name, lineno);
            break;
        }
        while (len > 0 && strchr(" \t\r\n\v\f", line[len - 1])) line[--len] = '\0';
        const char *first = line + strspn(line, " \t");
        if (!*first || *first == '#') continue;
        strv_push(out, oiqa_strdup(line));
    }
    if (!rc && ferror(f)) rc = oiqa_fail(OIQA_EXIT_DATA, name, "read error (%s)", oiqa_strerror(errno));
    free(line);
    return rc;
}

static int read_list_file(const char *path, strv *out)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return oiqa_fail(OIQA_EXIT_DATA, path, "is a directory, not a list of names");
    FILE *f = fopen(path, "r");
    if (!f) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR) return oiqa_fail(OIQA_EXIT_DATA, path, "no such file (a list of names)");
        if (e == EACCES) return oiqa_fail(OIQA_EXIT_DATA, path, "permission denied");
        return oiqa_fail(OIQA_EXIT_DATA, path, "cannot open (%s)", oiqa_strerror(e));
    }
    int rc = read_name_list(f, path, out);
    fclose(f);
    return rc;
}

int oiqa_cli_expand_inputs(char **args, int n_args, char ***out, int *n_out)
{
    strv names = {0};
    int rc = OIQA_OK;
    for (int i = 0; i < n_args && !rc; i++) {
        const char *a = args[i];
        if (!strcmp(a, "-")) rc = read_name_list(stdin, "stdin", &names);
        else if (a[0] == '@' && a[1]) rc = read_list_file(a + 1, &names);
        else if (a[0] == '@') rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "'@' needs a list file name (@list.txt)");
        else strv_push(&names, oiqa_strdup(a));
    }
    if (rc) {
        oiqa_strv_free(names.v, names.n);
        *out = NULL;
        *n_out = 0;
        return rc;
    }
    *out = names.v;
    *n_out = names.n;
    return OIQA_OK;
}
