#!/usr/bin/env bash
# Benchmark: cairn against pg_dump/pg_restore on the same server, same data,
# same run.  Prints times, sizes, peak memory and the ratios the design
# targets.  Not a test: run it by hand on a quiet machine.
#
#   scripts/bench.sh [ROWS]         ROWS in the dominant table (default 6000000, about 1 GB)
#   BENCH_JOBS=2 BENCH_REPEAT=2 BENCH_LEVELS="1 3"  (zstd levels to compare)
#   BENCH_SMALL_ROWS=1500000        a second, smaller database for the memory comparison
#   BENCH_INCR_ROWS=10000           rows changed before each timed increment
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rows=${1:-6000000}
small_rows=${BENCH_SMALL_ROWS:-$((rows / 4))}
jobs=${BENCH_JOBS:-2}
repeat=${BENCH_REPEAT:-2}
levels=${BENCH_LEVELS:-"1 3"}
incr_rows=${BENCH_INCR_ROWS:-10000}

scripts/deps.sh
scripts/build.sh >/dev/null
cairn="$root/build/cairn"

tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/cairn-bench-XXXXXX")
chmod 755 "$tmp"
trap '"$root/scripts/pg.sh" stop "$tmp/pg"; rm -rf "$tmp"' EXIT
CAIRN_PG_FSYNC=on CAIRN_PG_SHARED_BUFFERS=1GB . "$("$root/scripts/pg.sh" start "$tmp/pg")"
export PGOPTIONS="-c client_min_messages=warning"
pgbin=$CAIRN_PG_BINDIR
. "$root/scripts/bench-lib.sh"
need_time

make_db() { # NAME ROWS
    psql -X -q -d postgres -c "CREATE DATABASE $1"
    psql -X -q -v ON_ERROR_STOP=1 -d "$1" <<SQL
CREATE TABLE big (id bigint PRIMARY KEY, customer int, created timestamptz, amount numeric(12,2),
                  status text, note text);
INSERT INTO big SELECT i, i % 100000, timestamptz '2026-01-01' - i * interval '1 second',
    (i % 100000) / 100.0, (ARRAY['new', 'paid', 'shipped', 'returned'])[i % 4 + 1],
    md5(i::text) || ' ' || repeat(chr(97 + i % 26), i % 40)
    FROM generate_series(1, $2) i;
CREATE INDEX ON big (customer);
DO \$\$ BEGIN
  FOR t IN 1..100 LOOP
    EXECUTE format('CREATE TABLE small_%s (id int PRIMARY KEY, label text, v jsonb)', t);
    EXECUTE format('INSERT INTO small_%s SELECT i, ''label '' || i, jsonb_build_object(''k'', i, ''t'', %s)
                    FROM generate_series(1, %s) i', t, t, greatest($2 / 600, 100));
  END LOOP;
END \$\$;
VACUUM ANALYZE;
SQL
}

echo "== generating: big table of $rows rows + 100 small tables"
make_db bench "$rows"
psql -X -At -d bench -c "SELECT 'database size: ' || pg_size_pretty(pg_database_size('bench')) || ', big table: ' || pg_size_pretty(pg_table_size('big'))"
# warm the cache equally for everyone
psql -X -q -d bench -c "SELECT count(*) FROM big" >/dev/null

clean_repo() { rm -rf "$tmp/repo"; }
clean_dump() { rm -rf "$tmp/dump"; }

# Throughput against pg_dump, which does not adapt either: --mode parallel.
# The default, hybrid, is timed too: on a small machine the backup's own
# load slows the server's probe, and hybrid gives CPU back.
echo "== backup (best of $repeat, $jobs jobs)"
for l in $levels; do
    measure "cairn_backup_zstd$l" clean_repo "$cairn" backup --source "$CAIRN_PG_URI_BASE/bench" \
        --repo "$tmp/repo" --jobs "$jobs" --compress "zstd:$l" --mode parallel --quiet
    echo "cairn_size_zstd$l $(size_of "$tmp/repo") 0" >> "$results"
done
measure cairn_backup_hybrid clean_repo "$cairn" backup --source "$CAIRN_PG_URI_BASE/bench" \
    --repo "$tmp/repo" --jobs "$jobs" --quiet
measure cairn_backup_default clean_repo "$cairn" backup --source "$CAIRN_PG_URI_BASE/bench" \
    --repo "$tmp/repo" --jobs "$jobs" --mode parallel --quiet
echo "cairn_size_default $(size_of "$tmp/repo") 0" >> "$results"
measure pg_dump_gzip clean_dump "$pgbin/pg_dump" -Fd -j "$jobs" -f "$tmp/dump" bench
echo "pg_dump_gzip_size $(size_of "$tmp/dump") 0" >> "$results"
cp -r "$tmp/dump" "$tmp/dump_gzip"
measure pg_dump_z0 clean_dump "$pgbin/pg_dump" -Fd -j "$jobs" -Z0 -f "$tmp/dump" bench
echo "pg_dump_z0_size $(size_of "$tmp/dump") 0" >> "$results"
rm -rf "$tmp/dump"

echo "== restore (best of $repeat, $jobs jobs)"
fresh_target() { psql -X -q -d postgres -c "DROP DATABASE IF EXISTS target WITH (FORCE)"; }
fresh_target_created() { fresh_target; psql -X -q -d postgres -c "CREATE DATABASE target"; }
measure cairn_restore fresh_target "$cairn" restore --repo "$tmp/repo" \
    --target "$CAIRN_PG_URI_BASE/target" --jobs "$jobs" --quiet
measure pg_restore fresh_target_created "$pgbin/pg_restore" -j "$jobs" -d target "$tmp/dump_gzip"
fresh_target

echo "== increments: $incr_rows changed rows each, on the same database"
# a fresh chain, so the log between the full backup and the increments holds
# only the changes (the restores above wrote WAL of their own)
rm -rf "$tmp/repo_incr"
"$cairn" backup --source "$CAIRN_PG_URI_BASE/bench" --repo "$tmp/repo_incr" --jobs "$jobs" --quiet
incr_round=0
change_rows() { # a different key range each time: incr_rows updates in 100 transactions
    incr_round=$((incr_round + 1))
    local lo=$((incr_round * incr_rows))
    psql -X -q -d bench -c "DO \$\$ BEGIN FOR b IN 0..99 LOOP
        UPDATE big SET amount = amount + 1, status = 'changed'
            WHERE id >= $lo + b * ($incr_rows / 100) AND id < $lo + (b + 1) * ($incr_rows / 100);
        COMMIT; END LOOP; END \$\$"
}
before=$(size_of "$tmp/repo_incr")
measure cairn_incr change_rows "$cairn" backup --type incr --source "$CAIRN_PG_URI_BASE/bench" \
    --repo "$tmp/repo_incr" --quiet
echo "cairn_incr_size $(( ($(size_of "$tmp/repo_incr") - before) / repeat )) 0" >> "$results"
measure cairn_restore_chain fresh_target "$cairn" restore --repo "$tmp/repo_incr" \
    --target "$CAIRN_PG_URI_BASE/target" --jobs "$jobs" --quiet
fresh_target

echo "== memory as the database grows: $small_rows rows vs $rows rows"
make_db benchsmall "$small_rows"
measure cairn_backup_small clean_repo "$cairn" backup --source "$CAIRN_PG_URI_BASE/benchsmall" \
    --repo "$tmp/repo_small" --jobs "$jobs" --mode parallel --quiet
rm -rf "$tmp/repo_small"

echo
echo "== results"
printf '  database: %s\n' "$(psql -X -At -d postgres -c "SELECT pg_size_pretty(pg_database_size('bench'))")"
for l in $levels; do
    printf '  cairn zstd:%s   %6.2f s  %6.1f MiB\n' "$l" "$(get cairn_backup_zstd$l)" "$(awk "BEGIN{print $(get cairn_size_zstd$l)/1048576}")"
done
printf '  cairn default  %6.2f s  %6.1f MiB  (zstd:1, --mode parallel)\n' "$(get cairn_backup_default)" "$(awk "BEGIN{print $(get cairn_size_default)/1048576}")"
printf '  cairn hybrid   %6.2f s  (the default mode: adapts to the probe)\n' "$(get cairn_backup_hybrid)"
printf '  pg_dump gzip   %6.2f s  %6.1f MiB\n' "$(get pg_dump_gzip)" "$(awk "BEGIN{print $(get pg_dump_gzip_size)/1048576}")"
printf '  pg_dump -Z0    %6.2f s  %6.1f MiB\n' "$(get pg_dump_z0)" "$(awk "BEGIN{print $(get pg_dump_z0_size)/1048576}")"
printf '  cairn restore  %6.2f s   pg_restore -j%s %6.2f s\n' "$(get cairn_restore)" "$jobs" "$(get pg_restore)"
printf '  increment      %6.2f s  %6.1f KiB  (%s changed rows, in 100 transactions)\n' "$(get cairn_incr)" "$(awk "BEGIN{print $(get cairn_incr_size)/1024}")" "$incr_rows"
printf '  restore chain  %6.2f s  (full + %s increments replayed)\n' "$(get cairn_restore_chain)" "$repeat"
echo
echo "  backup: pg_dump -Z0 time / cairn time      = $(ratio "$(get pg_dump_z0)" "$(get cairn_backup_default)")  (target >= 1)"
echo "  backup: pg_dump gzip time / cairn time     = $(ratio "$(get pg_dump_gzip)" "$(get cairn_backup_default)")  (target >= 3)"
echo "  size:   pg_dump gzip size / cairn size     = $(ratio "$(get pg_dump_gzip_size)" "$(get cairn_size_default)")  (target > 1)"
echo "  restore: pg_restore time / cairn time      = $(ratio "$(get pg_restore)" "$(get cairn_restore)")  (target > 1)"
echo "  memory: cairn peak $(mem cairn_backup_small) KiB at $small_rows rows, $(mem cairn_backup_default) KiB at $rows rows; restore $(mem cairn_restore) KiB"
echo "          pg_dump peak $(mem pg_dump_gzip) KiB, pg_restore peak $(mem pg_restore) KiB"
