#!/usr/bin/env bash
# End-to-end: oiqa-score on raw images against the cached path. A tiny
# synthetic dataset (oiqa-synth: 2 panoramas x jpeg level 4, names relative
# to --root) goes through oiqa-viewports (a two-view list layout of 32 px,
# so the recorded centers are read back too) -> oiqa-pseudoref ->
# oiqa-resnet (random:0) -> oiqa-vmamba (random:1, 64x128) -> oiqa-train ->
# cached oiqa-score; then the raw mode on the same names must give the same
# scores and auxiliary columns (1e-4 relative), for the full model (to
# stdout) and for one with neither global features nor pseudo-references
# (to -o), and for the content-adaptive vgcn20 layout. Refusals (exit code, one stderr line, no
# output): an unreadable image, a model without the recipe, a cached-mode
# option with raw images. The weights lookup (missing file, sha256
# mismatch) is tested in tests/unit/test_score_raw.c.
source "$(dirname "$0")/lib.sh"
B=$OIQA_BIN
TESTS=${OIQA_TESTS:-$OIQA_BIN/../tests}
cd "$TMP" || exit 1

run "$B/oiqa-synth" "$PANOS"/city_tonemapped.png "$PANOS"/forest_tonemapped.png --families jpeg --levels 4 \
    --size 32 --layout cube6 -o ds -q
[ "$RC" -eq 0 ] || { fail score_raw_setup "oiqa-synth: $ERR"; e2e_done; }
tail -n +2 ds/labels.csv | cut -d, -f1 >names.txt
{ echo name,s0; while IFS=, read -r n _ ref _; do
    case $ref in city*) echo "$n,train";; *) echo "$n,val";; esac; done < <(tail -n +2 ds/labels.csv); } >splits.csv

run "$B/oiqa-viewports" --root ds @names.txt --size 32 --layout list \
    --centers '[{lon: 0, lat: 0}, {lon: 150, lat: 20, fov: 70}]' -o vp.h5 -q
[ "$RC" -eq 0 ] && run "$B/oiqa-pseudoref" vp.h5 --seed 3 -o pr.h5 -q
[ "$RC" -eq 0 ] && run "$B/oiqa-resnet" vp.h5 --pseudoref pr.h5 --weights random:0 --blocks layer2,layer3 -o r50.h5 -q
[ "$RC" -eq 0 ] && run "$B/oiqa-vmamba" --root ds @names.txt --weights random:1 --height 64 --width 128 \
    --blocks stage2,stage3 -o vm.h5 -q
[ "$RC" -eq 0 ] || { fail score_raw_setup "feature stages: $ERR"; e2e_done; }
cat >exp.yaml <<'YAML'
model:
  hidden: 8
  dropout: 0
  scales: [layer2, layer3]
features:
  local: r50.h5
  global: vm.h5
labels: ds/labels.csv
splits: splits.csv
epochs: 2
batch_size: 2
seed: 1
YAML
run "$B/oiqa-train" --config exp.yaml -o run -q
[ "$RC" -eq 0 ] && run "$B/oiqa-train" --config exp.yaml --set model.use_global=false --set model.aux_heads=false \
    --set model.use_restored=false --set model.use_degraded=false -o run_ng -q
[ "$RC" -eq 0 ] || { fail score_raw_setup "oiqa-train: $ERR"; e2e_done; }
run "$B/oiqa-h5" ls r50.h5
printf '%s' "$OUT" | grep -q 'viewports_config' && printf '%s' "$OUT" | grep -q 'pseudoref_config' &&
    pass score_raw_backbone_records_recipe || fail score_raw_backbone_records_recipe "$(printf '%s' "$OUT" | head -5)"

# same(A, B): same names and aux columns, scores within 1e-4 relative; prints the largest relative difference.
same() { # A.csv B.csv [relative tolerance, default 1e-4]
    awk -F, -v tol="${3:-1e-4}" 'NR == FNR { row[FNR] = $0; n = FNR; next }
        { if (split(row[FNR], a, ",") != NF || a[1] != $1) bad = 1
          for (i = 2; i <= NF; i++) {
              if (FNR == 1 || $i !~ /^-?[0-9.]+$/) { if (a[i] != $i) bad = 1; continue }
              d = a[i] - $i; d = d < 0 ? -d : d; s = ($i < 0 ? -$i : $i); s = s < 1 ? 1 : s
              if (d / s > worst) worst = d / s
          } }
        END { printf "%.3g\n", worst; exit (bad || FNR != n || worst > tol) }' "$1" "$2"
}

run "$B/oiqa-score" --model run/model.h5 --features r50.h5 --global vm.h5 -o cached.csv -q
[ "$RC" -eq 0 ] || fail score_raw_cached "rc=$RC $ERR"
run "$B/oiqa-score" --model run/model.h5 --root ds @names.txt -q
printf '%s\n' "$OUT" >raw.csv
if [ "$RC" -eq 0 ] && head -1 raw.csv | grep -q '^name,score,level,type,p_level_' && [ "$(wc -l <raw.csv)" -eq 5 ] &&
    worst=$(same cached.csv raw.csv); then
    pass score_raw_matches_cached; echo "    max relative difference raw vs cached: $worst"
else fail score_raw_matches_cached "rc=$RC $ERR $(same cached.csv raw.csv) $(diff cached.csv raw.csv | head -4)"; fi
# --device cuda: the viewports and both backbones on the GPU, the same
# scores within DESIGN §6's tolerance; without a GPU, the CPU after one
# warning, and the same bytes.
run "$B/oiqa-score" --model run/model.h5 --root ds @names.txt -q --device cuda
printf '%s\n' "$OUT" >raw_cuda.csv
if printf '%s' "$ERR" | grep -q 'running on the CPU'; then
    [ "$RC" -eq 0 ] && [ "$(printf '%s' "$ERR" | grep -c '')" -eq 1 ] && cmp -s raw.csv raw_cuda.csv &&
        pass score_raw_device_cuda_fallback || fail score_raw_device_cuda_fallback "rc=$RC $ERR"
else
    # (features within 1e-3 of the CPU's; the scores then within about 1e-2)
    [ "$RC" -eq 0 ] && worst=$(same raw.csv raw_cuda.csv 1e-2) && pass score_raw_device_cuda ||
        fail score_raw_device_cuda "rc=$RC $ERR $(diff raw.csv raw_cuda.csv | head -4)"
fi

run "$B/oiqa-score" --model run_ng/model.h5 --features r50.h5 -o cached_ng.csv -q
run "$B/oiqa-score" --model run_ng/model.h5 --root ds -o raw_ng.csv -q - <names.txt
if [ "$RC" -eq 0 ] && [ -z "$OUT" ] && head -1 raw_ng.csv | grep -q '^name,score$' && same cached_ng.csv raw_ng.csv >/dev/null
then pass score_raw_original_stream_only; else fail score_raw_original_stream_only "rc=$RC $ERR $(diff cached_ng.csv raw_ng.csv | head -4)"; fi

# vgcn20 (views placed from each image's content) with the antialias filter, original stream only.
run "$B/oiqa-viewports" --root ds @names.txt --size 32 --layout vgcn20 --filter antialias -o vg.h5 -q
[ "$RC" -eq 0 ] && run "$B/oiqa-resnet" vg.h5 --weights random:0 --blocks layer2,layer3 -o vgr.h5 -q
[ "$RC" -eq 0 ] && run "$B/oiqa-train" --config exp.yaml --set features.local=vgr.h5 --set features.global=null \
    --set model.use_global=false --set model.use_restored=false --set model.use_degraded=false -o run_vg -q
[ "$RC" -eq 0 ] && run "$B/oiqa-score" --model run_vg/model.h5 --features vgr.h5 -o cached_vg.csv -q
[ "$RC" -eq 0 ] && run "$B/oiqa-score" --model run_vg/model.h5 --root ds -o raw_vg.csv -q @names.txt
if [ "$RC" -eq 0 ] && same cached_vg.csv raw_vg.csv >/dev/null; then pass score_raw_vgcn20
else fail score_raw_vgcn20 "rc=$RC $ERR $(diff cached_vg.csv raw_vg.csv | head -4)"; fi

# --- refusals -------------------------------------------------------------------
printf 'not an image\n' >ds/bad.png
expect_error score_raw_unreadable_image 1 'ds/bad\.png: ' \
    "$B/oiqa-score" --model run/model.h5 --root ds "$(head -1 names.txt)" bad.png -o bad.csv -q
[ ! -e bad.csv ] && [ ! -e bad.csv.partial ] && pass score_raw_nothing_written || fail score_raw_nothing_written "bad.csv"
expect_error score_raw_missing_image 1 'ds/ghost\.png' "$B/oiqa-score" --model run/model.h5 --root ds ghost.png -q
expect_error score_raw_global_needs_features 2 '--global goes with --features' \
    "$B/oiqa-score" --model run/model.h5 --global vm.h5 ds/bad.png -q
if "$TESTS/test_train" --write-fixtures fx >/dev/null; then
    (cd fx && cat >old.yaml <<'YAML'
model: {hidden: 4, scales: [layer2]}
features: {local: r50.h5, global: vm.h5}
labels: labels.csv
splits: splits.csv
epochs: 1
YAML
    "$B/oiqa-train" --config old.yaml -o old -q)
    expect_error score_raw_model_without_recipe 1 'model\.h5: no recipe for raw images: .*lacks .*recompute the features' \
        "$B/oiqa-score" --model fx/old/model.h5 --root ds "$(head -1 names.txt)" -o old.csv -q
    [ ! -e old.csv ] || fail score_raw_model_without_recipe_output "old.csv written"
else
    fail score_raw_model_without_recipe "cannot write the fixtures with $TESTS/test_train"
fi
e2e_done
