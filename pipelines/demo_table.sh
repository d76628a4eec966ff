#!/usr/bin/env bash
# The demo's results table: the test-split metrics of each variant, read from
# the metrics table oiqa-eval wrote for it (RES/<variant>/table.md, whose
# first data row is the repeat's SRCC, KRCC, PLCC, RMSE and head accuracies).
#   pipelines/demo_table.sh RES VARIANT...
set -euo pipefail
res=$1; shift
echo "| model | n | SRCC | KRCC | PLCC | RMSE | level acc. | type acc. |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
for v in "$@"; do
    awk -F'|' -v v="$v" '
        /^\| run / { for (i = 2; i < NF; i++) { gsub(/ /, "", $i); col[$i] = i } next }
        /^\| s[0-9]/ && !done {
            get = "n srcc krcc plcc rmse level_accuracy type_accuracy"; split(get, keys, " ")
            line = "| " v
            for (k = 1; k <= 7; k++) { c = col[keys[k]]; x = c ? $c : " - "; gsub(/ /, "", x); line = line " | " (x == "" ? "-" : x) }
            print line " |"; done = 1 }' "$res/$v/table.md"
done
