#!/usr/bin/env bash
# A dataset config (configs/datasets/NAME.yaml) as make variables, for
# pipelines/experiments.mk:  pipelines/dataset_vars.sh configs/datasets/cviq.yaml
# prints  DS_cviq_adapter := cviq  and so on, one line per key.
# Dataset configs are flat on purpose: `key: value` or `key: [a, b]` per line
# (a list becomes space-separated words), `#` comments, quotes allowed around
# a value. Anything else (nesting, multi-line values) is refused naming the
# file and line, so a config make cannot read never half-works.
set -euo pipefail
f=${1:?usage: dataset_vars.sh configs/datasets/NAME.yaml}
[ -r "$f" ] || { echo "dataset_vars.sh: $f: cannot read the dataset config" >&2; exit 1; }
name=$(basename "$f" .yaml)
awk -v name="$name" -v file="$f" '
function fail(msg) { printf "%s:%d: %s\n", file, NR, msg > "/dev/stderr"; bad = 1; exit 1 }
{
    line = $0
    sub(/[ \t]+#.*$/, "", line); sub(/^#.*$/, "", line); sub(/[ \t]+$/, "", line)
    if (line == "" || line == "---") next
    if (line ~ /^[ \t-]/) fail("only flat `key: value` lines are understood here")
    if (line !~ /^[a-z_][a-z0-9_]*:( |$)/) fail("expected `key: value`")
    key = line; sub(/:.*/, "", key)
    val = line; sub(/^[^:]*:[ \t]*/, "", val)
    if (val ~ /^\[.*\]$/) { val = substr(val, 2, length(val) - 2); gsub(/[ \t]*,[ \t]*/, " ", val); sub(/^[ \t]+/, "", val) }
    else if (val ~ /^[\[{]/) fail("a list must be on one line: [a, b]")
    if (val ~ /^".*"$/ || val ~ /^\x27.*\x27$/) val = substr(val, 2, length(val) - 2)
    gsub(/\$/, "$$", val)
    if (seen[key]++) fail("key " key " given twice")
    printf "DS_%s_%s := %s\n", name, key, val
}' "$f"
