#!/usr/bin/env bash
# `make demo-resnet_ft`: a ResNet-18 fine-tuned for quality on the demo
# dataset (oiqa-synth on the shipped panoramas), three ways with the same
# seed and config (configs/experiments/resnet_ft_demo.yaml):
#   ft_layer3     above a cached layer3 cut: layer4 and the head train on the
#                 stored maps (oiqa-backbone --blocks layer3 --maps)
#   ft_images     from the viewports: the whole network and the head train
#   probe_layer3  the frozen backbone, only the head: the linear probe
# each scored on the test part and evaluated (oiqa-eval); the table goes to
# RESULTS/demo_resnet_ft/table.md. Viewports: cube6 at 112 px (the demo's
# size; 6 faces keep training from the pixels within the demo's time).
#   pipelines/finetune_demo.sh   (BIN, FEAT, RUNS, RESULTS, SEED, EPOCHS from the environment)
set -euo pipefail
BIN=${BIN:-build/bin}; FEAT=${FEAT:-features}; RUNS=${RUNS:-runs}; RESULTS=${RESULTS:-results}
SEED=${SEED:-0}; EPOCHS=${EPOCHS:-8}; J=${J:-$(nproc)}
start=$(date +%s)
make --no-print-directory -f pipelines/experiments.mk DATASET=demo BIN="$BIN" FEAT="$FEAT" SEED="$SEED" Q=-q \
    "$FEAT/demo/labels.csv" "$FEAT/demo/splits.csv" "$FEAT/demo/names.txt"
D=$FEAT/demo; R=$RUNS/demo_resnet_ft; O=$RESULTS/demo_resnet_ft
mkdir -p "$R" "$O"
vp=$D/viewports_cube6.h5; maps=$D/resnet18_layer3.h5
[ -f "$vp" ] || "$BIN/oiqa-viewports" -q --root "$D/data" @"$D/names.txt" --layout cube6 --size 112 -o "$vp" -j "$J"
[ -f "$maps" ] || "$BIN/oiqa-backbone" --arch resnet18 "$vp" --weights "random:$SEED" --blocks layer3 --maps \
    -o "$maps" -q -j "$J"
train() { # variant, then --set arguments
    local v=$1; shift
    "$BIN/oiqa-train" --config configs/experiments/resnet_ft_demo.yaml --set "model.weights=random:$SEED" \
        --set "features.maps=$maps" --set "labels=$D/labels.csv" --set "splits=$D/splits.csv" \
        --set "seed=$SEED" --set "epochs=$EPOCHS" "$@" -o "$R/$v" --force -q -j "$J"
    local feat=$maps
    [[ " $* " == *" model.cut=none "* ]] && feat=$vp
    "$BIN/oiqa-score" --model "$R/$v/model.h5" --features "$feat" -o "$R/$v/predictions.csv" --force -q -j "$J"
    "$BIN/oiqa-eval" -q "$R/$v/predictions.csv" --labels "$D/labels.csv" --splits "$D/splits.csv" --part test \
        -o "$O/$v" --force
}
train ft_layer3
train probe_layer3 --set model.train_backbone=false
train ft_images --set model.cut=none --set features.maps=null --set "features.viewports=$vp"
pipelines/results_table.sh "$O" "ResNet-18 fine-tuned on the demo dataset (cube6 viewports, 112 px)" \
    "weights: random:$SEED (deterministic random init, not pretrained); model selection: best val SRCC+PLCC epoch of $EPOCHS (val part of splits.csv s0); test part scored" \
    ft_layer3 ft_images probe_layer3
t=$(( $(date +%s) - start ))
echo "demo-resnet_ft: $O/table.md; models in $R; took $((t / 60)) min $((t % 60)) s"
