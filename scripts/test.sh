#!/usr/bin/env bash
# Every test: installs what is missing, checks formatting, builds with
# warnings as errors, runs the unit tests under AddressSanitizer and
# UndefinedBehaviorSanitizer, fuzzes the parsers of untrusted input for a
# short while, then the integration tests against throwaway PostgreSQL and
# MariaDB servers.  Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/deps.sh

echo "== format"
if command -v clang-format >/dev/null; then
    unformatted=$(clang-format --dry-run -Werror $(git ls-files '*.c' '*.h' 2>/dev/null || find src drivers include tests -name '*.[ch]') 2>&1 | grep -c 'error:' || true)
    if [ "$unformatted" -ne 0 ]; then
        echo "clang-format: $unformatted places differ from .clang-format (run clang-format -i)" >&2
        exit 1
    fi
else
    echo "clang-format not installed: format check skipped"
fi

echo "== unit tests (ASan + UBSan)"
asan=$(scripts/build.sh --sanitize)
unit_passed=0 unit_failed=0
for t in "$asan"/test_*; do
    set +e
    out=$(ASAN_OPTIONS=detect_leaks=1 "$t" 2>&1)
    rc=$?
    set -e
    echo "$out"
    p=$(echo "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p')
    f=$(echo "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p')
    unit_passed=$((unit_passed + ${p:-0}))
    unit_failed=$((unit_failed + ${f:-0}))
    [ "$rc" -eq 0 ] || [ -n "$f" ] || unit_failed=$((unit_failed + 1))
done
echo "unit: $unit_passed passed, $unit_failed failed"

# untrusted input: the manifest and change-stream parsers under libFuzzer,
# briefly (scripts/fuzz.sh SECONDS runs longer); a crash fails the run
scripts/fuzz.sh "${CAIRN_FUZZ_SECONDS:-20}"

# The integration suite runs twice: against the release build users run,
# and against the ASan/UBSan build, where a memory error or a leak changes
# cairn's exit code and so fails the test that ran it.
it_passed=0 it_failed=0
run_suite() { # LABEL CAIRN-BINARY
    echo "== integration tests ($1)"
    set +e
    local out
    out=$(CAIRN="$2" ASAN_OPTIONS=detect_leaks=1 tests/integration/run.sh 2>&1 | tee -a /dev/stderr)
    local rc=$?
    set -e
    local p f
    p=$(echo "$out" | sed -n 's/^integration: \([0-9]*\) passed.*/\1/p')
    f=$(echo "$out" | sed -n 's/^integration: [0-9]* passed, \([0-9]*\) failed.*/\1/p')
    [ -n "$p" ] || { p=0; f=1; }
    [ "$rc" -eq 0 ] || [ "${f:-0}" -gt 0 ] || f=1
    it_passed=$((it_passed + p))
    it_failed=$((it_failed + f))
}
release=$(scripts/build.sh)
run_suite release "$PWD/$release/cairn"
run_suite "ASan + UBSan" "$PWD/$asan/cairn"

echo
echo "$((unit_passed + it_passed)) passed, $((unit_failed + it_failed)) failed"
[ $((unit_failed + it_failed)) -eq 0 ]
