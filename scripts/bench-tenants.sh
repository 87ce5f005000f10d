#!/usr/bin/env bash
# Benchmark: many tenant schemas of small tables.  For each count of
# tenants, one database; cairn backup --tenant-pattern against pg_dump -Fd
# -j, in one run, best of $repeat; then the per-unit cost in milliseconds
# and how it grows, and the time to restore one tenant into the database
# holding the others.  Not a test: run it by hand on a quiet machine.
#
#   scripts/bench-tenants.sh [COUNT...]     tenant counts (default: 100 1000)
#   BENCH_JOBS=2 BENCH_REPEAT=2
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
counts=${*:-"100 1000"}
jobs=${BENCH_JOBS:-2}
repeat=${BENCH_REPEAT:-2}

scripts/deps.sh
scripts/build.sh >/dev/null
cairn="$root/build/cairn"

tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/cairn-bench-XXXXXX")
chmod 755 "$tmp"
trap '"$root/scripts/pg.sh" stop "$tmp/pg"; rm -rf "$tmp"' EXIT
# creating a thousand tenants in one transaction, and pg_dump, which locks
# every table in one, need room in the lock table
export CAIRN_PG_FSYNC=on CAIRN_PG_MAX_LOCKS=1024
. "$("$root/scripts/pg.sh" start "$tmp/pg")"
export PGOPTIONS="-c client_min_messages=warning"
pgbin=$CAIRN_PG_BINDIR
. "$root/scripts/bench-lib.sh"
need_time

make_db() { # NAME COUNT: COUNT tenants, each 3 tables (200, 500 and 50 rows), an index, a view
    psql -X -q -d postgres -c "CREATE DATABASE $1"
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE TABLE plans (id int PRIMARY KEY, name text);
INSERT INTO plans VALUES (1, 'free'), (2, 'pro');
DO \$\$ DECLARE s text; BEGIN
  FOR t IN 1..$2 LOOP
    s := format('tenant_%s', lpad(t::text, 4, '0'));
    EXECUTE format('CREATE SCHEMA %I', s);
    EXECUTE format('CREATE TABLE %I.users (id serial PRIMARY KEY, name text, plan int REFERENCES plans)', s);
    EXECUTE format('CREATE TABLE %I.orders (id bigserial PRIMARY KEY, user_id int, amount numeric(10,2), at timestamptz)', s);
    EXECUTE format('CREATE INDEX ON %I.orders (user_id)', s);
    EXECUTE format('CREATE TABLE %I.settings (k text PRIMARY KEY, v jsonb)', s);
    EXECUTE format('CREATE VIEW %I.totals AS SELECT user_id, sum(amount) FROM %I.orders GROUP BY 1', s, s);
    EXECUTE format('INSERT INTO %I.users (name, plan) SELECT ''user '' || g, 1 + g %% 2 FROM generate_series(1, 200) g', s);
    EXECUTE format('INSERT INTO %I.orders (user_id, amount, at) SELECT 1 + g %% 200, g / 7.0, now() FROM generate_series(1, 500) g', s);
    EXECUTE format('INSERT INTO %I.settings SELECT ''key '' || g, jsonb_build_object(''v'', g) FROM generate_series(1, 50) g', s);
  END LOOP;
END \$\$;
VACUUM ANALYZE;
SQL
}

clean_repo() { rm -rf "$tmp/repo"; }
clean_dump() { rm -rf "$tmp/dump"; }
for n in $counts; do
    echo "== $n tenants ($((n * 3 + 1)) tables)"
    make_db "t$n" "$n"
    psql -X -At -d "t$n" -c "SELECT 'database size: ' || pg_size_pretty(pg_database_size('t$n'))"
    measure "cairn_$n" clean_repo "$cairn" backup --source "$CAIRN_PG_URI_BASE/t$n" \
        --repo "$tmp/repo" --jobs "$jobs" --tenant-pattern 'tenant_*' --quiet
    measure "cairn_parallel_$n" clean_repo "$cairn" backup --source "$CAIRN_PG_URI_BASE/t$n" \
        --repo "$tmp/repo" --jobs "$jobs" --tenant-pattern 'tenant_*' --mode parallel --quiet
    measure "pg_dump_$n" clean_dump "$pgbin/pg_dump" -Fd -j "$jobs" -f "$tmp/dump" "t$n"
    echo "cairn_size_$n $(size_of "$tmp/repo") 0" >> "$results"
    echo "pg_dump_size_$n $(size_of "$tmp/dump") 0" >> "$results"
    # one tenant back into the database that holds the others
    one=$(printf 'tenant_%04d' $(( (n + 1) / 2 )))
    measure "cairn_one_tenant_$n" : "$cairn" restore --repo "$tmp/repo" \
        --target "$CAIRN_PG_URI_BASE/t$n" --tenant "$one" --clean --quiet
    psql -X -q -d postgres -c "DROP DATABASE t$n WITH (FORCE)"
    clean_repo
    clean_dump
done

echo
echo "== results ($jobs jobs; times in seconds)"
printf '  %-8s %10s %10s %10s %8s %12s %12s %10s\n' tenants cairn parallel pg_dump ratio \
    "cairn ms/u" "pg_dump ms/u" "1 tenant"
for n in $counts; do
    c=$(get "cairn_$n") p=$(get "cairn_parallel_$n") d=$(get "pg_dump_$n")
    printf '  %-8s %10.2f %10.2f %10.2f %7sx %12.2f %12.2f %10.2f\n' "$n" "$c" "$p" "$d" \
        "$(ratio "$d" "$c")" "$(awk "BEGIN{print $c * 1000 / $n}")" \
        "$(awk "BEGIN{print $d * 1000 / $n}")" "$(get "cairn_one_tenant_$n")"
done
set -- $counts
if [ $# -ge 2 ]; then
    a=$1 b=${!#}
    echo "  marginal cost per tenant from $a to $b: cairn $(awk "BEGIN{printf \"%.2f\", ($(get "cairn_$b") - $(get "cairn_$a")) * 1000 / ($b - $a)}") ms," \
         "pg_dump $(awk "BEGIN{printf \"%.2f\", ($(get "pg_dump_$b") - $(get "pg_dump_$a")) * 1000 / ($b - $a)}") ms"
fi
