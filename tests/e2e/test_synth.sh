#!/usr/bin/env bash
# End-to-end: oiqa-synth on two real panoramas, 2 families x 2 levels with
# 64-pixel viewports: labels.csv rows and columns, pseudo-MOS ranges, MOS
# falling with the level for every (reference, family), the same bytes on 1
# and 2 threads, --force, the metric option, and each bad input (exit code,
# one stderr line, nothing written).
source "$(dirname "$0")/lib.sh"
SY=$OIQA_BIN/oiqa-synth
cd "$TMP" || exit 1
REFS=("$PANOS"/city_tonemapped.png "$PANOS"/courtyard_tonemapped.png)

run "$SY" "${REFS[@]}" --families jpeg,noise --levels 1,4 --size 64 -o d1 -q -j 2
[ "$RC" -eq 0 ] || { fail synth_setup "oiqa-synth failed: $ERR"; e2e_done; }

# --- labels.csv ------------------------------------------------------------------
if [ "$(head -1 d1/labels.csv)" = "name,mos,ref,dist_type,dist_level" ] && [ "$(wc -l <d1/labels.csv)" -eq 11 ] &&
    grep -qx 'city_tonemapped.png,100,city_tonemapped,REF,0' d1/labels.csv &&
    grep -q '^courtyard_tonemapped_noise_4.png,[0-9.]*,courtyard_tonemapped,noise,4$' d1/labels.csv; then
    pass synth_labels_rows; else fail synth_labels_rows "$(cat d1/labels.csv)"; fi
missing=0
while IFS=, read -r name _; do [ "$name" = name ] || [ -f "d1/$name" ] || missing=$((missing + 1)); done <d1/labels.csv
[ "$missing" -eq 0 ] && pass synth_images_written || fail synth_images_written "$missing listed images absent"
if awk -F, 'NR > 1 && $5 > 0 && !($2 > 20 && $2 < 100) { bad = 1 } END { exit bad }' d1/labels.csv; then
    pass synth_mos_range; else fail synth_mos_range "$(cat d1/labels.csv)"; fi
# level 4 below level 1 for every (ref, family)
if awk -F, 'NR > 1 && $5 > 0 { m[$3 "," $4 "," $5] = $2; k[$3 "," $4] = 1 }
            END { for (x in k) { n++; if (!(m[x ",4"] < m[x ",1"])) bad = 1 } exit bad || n != 4 }' d1/labels.csv; then
    pass synth_mos_falls_with_level; else fail synth_mos_falls_with_level "$(cat d1/labels.csv)"; fi
grep -q '^metric: ssim$' d1/synth.yaml && pass synth_config_recorded || fail synth_config_recorded "$(cat d1/synth.yaml)"

# --- determinism, --force, metric ------------------------------------------------
run "$SY" "${REFS[@]}" --families jpeg,noise --levels 1,4 --size 64 -o d2 -q -j 1
if [ "$RC" -eq 0 ] && cmp -s d1/labels.csv d2/labels.csv && cmp -s d1/city_tonemapped_noise_4.png d2/city_tonemapped_noise_4.png
then pass synth_same_on_1_and_2_threads; else fail synth_same_on_1_and_2_threads "$ERR $(diff d1/labels.csv d2/labels.csv)"; fi
expect_error synth_labels_exist 2 'd1/labels\.csv: exists.*--force' "$SY" "${REFS[@]}" --families jpeg --levels 1 -o d1
run "$SY" "${REFS[0]}" --families blur --levels 2 --size 64 --metric ms-ssim -o d1 -q --force
if [ "$RC" -eq 0 ] && [ "$(wc -l <d1/labels.csv)" -eq 3 ] && grep -q '^metric: ms-ssim$' d1/synth.yaml; then
    pass synth_force_and_metric; else fail synth_force_and_metric "exit $RC: $ERR $(cat d1/labels.csv)"; fi

# --- bad input -----------------------------------------------------------------------
expect_error synth_unknown_family 2 "key 'families': unknown family 'jpegxl'" \
    "$SY" "${REFS[@]}" --families jpeg,jpegxl -o x
expect_error synth_level_6 2 "key 'levels'.*'6'" "$SY" "${REFS[@]}" --levels 1,6 -o x
expect_error synth_level_0 2 "key 'levels'.*'0-2'" "$SY" "${REFS[@]}" --levels 0-2 -o x
expect_error synth_unknown_metric 2 'metric.*psnr' "$SY" "${REFS[@]}" --metric psnr -o x
expect_error synth_no_output 2 'no output' "$SY" "${REFS[@]}"
expect_error synth_missing_image 1 'nothere\.png' "$SY" "${REFS[0]}" nothere.png -o x
printf 'not an image\n' >fake.png
expect_error synth_not_an_image 1 'fake\.png' "$SY" fake.png -o x
expect_error synth_not_2to1 1 'square_64\.png: not a 2:1.*--allow-aspect' "$SY" "$OIQA_ROOT/tests/data/square_64.png" -o x
expect_error synth_same_stem 2 'city_tonemapped' "$SY" "${REFS[0]}" "$OIQA_ROOT/data/panoramas/../panoramas/city_tonemapped.png" -o x
[ ! -e x ] && pass synth_errors_leave_no_output || fail synth_errors_leave_no_output "$(ls -R x)"
# without ffmpeg the video families are refused before anything is written,
# saying what to install; the others run without it
OIQA_FFMPEG=/nonexistent/ffmpeg expect_error synth_no_ffmpeg 1 'h264 family.*apt-get install ffmpeg' \
    "$SY" "${REFS[0]}" --families jpeg,h264 --levels 1 --size 64 -o x
[ ! -e x ] && pass synth_no_ffmpeg_writes_nothing || fail synth_no_ffmpeg_writes_nothing "$(ls -R x)"
OIQA_FFMPEG=/nonexistent/ffmpeg run "$SY" "${REFS[0]}" --families oiqa --levels 2 --size 64 -o nf -q
if [ "$RC" -eq 0 ] && [ "$(cut -d, -f4 nf/labels.csv | sort -u | tr '\n' ' ')" = "REF blur dist_type jpeg jpeg2000 noise " ]
then pass synth_oiqa_preset_without_ffmpeg; else fail synth_oiqa_preset_without_ffmpeg "exit $RC: $ERR"; fi

# --- the codec families: JPEG 2000 (OpenJPEG), H.264 and HEVC (ffmpeg) -------------
if command -v ffmpeg >/dev/null 2>&1; then
    run "$SY" "${REFS[@]}" --families jpeg2000,h264,hevc --levels 1,4 --size 64 -o dc -q -j 2
    if [ "$RC" -eq 0 ] && [ "$(wc -l <dc/labels.csv)" -eq 15 ] &&
        awk -F, 'NR > 1 && $5 > 0 { m[$3 "," $4 "," $5] = $2; k[$3 "," $4] = 1 }
                 END { for (x in k) { n++; if (!(m[x ",4"] < m[x ",1"])) bad = 1 } exit bad || n != 6 }' dc/labels.csv
    then pass synth_codec_families; else fail synth_codec_families "exit $RC: $ERR $(cat dc/labels.csv 2>/dev/null)"; fi
    grep -qE '^# coded with: ffmpeg version [^ ]+ \(libx264/libx265\); OpenJPEG [0-9.]+$' dc/synth.yaml && pass synth_records_ffmpeg_version \
        || fail synth_records_ffmpeg_version "$(cat dc/synth.yaml)"
    run "$SY" "${REFS[@]}" --families jpeg2000,h264,hevc --levels 1,4 --size 64 -o dc1 -q -j 1
    [ "$RC" -eq 0 ] && cmp -s dc/labels.csv dc1/labels.csv && cmp -s dc/city_tonemapped_hevc_4.png dc1/city_tonemapped_hevc_4.png \
        && pass synth_codecs_same_on_1_and_2_threads || fail synth_codecs_same_on_1_and_2_threads "$ERR"
else
    skip synth_codec_families "ffmpeg is not installed (apt-get install ffmpeg)"
fi

run "$SY" "$OIQA_ROOT/tests/data/square_64.png" --allow-aspect --families resample --levels 1 --size 16 -o sq -q
[ "$RC" -eq 0 ] && [ -f sq/square_64_resample_1.png ] && pass synth_allow_aspect || fail synth_allow_aspect "$ERR"
e2e_done
