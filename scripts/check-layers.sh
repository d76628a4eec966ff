#!/usr/bin/env bash
# check-layers.sh: checks the layering of libcommon (docs/layers.md).
#
#   scripts/check-layers.sh [--quiet] [--root DIR]
#
# Reads every file DIR/**/*.{c,h,cu} (DIR defaults to libcommon) and its
# `#include "folder/file.h"` lines (relative to DIR; an include without a
# folder names a file of the including file's own folder). Two rules:
#  1. Layers. base 0; io 1; nn 1; geo 2; models 2; iqa 3; stage 4; methods 5;
#     train 6; score 7 (a subfolder such as nn/cuda or methods/mtfi belongs
#     to its parent). A file includes
#     headers of its own folder or of a strictly lower rank only; a folder of
#     the same rank (io/nn, geo/models) or of a higher one is an offence:
#     `DIR/x/y.c: includes z/w.h (x is layer N, z is layer M)`.
#  2. No circles between files. Every file is a node. F -> H when F includes
#     the header H; C -> D when the .c/.cu file C names a function or global
#     variable that the other .c/.cu file D defines. A header has no edge to
#     its .c. Every elementary cycle is printed once, from its first file in
#     sorted order: `circle: base/cli.c -> base/cli_help.c -> base/cli.c`.
# --quiet prints only the offences and circles; otherwise a first line says
# what was read and a last line `layers: N violations, M circles` sums up.
# Exit status: 0 clean, 1 offences or circles, 2 usage errors.
# Limits: definitions are found in the text: a top-level line that starts a
# function or a variable (`static` ones stay in their file). Definitions that
# macros make (labels_2d.c's adapters) are not seen, nor uses hidden in a
# header's macro (oiqa_info() calls log.c's oiqa_log); in .cu files only
# extern "C" functions count, as only those can be called from C. A name is
# a use wherever it appears in code (comments and strings are skipped), and
# #if branches are all read.
# Needs bash 4, sort, sed and awk (mawk or gawk). Run from anywhere.
set -u -o pipefail
root=$(cd "$(dirname "$0")/.." && pwd)/libcommon label=libcommon quiet=0
while [ $# -gt 0 ]; do
    case $1 in
    --quiet) quiet=1 ;;
    --root) [ $# -ge 2 ] || { echo "check-layers: --root needs a folder" >&2; exit 2; }
        root=$2 label=${2%/}; shift ;;
    -h | --help) sed -n '2,/^set -u/{/^set -u/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
    *) echo "check-layers: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
cd "$root" 2>/dev/null || { echo "check-layers: $root: no such folder" >&2; exit 2; }
shopt -s globstar nullglob
files=$(printf '%s\n' **/*.c **/*.h **/*.cu | LC_ALL=C sort)
[ -n "$files" ] || { echo "check-layers: $root: no .c, .h or .cu files" >&2; exit 2; }

# Pass 1: one line per finding, "V text" (a layer offence), "E file file" (an
# edge), "N files includes" (what was read).
# shellcheck disable=SC2086 # $files is one path per line, without spaces
scan=$(LC_ALL=C awk -v label="$label" '
function layer(p) { sub(/\/.*/, "", p); return p }
function strip(s,   out, c) {          # drops comments; strings become "", chars 0
    out = ""
    while (s != "") {
        if (incomment) {
            if (!match(s, /\*\//)) return out
            s = substr(s, RSTART + 2); incomment = 0; out = out " "; continue
        }
        if (!match(s, /["\047]|\/[*\/]/)) return out s
        out = out substr(s, 1, RSTART - 1); c = substr(s, RSTART, 1); s = substr(s, RSTART + 1)
        if (c == "/") { if (s ~ /^\//) return out; incomment = 1; s = substr(s, 2); continue }
        if (c == "\"" && match(s, /^([^"\\]|\\.)*"/)) { s = substr(s, RLENGTH + 1); out = out "\"\""; continue }
        if (c == "\047" && match(s, /^([^\047\\]|\\.)*\047/)) { s = substr(s, RLENGTH + 1); out = out "0"; continue }
        return out                      # an unclosed quote: the rest of the line goes
    }
    return out
}
function defined(s,   d) {              # the function or variable s defines, if any
    if (s !~ /^[A-Za-z_]/ || s ~ /^typedef[ \t]/ || s ~ /^extern[ \t]+[^" \t]/) return ""
    if (s ~ /^(struct|union|enum)[ \t]*[A-Za-z0-9_]*[ \t]*[;{]/) return ""
    if (match(s, /^[^=;(]*\(/) && s !~ /;[ \t]*$/) d = substr(s, 1, RLENGTH - 1)
    else if (match(s, /^[^=;(]*[=;]/)) { d = substr(s, 1, RLENGTH - 1); sub(/(\[[^]]*\][ \t]*)*$/, "", d) }
    if (!match(d, /[ \t*][A-Za-z_][A-Za-z0-9_]*[ \t]*$/)) return ""
    d = substr(d, RSTART + 1); sub(/[ \t]+$/, "", d)
    return d
}
BEGIN {
    split("base 0 io 1 nn 1 geo 2 models 2 iqa 3 stage 4 methods 5 train 6 score 7", r, " ")
    for (i = 1; i < 20; i += 2) rank[r[i]] = r[i + 1]
}
FNR == 1 { incomment = 0; src = FILENAME !~ /\.h$/ }
/^[ \t]*#[ \t]*include[ \t]*"/ {
    inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*/, "", inc); nincludes++
    path = inc; if (path !~ /\//) { path = FILENAME; sub(/[^\/]*$/, inc, path) }
    from = layer(FILENAME); to = layer(path)
    if (from != to && (!(from in rank) || !(to in rank) || rank[to] >= rank[from]))
        printf "V %s/%s: includes %s (%s is %s, %s is %s)\n", label, FILENAME, inc,
            from, (from in rank) ? "layer " rank[from] : "no layer", to, (to in rank) ? "layer " rank[to] : "no layer"
    print "E", FILENAME, path
    next
}
src {                                   # definitions and uses of .c/.cu files
    s = strip($0); d = defined(s)
    if (FILENAME ~ /\.cu$/ && s !~ /^extern[ \t]*""/) d = ""   # C sees extern "C" only
    if (d != "" && s ~ /^[^(=]*(^|[ \t])static[ \t]/) local[FILENAME, d] = 1
    else if (d != "" && !index(" " defs[d] " ", " " FILENAME " ")) defs[d] = defs[d] " " FILENAME
    gsub(/[^A-Za-z0-9_]+/, " ", s); n = split(s, w, " ")
    for (i = 1; i <= n; i++) uses[FILENAME, w[i]] = 1
}
END {                                   # a use of a name defined elsewhere, not shadowed here
    for (k in uses) {
        split(k, p, SUBSEP)
        if (!(p[2] in defs) || (k in local) || index(defs[p[2]] " ", " " p[1] " ")) continue
        n = split(defs[p[2]], by, " "); for (i = 1; i <= n; i++) print "E", p[1], by[i]
    }
    print "N", ARGC - 1, nincludes + 0
}' $files | LC_ALL=C sort -u) || { echo "check-layers: reading $root failed" >&2; exit 2; }

# Pass 2: the offences, then every elementary cycle of the file graph. reach()
# marks what each file reaches; a cycle through s stays in s's strongly
# connected part (files that s reaches and that reach s), which keeps the
# search small; starting only at the first file of each cycle prints it once.
printf '%s\n' "$scan" | LC_ALL=C awk -v quiet="$quiet" -v label="$label" '
function reach(s,   q, h, t, u, i, v) {
    h = t = 1; q[1] = s
    while (h <= t) {
        u = q[h++]
        for (i = 1; i <= nout[u]; i++) { v = out[u, i]; if (!((s, v) in r)) { r[s, v] = 1; q[++t] = v } }
    }
}
function cycles(s, u,   i, k, v, line) {   # simple paths from s through u back to s
    onpath[u] = 1; path[++top] = u
    for (i = 1; i <= nout[u]; i++) {
        v = out[u, i]
        if (v == s) {
            line = "circle:"; for (k = 1; k <= top; k++) line = line " " path[k] " ->"
            print line " " s; ncircles++
        } else if (v > s && !onpath[v] && ((s, v) in r) && ((v, s) in r)) cycles(s, v)
    }
    top--; onpath[u] = 0
}
$1 == "N" { nfiles = $2; nincludes = $3 }
$1 == "V" { offences[++nv] = substr($0, 3) }
$1 == "E" { out[$2, ++nout[$2]] = $3; nedges++; if (nout[$2] == 1) order[++nu] = $2 }
END {
    if (!quiet) printf "check-layers: %s: %d files, %d includes, %d edges\n", label, nfiles, nincludes, nedges
    for (i = 1; i <= nv; i++) print offences[i]
    for (i = 1; i <= nu; i++) reach(order[i])
    for (i = 1; i <= nu; i++) if ((order[i], order[i]) in r) cycles(order[i], order[i])
    if (!quiet) printf "layers: %d violations, %d circles\n", nv, ncircles
    exit (nv + ncircles > 0)
}'
