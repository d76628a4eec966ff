#!/usr/bin/env bash
# End-to-end: the experiment pipelines (pipelines/experiments.mk).
#  - A reduced `make demo` (every panorama, 3 levels instead of 5, small
#    viewports and ERPs, fewer epochs): every output exists and is complete,
#    and the trained model beats a constant predictor and the per-type mean
#    predictor on SRCC on the held-out references.
#  - make's bookkeeping: a second run does nothing; a changed setting
#    recomputes only what depends on it; a deleted model is rebuilt alone.
#  - The dataset configs: every one reads; with the real score files of
#    ../shared the labels and splits of CVIQ, OIQA, IQA-ODI and JUFE are made;
#    a bad config is refused naming its line.
source "$(dirname "$0")/lib.sh"
cd "$OIQA_ROOT" || exit 1
MK=(make --no-print-directory -f pipelines/experiments.mk BIN="$OIQA_BIN" FEAT="$TMP/f" RUNS="$TMP/r" RESULTS="$TMP/res")

# --- the reduced demo ----------------------------------------------------------
# 64 px viewports of 30 degrees see the 1024x512 panoramas at about their own
# resolution (90 degrees would average 4x4 pixels and hide mild distortions);
# the 6 cube faces instead of 20 views and a 64x128 VMamba input keep it short.
mkdir -p "$TMP/configs"
# Under the sanitizers the tools run several times slower: 4 panoramas, two
# levels and 3 epochs check the plumbing (every output,
# make's bookkeeping); the model-quality check runs in the normal build.
epochs=20 levels=1,3,5 vp=64 panos=$PANOS
if [ "${OIQA_SANITIZE:-0}" = 1 ]; then
    epochs=3 levels=1,5 panos=$TMP/panos
    mkdir -p "$panos" && ls "$PANOS"/*.png | head -4 | xargs -I{} ln -s {} "$panos/"
fi
cat >"$TMP/configs/demo.yaml" <<EOF
# the reduced demo of tests/e2e/test_experiments.sh
title: reduced demo
synth: true
panoramas: $panos
synth_levels: "$levels"
synth_size: $vp
viewport_fov: 30
viewport_layout: cube6
sheets: true
train: 0.75
val: 0.125
test: 0.25
repeats: 1
viewport_size: $vp
erp_height: 64
erp_width: 128
epochs: $epochs
EOF
DEMO=("${MK[@]}" DATASETS_DIR="$TMP/configs" demo)
run "${DEMO[@]}"
if [ "$RC" -ne 0 ]; then
    fail demo_runs "exit $RC: $(printf '%s' "$ERR" | tail -5)"; e2e_done
fi
pass demo_runs

n_panos=$(ls "$panos"/*.png | wc -l)
n_levels=$(printf '%s' "$levels" | tr ',' '\n' | grep -c .)
n_images=$((n_panos * (1 + 4 * n_levels)))
F=$TMP/f/demo
n_labels=$(($(wc -l <"$F/labels.csv") - 1))
complete=1
for h5 in viewports pseudoref resnet50 vmamba; do
    run "$OIQA_BIN/oiqa-h5" ls "$F/$h5.h5"
    rows=$(printf '%s' "$OUT" | grep -E '^/names ' | grep -oE '\[[0-9]+\]' | head -1 | tr -d '[]')
    [ "$RC" -eq 0 ] && [ "$rows" = "$n_images" ] && printf '%s' "$OUT" | grep -q '@complete = 1' || { complete=0; echo "    $h5.h5: rc $RC, rows '$rows' of $n_images"; }
done
n_sheets=$(ls "$F/sheets"/*_sheet.png 2>/dev/null | wc -l)
if [ "$n_labels" -eq "$n_images" ] && [ "$complete" = 1 ] && [ "$n_sheets" -eq "$n_images" ]; then
    pass demo_features_complete
else fail demo_features_complete "labels $n_labels, sheets $n_sheets, expected $n_images"; fi

variants="full no_restored no_degraded no_global single_scale no_aux typemean"
missing=
for v in $variants; do
    p=$TMP/r/demo/$v/s0/predictions.csv
    [ "$(($(wc -l <"$p" 2>/dev/null || echo 0) - 1))" -eq "$n_images" ] || missing="$missing $v/predictions.csv"
    for f in metrics.json table.md scatter.svg scatter.png; do [ -s "$TMP/res/demo/$v/$f" ] || missing="$missing $v/$f"; done
done
for f in model.h5 last.h5 log.csv; do [ -s "$TMP/r/demo/full/s0/$f" ] || missing="$missing full/$f"; done
if [ -z "$missing" ] && [ -s "$TMP/res/demo/table.md" ] && grep -q '"variants"' "$TMP/res/demo/metrics.json" &&
    [ "$(grep -c '^| ' "$TMP/res/demo/table.md")" -eq 8 ] && grep -q 'random:0' "$TMP/res/demo/table.md"; then
    pass demo_results_complete
else fail demo_results_complete "missing:$missing; table: $(head -12 "$TMP/res/demo/table.md" 2>/dev/null)"; fi

# The median SRCC of a variant (its oiqa-eval metrics.json).
srcc() { sed -n 's/.*"median": {"n": [0-9]*, "srcc": \([-0-9.eE+]*\).*/\1/p' "$TMP/res/demo/$1/metrics.json" | head -1; }
full=$(srcc full); typemean=$(srcc typemean)
n_test=$(sed -n 's/.*"median": {"n": \([0-9]*\),.*/\1/p' "$TMP/res/demo/full/metrics.json" | head -1)
# A constant predictor has no rank correlation (SRCC 0, undefined); the type
# mean only ranks between types. The model must also rank within them.
if [ "${OIQA_SANITIZE:-0}" = 1 ]; then
    skip demo_model_beats_baselines "under the sanitizers the demo trains $epochs epochs on $n_panos panoramas; checked in the normal build"
elif awk -v f="$full" -v t="$typemean" 'BEGIN { exit !(f > 0.3 && f > t) }'; then
    pass "demo_model_beats_baselines (SRCC $full vs per-type mean $typemean and constant 0, $n_test test images)"
else fail demo_model_beats_baselines "SRCC full $full, per-type mean $typemean ($n_test test images)"; fi

# --- make's bookkeeping --------------------------------------------------------
run "${DEMO[@]}" -q
[ "$RC" -eq 0 ] && pass demo_second_run_up_to_date || fail demo_second_run_up_to_date "make -q exit $RC: something is stale"

run "${DEMO[@]}" -n EPOCHS=$((epochs + 1))
n_train=$(printf '%s' "$OUT" | grep -c 'oiqa-train ')
if [ "$n_train" -eq 6 ] && ! printf '%s' "$OUT" | grep -qE 'oiqa-(synth|viewports|pseudoref|resnet|vmamba) '; then
    pass demo_changed_epochs_retrains_only
else fail demo_changed_epochs_retrains_only "$n_train trainings; $(printf '%s' "$OUT" | grep -oE 'oiqa-[a-z0-9]+ ' | sort | uniq -c | tr '\n' ' ')"; fi

run "${DEMO[@]}" -n VP_SIZE=$((vp + 8))
if printf '%s' "$OUT" | grep -q 'oiqa-viewports ' && printf '%s' "$OUT" | grep -q 'oiqa-resnet ' &&
    ! printf '%s' "$OUT" | grep -qE 'oiqa-(synth|vmamba) '; then
    pass demo_changed_viewport_size_recomputes_downstream
else fail demo_changed_viewport_size_recomputes_downstream "$(printf '%s' "$OUT" | grep -oE 'oiqa-[a-z0-9]+ ' | sort | uniq -c | tr '\n' ' ')"; fi

rm "$TMP/r/demo/no_aux/s0/model.h5"
run "${DEMO[@]}" -n
if [ "$(printf '%s' "$OUT" | grep -c 'oiqa-train ')" -eq 1 ] && printf '%s' "$OUT" | grep -q 'no_aux/s0 --force' &&
    printf '%s' "$OUT" | grep -q 'results_table.sh'; then
    pass demo_deleted_model_rebuilt_alone
else fail demo_deleted_model_rebuilt_alone "$(printf '%s' "$OUT" | grep -oE 'oiqa-[a-z0-9]+ ' | sort | uniq -c | tr '\n' ' ')"; fi

# --- the dataset configs -------------------------------------------------------
ok=1
for c in configs/datasets/*.yaml; do
    run pipelines/dataset_vars.sh "$c"
    [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q "_train := " || { ok=0; echo "    $c: $ERR"; }
done
[ "$ok" = 1 ] && pass dataset_configs_read || fail dataset_configs_read "a config did not read"

printf 'title: bad\nsplit:\n  train: 0.8\n' >"$TMP/configs/nested.yaml"
expect_error dataset_config_nested_refused 1 'nested.yaml:3: only flat' pipelines/dataset_vars.sh "$TMP/configs/nested.yaml"

run "${MK[@]}" reproduce DATASET=cviq
if [ "$RC" -eq 2 ] && printf '%s' "$ERR" | grep -q 'dataset cviq needs the folder of its files: ROOT=DIR'; then
    pass reproduce_without_root_refused; else fail reproduce_without_root_refused "exit $RC: $ERR"; fi
run "${MK[@]}" cross TRAIN_SET=oiqa
if [ "$RC" -eq 2 ] && printf '%s' "$ERR" | grep -q 'cross needs TRAIN_SET=NAME and TEST_SET=NAME'; then
    pass cross_without_test_set_refused; else fail cross_without_test_set_refused "exit $RC: $ERR"; fi

# Labels and splits of each database from the real score files, laid out in a
# root as the README says, then a dry run of the whole reproduction.
S=$OIQA_SHARED/data/scores
if [ ! -d "$S" ]; then
    skip dataset_labels "no $S (the shared score files) to build a root from"
else
    mkdir -p "$TMP/roots/cviq" "$TMP/roots/oiqa/MOS" "$TMP/roots/iqa-odi" "$TMP/roots/jufe"
    cp "$S"/cviq/assessor360/CVIQD_*_label.txt "$TMP/roots/cviq/"
    cp "$S"/oiqa/official/360IQA_MOS.mat "$TMP/roots/oiqa/MOS/"
    cp "$S"/iqa-odi/assessor360/iqaodi_ref_dis_label.txt "$TMP/roots/iqa-odi/"
    cp "$S"/jufe/JUFE_label.csv "$TMP/roots/jufe/"
    for pair in cviq:544 oiqa:336 iqa-odi:960 jufe:1032; do
        ds=${pair%%:*}; n=${pair#*:}
        run "${MK[@]}" DATASET="$ds" ROOT="$TMP/roots/$ds" "$TMP/f/$ds/splits.csv" "$TMP/f/$ds/splits_all.csv"
        rows=$(($(wc -l <"$TMP/f/$ds/labels.csv" 2>/dev/null || echo 0) - 1))
        cols=$(head -1 "$TMP/f/$ds/splits.csv" 2>/dev/null | tr ',' '\n' | grep -c '^s')
        if [ "$RC" -eq 0 ] && [ "$rows" -eq "$n" ] && [ "$cols" -eq 10 ] &&
            "$OIQA_BIN/oiqa-split" -q --check "$TMP/f/$ds/splits.csv" "$TMP/f/$ds/labels.csv"; then
            pass "dataset_labels_$ds ($rows images, 10 content-disjoint splits)"
        else fail "dataset_labels_$ds" "exit $RC, $rows rows (expected $n), $cols split columns: $ERR"; fi
    done
    run "${MK[@]}" -n reproduce DATASET=iqa-odi ROOT="$TMP/roots/iqa-odi"
    if [ "$RC" -eq 0 ] && [ "$(printf '%s' "$OUT" | grep -c 'oiqa-train ')" -eq 60 ] &&
        [ "$(printf '%s' "$OUT" | grep 'oiqa-eval ' | grep -c -- '--scores-lower-better')" -eq 9 ]; then
        pass reproduce_plan_iqa_odi
    else fail reproduce_plan_iqa_odi "exit $RC; $(printf '%s' "$OUT" | grep -oE 'oiqa-[a-z0-9]+ ' | sort | uniq -c | tr '\n' ' ') $ERR"; fi
    run "${MK[@]}" -n cross TRAIN_SET=cviq TEST_SET=oiqa ROOT_cviq="$TMP/roots/cviq" ROOT_oiqa="$TMP/roots/oiqa"
    if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep 'oiqa-train ' | grep -q "splits_all.csv" &&
        printf '%s' "$OUT" | grep 'oiqa-score ' | grep -q "$TMP/f/oiqa/resnet50.h5" &&
        printf '%s' "$OUT" | grep 'oiqa-eval ' | grep -q "labels $TMP/f/oiqa/labels.csv"; then
        pass cross_plan_cviq_to_oiqa
    else fail cross_plan_cviq_to_oiqa "exit $RC: $(printf '%s' "$OUT" | tail -3) $ERR"; fi
fi
e2e_done
