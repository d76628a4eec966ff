#!/usr/bin/env bash
# Bit-identity of training and scoring across a refactor: builds REV (default
# HEAD) in a temporary git worktree, trains and scores with both REV's tools
# and the working tree's (build/bin) on the same synthetic feature files
# (tests/unit/test_train --write-fixtures), and compares every weight, every
# prediction and every log.csv column but the timing one, bit for bit.
# Same machine, same run: float results may differ between CPUs, so this
# compares two builds here rather than against numbers stored elsewhere.
#   scripts/compare-train.sh [REV]      exit 0: identical; 1: a difference
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-HEAD}
root=$PWD
work=$(mktemp -d /tmp/oiqa-compare.XXXXXX)
trap 'git -C "$root" worktree remove --force "$work/old" >/dev/null 2>&1 || true; rm -rf "$work"' EXIT

make -s -j2 tools unit-tests >/dev/null
git worktree add --detach "$work/old" "$rev" >/dev/null 2>&1
make -s -C "$work/old" -j2 tools >/dev/null
new=$root/build/bin old=$work/old/build/bin

cd "$work"
"$root/build/tests/test_train" --write-fixtures "$work" >/dev/null
# The configurations of tests/e2e/test_train.sh and the defaults' optimiser
# (SGD, constant rate), with and without the global stream and the aux heads.
cat >adamw.yaml <<'YAML'
model: {hidden: 16, dropout: 0.1, scales: [layer2, layer3]}
features: {local: r50.h5, global: vm.h5}
labels: labels.csv
splits: splits.csv
optimizer: {type: adamw, lr: 0.003, weight_decay: 0.0001}
schedule: {type: cosine, warmup: 1}
epochs: 6
batch_size: 8
seed: 1
YAML
sed -e 's/type: adamw, lr: 0.003/type: sgd, lr: 0.01, momentum: 0.9/' -e 's/{type: cosine, warmup: 1}/{type: step, step_size: 2}/' \
    -e 's/dropout: 0.1, /dropout: 0, use_global: false, aux_heads: false, /' -e 's/, global: vm.h5//' adamw.yaml >sgd.yaml

status=0
for cfg in adamw sgd; do
    for side in old new; do
        bin=${!side}
        "$bin/oiqa-train" --config "$cfg.yaml" -o "$side-$cfg" -q
        global=(--global vm.h5); [ "$cfg" = sgd ] && global=()
        "$bin/oiqa-score" --model "$side-$cfg/model.h5" --features r50.h5 "${global[@]}" -o "$side-$cfg/pred.csv" -q
    done
    for f in model.h5 last.h5; do
        if ! "$new/oiqa-h5" diff "old-$cfg/$f" "new-$cfg/$f" --rtol 0 --atol 0 >/dev/null; then
            echo "$cfg/$f: differs"; status=1
        fi
    done
    cmp -s "old-$cfg/pred.csv" "new-$cfg/pred.csv" || { echo "$cfg/pred.csv: differs"; status=1; }
    # The old model.h5 scores with the new oiqa-score, to the same numbers.
    "$new/oiqa-score" --model "old-$cfg/model.h5" --features r50.h5 "${global[@]}" -o "old-$cfg/pred_new.csv" -q
    cmp -s "old-$cfg/pred.csv" "old-$cfg/pred_new.csv" || { echo "$cfg: $rev's model.h5 scores differently now"; status=1; }
    # log.csv without its last column (seconds per epoch).
    if ! diff <(sed 's/,[^,]*$//' "old-$cfg/log.csv") <(sed 's/,[^,]*$//' "new-$cfg/log.csv") >/dev/null; then
        echo "$cfg/log.csv: differs"; status=1
    fi
done
[ "$status" = 0 ] && echo "identical: weights, predictions and logs of $rev and the working tree (adamw + cosine, sgd + step); $rev's model.h5 scores the same with the working tree's oiqa-score"
exit "$status"
