#!/usr/bin/env bash
# End-to-end: fine-tuning a ResNet-18 above a cached cut (method resnet_ft,
# docs/finetune.md) on real panoramas: oiqa-synth (4 references x 2 families x
# 2 levels), viewports, oiqa-backbone --arch resnet18 --blocks layer3 --maps,
# oiqa-train, oiqa-score; what is saved (layer4 and the head, nothing below
# the cut), determinism, resume, the linear probe, training from the
# viewports themselves, and the refusals (exit code, one stderr line naming
# the problem).
source "$(dirname "$0")/lib.sh"
T=$OIQA_BIN/oiqa-train
S=$OIQA_BIN/oiqa-score
W=$OIQA_BIN/oiqa-weights
cd "$TMP" || exit 1
REFS=("$PANOS"/city_tonemapped.png "$PANOS"/courtyard_tonemapped.png "$PANOS"/forest_tonemapped.png
      "$PANOS"/night_tonemapped.png)
run "$OIQA_BIN/oiqa-synth" "${REFS[@]}" --families jpeg,noise --levels 1,4 --size 64 -o d -q -j 2
[ "$RC" -eq 0 ] || { fail finetune_setup "oiqa-synth failed: $ERR"; e2e_done; }
tail -n +2 d/labels.csv | cut -d, -f1 >names.txt
run "$OIQA_BIN/oiqa-split" d/labels.csv --train 0.5 --val 0.25 --test 0.25 --seed 0 -o splits.csv -q
run "$OIQA_BIN/oiqa-viewports" --root d @names.txt --layout cube6 --size 64 -o vp.h5 -q -j 2
run "$OIQA_BIN/oiqa-backbone" --arch resnet18 vp.h5 --weights random:0 --blocks layer3 --maps -o r18.h5 -q -j 2
[ "$RC" -eq 0 ] || { fail finetune_setup "oiqa-backbone failed: $ERR"; e2e_done; }

cat >ft.yaml <<'YAML'
method: resnet_ft
model: {weights: "random:0", arch: resnet18, cut: layer3}
features: {maps: r18.h5}
labels: d/labels.csv
splits: splits.csv
optimizer: {type: adam, lr: 0.0003, weight_decay: 0.0001}
schedule: {type: cosine}
epochs: 3
batch_size: 4
seed: 1
YAML

run "$T" --config ft.yaml -o runs/ft -q -j 2
if [ "$RC" -eq 0 ] && [ -f runs/ft/model.h5 ] && [ "$(wc -l <runs/ft/log.csv)" -eq 4 ]; then
    pass finetune_trains; else fail finetune_trains "rc=$RC $ERR"; fi
run "$W" ls runs/ft/model.h5
if printf '%s' "$OUT" | grep -q 'layer4.1.conv2.weight' && printf '%s' "$OUT" | grep -q 'head.weight' &&
    printf '%s' "$OUT" | grep -q 'layer4.0.bn1.running_var' &&
    ! printf '%s' "$OUT" | grep -q 'layer3\.' && ! printf '%s' "$OUT" | grep -q 'conv1.weight  *float32 \[64,3'; then
    pass finetune_saves_layers_above_cut; else fail finetune_saves_layers_above_cut "$OUT"; fi

# the same config and seed: bit-identical weights (same threads)
run "$T" --config ft.yaml -o runs/ft2 -q -j 2
run "$OIQA_BIN/oiqa-h5" diff runs/ft/model.h5 runs/ft2/model.h5 --atol 0 --rtol 0
[ "$RC" -eq 0 ] && pass finetune_deterministic || fail finetune_deterministic "$OUT $ERR"

# resumed after epoch 1: the same log as the uninterrupted run
run "$T" --config ft.yaml -o runs/res --stop-after 1 -q -j 2
run "$T" --config ft.yaml -o runs/res --resume -q -j 2
[ "$RC" -eq 0 ] && [ "$(cut -d, -f1-7 runs/res/log.csv)" = "$(cut -d, -f1-7 runs/ft/log.csv)" ] &&
    pass finetune_resume || fail finetune_resume "rc=$RC $ERR"

# scoring the cached maps with the model
run "$S" --model runs/ft/model.h5 --features r18.h5 -o pred.csv -q
[ "$RC" -eq 0 ] && [ "$(wc -l <pred.csv)" -eq "$(($(wc -l <names.txt) + 1))" ] &&
    pass finetune_scores || fail finetune_scores "rc=$RC $ERR"

# the frozen-backbone linear probe: only the head is a parameter
run "$T" --config ft.yaml --set model.train_backbone=false -o runs/probe -q -j 2
run "$W" ls runs/probe/model.h5
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q 'head.weight' && ! printf '%s' "$OUT" | grep -q 'layer4' &&
    pass finetune_probe_head_only || fail finetune_probe_head_only "$OUT $ERR"

# from the viewports themselves: the whole network trains (stem included)
run "$T" --config ft.yaml --set model.cut=none --set features.viewports=vp.h5 --set features.maps=null --set epochs=1 \
    -o runs/img -q -j 2
run "$W" ls runs/img/model.h5
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q 'conv1.weight' && printf '%s' "$OUT" | grep -q 'layer1.0.bn1.weight' &&
    pass finetune_from_images || fail finetune_from_images "$OUT $ERR"
run "$S" --model runs/img/model.h5 --features vp.h5 -o pred_img.csv -q
[ "$RC" -eq 0 ] && [ "$(wc -l <pred_img.csv)" -eq "$(($(wc -l <names.txt) + 1))" ] &&
    pass finetune_from_images_scores || fail finetune_from_images_scores "rc=$RC $ERR"

# from images with a random 48x48 crop per step; scoring sees the centre crop
run "$T" --config ft.yaml --set model.cut=none --set model.crop=48 --set features.viewports=vp.h5 \
    --set features.maps=null --set epochs=1 -o runs/crop -q -j 2
[ "$RC" -eq 0 ] && [ -f runs/crop/model.h5 ] && pass finetune_crop_trains || fail finetune_crop_trains "rc=$RC $ERR"
run "$S" --model runs/crop/model.h5 --features vp.h5 -o pred_crop.csv -q
[ "$RC" -eq 0 ] && [ "$(wc -l <pred_crop.csv)" -eq "$(($(wc -l <names.txt) + 1))" ] &&
    ! cmp -s pred_crop.csv pred_img.csv && pass finetune_crop_scores || fail finetune_crop_scores "rc=$RC $ERR"

# --- refusals ---------------------------------------------------------------
run "$OIQA_BIN/oiqa-backbone" --arch resnet18 vp.h5 --weights random:0 --blocks layer3 -o nomaps.h5 -q
expect_error finetune_needs_maps 1 'nomaps\.h5: no dataset /original/layer3/map \(run the backbone stage with --maps --blocks layer3' \
    "$T" --config ft.yaml --set features.maps=nomaps.h5 -o x -q
expect_error finetune_needs_weights 2 "key 'model.weights': give the backbone's checkpoint" \
    "$T" --config ft.yaml --set model.weights= -o x -q
expect_error finetune_wrong_arch 1 'the cached layer3 maps have 256 channels, the resnet50.s layer3 has 1024' \
    "$T" --config ft.yaml --set model.arch=resnet50 -o x -q
expect_error finetune_wrong_cut 1 'no dataset /original/layer2/map' \
    "$T" --config ft.yaml --set model.cut=layer2 -o x -q
expect_error finetune_crop_needs_images 2 "key 'model.crop': crops apply to images \(model.cut: none\)" \
    "$T" --config ft.yaml --set model.crop=32 -o x -q
expect_error finetune_crop_too_large 2 "key 'model.crop': 80 is larger than the viewports \(64x64\)" \
    "$T" --config ft.yaml --set model.cut=none --set model.crop=80 --set features.viewports=vp.h5 \
    --set features.maps=null -o runs/big -q
[ ! -e runs/big/model.h5 ] && [ ! -e runs/big/last.h5 ] && pass finetune_crop_too_large_writes_nothing ||
    fail finetune_crop_too_large_writes_nothing "$(ls runs/big 2>&1)"
e2e_done
