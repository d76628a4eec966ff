#!/usr/bin/env bash
# The per-distortion-type mean predictor, the baseline a learned model must
# beat: every image is scored with the mean label of the training (train and
# val) images of its distortion type in one split column; a type absent from
# training gets the mean of all training labels. Writes predictions.csv
# (name,score) on stdout for oiqa-eval.
#   pipelines/typemean.sh labels.csv splits.csv s0 > predictions.csv
set -euo pipefail
labels=${1:?usage: typemean.sh labels.csv splits.csv sN}
splits=${2:?usage: typemean.sh labels.csv splits.csv sN}
col=${3:?usage: typemean.sh labels.csv splits.csv sN}
awk -F, -v col="$col" -v lf="$labels" -v sf="$splits" '
function fail(msg) { print "typemean.sh: " msg > "/dev/stderr"; bad = 1; exit 2 }
FNR == 1 {
    if (FILENAME == sf) { for (i = 2; i <= NF; i++) if ($i == col) c = i; if (!c) fail(sf ": no column " col) }
    else { for (i = 1; i <= NF; i++) h[$i] = i; if (!h["name"] || !h["mos"] || !h["dist_type"]) fail(lf ": not a labels.csv") }
    next
}
FILENAME == sf { part[$1] = $c; next }
{
    n++; name[n] = $h["name"]; type[n] = $h["dist_type"]
    if (part[$h["name"]] == "train" || part[$h["name"]] == "val") { sum[type[n]] += $h["mos"]; cnt[type[n]]++; all += $h["mos"]; nall++ }
}
END {
    if (bad) exit 2
    if (!nall) { print "typemean.sh: " sf ": no training images in " col > "/dev/stderr"; exit 1 }
    print "name,score"
    for (i = 1; i <= n; i++) printf "%s,%.17g\n", name[i], (cnt[type[i]] ? sum[type[i]] / cnt[type[i]] : all / nall)
}' "$splits" "$labels"
