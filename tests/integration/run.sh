#!/usr/bin/env bash
# Integration tests against a real PostgreSQL started for this run (and
# stopped and removed afterwards, also when a test fails).
#
#   tests/integration/run.sh [PATTERN]    runs test_* functions matching PATTERN
#
# Needs a built cairn (CAIRN, default build/cairn) and the packages of
# scripts/deps.sh.  Prints one line per test and "N passed, N failed".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
export CAIRN=${CAIRN:-$root/build/cairn}
# a configuration file on this machine must not change what the tests run
export CAIRN_CONFIG=""
pattern=${1:-}

tmp=$(mktemp -d /tmp/cairn-it-XXXXXX)
chmod 755 "$tmp"
cleanup() {
    [ -n "${WRITER_PID:-}" ] && kill "$WRITER_PID" 2>/dev/null || true
    "$root/scripts/pg.sh" stop "$tmp/pg" || true
    "$root/scripts/mariadb.sh" stop "$tmp/mdb_a" || true
    "$root/scripts/mariadb.sh" stop "$tmp/mdb_b" || true
    "$root/scripts/mariadb.sh" stop "$tmp/mdb_c" || true
    chattr -R -i "$tmp" 2>/dev/null || true # a test's immutable backup
    rm -rf "$tmp"
}
trap cleanup EXIT
# shellcheck disable=SC1090
. "$("$root/scripts/pg.sh" start "$tmp/pg")"
# two MariaDB servers: the source and a disaster-recovery target
. "$("$root/scripts/mariadb.sh" start "$tmp/mdb_a" "" 11)"
export MDB_A=$CAIRN_MARIADB_PORT MDB_A_CA=$CAIRN_MARIADB_TLS_CA
. "$("$root/scripts/mariadb.sh" start "$tmp/mdb_b" "" 12)"
export MDB_B=$CAIRN_MARIADB_PORT MDB_B_CA=$CAIRN_MARIADB_TLS_CA
# and one without a binary log
. "$(CAIRN_MARIADB_BINLOG=off "$root/scripts/mariadb.sh" start "$tmp/mdb_c" "" 13)"
export MDB_C=$CAIRN_MARIADB_PORT
export PGOPTIONS="-c client_min_messages=warning"
export WORK="$tmp/work" FIXTURES="$root/tests/fixtures" ROOT="$root"
mkdir -p "$WORK"
# cairn's own temporary files (tests kill it on purpose) go with the run
export TMPDIR="$tmp/tmp"
mkdir -p "$TMPDIR"

# shellcheck source=lib.sh
. "$here/lib.sh"
for f in "$here"/t_*.sh; do
    # shellcheck disable=SC1090
    . "$f"
done

for t in $(declare -F | awk '{print $3}' | grep '^test_' | sort); do
    [ -n "$pattern" ] && [[ "$t" != *$pattern* ]] && continue
    chattr -R -i "$WORK" 2>/dev/null || true
    rm -rf "${WORK:?}"/*
    set +e
    (set -e; T_FAILED=0; "$t"; exit "$T_FAILED")
    rc=$?
    set -e
    if [ "$rc" -eq 0 ]; then
        PASSED=$((PASSED + 1))
        echo "ok - $t"
    else
        FAILED=$((FAILED + 1))
        FAILED_NAMES+=("$t")
        echo "not ok - $t"
    fi
done

echo
[ "$FAILED" -gt 0 ] && echo "failed: ${FAILED_NAMES[*]}"
echo "integration: $PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ] && [ "$PASSED" -gt 0 ]
