# MariaDB: a consistent parallel backup restored to a second server.

mdb_reset() { # PORT: drop every user database
    local db
    mdb "$1" -e "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME NOT IN
                 ('mysql', 'information_schema', 'performance_schema', 'sys')" |
    while IFS= read -r db; do
        mdb "$1" -e "DROP DATABASE \`${db//\`/\`\`}\`"
    done
}

mdb_load_fixture() { # PORT
    mdb_reset "$1"
    mdb "$1" < "$FIXTURES/mariadb_fidelity.sql" >/dev/null
}

test_mariadb_fidelity_to_second_server() {
    mdb_load_fixture "$MDB_A"
    mdb_reset "$MDB_B"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --jobs 3 --chunk-size 256k --json
    assert_eq 0 "$RC" "backup ($ERR)"
    local id
    id=$(json_get "$OUT" .id)
    assert_eq binlog "$(json_get "$OUT" .snapshot_mode)" "snapshot mode"
    [[ "$(json_get "$OUT" .position)" =~ ^mysql-bin\.[0-9]+:[0-9]+$ ]] || fail "position $(json_get "$OUT" .position)"
    [[ "$(json_get "$OUT" .gtid)" =~ ^0-11-[0-9]+$ ]] || fail "gtid $(json_get "$OUT" .gtid)"
    [ "$(json_get "$OUT" '.barrier_seconds > 0')" = true ] || fail "barrier time not recorded"
    assert_eq 2 "$(json_get "$OUT" .units)" "two databases, two units"
    local m="$WORK/repo/backups/$id/manifest.json"
    assert_eq 1 "$(jq -r '[.snapshot.identity] + .snapshot.workers | unique | length' "$m")" \
        "every worker at the leader's binlog position"
    assert_eq "$(json_get "$OUT" .position)" "$(jq -r .snapshot.identity "$m")" "leader identity is the position"
    assert_eq true "$(jq '[.units[].objects[] | select(.name == "aria_t")][0].nontransactional' "$m")" \
        "Aria table dumped under the barrier"
    [ "$(jq '[.units[].objects[] | select(.name == "big") | .chunks[]] | length' "$m")" -gt 2 ] ||
        fail "big table not split by key ranges"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --jobs 3
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"
    # FLOAT is displayed with 6 digits: compare every bit of it
    local q="SELECT id, CAST(f AS DOUBLE), CAST(fu AS DOUBLE), CAST(db AS DOUBLE) FROM fid.nums ORDER BY id"
    assert_eq "$(mdb "$MDB_A" -e "$q")" "$(mdb "$MDB_B" -e "$q")" "FLOAT and DOUBLE at full precision"
    # the restored objects work
    assert_eq 8 "$(mdb "$MDB_B" -e "SELECT fid.twice(4)")" "function"
    assert_eq 1 "$(mdb "$MDB_B" -e "SELECT COUNT(*) FROM fid.a_view_of_view WHERE name = 'one' AND n = 2")" "view of a view"
}

test_mariadb_existing_database_refused_unless_clean() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE app; CREATE TABLE app.t (id INT PRIMARY KEY); INSERT INTO app.t VALUES (1), (2)"
    mdb "$MDB_B" -e "CREATE DATABASE app; CREATE TABLE app.precious (v INT); INSERT INTO app.precious VALUES (7)"
    run_cairn backup --source "$(muri "$MDB_A" app)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "backup of one database ($ERR)"
    assert_eq 1 "$(json_get "$OUT" .units)" "one unit"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 1 "$RC" "exit code"
    assert_contains "$ERR" 'already holds a database "app"' "message"
    assert_contains "$ERR" "--clean" "hint"
    assert_eq 7 "$(mdb "$MDB_B" -e "SELECT v FROM app.precious")" "target untouched"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --clean
    assert_eq 0 "$RC" "restore --clean ($ERR)"
    assert_eq 2 "$(mdb "$MDB_B" -e "SELECT COUNT(*) FROM app.t")" "restored"
}

test_mariadb_backup_during_writes_is_consistent() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE shop; CREATE DATABASE billing;
        CREATE TABLE shop.orders (id INT PRIMARY KEY, pad VARCHAR(100));
        CREATE TABLE billing.invoices (order_id INT PRIMARY KEY, amount INT);
        CREATE TABLE shop.filler (id INT PRIMARY KEY, pad VARCHAR(300));
        INSERT INTO shop.filler SELECT seq, REPEAT('f', 250) FROM shop.seq_1_to_100000;
        ANALYZE TABLE shop.filler" >/dev/null
    {
        for i in $(seq 1 100000); do
            echo "START TRANSACTION; INSERT INTO shop.orders VALUES ($i, 'o'); INSERT INTO billing.invoices VALUES ($i, $i); COMMIT;"
        done
    } | mariadb --no-defaults -h127.0.0.1 -P"$MDB_A" -ucairn -pcairn >/dev/null 2>&1 &
    WRITER_PID=$!
    sleep 1
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --jobs 3 --chunk-size 1M --json
    local rc=$RC err=$ERR
    kill "$WRITER_PID" 2>/dev/null || true
    wait "$WRITER_PID" 2>/dev/null || true
    WRITER_PID=
    assert_eq 0 "$rc" "backup ($err)"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --jobs 2
    assert_eq 0 "$RC" "restore ($ERR)"
    local orders invoices
    orders=$(mdb "$MDB_B" -e "SELECT COUNT(*) FROM shop.orders")
    invoices=$(mdb "$MDB_B" -e "SELECT COUNT(*) FROM billing.invoices")
    [ "$orders" -gt 0 ] || fail "the writer had not written before the snapshot"
    assert_eq "$orders" "$invoices" "both databases at one instant"
}

test_mariadb_corrupt_file_exits_4() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE c; CREATE TABLE c.t (id INT PRIMARY KEY, v VARCHAR(40));
                     INSERT INTO c.t SELECT seq, MD5(seq) FROM c.seq_1_to_5000"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --json
    local id f
    id=$(json_get "$OUT" .id)
    f=$(jq -r '.units[0].objects[0].chunks[0].path' "$WORK/repo/backups/$id/manifest.json")
    printf '\x00\x00\x00' | dd of="$WORK/repo/backups/$id/$f" bs=1 seek=40 conv=notrunc status=none
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 4 "$RC" "exit code"
    assert_contains "$ERR" "$f" "file named"
    assert_eq 0 "$(mdb "$MDB_B" -e "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'c'")" \
        "target untouched"
}

test_mariadb_errors() {
    run_cairn backup --source "mariadb://cairn:wrong@127.0.0.1:$MDB_A/" --repo "$WORK/repo"
    assert_eq 1 "$RC" "wrong password"
    assert_contains "$ERR" "Access denied" "message"
    assert_contains "$ERR" "hint: check the user and password" "hint"
    assert_not_contains "$ERR" ":wrong@" "password shown"
    mdb "$MDB_A" -e "DROP USER IF EXISTS 'weak'@'%'; CREATE USER 'weak'@'%' IDENTIFIED BY 'weakpw';
                     GRANT SELECT ON *.* TO 'weak'@'%'"
    run_cairn backup --source "mariadb://weak:weakpw@127.0.0.1:$MDB_A/" --repo "$WORK/repo"
    assert_eq 1 "$RC" "missing RELOAD"
    assert_contains "$ERR" "RELOAD" "names the privilege"
    assert_contains "$ERR" "GRANT" "says how to grant it"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$(json_get "$OUT" length)" "nothing listed"
    run_cairn backup --source "mariadb://cairn:cairn@127.0.0.1:$MDB_A/no_such_db" --repo "$WORK/repo"
    assert_eq 1 "$RC" "unknown database"
    assert_contains "$ERR" "does not exist" "message"
}

test_mariadb_no_owner_strips_definers() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "DROP USER IF EXISTS 'app\`x'@'%'; CREATE USER 'app\`x'@'%';
        GRANT ALL ON *.* TO 'app\`x'@'%';
        CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY);
        CREATE DEFINER = 'app\`x'@'%' VIEW d.v AS SELECT id FROM d.t;
        CREATE DEFINER = 'app\`x'@'%' FUNCTION d.f() RETURNS INT DETERMINISTIC RETURN 1"
    run_cairn backup --source "$(muri "$MDB_A" d)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "backup ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --no-owner
    assert_eq 0 "$RC" "restore --no-owner ($ERR)"
    assert_contains "$(mdb "$MDB_B" -e "SHOW CREATE VIEW d.v")" 'DEFINER=`cairn`@`%`' "view definer is the restoring user"
    assert_contains "$(mdb "$MDB_B" -e "SHOW CREATE FUNCTION d.f")" 'DEFINER=`cairn`@`%`' "function definer"
    assert_eq 1 "$(mdb "$MDB_B" -e "SELECT d.f()")" "function works"
}

test_mariadb_without_binlog_backs_up_and_says_so() {
    mdb_reset "$MDB_C"
    mdb_reset "$MDB_B"
    mdb "$MDB_C" -e "CREATE DATABASE nb; CREATE TABLE nb.t (id INT PRIMARY KEY); INSERT INTO nb.t VALUES (1), (2), (3)"
    run_cairn backup --source "$(muri "$MDB_C")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "backup ($ERR)"
    assert_eq nobinlog "$(json_get "$OUT" .snapshot_mode)" "mode"
    assert_contains "$(json_get "$OUT" '.warnings[0]')" "cannot start a chain of increments" "manifest warning"
    assert_contains "$ERR" "binary log is off" "printed warning"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_eq 3 "$(mdb "$MDB_B" -e "SELECT COUNT(*) FROM nb.t")" "restored"
}

# Waits (at most 10 s) until the running backup has stored a file under
# DIR ("data": it is busy dumping; "schema": the schema is written).
wait_for_stored() { # DIR
    for _ in $(seq 1 200); do
        [ -n "$(find "$WORK/repo/backups" -path "*/$1/*" -name '*.zst' 2>/dev/null | sed -n 1p)" ] &&
            return 0
        sleep 0.05
    done
    return 1
}

test_mariadb_table_dropped_during_backup_fails_clearly() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE dd; CREATE TABLE dd.big (id INT PRIMARY KEY, pad VARCHAR(300));
        INSERT INTO dd.big SELECT seq, REPEAT('p', 280) FROM dd.seq_1_to_300000;
        CREATE TABLE dd.small (id INT PRIMARY KEY); INSERT INTO dd.small VALUES (1);
        ANALYZE TABLE dd.big" >/dev/null
    # one worker, big first: small is dumped last, after it is dropped
    "$CAIRN" backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --jobs 1 --chunk-size 512k \
        >"$WORK/out" 2>"$WORK/err" &
    local pid=$!
    wait_for_stored data || fail "the backup never started dumping"
    mdb "$MDB_A" -e "DROP TABLE dd.small"
    set +e; wait "$pid"; local rc=$?; set -e
    assert_eq 1 "$rc" "exit code"
    assert_contains "$(cat "$WORK/err")" "dd" "the database is named"
    assert_contains "$(cat "$WORK/err")" "small" "the table is named"
    assert_contains "$(cat "$WORK/err")" "hint:" "hint"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$(json_get "$OUT" length)" "no backup that silently lacks the table"
}

# The barrier has two steps: while the catalog and the schema are read only
# DDL is blocked (commits go on, and are in the backup); commits wait only
# from the instant until the workers have started their snapshots.  A
# sequence used meanwhile is restored past the values it handed out.
test_mariadb_commits_go_on_while_the_schema_is_read() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE two; CREATE TABLE two.t (id INT PRIMARY KEY);
        INSERT INTO two.t VALUES (1); CREATE SEQUENCE two.s NOCACHE; SELECT NEXTVAL(two.s)" >/dev/null
    # the schema phase is held open 3 s, after the schema file is written
    CAIRN_FAULT=instant-delay "$CAIRN" backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" \
        --json >"$WORK/out" 2>"$WORK/err" &
    local pid=$!
    wait_for_stored schema || fail "the schema was never written"
    set +e
    timeout 2 mariadb --no-defaults -h127.0.0.1 -P"$MDB_A" -ucairn -pcairn \
        -e "INSERT INTO two.t VALUES (2)"
    local insert_rc=$?
    local handed_out
    handed_out=$(mdb "$MDB_A" -e "SELECT NEXTVAL(two.s); SELECT NEXTVAL(two.s); SELECT NEXTVAL(two.s)" |
        tail -n 1)
    mdb "$MDB_A" -e "SET SESSION lock_wait_timeout = 1; CREATE TABLE two.late (id INT)" 2>/dev/null
    local ddl_rc=$?
    wait "$pid"
    local rc=$?
    set -e
    assert_eq 0 "$rc" "backup ($(cat "$WORK/err"))"
    assert_eq 0 "$insert_rc" "a commit before the instant does not wait"
    [ "$ddl_rc" -ne 0 ] || fail "DDL was not blocked while the schema was read"
    local out
    out=$(cat "$WORK/out")
    [ "$(json_get "$out" '.ddl_block_seconds > .barrier_seconds')" = true ] ||
        fail "the commit barrier was held while the schema was read: $out"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_eq "1 2" "$(mdb "$MDB_B" -e "SELECT id FROM two.t ORDER BY id" | tr '\n' ' ' | sed 's/ $//')" \
        "the commit made before the instant is in the backup"
    local next
    next=$(mdb "$MDB_B" -e "SELECT NEXTVAL(two.s)")
    [ "$next" -gt "$handed_out" ] ||
        fail "the restored sequence hands out $next again (the source gave $handed_out before the instant)"
}

# The leader's connection (which holds the barrier) lost before the instant:
# a clear error, no backup listed, and nothing left blocking DDL.
test_mariadb_leader_lost_before_the_instant_fails_clearly() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE lead; CREATE TABLE lead.t (id INT PRIMARY KEY);
        INSERT INTO lead.t VALUES (1)"
    CAIRN_FAULT=instant-delay "$CAIRN" backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" \
        >"$WORK/out" 2>"$WORK/err" &
    local pid=$! leader=""
    wait_for_stored schema || fail "the schema was never written"
    # the schema's connections are closed by now: the leader is cairn's only one
    leader=$(mdb "$MDB_A" -e "SELECT ID FROM information_schema.PROCESSLIST
                               WHERE USER = 'cairn' AND ID <> CONNECTION_ID()")
    [ -n "$leader" ] || fail "no leader connection"
    mdb "$MDB_A" -e "KILL $leader"
    set +e; wait "$pid"; local rc=$?; set -e
    assert_eq 1 "$rc" "exit code"
    assert_contains "$(cat "$WORK/err")" "Lost connection" "says what happened"
    assert_contains "$(cat "$WORK/err")" "hint:" "hint"
    assert_not_contains "$(cat "$WORK/err")" "warning" "no warning about the stage it lost"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$(json_get "$OUT" length)" "nothing listed"
    mdb "$MDB_A" -e "SET SESSION lock_wait_timeout = 2; CREATE TABLE lead.after (id INT)" ||
        fail "DDL is still blocked after the failed backup"
}

# A worker whose connection the server drops joins the snapshot again and
# tries the chunk again; that is sound only when its new snapshot is at the
# leader's position (here: nothing was written since), which it checks.
test_mariadb_connection_lost_mid_dump_is_retried() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE lost; CREATE TABLE lost.t (id INT PRIMARY KEY, pad VARCHAR(300));
        INSERT INTO lost.t SELECT seq, REPEAT('l', 280) FROM lost.seq_1_to_300000;
        ANALYZE TABLE lost.t" >/dev/null
    "$CAIRN" backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --jobs 1 --chunk-size 512k \
        >"$WORK/out" 2>"$WORK/err" &
    local pid=$!
    wait_for_stored data || fail "the backup never started dumping"
    # the server drops the worker's connection, as a restart or a network cut would
    mdb "$MDB_A" -e "SELECT ID FROM information_schema.PROCESSLIST WHERE USER = 'cairn'
                     AND ID <> CONNECTION_ID() AND COMMAND <> 'Binlog Dump'" |
        while read -r id; do mdb "$MDB_A" -e "KILL CONNECTION $id" 2>/dev/null || true; done
    set +e; wait "$pid"; local rc=$?; set -e
    assert_eq 0 "$rc" "exit code ($(cat "$WORK/err"))"
    assert_contains "$(cat "$WORK/err")" "trying again" "the retry is logged"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq "complete" "$(json_get "$OUT" '.[0].status')" "the backup is complete"
    run_cairn show --repo "$WORK/repo" "$(json_get "$OUT" '.[0].id')" --json
    assert_eq 300000 "$(json_get "$OUT" '[.units[].objects[].rows] | add')" "every row is in it"
}

test_mariadb_long_query_blocks_with_a_clear_error() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE lq; CREATE TABLE lq.t (id INT PRIMARY KEY)"
    mdb "$MDB_A" -e "SELECT SLEEP(20), 'the report nobody stopped'" >/dev/null 2>&1 &
    local sleeper=$!
    sleep 2.5
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --long-query-guard 2
    mdb "$MDB_A" -e "SELECT ID FROM information_schema.PROCESSLIST WHERE INFO LIKE 'SELECT SLEEP(20)%'" |
        while read -r id; do mdb "$MDB_A" -e "KILL $id" 2>/dev/null || true; done
    wait "$sleeper" 2>/dev/null || true
    assert_eq 1 "$RC" "exit code"
    assert_contains "$ERR" "a long query blocks the backup barrier" "message"
    assert_contains "$ERR" "the report nobody stopped" "the query is named"
    assert_contains "$ERR" "KILL QUERY" "hint"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "once it is gone, the backup runs ($ERR)"
}

# A worker whose snapshot is not at the leader's position retakes it; one
# that never gets there fails the backup with exit 4, leaving nothing.
test_mariadb_worker_snapshot_retaken_or_refused() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE rt; CREATE TABLE rt.t (id INT PRIMARY KEY); INSERT INTO rt.t VALUES (1), (2)"
    CAIRN_FAULT=mariadb-join-mismatch:2 run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "backup after retakes ($ERR)"
    assert_contains "$ERR" "retaking it" "retake reported"
    local pos id s
    pos=$(json_get "$OUT" .end_position) id=$(json_get "$OUT" .id)
    run_cairn show --repo "$WORK/repo" "$id" --json
    for s in $(echo "$OUT" | jq -r '.snapshot.workers[]') missing; do
        [ "$s" = missing ] || assert_eq "$pos" "$s" "worker snapshot position"
    done
    assert_eq 2 "$(echo "$OUT" | jq '.snapshot.workers | length')" "worker snapshots recorded"
    CAIRN_FAULT=mariadb-join-mismatch:100 run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo2"
    assert_eq 4 "$RC" "backup that cannot join the snapshot"
    assert_contains "$ERR" "after 5 attempts" "message"
    run_cairn list --repo "$WORK/repo2" --json
    assert_eq 0 "$(echo "$OUT" | jq length)" "no backup listed"
}

test_mariadb_backup_dry_run_takes_nothing() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE d1; CREATE DATABASE d2; CREATE TABLE d1.t (id INT PRIMARY KEY);
                     CREATE TABLE d2.t (id INT PRIMARY KEY); CREATE TABLE d2.u (id INT PRIMARY KEY)"
    local before
    before=$(mdb "$MDB_A" -e "SHOW MASTER STATUS")
    run_cairn backup --dry-run --source "$(muri "$MDB_A")" --json
    assert_eq 0 "$RC" "dry run ($ERR)"
    assert_eq "d1 d2" "$(echo "$OUT" | jq -r '[.units[].name] | join(" ")')" "one unit per database"
    assert_eq 3 "$(json_get "$OUT" .objects)" "objects"
    assert_eq "$before" "$(mdb "$MDB_A" -e "SHOW MASTER STATUS")" "no rotation, no barrier"
}
