#!/usr/bin/env bash
# What `make demo` prints at its end: where everything is and how long it took.
#   pipelines/demo_summary.sh START_EPOCH_SECONDS [FEAT RUNS RESULTS]
set -euo pipefail
start=${1:?usage: demo_summary.sh START [FEAT RUNS RESULTS]}
feat=${2:-features}/demo; runs=${3:-runs}/demo; res=${4:-results}/demo
t=$(( $(date +%s) - start ))
n=$(( $(wc -l < "$feat/labels.csv") - 1 ))
echo
cat "$res/table.md"
cat <<EOT

demo: $n images synthesised from the panoramas in data/panoramas (oiqa-synth), every stage run;
      backbones with deterministic random weights (random:0), not pretrained: the numbers show the
      pipeline works, not how good MTFI is with real ResNet-50 / VMamba weights.
demo: results table     $res/table.md  (all numbers: $res/metrics.json)
demo: scatter plots     $res/<model>/scatter.png and scatter.svg  (e.g. $res/full/scatter.png)
demo: contact sheets    $feat/sheets/*_sheet.png  (the 20 viewports of each image)
demo: feature files     $feat/*.h5  (inspect: oiqa-h5 ls $feat/resnet50.h5)
demo: trained models    $runs/<model>/s0/model.h5, log.csv
demo: took $((t / 60)) min $((t % 60)) s (a second run reuses every finished file)
EOT
