# MariaDB increments from the binlog, replayed by the restore planner.

mdb_incr_workload1() { # PORT
    mdb "$1" -e "START TRANSACTION;
        INSERT INTO inc.t VALUES (1000, 'new\ttab', x'000a0d5c', NULL);
        UPDATE inc.t SET v = 'changed' WHERE id = 1;
        UPDATE inc.t SET id = 200 WHERE id = 2;
        DELETE FROM inc.t WHERE id BETWEEN 10 AND 19;
        COMMIT;
        UPDATE inc.big SET note = CONCAT(note, 'x') WHERE id = 1;
        DELETE FROM inc.nokey WHERE x = 1 LIMIT 1;
        INSERT INTO inc.nokey VALUES (3, 'three');
        INSERT INTO inc.a VALUES (5, 'aria');"
}

test_mariadb_incr_chain_to_latest_position_and_time() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE inc;
        CREATE TABLE inc.t (id INT PRIMARY KEY, v VARCHAR(50), b VARBINARY(20), n DECIMAL(10,3));
        INSERT INTO inc.t SELECT seq, CONCAT('row ', seq), NULL, seq / 7 FROM inc.seq_1_to_100;
        CREATE TABLE inc.big (id INT PRIMARY KEY, note LONGTEXT, other INT);
        INSERT INTO inc.big VALUES (1, REPEAT('m', 3000000), 1);
        CREATE TABLE inc.nokey (x INT, y VARCHAR(20));
        INSERT INTO inc.nokey VALUES (1, 'dup'), (1, 'dup'), (2, 'two');
        CREATE TABLE inc.tr (id INT AUTO_INCREMENT PRIMARY KEY, v INT);
        INSERT INTO inc.tr (v) VALUES (1), (2), (3);
        CREATE TABLE inc.a (id INT PRIMARY KEY, v VARCHAR(10)) ENGINE = Aria;"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "full backup ($ERR)"
    mdb_incr_workload1 "$MDB_A"
    # a transaction open across the increment: committed after it, so in increment 2
    mdb "$MDB_A" -e "START TRANSACTION; INSERT INTO inc.t VALUES (5000, 'spanning', NULL, NULL); DO SLEEP(3); COMMIT" &
    local bg=$!
    sleep 1
    run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "increment 1 ($ERR)"
    local pos1 digest1
    pos1=$(json_get "$OUT" .end_position)
    digest1=$(mdb_digest "$MDB_A")
    assert_eq 5 "$(json_get "$OUT" .transactions)" "transactions in increment 1"
    wait "$bg"
    mdb "$MDB_A" -e "UPDATE inc.big SET other = 2 WHERE id = 1; TRUNCATE inc.tr; INSERT INTO inc.tr (v) VALUES (9)"
    sleep 1.2
    local mid digest_mid
    mid=$(mdb "$MDB_A" -e "SELECT DATE_FORMAT(UTC_TIMESTAMP(), '%Y-%m-%dT%H:%i:%sZ')")
    digest_mid=$(mdb_digest "$MDB_A")
    sleep 1.2
    mdb "$MDB_A" -e "ALTER TABLE inc.t ADD COLUMN added INT DEFAULT 7; UPDATE inc.t SET added = 8 WHERE id = 3"
    run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "increment 2 ($ERR)"
    assert_eq "$pos1" "$(json_get "$OUT" .start_position)" "increment 2 starts where 1 ended"

    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --json
    assert_eq 0 "$RC" "restore latest ($ERR)"
    assert_eq "$(mdb_digest "$MDB_A")" "$(mdb_digest "$MDB_B")" "latest: the second server equals the source"

    mdb_reset "$MDB_B"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --to-position "$pos1"
    assert_eq 0 "$RC" "restore to increment 1's end ($ERR)"
    assert_eq "$digest1" "$(mdb_digest "$MDB_B")" "content at increment 1's end"

    mdb_reset "$MDB_B"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --to-time "$mid"
    assert_eq 0 "$RC" "restore to a time ($ERR)"
    assert_eq "$digest_mid" "$(mdb_digest "$MDB_B")" "content at the time between two commits"
    mdb_reset "$MDB_B"
}

test_mariadb_incr_purged_binlog_is_a_gap() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE gap; CREATE TABLE gap.t (id INT PRIMARY KEY); INSERT INTO gap.t VALUES (1)"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "full ($ERR)"
    mdb "$MDB_A" -e "INSERT INTO gap.t VALUES (2); FLUSH BINARY LOGS"
    local current
    current=$(mdb "$MDB_A" -e "SHOW MASTER STATUS" | cut -f1)
    # a file can stay in use for a moment after the rotation (binlog checkpoint)
    for _ in $(seq 1 20); do
        mdb "$MDB_A" -e "PURGE BINARY LOGS TO '$current'"
        [ "$(mdb "$MDB_A" -e "SHOW BINARY LOGS" | head -n 1 | cut -f1)" = "$current" ] && break
        sleep 0.5
    done
    assert_eq "$current" "$(mdb "$MDB_A" -e "SHOW BINARY LOGS" | head -n 1 | cut -f1)" "older binlogs purged"
    run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 6 "$RC" "purged binlog"
    assert_contains "$ERR" "purged" "message names the cause"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 1 "$(echo "$OUT" | jq length)" "nothing stored"
}

test_mariadb_incr_needs_the_binlog() {
    mdb_reset "$MDB_C"
    mdb "$MDB_C" -e "CREATE DATABASE nb; CREATE TABLE nb.t (id INT PRIMARY KEY)"
    run_cairn backup --source "$(muri "$MDB_C")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "full ($ERR)"
    run_cairn backup --type incr --source "$(muri "$MDB_C")" --repo "$WORK/repo"
    assert_eq 6 "$RC" "no binlog"
    assert_contains "$ERR" "cannot start a chain" "message"
}

test_mariadb_restore_killed_midway_resumes() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE res; CREATE TABLE res.t (id INT PRIMARY KEY, v INT)"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    for i in $(seq 1 8); do mdb "$MDB_A" -e "INSERT INTO res.t VALUES ($i, $i); UPDATE res.t SET v = v + 1"; done
    run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "increment ($ERR)"
    CAIRN_FAULT=my-apply-kill@5 run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 137 "$RC" "restore killed while replaying"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --json
    assert_eq 0 "$RC" "resumed restore ($ERR)"
    assert_eq true "$(json_get "$OUT" .resumed)" "resumed"
    assert_eq "$(mdb_digest "$MDB_A")" "$(mdb_digest "$MDB_B")" "identical after the resume"
    mdb_reset "$MDB_B"
}

test_mariadb_incr_killed_midway_loses_and_repeats_nothing() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE kil; CREATE TABLE kil.t (id INT PRIMARY KEY, v VARCHAR(10))"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "full ($ERR)"
    mdb "$MDB_A" -e "INSERT INTO kil.t SELECT seq, 'a' FROM kil.seq_1_to_50; UPDATE kil.t SET v = 'b' WHERE id <= 10"
    CAIRN_FAULT=my-capture-kill run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 137 "$RC" "capture killed"
    mdb "$MDB_A" -e "DELETE FROM kil.t WHERE id > 40"
    run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "increment after the kill ($ERR)"
    assert_eq 3 "$(json_get "$OUT" .transactions)" "every transaction once"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 2 "$(echo "$OUT" | jq length)" "no leftover"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_eq "$(mdb_digest "$MDB_A")" "$(mdb_digest "$MDB_B")" "identical"
    mdb_reset "$MDB_B"
}

test_mariadb_incr_needs_full_row_images() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE img; CREATE TABLE img.t (id INT PRIMARY KEY, v INT)"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "full ($ERR)"
    mdb "$MDB_A" -e "SET GLOBAL binlog_row_image = 'MINIMAL'"
    run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    local rc=$RC err=$ERR
    mdb "$MDB_A" -e "SET GLOBAL binlog_row_image = 'FULL'"
    assert_eq 6 "$rc" "minimal row images refused"
    assert_contains "$err" "binlog_row_image=FULL" "the setting is named"
}
