#!/usr/bin/env bash
# End-to-end: oiqa-eval on synthetic predictions and on scipy's fixture
# pairs (../shared/fixtures/metrics), its outputs, and its refusals (exit
# code, one stderr line naming the problem).
source "$(dirname "$0")/lib.sh"
E=$OIQA_BIN/oiqa-eval
S=$OIQA_BIN/oiqa-split
cd "$TMP" || exit 1

# 48 images of 8 references, 3 distortion types x 2 levels; predictions
# are a noisy monotone function of the MOS, with a level head.
awk 'BEGIN{print "name,mos,ref,dist_type,dist_level"; split("JPEG GB GN",t," ");
  for(r=0;r<8;r++) for(k=0;k<6;k++) printf "r%d_%d.png,%.3f,r%d,%s,%d\n", r, k, 1+r*0.9+k*0.35, r, t[k%3+1], k%2+1}' >labels.csv
awk -F, 'NR==1{print "name,score,level"; next}{printf "%s,%.4f,%d\n", $1, exp($2/3)+((NR*37)%11)/20, (NR%5==0)?1:$5}' labels.csv >pred.csv

# --- usage errors ------------------------------------------------------------
expect_error eval_needs_out 2 'no output: give -o DIR' "$E" pred.csv --labels labels.csv
expect_error eval_needs_labels 2 'no labels: give --labels' "$E" pred.csv -o out
expect_error eval_missing_pred 1 'nope\.csv: no such file' "$E" nope.csv --labels labels.csv -o out

# --- a plain run -------------------------------------------------------------
run "$E" pred.csv --labels labels.csv -o out --logistic5
if [ "$RC" -eq 0 ] && grep -q '"srcc"' out/metrics.json && grep -q '"logistic5"' out/metrics.json &&
    grep -q '"level_accuracy": 0.8' out/metrics.json && grep -q '"by_type"' out/metrics.json &&
    grep -q '^| run | n | srcc' out/table.md && head -c 4 out/scatter.svg | grep -q '<svg' &&
    [ "$(head -c 4 out/scatter.png | tail -c 3)" = "PNG" ] && printf '%s' "$OUT" | grep -q '^| 0 | 48 |'; then
    pass eval_outputs; else fail eval_outputs "rc=$RC $ERR $(head -3 out/table.md 2>/dev/null)"; fi
expect_error eval_refuses_existing 2 'out: already holds metrics\.json \(use --force' "$E" pred.csv --labels labels.csv -o out
run "$E" pred.csv --labels labels.csv -o out --force -q --no-plot
[ "$RC" -eq 0 ] && [ -z "$OUT" ] && pass eval_force || fail eval_force "rc=$RC $ERR"

# --- a type head given as class probabilities: argmax per row ------------------
awk -F, 'NR==1{print "name,score,p_type_JPEG,p_type_GB,p_type_GN"; next}
  {j=($4=="JPEG")?0.7:0.1; g=($4=="GB")?0.7:0.1; n=($4=="GN")?0.7:0.1; if (NR<=5) {j=0.9; g=0; n=0}
   printf "%s,%.3f,%.2f,%.2f,%.2f\n", $1, $2, j, g, n}' labels.csv >heads.csv
run "$E" heads.csv --labels labels.csv -o heads --no-plot
# rows 2..5 all say JPEG: 2 of those 4 are wrong, so 46 of 48 right
grep -q '"type_accuracy": 0.958333333333333, "type_n": 48' heads/metrics.json && pass eval_type_head_argmax \
    || fail eval_type_head_argmax "rc=$RC $ERR $(grep -o '"type_accuracy[^,]*' heads/metrics.json)"

# --- repeats with splits: median and mean -----------------------------------
"$S" labels.csv --repeats 3 --seed 5 -o splits.csv -q
run "$E" pred.csv pred.csv pred.csv --labels labels.csv --splits splits.csv -o rep
if [ "$RC" -eq 0 ] && grep -q '"n_repeats": 3' rep/metrics.json && grep -q '"median": {"n": ' rep/metrics.json &&
    grep -q '"split": "s2"' rep/metrics.json && grep -q '^| \*\*median\*\* |' rep/table.md; then
    pass eval_repeats; else fail eval_repeats "rc=$RC $ERR"; fi
expect_error eval_needs_repeat 2 'splits\.csv: has 3 repeats: give --repeat R' \
    "$E" pred.csv --labels labels.csv --splits splits.csv -o rep1
run "$E" pred.csv --labels labels.csv --splits splits.csv --repeat 1 -o rep1
[ "$RC" -eq 0 ] && grep -q '"split": "s1"' rep1/metrics.json && pass eval_one_repeat || fail eval_one_repeat "rc=$RC $ERR"

# --- DMOS: a lower_better column flips the sign of the correlations -------------
awk -F, 'NR==1{print $0",lower_better"; next}{printf "%s,%.3f,%s,%s,%s,1\n", $1, 100-10*$2, $3, $4, $5}' labels.csv >dmos.csv
run "$E" pred.csv --labels dmos.csv -o dmos
if [ "$RC" -eq 0 ] && grep -q '"lower_better": true' dmos/metrics.json &&
    grep -qE '"median": \{"n": 48, "srcc": 0\.9' dmos/metrics.json; then
    pass eval_lower_better; else fail eval_lower_better "rc=$RC $ERR $(grep median dmos/metrics.json)"; fi

# --- bad input -----------------------------------------------------------------
sed '3s/,[0-9.]*,/,nan,/' pred.csv >nan.csv
expect_error eval_nan_score 1 "nan\.csv:3: 'r0_1\.png': score is NaN" "$E" nan.csv --labels labels.csv -o bad
{ cat pred.csv; sed -n 2p pred.csv; } >dup.csv
expect_error eval_duplicate_prediction 1 "dup\.csv:50: duplicated name 'r0_0\.png' \(first on line 2\)" \
    "$E" dup.csv --labels labels.csv -o bad
{ cat labels.csv; sed -n 5p labels.csv; } >duplab.csv
expect_error eval_duplicate_label 1 "duplab\.csv:50: duplicated name 'r0_3\.png' \(first on line 5\)" \
    "$E" pred.csv --labels duplab.csv -o bad
sed '2,$s/^r/x/' pred.csv >other.csv
expect_error eval_no_overlap 1 "other\.csv: no image in common with labels\.csv" "$E" other.csv --labels labels.csv -o bad
printf 'name,s0\nr0_0.png,train\nr0_1.png,test\nr1_0.png,test\n' >leak.csv
expect_error eval_leaking_split 1 "leak\.csv: s0 puts reference 'r0' in train .* content-disjoint" \
    "$E" pred.csv --labels labels.csv --splits leak.csv -o bad
printf 'name,mos\na,1\nb,abc\n' >badnum.csv
expect_error eval_label_not_number 1 "badnum\.csv:3: column 'mos': 'abc' is not a number" \
    "$E" pred.csv --labels badnum.csv -o bad
[ ! -e bad ] && pass eval_no_output_on_error || fail eval_no_output_on_error "bad/ was created"

# --- parity with scipy through the tool ---------------------------------------
FX=$OIQA_SHARED/fixtures/metrics
if [ ! -f "$FX/case_a_synthetic.csv" ]; then
    skip eval_scipy_parity "shared fixtures absent ($FX); set OIQA_SHARED"
else
    awk -F, 'NR==1{print "name,score"; next}{print "i" NR "," $1}' "$FX/case_a_synthetic.csv" >fx_pred.csv
    awk -F, 'NR==1{print "name,mos,ref"; next}{print "i" NR "," $2 ",i" NR}' "$FX/case_a_synthetic.csv" >fx_lab.csv
    run "$E" fx_pred.csv --labels fx_lab.csv -o fx --no-plot
    got=$(grep -o '"median": {[^}]*}' fx/metrics.json)
    if [ "$RC" -eq 0 ] && printf '%s' "$got" | grep -q '"srcc": 0.95899159663865' &&
        printf '%s' "$got" | grep -q '"krcc": 0.82204081632653' && printf '%s' "$got" | grep -q '"plcc": 0.98056255' &&
        printf '%s' "$got" | grep -q '"rmse": 0.29876387'; then
        pass eval_scipy_parity; else fail eval_scipy_parity "rc=$RC $ERR $got"; fi
fi
e2e_done
