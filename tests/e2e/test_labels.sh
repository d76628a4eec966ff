#!/usr/bin/env bash
# End-to-end: oiqa-labels on the real score files (../shared/data/scores;
# row counts as their SOURCE.txt states), and its refusals, including
# hostile .mat files (exit 1, one stderr line, no crash).
source "$(dirname "$0")/lib.sh"
L=$OIQA_BIN/oiqa-labels
SC=$OIQA_SHARED/data/scores
cd "$TMP" || exit 1

expect_error labels_needs_dataset 2 'no database: give --dataset NAME' "$L" x.mat -o l.csv
expect_error labels_unknown_dataset 2 "unknown dataset 'foo' \(known: oiqa, cviq, iqa-odi" "$L" -d foo x -o l.csv
expect_error labels_needs_out 2 'no output: give -o labels\.csv' "$L" -d oiqa x.mat
expect_error labels_file_count 2 'oiqa reads 1 to 1 files' "$L" -d oiqa a.mat b.mat -o l.csv
expect_error labels_missing_file 1 'missing\.mat: no such file' "$L" -d oiqa missing.mat -o l.csv
run "$L" --list
[ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q '^oiqa .*360IQA_MOS\.mat' && pass labels_list || fail labels_list "rc=$RC"

# --- hostile .mat files -------------------------------------------------------
printf 'not a mat file at all, just some text that is long enough to fill the header of a MAT-file.......................................\n' >text.mat
expect_error labels_mat_wrong_magic 1 'text\.mat: not a MAT-file \(no MATLAB header\)' "$L" -d oiqa text.mat -o l.csv
printf 'MATLAB' >short.mat
expect_error labels_mat_too_short 1 'short\.mat: not a MAT-file \(6 bytes' "$L" -d oiqa short.mat -o l.csv
{ printf 'MATLAB 5.0 MAT-file'; head -c 105 /dev/zero | tr '\0' ' '; printf '\0\1IM'; printf '\16\0\0\0\377\377\377\177'; } >huge.mat
expect_error labels_mat_absurd_length 1 'huge\.mat: not a valid MAT-file: element runs past the end' "$L" -d oiqa huge.mat -o l.csv
[ ! -e l.csv ] && [ ! -e l.csv.partial ] && pass labels_no_output_on_error || fail labels_no_output_on_error "l.csv left"

if [ ! -d "$SC" ]; then
    skip labels_real_files "shared score files absent ($SC); set OIQA_SHARED"
    e2e_done
fi
MAT=$SC/oiqa/official/360IQA_MOS.mat
head -c 2000 "$MAT" >trunc.mat
expect_error labels_mat_truncated 1 'trunc\.mat: not a valid MAT-file: element runs past the end' "$L" -d oiqa trunc.mat -o l.csv

# --- real files ----------------------------------------------------------------
rows() { [ -f "$1" ] && echo $(($(wc -l <"$1") - 1)) || echo 0; }
run "$L" -d oiqa "$MAT" -o oiqa.csv
if [ "$RC" -eq 0 ] && [ "$(rows oiqa.csv)" -eq 336 ] && [ "$(head -1 oiqa.csv)" = "name,mos,ref,dist_type,dist_level,mosz" ] &&
    [ "$(sed -n 2p oiqa.csv)" = "img1.png,8.55,ref1.png,JPEG,1,73.962826285271404" ] &&
    [ "$(sed -n 22p oiqa.csv | cut -d, -f1,3-5)" = "img21.png,ref2.png,JPEG,1" ] &&
    [ "$(tail -1 oiqa.csv | cut -d, -f1,3-5)" = "ref16.png,ref16.png,REF,0" ]; then
    pass labels_oiqa; else fail labels_oiqa "rc=$RC $ERR $(sed -n 2p oiqa.csv)"; fi
expect_error labels_refuses_existing 2 'oiqa\.csv: exists \(use --force' "$L" -d oiqa "$MAT" -o oiqa.csv
run "$L" -d cviq "$SC/cviq/assessor360/CVIQD_dis_label.txt" "$SC/cviq/assessor360/CVIQD_ref_label.txt" -o cviq.csv
if [ "$RC" -eq 0 ] && [ "$(rows cviq.csv)" -eq 544 ] && [ "$(sed -n 35p cviq.csv | cut -d, -f1,3-5)" = "034.png,034.png,REF,0" ] &&
    [ "$(sed -n 13p cviq.csv | cut -d, -f1,3-5)" = "012.png,034.png,AVC,1" ]; then
    pass labels_cviq; else fail labels_cviq "rc=$RC $ERR"; fi
expect_error labels_cviq_twice 1 'CVIQD_dis_label\.txt:1: image 001\.png given twice' \
    "$L" -d cviq "$SC/cviq/assessor360/CVIQD_dis_label.txt" "$SC/cviq/assessor360/CVIQD_dis_label.txt" -o c2.csv
run "$L" -d iqa-odi "$SC/iqa-odi/assessor360/iqaodi_ref_dis_label.txt" -o odi.csv
if [ "$RC" -eq 0 ] && [ "$(rows odi.csv)" -eq 960 ] && [ "$(head -1 odi.csv)" = "name,mos,ref,dist_type,dist_level,lower_better,jpeg_qf" ]; then
    pass labels_iqa_odi; else fail labels_iqa_odi "rc=$RC $ERR"; fi
run "$L" -d tid2013 "$SC/iqa2d/icbcbicc/TID2013.csv" -o tid.csv --prefix tid/
[ "$RC" -eq 0 ] && [ "$(rows tid.csv)" -eq 3000 ] && sed -n 2p tid.csv | grep -q '^tid/distorted_images/i01_01_1\.bmp,' &&
    pass labels_2d_prefix || fail labels_2d_prefix "rc=$RC $ERR"
expect_error labels_bad_score 2 "--score for oiqa is mos or mosz, not 'dmos'" "$L" -d oiqa "$MAT" --score dmos -o z.csv
e2e_done
