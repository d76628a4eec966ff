#!/usr/bin/env bash
# Runs every unit test binary and every end-to-end script, counts the
# PASS / FAIL / SKIP lines they print, and ends with "N passed, N failed, N skipped".
# Environment (set by make test): OIQA_BIN, OIQA_TESTS, OIQA_SHARED, OIQA_SANITIZE.
set -u
cd "$(dirname "$0")/.."
: "${OIQA_BIN:?}" "${OIQA_TESTS:?}"
export OIQA_BIN OIQA_TESTS OIQA_SHARED OIQA_ROOT="$PWD"
# Sanitizer reports must not hide behind the tools' own exit codes 1 and 2.
export ASAN_OPTIONS="exitcode=86:detect_leaks=1:abort_on_error=0:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:exitcode=87:print_stacktrace=1:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp:print_suppressions=0"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}"

log=$(mktemp -d)/suite.log
times=$(dirname "$log")/times.tsv
trap 'rm -rf "$(dirname "$log")"' EXIT
runs=0; crashed=0

run_one() { # label, command...
    local label=$1; shift
    local out rc t0=$SECONDS
    out=$("$@" 2>&1); rc=$?
    printf '%s\t%s\n' "$((SECONDS - t0))" "$label" >>"$times"
    printf '%s\n' "$out" | grep -E '^(PASS|FAIL|SKIP) ' | tee -a "$log"
    if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q '^FAIL '; then
        # Exited badly without naming a failing case: count it as one failure.
        echo "FAIL $label: exit $rc" | tee -a "$log"
        printf '%s\n' "$out" | tail -20 | sed 's/^/    /'
    elif printf '%s\n' "$out" | grep -q '^FAIL '; then
        printf '%s\n' "$out" | grep -vE '^(PASS|SKIP) ' | grep -v '^FAIL ' | tail -20 | sed 's/^/    /'
    fi
    runs=$((runs + 1))
}

for t in "$OIQA_TESTS"/test_*; do
    [ -x "$t" ] || continue
    echo "== unit: $(basename "$t")"
    run_one "$(basename "$t")" "$t"
done
for t in tests/e2e/test_*.sh; do
    [ -f "$t" ] || continue
    echo "== e2e: $(basename "$t")"
    run_one "$(basename "$t")" bash "$t"
done

passed=$(grep -c '^PASS ' "$log")
failed=$(grep -c '^FAIL ' "$log")
skipped=$(grep -c '^SKIP ' "$log")
echo
[ "$failed" -gt 0 ] && { echo "failed cases:"; grep '^FAIL ' "$log" | sed 's/^/  /'; }
# The slowest runs, so a suite that outgrows CI's time says where.
echo "slowest (s):"; sort -rn "$times" | head -8 | sed 's/^/  /'
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
