# Helpers for the integration tests: assertions, counters, database
# comparisons.  Sourced by run.sh; tests are functions named test_*.

: "${CAIRN:?}"
PASSED=0
FAILED=0
FAILED_NAMES=()
CURRENT_TEST=""
T_FAILED=0

fail() {
    echo "    FAIL: $*" >&2
    T_FAILED=1
}

assert_eq() { # expected actual message
    [ "$1" = "$2" ] || fail "$3: expected [$1], got [$2]"
}

assert_contains() { # haystack needle message
    case "$1" in *"$2"*) ;; *) fail "$3: [$2] not found in: $1" ;; esac
}

assert_not_contains() {
    case "$1" in *"$2"*) fail "$3: [$2] found in: $1" ;; *) ;; esac
}

# run_cairn ARGS...: sets OUT (stdout), ERR (stderr) and RC.
run_cairn() {
    local o e
    o=$(mktemp) e=$(mktemp)
    set +e
    "$CAIRN" "$@" >"$o" 2>"$e"
    RC=$?
    set -e
    OUT=$(cat "$o") ERR=$(cat "$e")
    rm -f "$o" "$e"
}

uri() { echo "$CAIRN_PG_URI_BASE/$1"; }

sql() { # DB SQL -> unaligned rows
    psql -X -q -At -v ON_ERROR_STOP=1 -d "$1" -c "$2"
}

new_db() { # NAME [fixture file]
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
    psql -X -q -d postgres -c "CREATE DATABASE \"$1\"" >/dev/null
    if [ -n "${2:-}" ]; then
        psql -X -q -v ON_ERROR_STOP=1 -d "$1" -f "$2" >/dev/null
    fi
}

drop_db() {
    psql -X -q -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null
}

# Every table's and materialized view's rows (sorted COPY text, so keyless
# duplicates count), and every sequence's state: one line per object.
content_digest() {
    local db=$1 rel
    sql "$db" "SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE c.relkind IN ('r', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
                 AND n.nspname !~ '^pg_toast' AND (c.relkind <> 'm' OR c.relispopulated)
               ORDER BY 1" |
    while IFS= read -r rel; do
        printf '%s %s\n' "$rel" "$(psql -X -q -d "$db" -c "COPY (SELECT * FROM ONLY $rel) TO STDOUT" | LC_ALL=C sort | sha256sum | cut -c1-16)"
    done
    sql "$db" "SELECT format('%I.%I', schemaname, sequencename) FROM pg_sequences ORDER BY 1" |
    while IFS= read -r rel; do
        printf '%s %s\n' "$rel" "$(sql "$db" "SELECT last_value || ' ' || is_called FROM $rel")"
    done
}

schema_dump() {
    pg_dump -s "$1" | grep -v '^\\\(un\)\?restrict'
}

# assert_same_database SRC DST: content and schema identical.
assert_same_database() {
    local a b
    a=$(content_digest "$1") b=$(content_digest "$2")
    if [ "$a" != "$b" ]; then
        fail "content of $2 differs from $1:"$'\n'"$(diff <(echo "$a") <(echo "$b") | head -20)"
    fi
    [ -n "$a" ] || fail "no tables found in $1"
    a=$(schema_dump "$1") b=$(schema_dump "$2")
    if [ "$a" != "$b" ]; then
        fail "schema of $2 differs from $1:"$'\n'"$(diff <(echo "$a") <(echo "$b") | head -20)"
    fi
}

json_get() { # JSON jq-filter
    echo "$1" | jq -r "$2"
}
