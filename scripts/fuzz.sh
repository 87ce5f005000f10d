#!/usr/bin/env bash
# Fuzzes the parsers of untrusted input with libFuzzer (clang, AddressSanitizer
# and UndefinedBehaviorSanitizer): the manifest parser, and the change stream
# (stored PostgreSQL log records, raw MariaDB binlog files).
#
#   scripts/fuzz.sh [SECONDS]    each target for SECONDS (default 60), from the
#                                seeds in tests/fuzz/corpus/; a crash is saved
#                                under build-fuzz/ and fails the run
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
      -DCAIRN_FUZZ=ON -DCAIRN_TESTS=OFF -DCAIRN_WERROR=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target fuzz_manifest fuzz_decode >/dev/null
for target in manifest decode; do
    work=build-fuzz/corpus-$target
    mkdir -p "$work"
    echo "== fuzz $target (${seconds} s)"
    # a private corpus that grows, the committed seeds read only
    if ! (cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 "./fuzz_$target" -max_total_time="$seconds" \
            -max_len=65536 -timeout=10 -print_final_stats=1 "corpus-$target" \
            "../tests/fuzz/corpus/$target" 2>&1 | tail -n 12); then
        echo "fuzz $target: FAILED (the input that broke it is in build-fuzz/)" >&2
        exit 1
    fi
done
echo "fuzz: every target ran ${seconds} s without a failure"
