#!/usr/bin/env bash
# The default run (`make demo`): the viewport stage on the shipped CC0
# panoramas, writing the feature file and one contact sheet per image.
# Later stages (pseudo-references, backbones, training, evaluation) join here
# as they are built.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-build/bin}
OUT=${OUT:-features/demo}
SHEETS=${SHEETS:-results/demo/sheets}
mkdir -p "$OUT" "$SHEETS"

start=$(date +%s.%N)
"$BIN/oiqa-viewports" --config configs/stages/viewports.yaml --root data/panoramas \
    $(cd data/panoramas && ls *.png) -o "$OUT/viewports.h5" --sheet "$SHEETS" --force
end=$(date +%s.%N)

echo
"$BIN/oiqa-h5" ls "$OUT/viewports.h5"
echo
n=$(ls data/panoramas/*.png | wc -l)
awk -v n="$n" -v t0="$start" -v t1="$end" 'BEGIN { printf "demo: 20 viewports of each of %d panoramas in %.1f s\n", n, t1 - t0 }'
echo "demo: features:       $OUT/viewports.h5  (inspect: $BIN/oiqa-h5 show $OUT/viewports.h5)"
echo "demo: contact sheets: $SHEETS/*_sheet.png"
