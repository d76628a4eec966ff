#!/usr/bin/env bash
# End-to-end: oiqa-synth -> oiqa-viewports -> oiqa-pseudoref with detection
# on the source ERP (detect erp, the default) on real panoramas: the families
# recorded per image, the same bytes on 1 and 2 threads and on --resume,
# restore-on viewport, and the source checks (missing, moved with
# --erp-root, changed; --detect viewport needs no source), each bad case one
# stderr line, exit 1, nothing written.
source "$(dirname "$0")/lib.sh"
SY=$OIQA_BIN/oiqa-synth
VP=$OIQA_BIN/oiqa-viewports
PR=$OIQA_BIN/oiqa-pseudoref
H5=$OIQA_BIN/oiqa-h5
cd "$TMP" || exit 1

run "$SY" "$PANOS"/city_tonemapped.png "$PANOS"/forest_tonemapped.png --families jpeg,noise,blur --levels 3 \
    --size 32 --layout cube6 -o d -q
[ "$RC" -eq 0 ] || { fail pseudoref_erp_setup "oiqa-synth failed: $ERR"; e2e_done; }
names=(city_tonemapped_jpeg_3.png forest_tonemapped_jpeg_3.png city_tonemapped_noise_3.png
       forest_tonemapped_blur_3.png city_tonemapped.png)
run "$VP" --root d "${names[@]}" --layout cube6 --size 64 -o vp.h5 -q
[ "$RC" -eq 0 ] || { fail pseudoref_erp_setup "oiqa-viewports failed: $ERR"; e2e_done; }

# --- detection on the ERP, recorded per image ----------------------------------------
run "$PR" vp.h5 -o a.h5 -q -j 2
if [ "$RC" -eq 0 ]; then
    run "$H5" ls a.h5
    if printf '%s' "$OUT" | grep -qE '^/erp_detected +int32 \[5,2\]' &&
        printf '%s' "$OUT" | grep -qE '^/erp_measures +float32 \[5,10\]' &&
        printf '%s' "$OUT" | grep -q '@detect = "erp"'; then
        pass pseudoref_erp_layout; else fail pseudoref_erp_layout "$(printf '%s' "$OUT" | head -40)"; fi
    # family codes: jpeg 0, blur 1, noise 2, none -1; levels within 1 of 3
    run "$H5" dump a.h5 /erp_detected
    got=$(printf '%s\n' "$OUT" | awk -F, 'NR > 1 { printf "%s:%s ", $(NF-1), $NF }')
    if printf '%s\n' "$OUT" | awk -F, 'NR > 1 { f[NR-1] = $(NF-1); l[NR-1] = $NF }
            END { want = "0 0 2 1 -1"; split(want, w, " ")
                  for (i = 1; i <= 5; i++) { if (f[i] != w[i]) exit 1; if (w[i] >= 0 && (l[i] < 2 || l[i] > 4)) exit 1 }
                  if (l[5] != 0) exit 1 }'; then
        pass pseudoref_erp_families; else fail pseudoref_erp_families "family:level per row: $got"; fi
    # every viewport takes its image's detection
    run "$H5" dump a.h5 /detected
    if printf '%s\n' "$OUT" | awk -F, 'NR > 1 { print $(NF-1) }' | tr '\n' ' ' | grep -qx '\(0 \)\{12\}\(2 \)\{6\}\(1 \)\{6\}\(-1 \)\{6\}'
    then pass pseudoref_erp_viewports_follow; else fail pseudoref_erp_viewports_follow "$OUT"; fi
else fail pseudoref_erp_layout "exit $RC: $ERR"; fi

# --- the same bytes: 1 thread, --resume after a kill ------------------------------------
run "$PR" vp.h5 -o b.h5 -q -j 1
run "$H5" diff a.h5 b.h5 --atol 0 --rtol 0
[ "$RC" -eq 0 ] && pass pseudoref_erp_same_on_1_and_2_threads || fail pseudoref_erp_same_on_1_and_2_threads "$OUT $ERR"
{ OIQA_FAULT_KILL_AFTER_ROWS=2 "$PR" vp.h5 -o k.h5 -q >/dev/null 2>&1; } 2>/dev/null
if [ -f k.h5.partial ] && [ ! -f k.h5 ]; then
    run "$PR" vp.h5 -o k.h5 --resume
    run "$H5" diff a.h5 k.h5 --atol 0 --rtol 0
    [ "$RC" -eq 0 ] && pass pseudoref_erp_resume_after_kill || fail pseudoref_erp_resume_after_kill "$OUT $ERR"
else fail pseudoref_erp_resume_after_kill "the killed run left no .partial"; fi

# --- restore-on viewport: only the grid families' restored viewports change -----------
run "$PR" vp.h5 -o v.h5 -q --restore-on viewport
run "$H5" diff a.h5 v.h5 --atol 0 --rtol 0
if [ "$RC" -eq 1 ] && printf '%s' "$OUT" | grep -q '/restored' && ! printf '%s' "$OUT" | grep -q '/degraded'; then
    pass pseudoref_erp_restore_on_viewport; else fail pseudoref_erp_restore_on_viewport "exit $RC: $OUT $ERR"; fi

# --- the source image: moved, --erp-root, changed, --detect viewport ------------------------
mv d moved
expect_error pseudoref_erp_source_missing 1 'd/city_tonemapped_jpeg_3\.png.*missing.*--erp-root' \
    "$PR" vp.h5 -o x.h5
run "$PR" vp.h5 -o r.h5 -q --erp-root moved
run "$H5" diff a.h5 r.h5 --atol 0 --rtol 0
[ "$RC" -eq 0 ] && pass pseudoref_erp_root || fail pseudoref_erp_root "$OUT $ERR"
run "$PR" vp.h5 -o w.h5 -q --detect viewport
run "$H5" ls w.h5
if [ "$RC" -eq 0 ] && printf '%s' "$OUT" | grep -q '@detect = "viewport"' && ! printf '%s' "$OUT" | grep -q '^/erp_detected'
then pass pseudoref_detect_viewport_needs_no_source; else fail pseudoref_detect_viewport_needs_no_source "$OUT $ERR"; fi
cp moved/forest_tonemapped_blur_3.png moved/city_tonemapped_noise_3.png
expect_error pseudoref_erp_source_changed 1 'city_tonemapped_noise_3\.png: sha256 .* differs' \
    "$PR" vp.h5 -o x.h5 --erp-root moved
[ ! -e x.h5 ] && [ ! -e x.h5.partial ] && pass pseudoref_erp_errors_leave_no_output \
    || fail pseudoref_erp_errors_leave_no_output "$(ls x.h5*)"

# --- an H.264 still: degraded with H.264 one QP step up; without ffmpeg, JPEG
# at that level after one warning ------------------------------------------------------------
if command -v ffmpeg >/dev/null 2>&1; then
    run "$SY" "$PANOS"/city_tonemapped.png --families h264 --levels 3 --size 32 --layout cube6 -o v -q
    run "$VP" v/city_tonemapped_h264_3.png --layout cube6 --size 64 -o vv.h5 -q
    run "$PR" vv.h5 -o h.h5 -q
    run "$H5" dump h.h5 /degrade_applied
    if printf '%s\n' "$OUT" | awk -F, 'NR > 1 { print $(NF-1) "," $NF }' | sort -u | grep -qx '5,[345]'; then
        pass pseudoref_erp_h264_degrade; else fail pseudoref_erp_h264_degrade "$OUT $ERR"; fi
    OIQA_FFMPEG=/nonexistent/ffmpeg run "$PR" vv.h5 -o n.h5
    fam=$("$H5" dump n.h5 /degrade_applied 2>/dev/null | awk -F, 'NR > 1 { print $(NF-1) }' | sort -u)
    if [ "$RC" -eq 0 ] && [ "$(printf '%s\n' "$ERR" | grep -c 'using jpeg at the same level')" -eq 1 ] && [ "$fam" = 0 ]
    then pass pseudoref_erp_no_ffmpeg_warns_and_uses_jpeg
    else fail pseudoref_erp_no_ffmpeg_warns_and_uses_jpeg "exit $RC, families $fam: $ERR"; fi
else
    skip pseudoref_erp_h264_degrade "ffmpeg is not installed (apt-get install ffmpeg)"
fi
e2e_done
