/* Assembling a method's inputs from the feature files; see methods/features.h. */
#include "methods/features.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/h5store.h"
#include "stage/features.h"

void oiqa_feature_set_free(oiqa_feature_set *fs)
{
    for (int i = 0; i < OIQA_METHOD_MAX_INPUTS; i++) {
        oiqa_feature_input *in = &fs->in[i];
        for (int k = 0; k < OIQA_METHOD_MAX_BLOCKS; k++) {
            for (int s = 0; s < OIQA_METHOD_MAX_STREAMS; s++) free(in->x[s][k]);
            free(in->block[k]);
        }
        for (int st = 0; st < OIQA_METHOD_MAX_STREAMS; st++) free(in->maps[st]), free(in->pixels[st]);
        oiqa_feature_prov_free(&in->prov);
    }
    if (fs->names)
        for (int i = 0; i < fs->n; i++) free(fs->names[i]);
    free(fs->names);
    memset(fs, 0, sizeof *fs);
}

/* A hint of the method's with its one %s filled in. */
static void hint(char *out, size_t cap, const char *fmt, const char *arg)
{
    const char *p = fmt ? strstr(fmt, "%s") : NULL;
    if (!fmt) snprintf(out, cap, "%s", "");
    else if (!p) snprintf(out, cap, "%s", fmt);
    else snprintf(out, cap, "%.*s%s%s", (int)(p - fmt), fmt, arg, p + 2);
}

/* The shape [N, V, C] of /<stream>/<block>/mean, or an error naming the fix. */
static int view_shape(const oiqa_store_reader *r, const oiqa_method_input *mi, const char *path, int stream,
                      const char *block, int *V, int *C)
{
    const char *sname = mi->streams[stream];
    char ds[256], fix[256];
    snprintf(ds, sizeof ds, "/%s/%s/mean", sname, block);
    oiqa_dtype t;
    int nd;
    uint64_t dims[OIQA_MAX_DIMS];
    if (oiqa_store_reader_shape(r, ds, &t, &nd, dims)) {
        if (stream == 0) {
            char *have = oiqa_store_reader_attr_string(r, "/", "blocks");
            hint(fix, sizeof fix, mi->fix_block, block);
            int rc = oiqa_fail(OIQA_EXIT_DATA, path, "no dataset %s (the file has blocks '%s'%s%s)", ds,
                               have ? have : "", *fix ? ": " : "", fix);
            free(have);
            return rc;
        }
        hint(fix, sizeof fix, mi->fix_stream, sname);
        return oiqa_fail(OIQA_EXIT_DATA, path, "no dataset %s%s%s%s", ds, *fix ? " (" : "", fix, *fix ? ")" : "");
    }
    if (nd != 3) return oiqa_fail(OIQA_EXIT_DATA, path, "%s has %d axes, expected [N,V,C]", ds, nd);
    *V = (int)dims[1], *C = (int)dims[2];
    int64_t want[3] = {-1, *V, *C};
    snprintf(ds, sizeof ds, "/%s/%s/std", sname, block);
    return oiqa_store_reader_expect(r, ds, OIQA_F32, 3, want);
}

/* Reads mean and std rows of a per-image dataset pair into dst as
 * [rows, 2C] (mean || std per row), checking finiteness. */
static int read_pair(const oiqa_store_reader *r, const char *path, const char *prefix, int64_t row, int rows, int C,
                     float *scratch, float *dst, const char *name)
{
    static const char *const part[2] = {"mean", "std"};
    for (int p = 0; p < 2; p++) {
        char ds[256];
        snprintf(ds, sizeof ds, "%s/%s", prefix, part[p]);
        int rc = oiqa_store_reader_read_row(r, ds, row, OIQA_F32, scratch);
        if (rc) return rc;
        for (int v = 0; v < rows; v++) {
            for (int c = 0; c < C; c++) {
                float x = scratch[(size_t)v * C + c];
                if (!isfinite(x))
                    return oiqa_fail(OIQA_EXIT_DATA, path, "row %lld ('%s'): %s in %s", (long long)row, name,
                                     isnan(x) ? "NaN" : "Inf", ds);
                dst[(size_t)v * 2 * C + (size_t)p * C + c] = x;
            }
        }
    }
    return OIQA_OK;
}

/* The row of each name in r; error naming the first absent one. */
static int find_rows(const oiqa_store_reader *r, const char *path, char *const *names, const int *lines, int n,
                     const char *what, int64_t *rows)
{
    for (int i = 0; i < n; i++) {
        rows[i] = oiqa_store_reader_find(r, names[i]);
        if (rows[i] < 0) {
            if (lines && lines[i] > 0)
                return oiqa_fail(OIQA_EXIT_DATA, path, "no row for '%s' (%s:%d); its features must be computed first",
                                 names[i], what, lines[i]);
            return oiqa_fail(OIQA_EXIT_DATA, path, "no row for '%s' (named in %s); its features must be computed first",
                             names[i], what);
        }
    }
    return OIQA_OK;
}

static int load_view_blocks(const oiqa_method_input *mi, const oiqa_method_select *sel, int ii, const char *path,
                            const oiqa_store_reader *r, const int64_t *rows, oiqa_feature_set *fs)
{
    oiqa_feature_input *in = &fs->in[ii];
    int C[OIQA_METHOD_MAX_BLOCKS], rc = OIQA_OK, maxc = 0, nb = sel->n_blocks[ii];
    for (int k = 0; k < nb && !rc; k++) {
        for (int st = 0; st < OIQA_METHOD_MAX_STREAMS && !rc; st++) {
            if (!mi->streams[st] || !(st == 0 || sel->stream[ii][st])) continue;
            int V = 0, c = 0;
            rc = view_shape(r, mi, path, st, sel->blocks[ii][k], &V, &c);
            if (!rc && ((k || st) && (V != in->V || (st && c != C[k]))))
                rc = oiqa_fail(OIQA_EXIT_DATA, path, "/%s/%s: %d viewports x %d channels, unlike the other datasets",
                               mi->streams[st], sel->blocks[ii][k], V, c);
            if (!rc && !st) in->V = V, C[k] = c, in->dim[k] = 2 * c, maxc = c > maxc ? c : maxc;
        }
    }
    if (rc) return rc;
    in->n_blocks = nb;
    for (int k = 0; k < nb; k++) {
        in->block[k] = oiqa_strdup(sel->blocks[ii][k]);
        size_t per = (size_t)in->V * in->dim[k];
        for (int st = 0; st < OIQA_METHOD_MAX_STREAMS; st++)
            if (mi->streams[st] && (st == 0 || sel->stream[ii][st]))
                in->x[st][k] = oiqa_xmalloc(per * fs->n * sizeof(float));
    }
    float *scratch = oiqa_xmalloc((size_t)in->V * (maxc ? maxc : 1) * sizeof(float));
    for (int i = 0; i < fs->n && !rc; i++) {
        for (int k = 0; k < nb && !rc; k++) {
            size_t per = (size_t)in->V * in->dim[k];
            for (int st = 0; st < OIQA_METHOD_MAX_STREAMS && !rc; st++) {
                if (!in->x[st][k]) continue;
                char prefix[200];
                snprintf(prefix, sizeof prefix, "/%s/%s", mi->streams[st], in->block[k]);
                rc = read_pair(r, path, prefix, rows[i], in->V, C[k], scratch, in->x[st][k] + per * i, fs->names[i]);
            }
        }
    }
    free(scratch);
    return rc;
}

static int load_concat(const oiqa_method_input *mi, int ii, const char *path, const oiqa_store_reader *r,
                       const int64_t *rows, oiqa_feature_set *fs)
{
    oiqa_feature_input *in = &fs->in[ii];
    char *blocks = oiqa_store_reader_attr_string(r, "/", "blocks");
    if (!blocks || !*blocks) {
        free(blocks);
        return oiqa_fail(OIQA_EXIT_DATA, path, "no 'blocks' attribute: not a file of a %s stage", mi->stage);
    }
    /* The blocks, in the order the file lists them. */
    char *block[16];
    int n_block = 0, rc = OIQA_OK, C[16], maxc = 0, G = 0;
    for (char *tok = strtok(blocks, ","); tok && n_block < 16; tok = strtok(NULL, ",")) block[n_block++] = tok;
    for (int j = 0; j < n_block && !rc; j++) {
        char ds[256];
        snprintf(ds, sizeof ds, "/%s/%s/mean", mi->streams[0], block[j]);
        oiqa_dtype t;
        int nd;
        uint64_t dims[OIQA_MAX_DIMS];
        if (oiqa_store_reader_shape(r, ds, &t, &nd, dims) || nd != 2)
            rc = oiqa_fail(OIQA_EXIT_DATA, path, "no dataset %s [N,C]: not a %s feature file (%s)", ds, mi->role,
                           mi->help ? mi->help : mi->stage);
        else {
            C[j] = (int)dims[1], G += 2 * C[j], maxc = C[j] > maxc ? C[j] : maxc;
            int64_t want[2] = {-1, C[j]};
            snprintf(ds, sizeof ds, "/%s/%s/std", mi->streams[0], block[j]);
            rc = oiqa_store_reader_expect(r, ds, OIQA_F32, 2, want);
        }
    }
    if (!rc) {
        in->n_blocks = 1, in->V = 1, in->flat = 1, in->dim[0] = G, in->block[0] = oiqa_strdup(mi->role);
        float *scratch = oiqa_xmalloc((size_t)(maxc ? maxc : 1) * sizeof(float));
        in->x[0][0] = oiqa_xmalloc((size_t)fs->n * G * sizeof(float));
        for (int i = 0; i < fs->n && !rc; i++) {
            float *dst = in->x[0][0] + (size_t)i * G;
            for (int j = 0; j < n_block && !rc; j++) {
                char prefix[200];
                snprintf(prefix, sizeof prefix, "/%s/%s", mi->streams[0], block[j]);
                rc = read_pair(r, path, prefix, rows[i], 1, C[j], scratch, dst, fs->names[i]);
                dst += 2 * C[j];
            }
        }
        free(scratch);
    }
    free(blocks);
    return rc;
}

/* The datasets /<stream>/<name> of the selected names, as they are. */
static int load_vectors(const oiqa_method *m, const oiqa_method_select *sel, int ii, const char *path,
                        const oiqa_store_reader *r, const int64_t *rows, oiqa_feature_set *fs)
{
    const oiqa_method_input *mi = &m->inputs[ii];
    oiqa_feature_input *in = &fs->in[ii];
    int nb = sel->n_blocks[ii], nd0 = 0;
    char ds[256], fix[256];
    for (int k = 0; k < nb; k++)
        for (int st = 0; st < OIQA_METHOD_MAX_STREAMS; st++) {
            if (!mi->streams[st] || !(st == 0 || sel->stream[ii][st])) continue;
            snprintf(ds, sizeof ds, "/%s/%s", mi->streams[st], sel->blocks[ii][k]);
            oiqa_dtype t;
            int nd;
            uint64_t d[OIQA_MAX_DIMS];
            if (oiqa_store_reader_shape(r, ds, &t, &nd, d)) {
                hint(fix, sizeof fix, st ? mi->fix_stream : mi->fix_block, st ? mi->streams[st] : sel->blocks[ii][k]);
                return oiqa_fail(OIQA_EXIT_DATA, path, "no dataset %s%s%s%s", ds, *fix ? " (" : "", fix,
                                 *fix ? ")" : "");
            }
            if (t != OIQA_F32 || (nd != 2 && nd != 3) || (nd0 && nd != nd0) ||
                (nd == 3 && nd0 && (int)d[1] != in->V) || (st && (int)d[nd - 1] != in->dim[k]))
                return oiqa_fail(OIQA_EXIT_DATA, path, "%s is %s with %d axes: expected float32 [N,D] or [N,V,D] like "
                                 "the input's other datasets", ds, oiqa_dtype_name(t), nd);
            nd0 = nd, in->V = nd == 3 ? (int)d[1] : 1;
            if (!st) in->dim[k] = (int)d[nd - 1];
        }
    in->n_blocks = nb, in->flat = nd0 == 2;
    int rc = OIQA_OK;
    for (int k = 0; k < nb && !rc; k++) {
        char bn[128];
        in->block[k] = oiqa_strdup(oiqa_feature_block_name(m, sel, ii, k, bn, sizeof bn));
        size_t per = (size_t)in->V * in->dim[k];
        for (int st = 0; st < OIQA_METHOD_MAX_STREAMS && !rc; st++) {
            if (!mi->streams[st] || !(st == 0 || sel->stream[ii][st])) continue;
            in->x[st][k] = oiqa_xmalloc(per * fs->n * sizeof(float));
            snprintf(ds, sizeof ds, "/%s/%s", mi->streams[st], sel->blocks[ii][k]);
            for (int i = 0; i < fs->n && !rc; i++) {
                float *dst = in->x[st][k] + per * i;
                rc = oiqa_store_reader_read_row(r, ds, rows[i], OIQA_F32, dst);
                size_t at = rc ? per : oiqa_first_nonfinite(dst, per);
                if (!rc && at < per)
                    rc = oiqa_fail(OIQA_EXIT_DATA, path, "row %lld ('%s'): %s in %s", (long long)rows[i],
                                   fs->names[i], isnan(dst[at]) ? "NaN" : "Inf", ds);
            }
        }
    }
    return rc;
}

/* The shape of a stream's 5-D dataset ds into want[1..4]: its type must be
 * `type` (what the message calls `expect`), and a stream after the first
 * must have the first one's shape. *absent: no such dataset (the caller
 * names the fix). */
static int stream_dims5(const oiqa_store_reader *r, const char *path, const char *ds, oiqa_dtype type,
                        const char *expect, int first, int64_t *want, int *absent)
{
    oiqa_dtype t;
    int nd;
    uint64_t d[OIQA_MAX_DIMS];
    *absent = oiqa_store_reader_shape(r, ds, &t, &nd, d) != 0;
    if (*absent) return OIQA_EXIT_DATA;
    if (t != type || nd != 5)
        return oiqa_fail(OIQA_EXIT_DATA, path, "%s is %s with %d axes, expected %s", ds, oiqa_dtype_name(t), nd, expect);
    for (int a = 1; !first && a < 5; a++)
        if ((int64_t)d[a] != want[a])
            return oiqa_fail(OIQA_EXIT_DATA, path, "%s differs in shape from the first stream's", ds);
    for (int a = 1; a < 5; a++) want[a] = (int64_t)d[a];
    return OIQA_OK;
}

/* The maps /<stream>/<block>/map float16 [N, V, h, w, C] of the one
 * selected block, kept as float16. */
static int load_maps(const oiqa_method_input *mi, const oiqa_method_select *sel, int ii, const char *path,
                     const oiqa_store_reader *r, const int64_t *rows, oiqa_feature_set *fs)
{
    oiqa_feature_input *in = &fs->in[ii];
    if (sel->n_blocks[ii] != 1)
        return oiqa_fail(OIQA_EXIT_USAGE, NULL, "features.%s: a maps input reads one block, not %d", mi->role,
                         sel->n_blocks[ii]);
    const char *block = sel->blocks[ii][0];
    char ds[256], fix[256];
    int64_t want[5] = {-1, 0, 0, 0, 0};
    for (int st = 0; st < OIQA_METHOD_MAX_STREAMS; st++) {
        if (!mi->streams[st] || !(st == 0 || sel->stream[ii][st])) continue;
        snprintf(ds, sizeof ds, "/%s/%s/map", mi->streams[st], block);
        int absent, rc = stream_dims5(r, path, ds, OIQA_F16, "float16 [N,V,h,w,C]", st == 0, want, &absent);
        if (absent) {
            hint(fix, sizeof fix, mi->fix_block, block);
            return oiqa_fail(OIQA_EXIT_DATA, path, "no dataset %s (run the backbone stage with --maps --blocks %s%s%s)",
                             ds, block, *fix ? "; " : "", fix);
        }
        if (rc) return rc;
    }
    in->n_blocks = 1, in->V = (int)want[1], in->map_h = (int)want[2], in->map_w = (int)want[3];
    in->dim[0] = (int)want[4];
    in->block[0] = oiqa_strdup(block);
    size_t per = (size_t)in->V * in->map_h * in->map_w * in->dim[0];
    int rc = OIQA_OK;
    for (int st = 0; st < OIQA_METHOD_MAX_STREAMS && !rc; st++) {
        if (!mi->streams[st] || !(st == 0 || sel->stream[ii][st])) continue;
        in->maps[st] = oiqa_xmalloc(per * fs->n * sizeof(uint16_t));
        snprintf(ds, sizeof ds, "/%s/%s/map", mi->streams[st], block);
        for (int i = 0; i < fs->n && !rc; i++) {
            uint16_t *dst = in->maps[st] + per * i;
            rc = oiqa_store_reader_read_row(r, ds, rows[i], OIQA_F16, dst);
            for (size_t k = 0; !rc && k < per; k++)
                if ((dst[k] & 0x7c00) == 0x7c00) /* exponent all ones: Inf or NaN */
                    rc = oiqa_fail(OIQA_EXIT_DATA, path, "row %lld ('%s'): %s in %s", (long long)rows[i], fs->names[i],
                                   dst[k] & 0x03ff ? "NaN" : "Inf", ds);
        }
    }
    return rc;
}

/* The images /<stream> uint8 [N, V, S, S, 3] of every stream read. */
static int load_images(const oiqa_method_input *mi, const oiqa_method_select *sel, int ii, const char *path,
                       const oiqa_store_reader *r, const int64_t *rows, oiqa_feature_set *fs)
{
    oiqa_feature_input *in = &fs->in[ii];
    char ds[256], fix[256];
    int64_t want[5] = {-1, 0, 0, 0, 3};
    for (int st = 0; st < OIQA_METHOD_MAX_STREAMS; st++) {
        if (!mi->streams[st] || !(st == 0 || sel->stream[ii][st])) continue;
        snprintf(ds, sizeof ds, "/%s", mi->streams[st]);
        int absent, rc = stream_dims5(r, path, ds, OIQA_U8, "uint8 [N,V,S,S,3]", st == 0, want, &absent);
        if (absent) {
            hint(fix, sizeof fix, mi->fix_stream, mi->streams[st]);
            return oiqa_fail(OIQA_EXIT_DATA, path, "no dataset %s%s%s%s", ds, *fix ? " (" : "", fix, *fix ? ")" : "");
        }
        if (!rc && want[4] != 3) rc = oiqa_fail(OIQA_EXIT_DATA, path, "%s has %lld channels, not 3", ds, (long long)want[4]);
        if (rc) return rc;
    }
    in->n_blocks = 1, in->V = (int)want[1], in->map_h = (int)want[2], in->map_w = (int)want[3], in->dim[0] = 3;
    in->block[0] = oiqa_strdup(mi->role);
    size_t per = (size_t)in->V * in->map_h * in->map_w * 3;
    int rc = OIQA_OK;
    for (int st = 0; st < OIQA_METHOD_MAX_STREAMS && !rc; st++) {
        if (!mi->streams[st] || !(st == 0 || sel->stream[ii][st])) continue;
        in->pixels[st] = oiqa_xmalloc(per * fs->n);
        snprintf(ds, sizeof ds, "/%s", mi->streams[st]);
        for (int i = 0; i < fs->n && !rc; i++) rc = oiqa_store_reader_read_row(r, ds, rows[i], OIQA_U8, in->pixels[st] + per * i);
    }
    return rc;
}

int oiqa_feature_set_load(const oiqa_feature_spec *s, char *const *names, const int *lines, int n,
                          const char *what, oiqa_feature_set *fs)
{
    memset(fs, 0, sizeof *fs);
    const oiqa_method *m = s->method;
    oiqa_store_reader *r[OIQA_METHOD_MAX_INPUTS] = {0};
    int rc = OIQA_OK, first = -1;
    fs->n_inputs = m->n_inputs;
    for (int i = 0; i < m->n_inputs && !rc; i++) {
        if (!s->sel->use[i]) continue;
        if (!s->paths[i])
            rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "key 'features.%s': no %s feature file given", m->inputs[i].role,
                           m->inputs[i].role);
        else rc = oiqa_store_open_read(s->paths[i], m->inputs[i].stage, 0, &r[i]);
        if (first < 0) first = i;
    }
    if (!rc && first < 0) rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "method %s reads no features", m->name);
    if (rc) goto done;
    if (!names) n = (int)oiqa_store_reader_rows(r[first]);
    if (n < 1) {
        rc = oiqa_fail(OIQA_EXIT_DATA, s->paths[first], "no rows to read");
        goto done;
    }
    fs->n = n;
    fs->names = oiqa_xcalloc((size_t)n, sizeof *fs->names);
    for (int i = 0; i < n; i++) fs->names[i] = oiqa_strdup(names ? names[i] : oiqa_store_reader_name(r[first], i));
    int64_t *rows = oiqa_xmalloc((size_t)n * sizeof *rows);
    for (int i = 0; i < m->n_inputs && !rc; i++) {
        if (!r[i]) continue;
        fs->in[i].used = 1, fs->in[i].layout = m->inputs[i].layout;
        rc = find_rows(r[i], s->paths[i], fs->names, lines, n, what, rows);
        if (!rc) rc = oiqa_feature_prov_from_reader(r[i], s->paths[i], s->hash, &fs->in[i].prov);
        if (rc) break;
        if (m->inputs[i].layout == OIQA_LAYOUT_VIEW_BLOCKS)
            rc = load_view_blocks(&m->inputs[i], s->sel, i, s->paths[i], r[i], rows, fs);
        else if (m->inputs[i].layout == OIQA_LAYOUT_VECTORS)
            rc = load_vectors(m, s->sel, i, s->paths[i], r[i], rows, fs);
        else if (m->inputs[i].layout == OIQA_LAYOUT_MAPS)
            rc = load_maps(&m->inputs[i], s->sel, i, s->paths[i], r[i], rows, fs);
        else if (m->inputs[i].layout == OIQA_LAYOUT_IMAGES)
            rc = load_images(&m->inputs[i], s->sel, i, s->paths[i], r[i], rows, fs);
        else rc = load_concat(&m->inputs[i], i, s->paths[i], r[i], rows, fs);
    }
    free(rows);
done:
    for (int i = 0; i < OIQA_METHOD_MAX_INPUTS; i++)
        if (r[i]) oiqa_store_close(r[i]);
    if (rc) oiqa_feature_set_free(fs);
    return rc;
}

const char *oiqa_feature_block_name(const oiqa_method *m, const oiqa_method_select *sel, int i, int k, char *buf,
                                    size_t cap)
{
    snprintf(buf, cap, "%s", m->inputs[i].layout == OIQA_LAYOUT_IMAGE_CONCAT ? m->inputs[i].role : sel->blocks[i][k]);
    for (char *p = buf; m->inputs[i].layout == OIQA_LAYOUT_VECTORS && *p; p++)
        if (*p == '/') *p = '.';
    return buf;
}

void oiqa_feature_set_alloc(const oiqa_method *m, const oiqa_method_select *sel, const oiqa_method_shape *shape,
                            const int *V, int n, oiqa_feature_set *fs)
{
    memset(fs, 0, sizeof *fs);
    fs->n = n, fs->n_inputs = m->n_inputs;
    fs->names = oiqa_xcalloc((size_t)(n ? n : 1), sizeof *fs->names);
    for (int i = 0; i < m->n_inputs; i++) {
        oiqa_feature_input *in = &fs->in[i];
        if (!shape->used[i] || m->inputs[i].layout == OIQA_LAYOUT_MAPS || m->inputs[i].layout == OIQA_LAYOUT_IMAGES)
            continue;
        in->used = 1, in->layout = m->inputs[i].layout, in->V = V[i], in->n_blocks = shape->n_blocks[i];
        in->flat = in->layout == OIQA_LAYOUT_IMAGE_CONCAT;
        for (int k = 0; k < in->n_blocks; k++) {
            in->dim[k] = shape->dim[i][k];
            char bn[128];
            in->block[k] = oiqa_strdup(oiqa_feature_block_name(m, sel, i, k, bn, sizeof bn));
            for (int st = 0; st < OIQA_METHOD_MAX_STREAMS; st++)
                if (m->inputs[i].streams[st] && (st == 0 || sel->stream[i][st]))
                    in->x[st][k] = oiqa_xmalloc((size_t)n * in->V * in->dim[k] * sizeof(float));
        }
    }
}

void oiqa_feature_set_shape(const oiqa_feature_set *fs, const oiqa_train_classes *classes, oiqa_method_shape *shape)
{
    memset(shape, 0, sizeof *shape);
    for (int i = 0; i < fs->n_inputs; i++) {
        shape->used[i] = fs->in[i].used;
        shape->n_blocks[i] = fs->in[i].n_blocks;
        for (int k = 0; k < fs->in[i].n_blocks; k++) shape->dim[i][k] = fs->in[i].dim[k];
    }
    shape->classes = classes;
}

/* Gathers rows of a [n, per] array into one input of the tape. */
static oiqa_agv gather(oiqa_ag *ag, const float *src, size_t per, const int *idx, int B, int ndim, const int *shape)
{
    float *buf = oiqa_xmalloc((size_t)B * per * sizeof(float));
    for (int b = 0; b < B; b++) memcpy(buf + (size_t)b * per, src + (size_t)idx[b] * per, per * sizeof(float));
    oiqa_agv v = oiqa_ag_input(ag, buf, ndim, shape);
    free(buf);
    return v;
}

/* Rows of a float16 [n, per] array as one float32 input of the tape. */
static oiqa_agv gather_f16(oiqa_ag *ag, const uint16_t *src, size_t per, const int *idx, int B, int ndim,
                           const int *shape)
{
    float *buf = oiqa_xmalloc((size_t)B * per * sizeof(float));
    for (int b = 0; b < B; b++) {
        const uint16_t *row = src + (size_t)idx[b] * per;
        float *dst = buf + (size_t)b * per;
#pragma omp parallel for schedule(static) if (per > 65536)
        for (size_t k = 0; k < per; k++) dst[k] = oiqa_f16_to_f32(row[k]);
    }
    oiqa_agv v = oiqa_ag_input(ag, buf, ndim, shape);
    free(buf);
    return v;
}

/* Rows of a uint8 [n, per] array as one float input (0..255) of the tape. */
static oiqa_agv gather_u8(oiqa_ag *ag, const uint8_t *src, size_t per, const int *idx, int B, const int *shape)
{
    oiqa_agv v = oiqa_ag_input(ag, NULL, 4, shape);
    float *buf = oiqa_ag_data(ag, v);
    for (int b = 0; buf && b < B; b++) {
        const uint8_t *row = src + (size_t)idx[b] * per;
        float *dst = buf + (size_t)b * per;
        for (size_t k = 0; k < per; k++) dst[k] = row[k];
    }
    return v;
}

int oiqa_feature_set_batch(oiqa_ag *ag, const oiqa_feature_set *fs, const int *idx, int B, oiqa_method_batch *in)
{
    in->B = B;
    int rc = OIQA_OK;
    for (int i = 0; i < OIQA_METHOD_MAX_INPUTS; i++)
        for (int s = 0; s < OIQA_METHOD_MAX_STREAMS; s++)
            for (int k = 0; k < OIQA_METHOD_MAX_BLOCKS; k++) in->x[i][s][k] = -1;
    for (int i = 0; i < fs->n_inputs; i++) {
        const oiqa_feature_input *f = &fs->in[i];
        if (!f->used) continue;
        if (f->layout == OIQA_LAYOUT_IMAGES) { /* [B*V, S, S, 3] */
            int shape4[4] = {B * f->V, f->map_h, f->map_w, 3};
            size_t per = (size_t)f->V * f->map_h * f->map_w * 3;
            for (int s = 0; s < OIQA_METHOD_MAX_STREAMS; s++)
                if (f->pixels[s] && (in->x[i][s][0] = gather_u8(ag, f->pixels[s], per, idx, B, shape4)) < 0)
                    rc = OIQA_EXIT_DATA;
            continue;
        }
        if (f->layout == OIQA_LAYOUT_MAPS) { /* [B*V, h, w, C] */
            int shape4[4] = {B * f->V, f->map_h, f->map_w, f->dim[0]};
            size_t per = (size_t)f->V * f->map_h * f->map_w * f->dim[0];
            for (int s = 0; s < OIQA_METHOD_MAX_STREAMS; s++)
                if (f->maps[s] && (in->x[i][s][0] = gather_f16(ag, f->maps[s], per, idx, B, 4, shape4)) < 0)
                    rc = OIQA_EXIT_DATA;
            continue;
        }
        /* A concat input is [B, G]; view blocks [B, V, dim]. */
        int concat = f->flat;
        for (int k = 0; k < f->n_blocks; k++)
            for (int s = 0; s < OIQA_METHOD_MAX_STREAMS; s++) {
                if (!f->x[s][k]) continue;
                int shape3[3] = {B, f->V, f->dim[k]}, shape2[2] = {B, f->dim[k]};
                size_t per = (size_t)f->V * f->dim[k];
                in->x[i][s][k] = gather(ag, f->x[s][k], per, idx, B, concat ? 2 : 3, concat ? shape2 : shape3);
                if (in->x[i][s][k] < 0) rc = OIQA_EXIT_DATA;
            }
    }
    if (rc && !*oiqa_errmsg()) oiqa_fail(rc, NULL, "the batch's inputs could not be put on the tape");
    return rc;
}
