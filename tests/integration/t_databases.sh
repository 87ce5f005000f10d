# Several databases of one server in one backup: each under its own
# snapshot, all brought to one common position through their logs.

# An application that writes to two databases in lockstep: row i goes into
# lk_a, then into lk_b.  At any instant lk_a holds as many rows as lk_b, or
# one more.
lockstep_writer() {
    for i in $(seq 1 100000); do
        printf 'INSERT INTO a VALUES (%s);\n\\c lk_b\nINSERT INTO b VALUES (%s);\n\\c lk_a\n' "$i" "$i"
    done | psql -X -q -d lk_a >/dev/null 2>&1
}

test_databases_restored_at_one_common_position() {
    drop_db lk_a
    drop_db lk_b
    new_db lk_a
    new_db lk_b
    sql lk_a "CREATE TABLE a (i int PRIMARY KEY);
              CREATE TABLE bulk AS SELECT g AS id, md5(g::text) AS pad FROM generate_series(1, 400000) g"
    sql lk_b "CREATE TABLE b (i int PRIMARY KEY); CREATE SEQUENCE s; SELECT setval('s', 42)" >/dev/null
    lockstep_writer &
    WRITER_PID=$!
    sleep 1
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --database lk_a \
        --database lk_b --chunk-size 1M --json
    kill "$WRITER_PID" 2>/dev/null || true
    wait "$WRITER_PID" 2>/dev/null || true
    WRITER_PID=
    assert_eq 0 "$RC" "backup of two databases ($ERR)"
    local id; id=$(json_get "$OUT" .id)
    run_cairn show --repo "$WORK/repo" "$id" --json
    assert_eq "lk_a lk_b" "$(json_get "$OUT" '[.databases[].name] | join(" ")')" "both databases"
    assert_eq "$(json_get "$OUT" .end_position)" "$(json_get "$OUT" '.databases[1].position')" "the common position is the last snapshot's"
    assert_eq "log/db-0001.log.zst" "$(json_get "$OUT" '.databases[0].log.path')" "the first database's log to it is stored"
    assert_eq 2 "$(sql postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cairn_%' AND database IN ('lk_a', 'lk_b')")" "a slot in each database starts the chain"
    assert_eq 1 "$(sql postgres "SELECT count(DISTINCT confirmed_flush_lsn) FROM pg_replication_slots WHERE slot_name LIKE 'cairn_%' AND database IN ('lk_a', 'lk_b')")" "both at the common position"

    # the databases are gone; the backup brings both back, agreeing
    drop_db lk_a
    drop_db lk_b
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/lk_a"
    assert_eq 2 "$RC" "a target naming one database"
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --json
    assert_eq 0 "$RC" "restore of two databases ($ERR)"
    [ "$(json_get "$OUT" .transactions)" -gt 0 ] || fail "the first database was brought forward through its log"
    local na nb
    na=$(sql lk_a "SELECT count(*) FROM a") nb=$(sql lk_b "SELECT count(*) FROM b")
    echo "    lk_a $na rows, lk_b $nb rows; $(json_get "$OUT" .transactions) transactions replayed" >&2
    [ "$na" -gt 0 ] || fail "the writer wrote before the backup"
    [ "$na" -eq "$nb" ] || [ "$na" -eq $((nb + 1)) ] || fail "the databases disagree: lk_a has $na rows, lk_b $nb"
    assert_eq "$na" "$(sql lk_a "SELECT max(i) FROM a")" "lk_a holds 1..n"
    assert_eq 400000 "$(sql lk_a "SELECT count(*) FROM bulk")" "the bulk table"
    assert_eq 42 "$(sql lk_b "SELECT last_value FROM s")" "the sequence"
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/"
    assert_eq 1 "$RC" "the databases exist now: refused without --clean"
    drop_db lk_a
    drop_db lk_b
}

test_databases_usage_errors() {
    run_cairn backup --source "$(uri postgres)" --repo "$WORK/repo" --all-databases
    assert_eq 2 "$RC" "a source naming a database"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --all-databases --database x
    assert_eq 2 "$RC" "both"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --database x --type incr
    assert_eq 6 "$RC" "an increment with nothing to build on"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --database x --resume X
    assert_eq 2 "$RC" "a resume"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --all-databases
    assert_eq 2 "$RC" "MariaDB"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --database no_such_db
    assert_eq 1 "$RC" "a database that does not exist"
    assert_contains "$ERR" "no_such_db" "is named"
    assert_eq "" "$(ls "$WORK/repo/backups" 2>/dev/null)" "and nothing is left"
}

# Increments of a backup of several databases: every database's log to one
# common end, so a restore -- to the end or to a time -- finds them agreeing.
test_databases_increments_to_one_common_position() {
    new_db lk_a
    new_db lk_b
    sql lk_a "CREATE TABLE a (i int PRIMARY KEY, note text); INSERT INTO a SELECT g, 'full' FROM generate_series(1, 1000) g"
    sql lk_b "CREATE TABLE b (i int PRIMARY KEY); CREATE SEQUENCE s; INSERT INTO b SELECT g FROM generate_series(1, 1000) g" >/dev/null
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --database lk_a --database lk_b
    assert_eq 0 "$RC" "full backup of two databases ($ERR)"
    sql lk_a "INSERT INTO a SELECT g, 'incr 1' FROM generate_series(1001, 1500) g; UPDATE a SET note = 'changed' WHERE i <= 10"
    sql lk_b "INSERT INTO b SELECT g FROM generate_series(1001, 1500) g; SELECT nextval('s') FROM generate_series(1, 7)" >/dev/null
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --type incr --json
    assert_eq 0 "$RC" "increment of both ($ERR)"
    assert_eq 2 "$(json_get "$OUT" .transactions)" "one transaction in each database"
    sleep 1.1
    local good; good=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
    local at_good; at_good="$(content_digest lk_a)$(content_digest lk_b | grep -v '^public\.s ')"
    sleep 1.1
    sql lk_a "DELETE FROM a WHERE i > 1200"
    sql lk_b "DELETE FROM b WHERE i > 1200; SELECT nextval('s')" >/dev/null
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --type incr --all-databases
    assert_eq 0 "$RC" "increment with --all-databases names the chain's databases ($ERR)"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --type incr --database lk_a
    assert_eq 2 "$RC" "an increment of some of the chain's databases is refused"
    local at_end; at_end="$(content_digest lk_a)$(content_digest lk_b)"

    drop_db lk_a
    drop_db lk_b
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --json
    assert_eq 0 "$RC" "restore of the chain ($ERR)"
    assert_eq 2 "$(json_get "$OUT" .increments)" "the increments, counted once"
    assert_eq "$at_end" "$(content_digest lk_a)$(content_digest lk_b)" "both databases at the chain's end, sequences too"
    drop_db lk_a
    drop_db lk_b
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --to-time "$good"
    assert_eq 0 "$RC" "restore to a time ($ERR)"
    assert_eq "$at_good" "$(content_digest lk_a)$(content_digest lk_b | grep -v '^public\.s ')" "both databases as they were then"
    # sequences are not in the log: set as at the increment's end, never behind
    assert_eq 8 "$(sql lk_b "SELECT last_value FROM s")" "the sequence as at the increment's end"

    # a new full backup of them drops the old chain's slots
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --all-databases
    assert_eq 0 "$RC" "a new full backup ($ERR)"
    assert_eq 2 "$(sql postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cairn_%' AND database IN ('lk_a', 'lk_b')")" "the old chain's slots are dropped"
    drop_db lk_a
    drop_db lk_b
}

# One database of several restored alone, under another name; tenants of
# one restored into the live database, through the increments.
test_databases_one_restored_alone_and_its_tenants() {
    new_db lk_a
    new_db lk_b
    sql lk_a "CREATE TABLE public.shared (id int PRIMARY KEY); INSERT INTO shared VALUES (1), (2);
              CREATE SCHEMA t_1; CREATE SCHEMA t_2;
              CREATE TABLE t_1.x (id serial PRIMARY KEY, v text); CREATE TABLE t_2.x (id serial PRIMARY KEY, v text);
              INSERT INTO t_1.x (v) SELECT 'one ' || g FROM generate_series(1, 300) g;
              INSERT INTO t_2.x (v) SELECT 'two ' || g FROM generate_series(1, 300) g"
    sql lk_b "CREATE TABLE b (i int PRIMARY KEY); INSERT INTO b SELECT g FROM generate_series(1, 500) g"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --database lk_a \
        --database lk_b --tenant-pattern 't_*'
    assert_eq 0 "$RC" "full ($ERR)"
    sql lk_a "INSERT INTO t_1.x (v) VALUES ('after'); UPDATE t_2.x SET v = 'changed' WHERE id < 5"
    sql lk_b "DELETE FROM b WHERE i > 400"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr ($ERR)"

    drop_db lk_b_copy
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/lk_b_copy" --database lk_b
    assert_eq 0 "$RC" "one database under another name ($ERR)"
    assert_eq "$(content_digest lk_b)" "$(content_digest lk_b_copy)" "the copy at the chain's end"

    # tenant t_1 is damaged in the live database; it alone comes back
    local want; want=$(content_digest lk_a | grep '^t_1\.')
    local want2; want2=$(content_digest lk_a | grep '^t_2\.' | sed 's/^t_2\./t_2_copy./')
    sql lk_a "DELETE FROM t_1.x WHERE id > 10; UPDATE t_2.x SET v = 'live' WHERE id = 100;
              INSERT INTO shared VALUES (3)"
    local others; others=$(content_digest lk_a | grep -v '^t_1\.')
    run_cairn restore --repo "$WORK/repo" --target "$(uri lk_a)" --database lk_a --tenant t_1 --clean
    assert_eq 0 "$RC" "a tenant of one database of several ($ERR)"
    assert_eq "$want" "$(content_digest lk_a | grep '^t_1\.')" "the tenant at the chain's end"
    assert_eq "$others" "$(content_digest lk_a | grep -v '^t_1\.')" "the rest of the database untouched"

    # and beside itself, under another name
    run_cairn restore --repo "$WORK/repo" --target "$(uri lk_a)" --database lk_a --tenant t_2 --as t_2_copy
    assert_eq 0 "$RC" "a tenant of one database of several, as a new name ($ERR)"
    assert_eq "$want2" "$(content_digest lk_a | grep '^t_2_copy\.')" "the copy as the chain left it"
    assert_eq "changed" "$(sql lk_a "SELECT v FROM t_2_copy.x WHERE id = 1")" "the increment replayed into the copy"
    assert_eq "two 100" "$(sql lk_a "SELECT v FROM t_2_copy.x WHERE id = 100")" "not the live change"
    assert_eq "live" "$(sql lk_a "SELECT v FROM t_2.x WHERE id = 100")" "the original untouched"

    run_cairn restore --repo "$WORK/repo" --target "$(uri lk_a)" --tenant t_1 --clean
    assert_eq 2 "$RC" "--tenant names no database"
    assert_contains "$ERR" "--database" "the hint names --database"
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --database nope
    assert_eq 2 "$RC" "a database the backup does not hold"
    run_cairn restore --repo "$WORK/repo" --target "$(uri lk_a)" --database lk_a --tenant t_9
    assert_eq 2 "$RC" "a tenant the database does not hold"
    drop_db lk_b_copy
    drop_db lk_a
    drop_db lk_b
}

# A partial backup of several databases, resumed: the database holding the
# failed unit is dumped again, and every database meets at the new end.
test_databases_partial_backup_resumed() {
    new_db lk_a
    new_db lk_b
    sql lk_a "CREATE SCHEMA t_1; CREATE TABLE t_1.x (id int PRIMARY KEY); INSERT INTO t_1.x SELECT generate_series(1, 100);
              CREATE TABLE public.p (id int PRIMARY KEY); INSERT INTO p SELECT generate_series(1, 100)"
    sql lk_b "CREATE TABLE b (i int PRIMARY KEY); INSERT INTO b SELECT g FROM generate_series(1, 500) g"
    CAIRN_FAULT=chunk-fail:4 run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" \
        --database lk_a --database lk_b --tenant-pattern 't_*' --jobs 1 --json
    assert_eq 3 "$RC" "a unit that keeps failing makes the backup partial ($ERR)"
    local id; id=$(json_get "$OUT" .id)
    assert_eq 1 "$(json_get "$OUT" '.failed_units | length')" "one unit failed"
    sql lk_a "INSERT INTO t_1.x VALUES (101); INSERT INTO p VALUES (101)"
    sql lk_b "DELETE FROM b WHERE i > 450"
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --repo "$WORK/repo" --resume "$id" --json
    assert_eq 0 "$RC" "resume ($ERR)"
    assert_eq complete "$(json_get "$OUT" .status)" "complete now"
    assert_eq "$id" "$(json_get "$OUT" .id)" "the same backup"
    run_cairn verify --repo "$WORK/repo" --backup "$id"
    assert_eq 0 "$RC" "every file it names is there and sound ($ERR)"
    assert_eq "$(find "$WORK/repo/backups/$id" -type f -path '*/data/*' | wc -l)" \
        "$(cd "$WORK" && "$CAIRN" show --repo "$WORK/repo" "$id" --json | jq '[.units[].objects[].chunks[]] | length')" \
        "no file of the replaced dump is left"
    assert_eq 2 "$(sql postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cairn_%' AND database IN ('lk_a', 'lk_b')")" "one slot per database"
    local want; want="$(content_digest lk_a)$(content_digest lk_b)"
    drop_db lk_a
    drop_db lk_b
    run_cairn restore --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/"
    assert_eq 0 "$RC" "restore of the resumed backup ($ERR)"
    assert_eq "$want" "$(content_digest lk_a)$(content_digest lk_b)" "both databases at the new common position"
    drop_db lk_a
    drop_db lk_b
}
