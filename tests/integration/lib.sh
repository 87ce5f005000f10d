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

assert_ne() { # unexpected actual message
    [ "$1" != "$2" ] || fail "$3: got [$2]"
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

# --- MariaDB -----------------------------------------------------------

mdb() { # PORT SQL...
    local port=$1; shift
    mariadb --no-defaults -h127.0.0.1 -P"$port" -ucairn -pcairn -N -B "$@"
}

muri() { echo "mariadb://cairn:cairn@127.0.0.1:$1/${2:-}"; }

# Every table's rows (sorted, so keyless duplicates count) and every
# object's SHOW CREATE, for the databases a backup holds.
mdb_digest() { # PORT [DATABASE: that one alone]
    local port=$1 only=${2:-} db name type where=""
    [ -n "$only" ] && where="AND SCHEMA_NAME = '${only//\'/\'\'}'"
    mdb "$port" -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN
                    ('mysql', 'information_schema', 'performance_schema', 'sys') $where ORDER BY 1" |
    while IFS= read -r db; do
        echo "database $db: $(mdb "$port" -e "SHOW CREATE DATABASE \`${db//\`/\`\`}\`" | cut -f2-)"
        mdb "$port" -e "SELECT TABLE_NAME, TABLE_TYPE FROM information_schema.TABLES
                        WHERE TABLE_SCHEMA = '${db//\'/\'\'}' ORDER BY 1" |
        while IFS=$'\t' read -r name type; do
            local q="\`${db//\`/\`\`}\`.\`${name//\`/\`\`}\`"
            case "$type" in
            VIEW) echo "view $q: $(mdb "$port" -e "SHOW CREATE VIEW $q" | cut -f2)" ;;
            SEQUENCE) echo "sequence $q: $(mdb "$port" -e "SHOW CREATE SEQUENCE $q" | cut -f2) next $(mdb "$port" -e "SELECT next_not_cached_value FROM $q")" ;;
            *)
                echo "table $q: $(mdb "$port" -e "SHOW CREATE TABLE $q" | cut -f2 | sha256sum | cut -c1-16)"
                echo "rows $q: $(mdb "$port" -e "SELECT * FROM $q" | LC_ALL=C sort | sha256sum | cut -c1-16) $(mdb "$port" -e "SELECT COUNT(*) FROM $q")"
                ;;
            esac
        done
        mdb "$port" -e "SELECT ROUTINE_TYPE, ROUTINE_NAME FROM information_schema.ROUTINES
                        WHERE ROUTINE_SCHEMA = '${db//\'/\'\'}' ORDER BY 1, 2" |
        while IFS=$'\t' read -r type name; do
            echo "$type $name: $(mdb "$port" -e "SHOW CREATE $type \`${db//\`/\`\`}\`.\`$name\`" | cut -f2,3)"
        done
        mdb "$port" -e "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${db//\'/\'\'}' ORDER BY 1" |
        while IFS= read -r name; do
            echo "trigger $name: $(mdb "$port" -e "SHOW CREATE TRIGGER \`${db//\`/\`\`}\`.\`$name\`" | cut -f2,3)"
        done
        mdb "$port" -e "SELECT EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${db//\'/\'\'}' ORDER BY 1" |
        while IFS= read -r name; do
            echo "event $name: $(mdb "$port" -e "SHOW CREATE EVENT \`${db//\`/\`\`}\`.\`$name\`" | cut -f2,3,4)"
        done
    done
}

assert_same_mariadb() { # PORT-A PORT-B
    local a b
    a=$(mdb_digest "$1") b=$(mdb_digest "$2")
    [ -n "$a" ] || fail "no databases on port $1"
    if [ "$a" != "$b" ]; then
        fail "server $2 differs from $1:"$'\n'"$(diff <(echo "$a") <(echo "$b") | head -30)"
    fi
}

# Changes the byte at OFFSET of FILE to its complement: always a change,
# whatever the byte was.
flip_byte() { # FILE OFFSET
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    # shellcheck disable=SC2059
    printf "\\$(printf '%03o' $(( b ^ 255 )))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
