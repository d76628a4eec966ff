/* oiqa-h5 ls and show, and the value formatting the other subcommands
 * share. */
#include "io/h5inspect.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "io/h5inspect_internal.h"
#include "io/h5store.h"
#include "io/h5util.h"

#define SHORT_STRING 60 /* characters of a string attribute ls shows */
#define SHORT_LIST 8    /* values of an array attribute ls shows */

/* ---- shared formatting ---------------------------------------------------- */

void oiqa_h5_append_escaped(oiqa_sbuf *b, const char *text, size_t len)
{
    char tmp[8];
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        const char *esc = c == '\n' ? "\\n" : c == '\t' ? "\\t" : c == '\r' ? "\\r" : c == '"' ? "\\\""
                          : c == '\\' ? "\\\\" : NULL;
        if (!esc && c >= 0x20 && c != 0x7f) continue;
        if (i > start) {
            char *chunk = oiqa_strndup(text + start, i - start);
            oiqa_sbuf_append(b, chunk);
            free(chunk);
        }
        if (!esc) {
            snprintf(tmp, sizeof tmp, "\\x%02x", c);
            esc = tmp;
        }
        oiqa_sbuf_append(b, esc);
        start = i + 1;
    }
    if (len > start) {
        char *chunk = oiqa_strndup(text + start, len - start);
        oiqa_sbuf_append(b, chunk);
        free(chunk);
    }
}

static void append_string_value(oiqa_sbuf *b, const char *s, int full)
{
    size_t len = strlen(s), shown = len;
    if (!full && len > SHORT_STRING) {
        shown = SHORT_STRING - 3;
        while (shown > 0 && ((unsigned char)s[shown] & 0xc0) == 0x80) shown--; /* whole UTF-8 characters */
    }
    oiqa_sbuf_append(b, "\"");
    oiqa_h5_append_escaped(b, s, shown);
    oiqa_sbuf_append(b, shown < len ? "...\"" : "\"");
    if (shown < len) oiqa_sbuf_appendf(b, " (%zu bytes)", len);
}

/* Reads n strings of a string attribute; NULL on failure. */
static char **read_attr_strings(hid_t attr, hid_t type, hid_t space, size_t n)
{
    char **out = calloc(n ? n : 1, sizeof *out);
    hid_t mem = H5Tcopy(H5T_C_S1);
    int ok = out && mem >= 0 && H5Tset_cset(mem, H5Tget_cset(type)) >= 0;
    if (ok && H5Tis_variable_str(type) > 0) {
        char **v = calloc(n ? n : 1, sizeof *v);
        ok = v && H5Tset_size(mem, H5T_VARIABLE) >= 0 && H5Aread(attr, mem, v) >= 0;
        for (size_t i = 0; ok && i < n; i++) out[i] = oiqa_strdup(v[i] ? v[i] : "");
        if (ok) H5Dvlen_reclaim(mem, space, H5P_DEFAULT, v);
        free(v);
    } else if (ok) {
        size_t size = H5Tget_size(type);
        char *buf = size < ((size_t)1 << 20) ? calloc(n ? n : 1, size + 1) : NULL;
        ok = buf && H5Tset_size(mem, size + 1) >= 0 && H5Tset_strpad(mem, H5T_STR_NULLTERM) >= 0 &&
             H5Aread(attr, mem, buf) >= 0;
        for (size_t i = 0; ok && i < n; i++) out[i] = oiqa_strndup(buf + i * (size + 1), size);
        free(buf);
    }
    if (mem >= 0) H5Tclose(mem);
    if (!ok) {
        oiqa_h5_strings_free(out, n);
        return NULL;
    }
    return out;
}

void oiqa_h5_attr_text(hid_t attr, int full, oiqa_sbuf *b)
{
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    hssize_t np = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    H5T_class_t cls = type >= 0 ? H5Tget_class(type) : H5T_NO_CLASS;
    size_t n = np > 0 ? (size_t)np : 0, shown = full ? n : (n < SHORT_LIST ? n : SHORT_LIST);
    char tname[256];
    if (type < 0 || np < 0 || np > (1 << 24)) {
        oiqa_sbuf_append(b, "<unreadable>");
        goto done;
    }
    if (cls != H5T_STRING && !oiqa_h5_is_numeric(type)) {
        oiqa_h5_type_name(type, tname, sizeof tname);
        oiqa_sbuf_appendf(b, "<%s, %zu value%s>", tname, n, n == 1 ? "" : "s");
        goto done;
    }
    if (rank > 0) oiqa_sbuf_append(b, "[");
    if (cls == H5T_STRING) {
        char **v = read_attr_strings(attr, type, space, n);
        for (size_t i = 0; v && i < shown; i++) {
            if (i) oiqa_sbuf_append(b, ", ");
            append_string_value(b, v[i], full);
        }
        if (!v) oiqa_sbuf_append(b, "<unreadable>");
        oiqa_h5_strings_free(v, n);
    } else {
        int is_int = cls == H5T_INTEGER, is_unsigned = is_int && H5Tget_sign(type) == H5T_SGN_NONE;
        int digits = H5Tget_size(type) <= 4 ? 9 : 17;
        void *vals = malloc((n ? n : 1) * 8);
        hid_t mem = is_unsigned ? H5T_NATIVE_ULLONG : is_int ? H5T_NATIVE_LLONG : H5T_NATIVE_DOUBLE;
        if (!vals || H5Aread(attr, mem, vals) < 0) oiqa_sbuf_append(b, "<unreadable>");
        else
            for (size_t i = 0; i < shown; i++) {
                if (i) oiqa_sbuf_append(b, ", ");
                if (is_unsigned) oiqa_sbuf_appendf(b, "%llu", ((unsigned long long *)vals)[i]);
                else if (is_int) oiqa_sbuf_appendf(b, "%lld", ((long long *)vals)[i]);
                else oiqa_sbuf_appendf(b, "%.*g", digits, ((double *)vals)[i]);
            }
        free(vals);
    }
    if (shown < n) oiqa_sbuf_appendf(b, ", ... (%zu values)", n);
    if (rank > 0) oiqa_sbuf_append(b, "]");
done:
    if (space >= 0) H5Sclose(space);
    if (type >= 0) H5Tclose(type);
}

int oiqa_h5_parse_slice(const char *text, size_t text_len, hsize_t len, hsize_t *start, hsize_t *count, int *single)
{
    char buf[64];
    if (text_len >= sizeof buf) return -1;
    memcpy(buf, text, text_len);
    buf[text_len] = '\0';
    char *colon = strchr(buf, ':');
    long long v[2] = {0, (long long)len};
    int given[2] = {0, 0};
    char *parts[2] = {buf, colon ? colon + 1 : NULL};
    if (colon) *colon = '\0';
    for (int k = 0; k < 2 && parts[k]; k++) {
        char *p = parts[k];
        while (isspace((unsigned char)*p)) p++;
        if (!*p) continue;
        char *end;
        errno = 0;
        v[k] = strtoll(p, &end, 10);
        while (isspace((unsigned char)*end)) end++;
        if (*end || errno) return -1;
        if (v[k] < 0) v[k] += (long long)len;
        given[k] = 1;
    }
    *single = !colon;
    if (!colon) {
        if (!given[0] || v[0] < 0 || (unsigned long long)v[0] >= len) return -1;
        *start = (hsize_t)v[0], *count = 1;
        return 0;
    }
    /* Like Python, out-of-range bounds of a range are clipped. */
    for (int k = 0; k < 2; k++) v[k] = v[k] < 0 ? 0 : (unsigned long long)v[k] > len ? (long long)len : v[k];
    *start = (hsize_t)v[0];
    *count = v[1] > v[0] ? (hsize_t)(v[1] - v[0]) : 0;
    return 0;
}

/* ---- ls ---------------------------------------------------------------- */

typedef struct {
    FILE *out;
    const char *fname;
    int full;
    haddr_t *seen; /* groups already listed (hard links can make cycles) */
    size_t n_seen, cap_seen;
} ls_ctx;

static void print_attrs(ls_ctx *c, hid_t obj)
{
    H5O_info_t info;
    if (H5Oget_info2(obj, &info, H5O_INFO_NUM_ATTRS) < 0) return;
    for (hsize_t i = 0; i < info.num_attrs; i++) {
        hid_t a = H5Aopen_by_idx(obj, ".", H5_INDEX_NAME, H5_ITER_INC, i, H5P_DEFAULT, H5P_DEFAULT);
        if (a < 0) continue;
        char name[256] = "?";
        H5Aget_name(a, sizeof name, name);
        oiqa_sbuf b = {0};
        oiqa_h5_attr_text(a, c->full, &b);
        fprintf(c->out, "    @%s = %s\n", name, b.s ? b.s : "");
        free(b.s);
        H5Aclose(a);
    }
}

static void describe_filters(hid_t dcpl, oiqa_sbuf *b)
{
    int n = H5Pget_nfilters(dcpl);
    for (int i = 0; i < n; i++) {
        unsigned flags, cd[8];
        size_t ncd = 8;
        char name[64] = "";
        H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, cd, sizeof name, name, NULL);
        if (id == H5Z_FILTER_SHUFFLE) oiqa_sbuf_append(b, "  shuffle");
        else if (id == H5Z_FILTER_DEFLATE) oiqa_sbuf_appendf(b, "  deflate(%u)", ncd ? cd[0] : 0);
        else if (id == H5Z_FILTER_FLETCHER32) oiqa_sbuf_append(b, "  fletcher32");
        else if (id == H5Z_FILTER_SZIP) oiqa_sbuf_append(b, "  szip");
        else if (id == H5Z_FILTER_NBIT) oiqa_sbuf_append(b, "  nbit");
        else if (id == H5Z_FILTER_SCALEOFFSET) oiqa_sbuf_append(b, "  scaleoffset");
        else oiqa_sbuf_appendf(b, "  filter %d (%s)", (int)id, name[0] ? name : "unknown");
    }
}

static void ls_dataset(ls_ctx *c, hid_t file, const char *path)
{
    oiqa_h5_dset d;
    if (oiqa_h5_dset_open(file, c->fname, path, &d)) {
        fprintf(c->out, "%-24s  <%s>\n", path, oiqa_errmsg());
        return;
    }
    char tname[256], shape[256];
    oiqa_sbuf b = {0};
    oiqa_h5_type_name(d.type, tname, sizeof tname);
    oiqa_h5_shape_name(d.rank, d.dims, shape, sizeof shape);
    oiqa_sbuf_appendf(&b, "%s %s", tname, shape);
    hid_t dcpl = H5Dget_create_plist(d.dset);
    if (dcpl >= 0) {
        H5D_layout_t layout = H5Pget_layout(dcpl);
        if (layout == H5D_CHUNKED) {
            hsize_t chunk[H5S_MAX_RANK];
            int cr = H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk);
            char cs[256];
            oiqa_h5_shape_name(cr > 0 ? cr : 0, chunk, cs, sizeof cs);
            oiqa_sbuf_appendf(&b, "  chunks %s", cs);
        } else if (layout == H5D_COMPACT) oiqa_sbuf_append(&b, "  compact");
        else if (layout == H5D_VIRTUAL) oiqa_sbuf_append(&b, "  virtual");
        else oiqa_sbuf_append(&b, "  contiguous");
        describe_filters(dcpl, &b);
        H5Pclose(dcpl);
    }
    hsize_t stored = H5Dget_storage_size(d.dset);
    size_t esize = H5Tget_size(d.type);
    oiqa_sbuf_appendf(&b, "  %llu bytes", (unsigned long long)stored);
    /* A ratio for variable-length data would compare heap references with storage. */
    if (stored > 0 && d.elems < SIZE_MAX / (esize ? esize : 1) && H5Tdetect_class(d.type, H5T_VLEN) <= 0 &&
        H5Tis_variable_str(d.type) <= 0) {
        double ratio = (double)d.elems * (double)esize / (double)stored;
        if (ratio > 1.005 || ratio < 0.995) oiqa_sbuf_appendf(&b, " (%.2f:1)", ratio);
    }
    fprintf(c->out, "%-24s  %s\n", path, b.s);
    free(b.s);
    print_attrs(c, d.dset);
    oiqa_h5_dset_close(&d);
}

typedef struct {
    char **names;
    size_t n, cap;
} name_list;

static herr_t collect_link(hid_t g, const char *name, const H5L_info_t *info, void *data)
{
    name_list *l = data;
    (void)g, (void)info;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->names = oiqa_xrealloc(l->names, l->cap * sizeof *l->names);
    }
    l->names[l->n++] = oiqa_strdup(name);
    return 0;
}

static int seen_before(ls_ctx *c, haddr_t addr)
{
    for (size_t i = 0; i < c->n_seen; i++)
        if (c->seen[i] == addr) return 1;
    if (c->n_seen == c->cap_seen) {
        c->cap_seen = c->cap_seen ? c->cap_seen * 2 : 16;
        c->seen = oiqa_xrealloc(c->seen, c->cap_seen * sizeof *c->seen);
    }
    c->seen[c->n_seen++] = addr;
    return 0;
}

static void ls_link(ls_ctx *c, hid_t file, const char *path);

static void ls_group(ls_ctx *c, hid_t file, const char *path, hid_t g)
{
    H5O_info_t info;
    hsize_t n_attrs = H5Oget_info2(g, &info, H5O_INFO_NUM_ATTRS) >= 0 ? info.num_attrs : 0;
    fprintf(c->out, "%-24s  group%s", path, n_attrs ? "," : "");
    if (n_attrs) fprintf(c->out, " %llu attribute%s", (unsigned long long)n_attrs, n_attrs == 1 ? "" : "s");
    fputc('\n', c->out);
    print_attrs(c, g);
    name_list l = {0};
    hsize_t idx = 0;
    H5Literate(g, H5_INDEX_NAME, H5_ITER_INC, &idx, collect_link, &l);
    for (size_t i = 0; i < l.n; i++) {
        char *child = oiqa_asprintf("%s%s%s", path, strcmp(path, "/") ? "/" : "", l.names[i]);
        ls_link(c, file, child);
        free(child);
    }
    oiqa_h5_strings_free(l.names, l.n);
}

static void ls_link(ls_ctx *c, hid_t file, const char *path)
{
    H5L_info_t li;
    if (H5Lget_info(file, path, &li, H5P_DEFAULT) < 0) return;
    if (li.type == H5L_TYPE_SOFT || li.type == H5L_TYPE_EXTERNAL) {
        char target[1024] = "";
        const char *tfile = NULL, *tobj = NULL;
        if (li.u.val_size < sizeof target) H5Lget_val(file, path, target, sizeof target, H5P_DEFAULT);
        if (li.type == H5L_TYPE_SOFT) fprintf(c->out, "%-24s  -> %s (soft link)\n", path, target);
        else if (H5Lunpack_elink_val(target, li.u.val_size, NULL, &tfile, &tobj) >= 0)
            fprintf(c->out, "%-24s  -> %s:%s (external link)\n", path, tfile, tobj);
        return;
    }
    H5O_info_t oi;
    if (H5Oget_info_by_name2(file, path, &oi, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return;
    if (oi.type == H5O_TYPE_GROUP) {
        if (seen_before(c, oi.addr)) {
            fprintf(c->out, "%-24s  group (a hard link to a group listed above)\n", path);
            return;
        }
        hid_t g = H5Gopen2(file, path, H5P_DEFAULT);
        if (g < 0) return;
        ls_group(c, file, path, g);
        H5Gclose(g);
    } else if (oi.type == H5O_TYPE_DATASET) ls_dataset(c, file, path);
    else if (oi.type == H5O_TYPE_NAMED_DATATYPE) fprintf(c->out, "%-24s  named datatype\n", path);
}

int oiqa_h5_ls(const char *path, int full_attrs, FILE *out)
{
    hid_t file;
    int rc = oiqa_h5_open_file(path, &file);
    if (rc) return rc;
    ls_ctx c = {.out = out, .fname = path, .full = full_attrs};
    fprintf(out, "%s\n", path);
    hid_t root = H5Gopen2(file, "/", H5P_DEFAULT);
    if (root < 0) rc = oiqa_h5_fail(OIQA_EXIT_DATA, path, "cannot open the root group");
    else {
        H5O_info_t oi;
        if (H5Oget_info2(root, &oi, H5O_INFO_BASIC) >= 0) seen_before(&c, oi.addr);
        ls_group(&c, file, "/", root);
        H5Gclose(root);
    }
    free(c.seen);
    H5Fclose(file);
    return rc;
}

/* ---- show ------------------------------------------------------------- */

/* The next JSON string value after `key` in text (a flat list of objects
 * as oiqa writes `inputs`); NULL at the end. *next: where to continue. */
static char *json_next_string(const char *text, const char *key, const char **next)
{
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\"", key);
    const char *p = strstr(text, pattern);
    if (!p) return NULL;
    p += strlen(pattern);
    while (*p == ' ' || *p == ':') p++;
    if (*p != '"') return NULL;
    p++;
    oiqa_sbuf b = {0};
    oiqa_sbuf_append(&b, "");
    for (; *p && *p != '"'; p++) {
        char ch[2] = {*p, 0};
        if (*p == '\\' && p[1]) {
            p++;
            ch[0] = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p == 'r' ? '\r' : *p;
            if (*p == 'u') { /* \uXXXX: shown as '?' (paths are rarely escaped) */
                ch[0] = '?';
                for (int k = 0; k < 4 && p[1]; k++) p++;
            }
        }
        oiqa_sbuf_append(&b, ch);
    }
    *next = *p ? p + 1 : p;
    return b.s;
}

static void show_inputs(FILE *out, const char *inputs, int64_t rows, int complete, int all)
{
    if (!complete && (!inputs || !strcmp(inputs, "[]"))) {
        fprintf(out, "inputs    listed when the run finishes (%lld rows so far)\n", (long long)rows);
        return;
    }
    int total = 0;
    for (const char *p = inputs; p && (p = strstr(p, "\"path\"")); p++) total++;
    fprintf(out, "inputs    %d file%s\n", total, total == 1 ? "" : "s");
    const char *p = inputs ? inputs : "";
    for (int i = 0; i < total && (all || i < 5); i++) {
        const char *after_path = p, *after_sha = p;
        char *path = json_next_string(p, "path", &after_path);
        char *sha = path ? json_next_string(after_path, "sha256", &after_sha) : NULL;
        if (!path) break;
        fprintf(out, "    %s  sha256 %s\n", path, sha && *sha ? sha : "-");
        free(path), free(sha);
        p = after_sha > after_path ? after_sha : after_path;
    }
    if (!all && total > 5) fprintf(out, "    ... and %d more (--all lists them)\n", total - 5);
}

static void show_datasets(FILE *out, hid_t file, const char *path)
{
    char **paths = NULL;
    size_t n = 0;
    if (oiqa_h5_list_datasets(file, path, &paths, &n)) return;
    fprintf(out, "datasets\n");
    for (size_t i = 0; i < n; i++) {
        oiqa_h5_dset d;
        if (oiqa_h5_dset_open(file, path, paths[i], &d)) continue;
        char tname[256], shape[256];
        oiqa_h5_type_name(d.type, tname, sizeof tname);
        oiqa_h5_shape_name(d.rank, d.dims, shape, sizeof shape);
        fprintf(out, "    %-32s %s %s%s\n", paths[i], tname, shape, d.per_image ? "  per image" : "");
        oiqa_h5_dset_close(&d);
    }
    oiqa_h5_strings_free(paths, n);
}

int oiqa_h5_show(const char *path, int all_inputs, FILE *out)
{
    oiqa_store_reader *r = NULL;
    int rc = oiqa_store_open_read(path, NULL, 1, &r);
    if (rc) return rc;
    const char *keys[] = {"tool", "stage", "created", "command", "config", "inputs"};
    char *v[6];
    for (int i = 0; i < 6; i++) v[i] = oiqa_store_reader_attr_string(r, NULL, keys[i]);
    double complete = 0;
    if (oiqa_store_reader_attr_double(r, NULL, "complete", &complete)) complete = 0;
    int64_t rows = oiqa_store_reader_rows(r);
    fprintf(out, "file      %s\n", path);
    for (int i = 0; i < 3; i++) fprintf(out, "%-9s %s\n", keys[i], v[i] ? v[i] : "-");
    fprintf(out, "complete  %s\n",
            complete == 1 ? "1 (finished)" : "0 (the run did not finish; --resume continues it)");
    fprintf(out, "rows      %lld\n", (long long)rows);
    fprintf(out, "command   %s\n", v[3] ? v[3] : "-");
    show_inputs(out, v[5], rows, complete == 1, all_inputs);
    fprintf(out, "config\n");
    for (const char *p = v[4] ? v[4] : ""; *p;) {
        size_t len = strcspn(p, "\n");
        fprintf(out, "    %.*s\n", (int)len, p);
        p += len + (p[len] == '\n');
    }
    show_datasets(out, oiqa_store_reader_file_id(r), path);
    for (int i = 0; i < 6; i++) free(v[i]);
    oiqa_store_close(r);
    return OIQA_OK;
}
