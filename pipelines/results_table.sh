#!/usr/bin/env bash
# One experiment's results: DIR/table.md (printed too) and DIR/metrics.json
# from the oiqa-eval folders DIR/<variant>/ (their table.md and metrics.json).
#   pipelines/results_table.sh DIR TITLE NOTE VARIANT...
# table.md: the median over the runs (repeats) of each variant's test metrics,
# then the mean; metrics.json: {"experiment", "title", "note", "variants":
# {variant: oiqa-eval's metrics.json}}.
set -euo pipefail
dir=${1:?usage: results_table.sh DIR TITLE NOTE VARIANT...}; title=$2; note=$3; shift 3

describe() {
    case $1 in
        full) echo "MTFI (full model)" ;;
        no_restored) echo "without the restored stream" ;;
        no_degraded) echo "without the degraded stream" ;;
        no_global) echo "without the global (VMamba) features" ;;
        single_scale) echo "one scale (layer4 only)" ;;
        no_aux) echo "without the level and type heads" ;;
        typemean) echo "baseline: per-distortion-type mean" ;;
        ft_layer3) echo "ResNet-18 fine-tuned above the cached layer3 cut (layer4 + head)" ;;
        ft_images) echo "ResNet-18 fine-tuned from the viewports (whole network + head)" ;;
        probe_layer3) echo "baseline: frozen ResNet-18, linear probe (head only)" ;;
        *) echo "$1" ;;
    esac
}

# The row `which` (median or mean; the only run when there is one) of a
# variant's oiqa-eval table, as | model | runs | n | SRCC | ... |.
row() {
    local v=$1 which=$2
    awk -F'|' -v label="$(describe "$v")" -v which="$which" '
        /^\| run / && !cols { for (i = 2; i < NF; i++) { k = $i; gsub(/ /, "", k); col[k] = i } cols = 1; next }
        /^\| (s[0-9]|f[0-9]|run[0-9])/ && cols && !inbreak { runs++; if (!first) first = $0; next }
        /^\| \*\*median\*\*/ && which == "median" { pick = $0 }
        /^\| \*\*mean\*\*/ && which == "mean" { pick = $0 }
        /^$/ && cols { inbreak = 1 }
        END {
            if (!pick) pick = first
            n = split(pick, f, "|")
            out = "| " label " | " runs
            split("n srcc krcc plcc rmse level_accuracy type_accuracy", keys, " ")
            for (k = 1; k <= 7; k++) { c = col[keys[k]]; x = c ? f[c] : ""; gsub(/ /, "", x); out = out " | " (x == "" ? "-" : x) }
            print out " |"
        }' "$dir/$v/table.md"
}

header='| model | runs | n | SRCC | KRCC | PLCC | RMSE | level acc. | type acc. |
|---|---:|---:|---:|---:|---:|---:|---:|---:|'
runs=$(awk '/^\| (s[0-9]|f[0-9])/ { n++ } /^$/ { exit } END { print n + 0 }' "$dir/$1/table.md")
{
    echo "# $title"
    echo
    echo "$note"
    echo
    if [ "$runs" -gt 1 ]; then echo "Test-set metrics, median over $runs runs (PLCC and RMSE after the 4-parameter logistic):"
    else echo "Test-set metrics (PLCC and RMSE after the 4-parameter logistic):"; fi
    echo
    echo "$header"
    for v in "$@"; do row "$v" median; done
    if [ "$runs" -gt 1 ]; then
        echo
        echo "Mean over the $runs runs:"
        echo
        echo "$header"
        for v in "$@"; do row "$v" mean; done
    fi
    echo
    echo "Per variant: $dir/<variant>/ (oiqa-eval's metrics.json, table.md with the per-type breakdown, scatter.svg, scatter.png)."
} > "$dir/table.md.tmp"

json_string() { printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g; s/^/"/; s/$/"/'; }
{
    printf '{"experiment": %s, "title": %s, "note": %s, "variants": {' \
        "$(json_string "$(basename "$dir")")" "$(json_string "$title")" "$(json_string "$note")"
    sep=
    for v in "$@"; do printf '%s\n%s: ' "$sep" "$(json_string "$v")"; cat "$dir/$v/metrics.json"; sep=,; done
    printf '}}\n'
} > "$dir/metrics.json.tmp"
mv "$dir/metrics.json.tmp" "$dir/metrics.json"
mv "$dir/table.md.tmp" "$dir/table.md"
[ -n "${RESULTS_TABLE_QUIET:-}" ] || cat "$dir/table.md"
