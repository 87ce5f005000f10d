#!/usr/bin/env bash
# Benchmark, MariaDB part: cairn against mydumper/myloader and mariadb-dump
# on the same servers, same data, same run.  Backups read server A; every
# restore goes to server B.  Not a test: run it by hand on a quiet machine.
#
#   scripts/bench-mariadb.sh [ROWS]   ROWS in the dominant table (default 6000000, about 1 GB)
#   BENCH_JOBS=2 BENCH_REPEAT=2
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
rows=${1:-6000000}
jobs=${BENCH_JOBS:-2}
repeat=${BENCH_REPEAT:-2}
incr_rows=${BENCH_INCR_ROWS:-10000}

scripts/deps.sh
command -v mydumper >/dev/null || { s=""; [ "$(id -u)" -ne 0 ] && s=sudo; $s apt-get install -y -qq mydumper >/dev/null; }
scripts/build.sh >/dev/null
cairn="$root/build/cairn"

tmp=$(mktemp -d "${BENCH_DIR:-/tmp}/cairn-bench-mdb-XXXXXX")
chmod 755 "$tmp"
trap '"$root/scripts/mariadb.sh" stop "$tmp/a"; "$root/scripts/mariadb.sh" stop "$tmp/b"; rm -rf "$tmp"' EXIT
export CAIRN_MARIADB_BUFFER_POOL=1G
. "$("$root/scripts/mariadb.sh" start "$tmp/a" "" 21)"
A=$CAIRN_MARIADB_PORT
. "$("$root/scripts/mariadb.sh" start "$tmp/b" "" 22)"
B=$CAIRN_MARIADB_PORT
. "$root/scripts/bench-lib.sh"
need_time
sqla() { mariadb --no-defaults -h127.0.0.1 -P"$A" -ucairn -pcairn "$@"; }
sqlb() { mariadb --no-defaults -h127.0.0.1 -P"$B" -ucairn -pcairn "$@"; }

echo "== generating: big table of $rows rows + 100 small tables"
sqla <<SQL
CREATE DATABASE bench;
USE bench;
CREATE TABLE big (id BIGINT PRIMARY KEY, customer INT, created DATETIME, amount DECIMAL(12,2),
                  status VARCHAR(10), note VARCHAR(100), KEY (customer)) ENGINE = InnoDB;
INSERT INTO big SELECT seq, seq % 100000, '2026-01-01' - INTERVAL seq SECOND, (seq % 100000) / 100,
    ELT(seq % 4 + 1, 'new', 'paid', 'shipped', 'returned'),
    CONCAT(MD5(seq), ' ', REPEAT(CHAR(97 + seq % 26), seq % 40))
    FROM seq_1_to_$rows;
SQL
small_rows=$(( rows / 600 > 100 ? rows / 600 : 100 ))
for t in $(seq 1 100); do
    echo "CREATE TABLE bench.small_$t (id INT PRIMARY KEY, label VARCHAR(40), v JSON);
          INSERT INTO bench.small_$t SELECT seq, CONCAT('label ', seq), JSON_OBJECT('k', seq, 't', $t) FROM bench.seq_1_to_$small_rows;"
done | sqla
sqla -e "ANALYZE TABLE bench.big" >/dev/null
sqla -N -e "SELECT CONCAT('database size: ', ROUND(SUM(DATA_LENGTH + INDEX_LENGTH) / 1048576), ' MiB') FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'bench'"
sqla -e "SELECT COUNT(*) FROM bench.big" >/dev/null   # warm the buffer pool

clean_repo() { rm -rf "$tmp/repo"; }
clean_dump() { rm -rf "$tmp/dump"; mkdir -p "$tmp/dump"; }
fresh_b() { sqlb -e "DROP DATABASE IF EXISTS bench"; }

# Throughput against tools that do not adapt: --mode parallel (the default,
# hybrid, gives CPU back when the backup's own load slows the server).
echo "== backup (best of $repeat, $jobs jobs)"
measure cairn_fast clean_repo "$cairn" backup --source "mariadb://cairn:cairn@127.0.0.1:$A/bench" \
    --repo "$tmp/repo" --jobs "$jobs" --compress zstd:-3 --mode parallel --quiet
record cairn_fast_size "$(size_of "$tmp/repo")"
measure cairn_backup clean_repo "$cairn" backup --source "mariadb://cairn:cairn@127.0.0.1:$A/bench" \
    --repo "$tmp/repo" --jobs "$jobs" --mode parallel --quiet
record cairn_size "$(size_of "$tmp/repo")"
# without compression: what compressing costs on this machine (in a
# repository of its own: the restores below read the default backup's)
clean_none() { rm -rf "$tmp/repo_none"; }
measure cairn_none clean_none "$cairn" backup --source "mariadb://cairn:cairn@127.0.0.1:$A/bench" \
    --repo "$tmp/repo_none" --jobs "$jobs" --compress none --mode parallel --quiet
record cairn_none_size "$(size_of "$tmp/repo_none")"
clean_none
measure mydumper clean_dump mydumper -h 127.0.0.1 -P "$A" -u cairn -p cairn -t "$jobs" -B bench -o "$tmp/dump"
record mydumper_size "$(size_of "$tmp/dump")"
cp -r "$tmp/dump" "$tmp/dump_plain"
measure mydumper_c clean_dump mydumper -h 127.0.0.1 -P "$A" -u cairn -p cairn -t "$jobs" -B bench -c -o "$tmp/dump"
record mydumper_c_size "$(size_of "$tmp/dump")"
rm -rf "$tmp/dump"
measure mariadb_dump true sh -c "mariadb-dump --no-defaults -h127.0.0.1 -P$A -ucairn -pcairn --single-transaction bench > '$tmp/dump.sql'"
record mariadb_dump_size "$(size_of "$tmp/dump.sql")"
rm -f "$tmp/dump.sql"

echo "== restore into the second server (best of $repeat, $jobs jobs)"
measure cairn_restore fresh_b "$cairn" restore --repo "$tmp/repo" \
    --target "mariadb://cairn:cairn@127.0.0.1:$B/" --jobs "$jobs" --quiet
measure myloader fresh_b myloader -h 127.0.0.1 -P "$B" -u cairn -p cairn -t "$jobs" -d "$tmp/dump_plain"

echo "== increments: $incr_rows changed rows each (best of $repeat)"
rm -rf "$tmp/repo_incr"
"$cairn" backup --source "mariadb://cairn:cairn@127.0.0.1:$A/bench" --repo "$tmp/repo_incr" \
    --jobs "$jobs" --quiet
incr_round=0
change_rows() { # a different key range each time: incr_rows updates in 100 transactions
    incr_round=$((incr_round + 1))
    local lo=$((incr_round * incr_rows)) step=$((incr_rows / 100)) b
    for b in $(seq 0 99); do
        echo "UPDATE bench.big SET amount = amount + 1, status = 'changed'
              WHERE id >= $((lo + b * step)) AND id < $((lo + (b + 1) * step));"
    done | sqla
}
before=$(size_of "$tmp/repo_incr")
measure cairn_incr change_rows "$cairn" backup --type incr \
    --source "mariadb://cairn:cairn@127.0.0.1:$A/bench" --repo "$tmp/repo_incr" --quiet
record cairn_incr_size $(( ($(size_of "$tmp/repo_incr") - before) / repeat ))
measure cairn_restore_chain fresh_b "$cairn" restore --repo "$tmp/repo_incr" \
    --target "mariadb://cairn:cairn@127.0.0.1:$B/" --jobs "$jobs" --quiet

echo
echo "== results"
printf '  cairn backup     %7.2f s  %8s MiB\n' "$(get cairn_backup)" "$(mib "$(get cairn_size)")"
printf '  cairn zstd:-3    %7.2f s  %8s MiB\n' "$(get cairn_fast)" "$(mib "$(get cairn_fast_size)")"
printf '  cairn none       %7.2f s  %8s MiB\n' "$(get cairn_none)" "$(mib "$(get cairn_none_size)")"
printf '  mydumper         %7.2f s  %8s MiB\n' "$(get mydumper)" "$(mib "$(get mydumper_size)")"
printf '  mydumper -c      %7.2f s  %8s MiB\n' "$(get mydumper_c)" "$(mib "$(get mydumper_c_size)")"
printf '  mariadb-dump     %7.2f s  %8s MiB\n' "$(get mariadb_dump)" "$(mib "$(get mariadb_dump_size)")"
printf '  cairn restore    %7.2f s   myloader %7.2f s\n' "$(get cairn_restore)" "$(get myloader)"
printf '  increment        %7.2f s  %8s KiB  (%s changed rows, 100 transactions)\n' "$(get cairn_incr)" "$(awk "BEGIN{printf \"%.1f\", $(get cairn_incr_size) / 1024}")" "$incr_rows"
printf '  restore chain    %7.2f s  (full + %s increments replayed)\n' "$(get cairn_restore_chain)" "$repeat"
echo
echo "  backup: mydumper time / cairn time        = $(ratio "$(get mydumper)" "$(get cairn_backup)")  (target >= 1)"
echo "  backup: mydumper time / cairn zstd:-3    = $(ratio "$(get mydumper)" "$(get cairn_fast)")"
echo "  backup: mydumper time / cairn none       = $(ratio "$(get mydumper)" "$(get cairn_none)")  (both uncompressed)"
echo "  backup: mydumper -c time / cairn time     = $(ratio "$(get mydumper_c)" "$(get cairn_backup)")  (target >= 3)"
echo "  backup: mariadb-dump time / cairn time    = $(ratio "$(get mariadb_dump)" "$(get cairn_backup)")"
echo "  size:   mydumper -c size / cairn size     = $(ratio "$(get mydumper_c_size)" "$(get cairn_size)")"
echo "  restore: myloader time / cairn time       = $(ratio "$(get myloader)" "$(get cairn_restore)")  (target >= 1.5)"
echo "  memory: cairn backup $(mem cairn_backup) KiB, restore $(mem cairn_restore) KiB;" \
     "mydumper $(mem mydumper) KiB, myloader $(mem myloader) KiB"
