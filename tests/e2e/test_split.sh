#!/usr/bin/env bash
# End-to-end: oiqa-split makes deterministic content-disjoint splits,
# --check accepts them and refuses one that puts a reference in train and test.
source "$(dirname "$0")/lib.sh"
S=$OIQA_BIN/oiqa-split
cd "$TMP" || exit 1
awk 'BEGIN{print "name,mos,ref,dist_type,dist_level"; for(r=0;r<10;r++) for(k=0;k<4;k++) printf "c%d_%d.png,%d,c%d,JPEG,%d\n", r, k, r+k, r, k}' >labels.csv

expect_error split_needs_out 2 'no output: give -o SPLITS\.csv' "$S" labels.csv
expect_error split_one_fold 2 '--folds: 1 fold is no split' "$S" labels.csv --folds 1 -o s.csv
expect_error split_too_many_folds 2 '11 folds but only 10 references' "$S" labels.csv --folds 11 -o s.csv
run "$S" labels.csv --repeats 4 --seed 9 -o a.csv
run "$S" labels.csv --repeats 4 --seed 9 -o b.csv
if [ "$RC" -eq 0 ] && cmp -s a.csv b.csv && [ "$(head -1 a.csv)" = "name,s0,s1,s2,s3" ] && [ "$(wc -l <a.csv)" -eq 41 ] &&
    [ "$(grep -c '^c[0-9]_0\.png,test' a.csv)" -eq 2 ]; then
    pass split_deterministic; else fail split_deterministic "rc=$RC $ERR"; fi
run "$S" --check a.csv labels.csv
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q 'content-disjoint' && pass split_check_ok || fail split_check_ok "rc=$RC $ERR"
run "$S" labels.csv --folds 5 --val 0.25 -o k.csv
if [ "$RC" -eq 0 ] && [ "$(head -1 k.csv)" = "name,s0,s1,s2,s3,s4" ] && [ "$(grep -o test k.csv | wc -l)" -eq 40 ] &&
    [ "$(cut -d, -f2 k.csv | grep -c val)" -eq 8 ]; then
    pass split_kfold; else fail split_kfold "rc=$RC $ERR $(cut -d, -f2 k.csv | sort | uniq -c | tr '\n' ' ')"; fi
# c3 in train and test of s0
awk -F, 'BEGIN{OFS=","} NR==1{print; next} $1=="c3_0.png"{$2="train"} $1=="c3_1.png"{$2="test"} {print}' a.csv >leak.csv
expect_error split_check_leak 1 "leak\.csv: s0 puts reference 'c3' in (train|val) \('c3_0\.png'\) and in test \('c3_1\.png'\)" \
    "$S" --check leak.csv labels.csv
expect_error split_refuses_existing 2 'a\.csv: exists' "$S" labels.csv -o a.csv
e2e_done
