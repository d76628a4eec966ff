# Helpers for end-to-end tests: each case prints PASS/FAIL/SKIP like the unit tests.
# Sourced by tests/e2e/test_*.sh; OIQA_BIN points at the built tools.
set -u
: "${OIQA_BIN:?OIQA_BIN must point at the built tools}"
OIQA_ROOT=${OIQA_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OIQA_SHARED=${OIQA_SHARED:-$OIQA_ROOT/../shared}
PANOS=$OIQA_ROOT/data/panoramas
E2E_FAILED=0
TMP=$(mktemp -d /tmp/oiqa-e2e.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; E2E_FAILED=1; }
skip() { echo "SKIP $1: $2"; }

# run CMD...: runs a command, capturing stdout in $OUT, stderr in $ERR, exit code in $RC.
run() {
    "$@" >"$TMP/.out" 2>"$TMP/.err"; RC=$?
    OUT=$(cat "$TMP/.out"); ERR=$(cat "$TMP/.err")
}

# expect_error NAME CODE PATTERN CMD...: the command exits with CODE and writes
# exactly one line to stderr, matching PATTERN (grep -E), with no sanitizer report.
expect_error() {
    local name=$1 code=$2 pat=$3; shift 3
    run "$@"
    local lines; lines=$(printf '%s' "$ERR" | grep -c '')
    if [ "$RC" -ne "$code" ]; then fail "$name" "exit $RC, expected $code; stderr: $(printf '%s' "$ERR" | head -3)"
    elif [ "$lines" -ne 1 ]; then fail "$name" "stderr has $lines lines, expected 1: $(printf '%s' "$ERR" | head -5)"
    elif ! printf '%s' "$ERR" | grep -qE -- "$pat"; then fail "$name" "stderr '$ERR' does not match /$pat/"
    else pass "$name"; fi
}

e2e_done() { exit $E2E_FAILED; }
