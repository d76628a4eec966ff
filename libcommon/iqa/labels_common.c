/* Helpers shared by the dataset adapters (see labels_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "iqa/labels_internal.h"

int oiqa_labels_table(const char *path, int header, oiqa_csv **out)
{
    uint8_t *data;
    size_t size;
    *out = NULL;
    int rc = oiqa_read_file(path, OIQA_CSV_MAX_BYTES, &data, &size);
    if (rc) return rc;
    const char *nl = memchr(data, '\n', size);
    size_t first = nl ? (size_t)(nl - (const char *)data) : size;
    char delim = memchr(data, ',', first) ? ',' : OIQA_CSV_WHITESPACE;
    rc = oiqa_csv_parse((const char *)data, size, path, delim, header, out);
    free(data);
    return rc;
}

const char *oiqa_labels_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

long oiqa_labels_int(const char *s, int n)
{
    if (n < 0) n = (int)strlen(s);
    if (n == 0 || n > 9) return -1;
    long v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9') return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v;
}

int oiqa_labels_unexpected(const char *path, int line, const char *what, const char *got)
{
    if (line > 0) return oiqa_fail(OIQA_EXIT_DATA, NULL, "%s:%d: expected %s, got '%s'", path, line, what, got);
    return oiqa_fail(OIQA_EXIT_DATA, path, "expected %s, got '%s'", what, got);
}
