#!/usr/bin/env bash
# End-to-end: oiqa-train -> oiqa-score -> oiqa-eval on small synthetic
# feature files (written by the unit test binary: 60 images, 4 viewports,
# two scales and a global file), resume, an ablation by --set, and the
# refusals (exit code, one stderr line naming the problem).
source "$(dirname "$0")/lib.sh"
T=$OIQA_BIN/oiqa-train
S=$OIQA_BIN/oiqa-score
E=$OIQA_BIN/oiqa-eval
W=$OIQA_BIN/oiqa-weights
TESTS=${OIQA_TESTS:-$OIQA_BIN/../tests}
cd "$TMP" || exit 1
if ! "$TESTS/test_train" --write-fixtures "$TMP" >/dev/null; then
    fail train_setup "cannot write the fixtures with $TESTS/test_train"; e2e_done
fi

cat >exp.yaml <<'YAML'
model:
  hidden: 16
  dropout: 0
  scales: [layer2, layer3]
features:
  local: r50.h5
  global: vm.h5
labels: labels.csv
splits: splits.csv
optimizer: {type: adamw, lr: 0.003, weight_decay: 0.0001}
schedule: {type: cosine, warmup: 1}
epochs: 6
batch_size: 8
seed: 1
YAML

# --- training ---------------------------------------------------------------
run "$T" --config exp.yaml -o runs/exp -q
if [ "$RC" -eq 0 ] && [ -f runs/exp/model.h5 ] && [ -f runs/exp/last.h5 ] && [ "$(wc -l <runs/exp/log.csv)" -eq 7 ] &&
    head -1 runs/exp/log.csv | grep -q '^epoch,lr,train_loss,train_quality,train_level,train_type,val_loss,val_plcc,val_srcc,seconds$'; then
    pass train_outputs; else fail train_outputs "rc=$RC $ERR"; fi
run "$W" ls runs/exp/model.h5
printf '%s' "$OUT" | grep -q 'stream0.unit0.weight' && printf '%s' "$OUT" | grep -q 'norm.layer2.mean' &&
    pass train_model_is_weight_file || fail train_model_is_weight_file "rc=$RC $ERR"
cp exp.yaml exp2.yaml
run "$T" --config exp2.yaml -q
[ "$RC" -eq 0 ] && [ -f runs/exp2/model.h5 ] && pass train_default_out || fail train_default_out "rc=$RC $ERR"
expect_error train_refuses_existing 2 'runs/exp/model\.h5: exists \(use --force' "$T" --config exp.yaml -o runs/exp -q

# --- an ablation by a dotted --set: no global stream -------------------------
run "$T" --config exp.yaml --set model.use_global=false --set model.aux_heads=false -o runs/noglobal -q
run "$W" ls runs/noglobal/model.h5
if [ "$RC" -eq 0 ] && ! printf '%s' "$OUT" | grep -q 'global.weight' && ! printf '%s' "$OUT" | grep -q '^ *level'; then
    pass train_ablation_set; else fail train_ablation_set "rc=$RC $ERR"; fi
expect_error train_unknown_key 2 "unknown key 'model\.hiden'" "$T" --config exp.yaml --set model.hiden=3 -o x -q

# --- resume: stopped after epoch 2, continued, same log length ---------------
run "$T" --config exp.yaml -o runs/res --stop-after 2 -q
run "$T" --config exp.yaml -o runs/res --resume -q
if [ "$RC" -eq 0 ] && [ "$(wc -l <runs/res/log.csv)" -eq 7 ] &&
    [ "$(cut -d, -f1-9 runs/res/log.csv)" = "$(cut -d, -f1-9 runs/exp/log.csv)" ]; then
    pass train_resume_same_log; else fail train_resume_same_log "rc=$RC $ERR $(diff <(cut -d, -f1-9 runs/res/log.csv) <(cut -d, -f1-9 runs/exp/log.csv) | head -3)"; fi
expect_error train_resume_other_config 2 'another config' "$T" --config exp.yaml --set seed=2 -o runs/res --resume -q

# --- stopped inside an epoch (batch 8 is in epoch 2 of 5 batches), resumed ---
run "$T" --config exp.yaml -o runs/mid --stop-after-batches 8 -q
rows_mid=$(($(wc -l <runs/mid/log.csv) - 1))
run "$T" --config exp.yaml -o runs/mid --resume -q
if [ "$rows_mid" -eq 1 ] && [ "$RC" -eq 0 ] && "$OIQA_BIN/oiqa-h5" diff runs/mid/last.h5 runs/exp/last.h5 -q >/dev/null &&
    [ "$(cut -d, -f1-9 runs/mid/log.csv)" = "$(cut -d, -f1-9 runs/exp/log.csv)" ]; then
    pass train_resume_mid_epoch; else fail train_resume_mid_epoch "rows $rows_mid rc=$RC $ERR"; fi

# --- SIGTERM (Slurm's notice): saved at the next batch, exit 143, resumable --
# A long run is stopped by the signal; resumed to two epochs later, it holds
# the weights of a run that never stopped.
"$T" --config exp.yaml --set epochs=1000000 -o runs/sig -q 2>sig.err &
pid=$!
for _ in $(seq 200); do [ -f runs/sig/log.csv ] && [ "$(wc -l <runs/sig/log.csv)" -ge 4 ] && break; sleep 0.05; done
kill -TERM "$pid"
wait "$pid"
rc_sig=$?
done_rows=$(($(wc -l <runs/sig/log.csv) - 1))
stop_at=$((done_rows + 2))
run "$T" --config exp.yaml --set epochs=1000000 -o runs/sig --resume --stop-after "$stop_at" -q
rc_res=$RC
run "$T" --config exp.yaml --set epochs=1000000 -o runs/nosig --stop-after "$stop_at" -q
if [ "$rc_sig" -eq 143 ] && grep -q 'interrupted: the state is in runs/sig/last.h5' sig.err && [ "$rc_res" -eq 0 ] &&
    [ "$RC" -eq 0 ] && "$OIQA_BIN/oiqa-h5" diff runs/sig/last.h5 runs/nosig/last.h5 -q >/dev/null; then
    pass train_sigterm_resume; else fail train_sigterm_resume "rc $rc_sig/$rc_res/$RC rows $done_rows $(cat sig.err)"; fi

# --- score -> eval ---------------------------------------------------------------
run "$S" --model runs/exp/model.h5 --features r50.h5 --global vm.h5 -o pred.csv -q
if [ "$RC" -eq 0 ] && [ "$(wc -l <pred.csv)" -eq 61 ] &&
    head -1 pred.csv | grep -q '^name,score,level,type,p_level_1,p_level_2,p_level_3,p_level_4,p_level_5,p_type_jpeg,p_type_blur$'; then
    pass score_columns; else fail score_columns "rc=$RC $ERR $(head -1 pred.csv)"; fi
run "$E" pred.csv --labels labels.csv --splits splits.csv -o eval -q
if [ "$RC" -eq 0 ] && grep -q '"level_accuracy"' eval/metrics.json && grep -q '"type_accuracy"' eval/metrics.json &&
    grep -qE '"median": \{"n": 10, "srcc": ' eval/metrics.json; then
    pass score_then_eval; else fail score_then_eval "rc=$RC $ERR"; fi
printf 'c10/img0.png\nc11/img4.png\n' >two.txt
run "$S" --model runs/exp/model.h5 --features r50.h5 --global vm.h5 @two.txt -o two.csv -q
[ "$RC" -eq 0 ] && [ "$(wc -l <two.csv)" -eq 3 ] && pass score_name_list || fail score_name_list "rc=$RC $ERR"
run "$S" --model runs/noglobal/model.h5 --features r50.h5 -o pred_ng.csv -q
[ "$RC" -eq 0 ] && head -1 pred_ng.csv | grep -q '^name,score$' && pass score_without_heads || fail score_without_heads "rc=$RC $ERR"

# --- bad input ---------------------------------------------------------------------
expect_error score_other_backbone 1 "other\.h5: backbone 'resnet101' differs from the training features' 'resnet50'" \
    "$S" --model runs/exp/model.h5 --features other.h5 --global vm.h5 -o p2.csv -q
expect_error score_needs_global 2 'uses global features: give --global' \
    "$S" --model runs/exp/model.h5 --features r50.h5 -o p3.csv -q
expect_error score_refuses_existing 2 'pred\.csv: exists' \
    "$S" --model runs/exp/model.h5 --features r50.h5 --global vm.h5 -o pred.csv -q

{ cat labels.csv; echo 'c99/ghost.png,50,c99,jpeg,1'; } >ghost.csv
{ cat splits.csv; echo 'c99/ghost.png,train'; } >ghost_splits.csv
expect_error train_label_without_features 1 "r50\.h5: no row for 'c99/ghost\.png' \(ghost\.csv:62\)" \
    "$T" --config exp.yaml --set labels=ghost.csv --set splits=ghost_splits.csv -o bad -q
{ cat labels.csv; sed -n 2p labels.csv; } >dup.csv
expect_error train_duplicated_name 1 "dup\.csv:62: duplicated name 'c00/img0\.png'" \
    "$T" --config exp.yaml --set labels=dup.csv -o bad -q
sed '3s/,[0-9.]*,c00,/,nan,c00,/' labels.csv >nan.csv
expect_error train_nan_mos 1 'nan\.csv:3' "$T" --config exp.yaml --set labels=nan.csv -o bad -q
sed '3s/,train$/,test/' splits.csv >leak.csv
expect_error train_leaking_split 1 "leak\.csv: s0 puts reference 'c00' in train .* and in test" \
    "$T" --config exp.yaml --set splits=leak.csv -o bad -q
expect_error train_needs_local 2 "key 'features\.local'" "$T" --config exp.yaml --set features.local=null -o bad -q
[ ! -e bad ] && pass train_nothing_written_on_error || fail train_nothing_written_on_error "bad/ exists"
e2e_done
