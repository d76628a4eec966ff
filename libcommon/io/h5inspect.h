/* The logic of oiqa-h5: looking into HDF5 files, any HDF5 file, with extras
 * for oiqa stores (rows named by /names, per_image datasets, provenance).
 *
 * Every function writes its report to `out` and returns OIQA_OK or an exit
 * code with the one-line message set (base/error.h) naming the file.
 * Numbers are read as double (exact for every integer below 2^53). */
#ifndef OIQA_IO_H5INSPECT_H
#define OIQA_IO_H5INSPECT_H

#include <stdio.h>

/* ls: the tree of groups and datasets (shape, dtype, chunks, filters,
 * storage size) with their attributes; long values shortened unless
 * full_attrs. Soft and external links are shown, not followed. */
int oiqa_h5_ls(const char *path, int full_attrs, FILE *out);

/* show: the provenance of an oiqa store (tool, stage, created, complete,
 * rows, command, inputs (the first few unless all_inputs), config, and the
 * per-image datasets). Refuses files that are not oiqa stores. */
int oiqa_h5_show(const char *path, int all_inputs, FILE *out);

/* stats: per numeric dataset (all, or the n named ones) shape, dtype, and
 * min, max, mean, std (population) over the finite values, with the NaN and
 * Inf counts. per_row adds one line per row (first axis), named by /names
 * for per-image datasets. Reads in blocks of bounded size. */
int oiqa_h5_stats(const char *path, char *const *dsets, int n, int per_row, FILE *out);

/* dump: a slice of one dataset as CSV. rows "A:B" selects along the first
 * axis; index "0,:,3" (integers, A:B, :, negative from the end; missing
 * trailing axes are ':') along every axis; an integer drops its axis.
 * With two or more axes left, the last becomes the columns (v0, v1, ... or
 * the names in the dataset's `columns` attribute) and the lines run along
 * the others; with one, each line holds one value ("value"). When the lines
 * run along two or more axes, each has an index column (i1, i2, ...).
 * Lines of per-image datasets start with the row's name. */
int oiqa_h5_dump(const char *path, const char *dset, const char *rows, const char *index, FILE *out);

typedef struct {
    double atol, rtol; /* equal when |a - b| <= atol + rtol * |b|; NaN equals NaN */
    int attrs;         /* also compare attributes (except created and command) */
} oiqa_h5_diff_opts;

/* diff: compares every dataset of a and b (same paths, dtypes, shapes,
 * values). When both have /names, rows of per-image datasets are matched by
 * name, so row order does not matter. Prints each difference and a summary
 * line; *differ = 1 when they differ. Returns an error code only when the
 * comparison could not be made. */
int oiqa_h5_diff(const char *a, const char *b, const oiqa_h5_diff_opts *o, FILE *out, int *differ);

/* merge: concatenates shards (complete oiqa stores of one stage and config)
 * into out through the store API (out.partial, then renamed): per-image
 * datasets concatenated in shard order, fixed datasets (equal in every
 * shard) and attributes copied from the first. Refuses, naming the shard
 * and the mismatch: another stage or config, another dataset set, dtype or
 * row shape, a fixed dataset that differs, a duplicate name. tool and
 * command become the provenance of out. */
int oiqa_h5_merge(char *const *shards, int n, const char *out, int force, const char *tool,
                  const char *command);

typedef struct {
    const char *dataset; /* uint8 [N,V,S,S,3] or [N,H,W,3]; NULL: /viewports */
    const char *rows;    /* "A:B" or NULL for all */
    int sheet;           /* one contact sheet per row instead of one PNG per image */
} oiqa_h5_png_opts;

/* export-png: DIR/<name without extension>_vNN.png per viewport (or
 * DIR/<name without extension>.png for [N,H,W,3]; with sheet,
 * DIR/<name without extension>_sheet.png labelled from /centers). Names'
 * subdirectories are kept; names that would leave dir are refused. */
int oiqa_h5_export_png(const char *path, const char *dir, const oiqa_h5_png_opts *o, long *written);

#endif
