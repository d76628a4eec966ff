/* oiqa-h5 export-png: viewports (or whole images) of a store as PNG files
 * or contact sheets, for a person to look at. */
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/strutil.h"
#include "io/h5inspect.h"
#include "io/h5inspect_internal.h"
#include "io/h5store.h"
#include "io/h5util.h"
#include "io/image.h"
#include "io/sheet.h"

#define MAX_TILES 4096

/* DIR/<name without its extension><suffix>; NULL (message set) for names
 * that would land outside dir: absolute, or with a ".." component. */
static char *output_path(const char *file, const char *dir, const char *name, const char *suffix)
{
    if (!*name || name[0] == '/') {
        oiqa_fail(OIQA_EXIT_DATA, file, "name '%s' is not a relative path: not written under %s", name, dir);
        return NULL;
    }
    for (const char *p = name; *p;) {
        size_t len = strcspn(p, "/");
        if (len == 2 && !strncmp(p, "..", 2)) {
            oiqa_fail(OIQA_EXIT_DATA, file, "name '%s' would be written outside %s", name, dir);
            return NULL;
        }
        p += len + (p[len] == '/');
    }
    const char *base = strrchr(name, '/');
    base = base ? base + 1 : name;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - name) : strlen(name);
    return oiqa_asprintf("%s/%.*s%s", dir, (int)stem, name, suffix);
}

typedef struct {
    int rank;          /* 4 or 5 */
    int V, H, W;       /* V = 1 for [N,H,W,3] */
    size_t tile_bytes;
    double *centers;   /* V*3 (fixed) or N*V*3 (per image), or NULL */
    int centers_per_row;
} png_layout;

static int read_layout(const oiqa_store_reader *r, const char *path, const char *dset, int want_centers, png_layout *l)
{
    oiqa_dtype t;
    int nd = 0;
    uint64_t dims[OIQA_MAX_DIMS];
    memset(l, 0, sizeof *l);
    int rc = oiqa_store_reader_shape(r, dset, &t, &nd, dims);
    if (rc) return rc;
    int ok = t == OIQA_U8 && (nd == 4 || nd == 5) && dims[nd - 1] == 3;
    if (ok) {
        l->rank = nd;
        uint64_t v = nd == 5 ? dims[1] : 1, h = dims[nd - 3], w = dims[nd - 2];
        ok = v >= 1 && v <= MAX_TILES && h >= 1 && h <= 65535 && w >= 1 && w <= 65535;
        l->V = (int)v, l->H = (int)h, l->W = (int)w;
        l->tile_bytes = (size_t)h * w * 3;
    }
    if (!ok) {
        char shape[256];
        hsize_t hd[OIQA_MAX_DIMS];
        for (int k = 0; k < nd; k++) hd[k] = dims[k];
        oiqa_h5_shape_name(nd, hd, shape, sizeof shape);
        return oiqa_fail(OIQA_EXIT_DATA, path, "%s is %s %s, expected uint8 [N,V,S,S,3] or [N,H,W,3]", dset,
                         oiqa_dtype_name(t), shape);
    }
    if (!want_centers || l->rank != 5 || oiqa_store_reader_shape(r, "/centers", &t, &nd, dims)) return OIQA_OK;
    int64_t n = oiqa_store_reader_rows(r);
    if (nd == 2 && dims[0] == (uint64_t)l->V && dims[1] == 3) l->centers_per_row = 0;
    else if (nd == 3 && dims[0] == (uint64_t)n && dims[1] == (uint64_t)l->V && dims[2] == 3) l->centers_per_row = 1;
    else return OIQA_OK; /* centers of another shape: sheets without labels */
    l->centers = malloc((size_t)l->V * 3 * sizeof *l->centers);
    if (!l->centers) return oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
    if (!l->centers_per_row) return oiqa_store_reader_read_all(r, "/centers", OIQA_F64, l->centers);
    return OIQA_OK;
}

static int write_row(const oiqa_store_reader *r, const char *path, const char *dir, const oiqa_h5_png_opts *o,
                     png_layout *l, int64_t row, const uint8_t *pixels, long *written)
{
    const char *name = oiqa_store_reader_name(r, row);
    int rc = OIQA_OK;
    if (o->sheet) {
        char *out = output_path(path, dir, name, "_sheet.png");
        if (!out) return OIQA_EXIT_DATA;
        if (l->centers && l->centers_per_row)
            rc = oiqa_store_reader_read_row(r, "/centers", row, OIQA_F64, l->centers);
        oiqa_sheet_tile *tiles = calloc((size_t)l->V, sizeof *tiles);
        if (!tiles) rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
        for (int v = 0; !rc && v < l->V; v++) {
            oiqa_sheet_tile *t = &tiles[v];
            t->rgb = pixels + (size_t)v * l->tile_bytes;
            t->w = l->W, t->h = l->H;
            if (l->centers) {
                t->lon = l->centers[v * 3], t->lat = l->centers[v * 3 + 1];
                snprintf(t->label, sizeof t->label, "#%d lon %.1f lat %.1f", v, t->lon, t->lat);
            } else snprintf(t->label, sizeof t->label, "#%d", v);
        }
        if (!rc) rc = oiqa_mkdir_parent(out);
        if (!rc) rc = oiqa_sheet_write(out, name, NULL, tiles, l->V, 0);
        if (!rc) (*written)++;
        free(tiles);
        free(out);
        return rc;
    }
    for (int v = 0; v < l->V && !rc; v++) {
        char suffix[32];
        if (l->rank == 5) snprintf(suffix, sizeof suffix, "_v%02d.png", v);
        else snprintf(suffix, sizeof suffix, ".png");
        char *out = output_path(path, dir, name, suffix);
        if (!out) return OIQA_EXIT_DATA;
        rc = oiqa_mkdir_parent(out);
        if (!rc) rc = oiqa_image_save(out, pixels + (size_t)v * l->tile_bytes, l->W, l->H, 0);
        if (!rc) (*written)++;
        free(out);
    }
    return rc;
}

int oiqa_h5_export_png(const char *path, const char *dir, const oiqa_h5_png_opts *o, long *written)
{
    const char *dset = o->dataset ? o->dataset : "/viewports";
    oiqa_store_reader *r = NULL;
    png_layout l = {0};
    uint8_t *pixels = NULL;
    *written = 0;
    int rc = oiqa_store_open_read(path, NULL, 0, &r);
    if (rc) return rc;
    if ((rc = read_layout(r, path, dset, o->sheet, &l))) goto done;
    int64_t n = oiqa_store_reader_rows(r);
    hsize_t start = 0, count = (hsize_t)n;
    int single = 0;
    if (o->rows && oiqa_h5_parse_slice(o->rows, strlen(o->rows), (hsize_t)n, &start, &count, &single)) {
        rc = oiqa_fail(OIQA_EXIT_USAGE, NULL, "--rows '%s' is not a row in [0, %lld) or a range A:B", o->rows,
                       (long long)n);
        goto done;
    }
    if (!(pixels = malloc((size_t)l.V * l.tile_bytes))) {
        rc = oiqa_fail(OIQA_EXIT_DATA, path, "out of memory");
        goto done;
    }
    if ((rc = oiqa_mkdir_p(dir))) goto done;
    for (hsize_t row = start; row < start + count && !rc; row++) {
        rc = oiqa_store_reader_read_row(r, dset, (int64_t)row, OIQA_U8, pixels);
        if (!rc) rc = write_row(r, path, dir, o, &l, (int64_t)row, pixels, written);
    }
done:
    free(pixels);
    free(l.centers);
    oiqa_store_close(r);
    return rc;
}
