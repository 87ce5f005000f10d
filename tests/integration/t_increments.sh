# PostgreSQL increments and the restore planner: chains replayed in order,
# to the newest backup, a position or a time; gaps refused; crashes of
# both sides lose and repeat nothing.

# Tables only (sequence lines have three fields): a restore to a point
# inside an increment sets sequences to that increment's end values.
table_digest() { content_digest "$1" | awk 'NF == 2'; }

incr_schema() { # DB
    sql "$1" "CREATE TABLE pk (id int PRIMARY KEY, a text, b bytea, big text, n numeric,
                               f float8, arr numeric[], j jsonb, ts timestamptz);
              CREATE TABLE full_t (id int, a text, j json, p point);
              ALTER TABLE full_t REPLICA IDENTITY FULL;
              CREATE TABLE \"Odd Name\" (\"Key\" bigint PRIMARY KEY, \"v;al\" text,
                                         g int GENERATED ALWAYS AS (\"Key\" * 2) STORED);
              CREATE TABLE tr (id serial PRIMARY KEY, v text);
              CREATE TABLE parent (id int PRIMARY KEY);
              CREATE TABLE child (id int PRIMARY KEY, p int REFERENCES parent);
              INSERT INTO pk SELECT i, 'row ' || i, '\\x00ff', NULL, i / 7.0, i * 1.5, '{1.50,NaN}',
                                    '{\"k\": 1}', '2026-01-01 00:00:00+00'
                             FROM generate_series(1, 200) i;
              UPDATE pk SET big = repeat(md5('toast'), 100000) WHERE id = 1;
              INSERT INTO full_t VALUES (1, 'dup', '{\"a\": 1}', '(1,2)'), (1, 'dup', '{\"a\": 1}', '(1,2)'),
                                        (2, NULL, NULL, NULL);
              INSERT INTO \"Odd Name\" VALUES (1, 'x'), (2, 'y');
              INSERT INTO tr (v) SELECT 'v' || i FROM generate_series(1, 10) i;
              INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (1, 1)"
}

incr_workload1() { # DB
    sql "$1" "BEGIN;
              INSERT INTO pk VALUES (1000, E'multi\\nline ''quoted''\\ttab \\\\ back', '\\x0a0d5c00', NULL,
                                     -12.3400, '-Infinity', '{}', '[1, \"two\"]', '2026-06-01 12:00:00.123456+02');
              UPDATE pk SET a = 'first updated' WHERE id = 1;
              UPDATE pk SET id = 2000 WHERE id = 2;
              DELETE FROM pk WHERE id BETWEEN 10 AND 19;
              COMMIT"
    sql "$1" "DELETE FROM full_t WHERE ctid = (SELECT min(ctid) FROM full_t WHERE id = 1)"
    sql "$1" "UPDATE full_t SET a = 'was null', p = '(3,4)' WHERE id = 2"
    sql "$1" "UPDATE \"Odd Name\" SET \"v;al\" = 'changed;' WHERE \"Key\" = 1"
    sql "$1" "INSERT INTO tr (v) VALUES ('after full')"
    sql "$1" "INSERT INTO parent VALUES (3); INSERT INTO child VALUES (2, 3)"
}

incr_workload2() { # DB
    sql "$1" "UPDATE pk SET big = big || 'changed' WHERE id = 1"
    sql "$1" "UPDATE pk SET a = 'toast left alone' WHERE id = 1"
    sql "$1" "TRUNCATE tr RESTART IDENTITY"
    sql "$1" "INSERT INTO tr (v) VALUES ('after truncate')"
    sql "$1" "INSERT INTO full_t VALUES (5, 'five', '[]', '(0,0)')"
    sql "$1" "DELETE FROM child WHERE id = 1; DELETE FROM parent WHERE id = 1"
}

test_incr_chain_restores_to_latest_position_and_time() {
    new_db inc
    incr_schema inc
    run_cairn backup --source "$(uri inc)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "full backup ($ERR)"
    incr_workload1 inc
    # a transaction that spans the increment boundary: begun before, committed after
    psql -X -q -d inc -c "BEGIN; INSERT INTO pk VALUES (5000, 'spanning'); SELECT pg_sleep(3); COMMIT" >/dev/null &
    local bg=$!
    sleep 1
    run_cairn backup --type incr --source "$(uri inc)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "increment 1 ($ERR)"
    local inc1 pos1 digest1
    inc1=$(json_get "$OUT" .id) pos1=$(json_get "$OUT" .end_position)
    digest1=$(table_digest inc)
    assert_eq incr "$(json_get "$OUT" .type)" "type"
    assert_eq 6 "$(json_get "$OUT" .transactions)" "transactions in increment 1"
    wait "$bg"
    incr_workload2 inc
    local mid digest_mid
    mid=$(sql inc "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
    digest_mid=$(table_digest inc)
    sleep 0.3
    sql inc "UPDATE pk SET a = 'after the time target' WHERE id = 3"
    run_cairn backup --type incr --source "$(uri inc)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "increment 2 ($ERR)"
    assert_eq "$pos1" "$(json_get "$OUT" .start_position)" "increment 2 starts where 1 ended"
    assert_eq "$inc1" "$(json_get "$OUT" .parent)" "parent"

    run_cairn plan --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "plan ($ERR)"
    assert_eq 2 "$(echo "$OUT" | jq '[.steps[] | select(.step == "increment")] | length')" "increments planned"

    run_cairn restore --repo "$WORK/repo" --target "$(uri inc_latest)" --json
    assert_eq 0 "$RC" "restore latest ($ERR)"
    assert_same_database inc inc_latest
    assert_eq 0 "$(sql inc_latest "SELECT count(*) FROM pg_namespace WHERE nspname = '_cairn_restore'")" "progress removed"

    run_cairn restore --repo "$WORK/repo" --target "$(uri inc_pos1)" --to-position "$pos1"
    assert_eq 0 "$RC" "restore to increment 1's end ($ERR)"
    assert_eq "$digest1" "$(table_digest inc_pos1)" "content at increment 1's end"
    assert_eq 0 "$(sql inc_pos1 "SELECT count(*) FROM pk WHERE id = 5000")" "spanning transaction not yet there"

    run_cairn restore --repo "$WORK/repo" --target "$(uri inc_mid)" --to-time "$mid" --json
    assert_eq 0 "$RC" "restore to a time ($ERR)"
    assert_eq "$digest_mid" "$(table_digest inc_mid)" "content at the time between two commits"
    assert_eq 1 "$(sql inc_mid "SELECT count(*) FROM pk WHERE id = 5000")" "spanning transaction in increment 2"

    run_cairn restore --repo "$WORK/repo" --target "$(uri inc_far)" --to-time "2099-01-01T00:00:00Z"
    assert_eq 6 "$RC" "a time past the chain"
    assert_contains "$ERR" "past the newest backup" "message"
    assert_eq 0 "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname = 'inc_far'")" "target untouched"
    drop_db inc_latest
    drop_db inc_pos1
    drop_db inc_mid
}

test_incr_missing_link_is_refused_before_touching_anything() {
    new_db gap
    sql gap "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')"
    run_cairn backup --source "$(uri gap)" --repo "$WORK/repo" --json
    local full_end
    full_end=$(json_get "$OUT" .end_position)
    sql gap "INSERT INTO t VALUES (2, 'b')"
    run_cairn backup --type incr --source "$(uri gap)" --repo "$WORK/repo" --json
    local inc1
    inc1=$(json_get "$OUT" .id)
    sql gap "INSERT INTO t VALUES (3, 'c')"
    run_cairn backup --type incr --source "$(uri gap)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "increment 2 ($ERR)"
    chmod -R u+w "$WORK/repo/backups/$inc1"
    rm -rf "${WORK:?}/repo/backups/$inc1"
    run_cairn plan --repo "$WORK/repo"
    assert_eq 6 "$RC" "plan with a gap"
    assert_contains "$ERR" "$inc1" "the missing increment is named"
    assert_contains "$ERR" "$full_end" "the missing range starts at the full backup's end"
    run_cairn restore --repo "$WORK/repo" --target "$(uri gap_copy)"
    assert_eq 6 "$RC" "restore with a gap"
    assert_eq 0 "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname = 'gap_copy'")" "target untouched"
    # the full backup alone is still restorable
    run_cairn restore --repo "$WORK/repo" --target "$(uri gap_copy)" --to-position "$full_end"
    assert_eq 0 "$RC" "restore to the full backup's position ($ERR)"
    assert_eq 1 "$(sql gap_copy "SELECT count(*) FROM t")" "full backup content"
    drop_db gap_copy
}

test_incr_killed_midway_loses_and_repeats_nothing() {
    new_db kil
    sql kil "CREATE TABLE t (id int PRIMARY KEY, v text)"
    run_cairn backup --source "$(uri kil)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "full ($ERR)"
    sql kil "INSERT INTO t SELECT i, 'a' FROM generate_series(1, 50) i"
    sql kil "UPDATE t SET v = 'b' WHERE id <= 10"
    # killed while reading the log: nothing stored, nothing consumed
    CAIRN_FAULT=pg-capture-kill@2 run_cairn backup --type incr --source "$(uri kil)" --repo "$WORK/repo"
    assert_eq 137 "$RC" "capture killed"
    # killed after the manifest, before the slot moved
    CAIRN_FAULT=incr-kill-before-confirm run_cairn backup --type incr --source "$(uri kil)" --repo "$WORK/repo" --json
    assert_eq 137 "$RC" "killed before confirming"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 2 "$(echo "$OUT" | jq length)" "the increment exists"
    sql kil "DELETE FROM t WHERE id > 40"
    run_cairn backup --type incr --source "$(uri kil)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "increment after the crashes ($ERR)"
    assert_contains "$ERR" "advancing it" "the lost advance is redone"
    assert_eq 1 "$(json_get "$OUT" .transactions)" "only the new transaction"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 3 "$(echo "$OUT" | jq length)" "full and two increments, no leftovers"
    assert_eq "" "$(find "$WORK/repo/backups" -mindepth 1 -maxdepth 1 -type d '!' -exec test -e '{}/manifest.json' ';' -print)" "no unfinished directory"
    run_cairn restore --repo "$WORK/repo" --target "$(uri kil_copy)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database kil kil_copy
    drop_db kil_copy
}

test_restore_killed_midway_resumes() {
    new_db res
    sql res "CREATE TABLE t (id int PRIMARY KEY, v int)"
    run_cairn backup --source "$(uri res)" --repo "$WORK/repo"
    for i in $(seq 1 8); do sql res "INSERT INTO t VALUES ($i, $i); UPDATE t SET v = v + 1"; done
    run_cairn backup --type incr --source "$(uri res)" --repo "$WORK/repo"
    for i in $(seq 9 12); do sql res "INSERT INTO t VALUES ($i, $i); UPDATE t SET v = v * 2"; done
    run_cairn backup --type incr --source "$(uri res)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "increments ($ERR)"
    # killed while replaying (after 5 transactions), then run again
    CAIRN_FAULT=pg-apply-kill@5 run_cairn restore --repo "$WORK/repo" --target "$(uri res_copy)"
    assert_eq 137 "$RC" "restore killed while replaying"
    run_cairn restore --repo "$WORK/repo" --target "$(uri res_copy)" --json
    assert_eq 0 "$RC" "resumed restore ($ERR)"
    assert_eq true "$(json_get "$OUT" .resumed)" "resumed"
    assert_contains "$ERR" "resuming after" "says where it resumes"
    assert_same_database res res_copy
    # killed while loading the full backup: loaded again from the start
    drop_db res_copy
    CAIRN_FAULT=restore-kill-after-schema run_cairn restore --repo "$WORK/repo" --target "$(uri res_copy)"
    assert_eq 137 "$RC" "restore killed while loading"
    run_cairn restore --repo "$WORK/repo" --target "$(uri res_copy)"
    assert_eq 0 "$RC" "restore after the kill ($ERR)"
    assert_contains "$ERR" "loading it again" "starts the full backup over"
    assert_same_database res res_copy
    drop_db res_copy
}

test_incr_errors_name_the_fix() {
    new_db ierr
    sql ierr "CREATE TABLE t (id int PRIMARY KEY); CREATE TABLE nokey (x int, y text); INSERT INTO nokey VALUES (1, 'a')"
    run_cairn backup --type incr --source "$(uri ierr)" --repo "$WORK/empty"
    assert_eq 6 "$RC" "no parent"
    assert_contains "$ERR" "--full-if-needed" "hint"
    run_cairn backup --type incr --full-if-needed --source "$(uri ierr)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "full instead ($ERR)"
    assert_eq full "$(json_get "$OUT" .type)" "a full backup was taken"
    assert_contains "$ERR" "taking a full backup instead" "says which happened"
    assert_contains "$ERR" "REPLICA IDENTITY FULL" "keyless table warned at full backup time"
    # a keyless table's UPDATE is refused, not dropped
    sql ierr "UPDATE nokey SET y = 'b'"
    run_cairn backup --type incr --source "$(uri ierr)" --repo "$WORK/repo"
    assert_eq 1 "$RC" "keyless update"
    assert_contains "$ERR" "REPLICA IDENTITY FULL" "the fix is named"
    # a schema change without DDL capture
    new_db ierr2
    sql ierr2 "CREATE TABLE t (id int PRIMARY KEY)"
    run_cairn backup --source "$(uri ierr2)" --repo "$WORK/repo2"
    sql ierr2 "ALTER TABLE t ADD COLUMN v text"
    run_cairn backup --type incr --source "$(uri ierr2)" --repo "$WORK/repo2"
    assert_eq 6 "$RC" "schema change"
    assert_contains "$ERR" "new full backup" "message"
    # the slot gone
    local slot
    slot=$(jq -r .snapshot.slot "$WORK"/repo2/backups/*/manifest.json)
    sql ierr2 "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    run_cairn backup --type incr --source "$(uri ierr2)" --repo "$WORK/repo2"
    assert_eq 6 "$RC" "slot gone"
    assert_contains "$ERR" "no longer exists" "message"
    run_cairn restore --repo "$WORK/repo2" --target "$(uri ierr_x)" --to-time "yesterday"
    assert_eq 2 "$RC" "bad time"
    drop_db ierr2
}

test_incr_replays_captured_ddl() {
    new_db ddl
    psql -X -q -d ddl -f "$ROOT/scripts/pg-ddl-capture.sql" >/dev/null
    sql ddl "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')"
    run_cairn backup --source "$(uri ddl)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "full ($ERR)"
    sql ddl "ALTER TABLE t ADD COLUMN w int DEFAULT 7"
    sql ddl "INSERT INTO t VALUES (2, 'b', 8)"
    sql ddl "CREATE TABLE later (id int PRIMARY KEY, note text)"
    sql ddl "INSERT INTO later VALUES (1, 'made after the full backup')"
    run_cairn backup --type incr --source "$(uri ddl)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "increment with DDL ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(uri ddl_copy)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database ddl ddl_copy
    drop_db ddl_copy
}

test_expire_removes_whole_chains_oldest_first() {
    new_db exp
    sql exp "CREATE TABLE t (id int PRIMARY KEY)"
    local ids=() i
    for i in 1 2 3; do
        sql exp "INSERT INTO t VALUES ($i)"
        run_cairn backup --source "$(uri exp)" --repo "$WORK/repo" --json
        ids+=("$(json_get "$OUT" .id)")
        sql exp "INSERT INTO t VALUES ($i + 100)"
        run_cairn backup --type incr --source "$(uri exp)" --repo "$WORK/repo" --json
        assert_eq 0 "$RC" "increment $i ($ERR)"
        ids+=("$(json_get "$OUT" .id)")
    done
    # only the newest chain's slot is left on the server
    assert_eq 1 "$(sql exp "SELECT count(*) FROM pg_replication_slots WHERE database = 'exp'")" "one slot"
    run_cairn expire --repo "$WORK/repo" --keep-full 2
    assert_eq 0 "$RC" "dry run ($ERR)"
    assert_contains "$OUT" "would remove ${ids[0]}" "the oldest full is named"
    assert_contains "$OUT" "would remove ${ids[1]}" "with its increment"
    assert_contains "$OUT" "pass --yes" "says it is a dry run"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 6 "$(echo "$OUT" | jq length)" "a dry run removes nothing"
    run_cairn expire --repo "$WORK/repo" --keep-full 2 --yes --json
    assert_eq 0 "$RC" "expire ($ERR)"
    assert_eq "[\"${ids[1]}\",\"${ids[0]}\"]" "$(echo "$OUT" | jq -c .removed)" "the increment goes before its full backup"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq "${ids[2]} ${ids[3]} ${ids[4]} ${ids[5]}" "$(echo "$OUT" | jq -r '[.[].id] | join(" ")')" "two chains kept"
    run_cairn restore --repo "$WORK/repo" --target "$(uri exp_copy)"
    assert_eq 0 "$RC" "restore after expire ($ERR)"
    assert_same_database exp exp_copy
    run_cairn expire --repo "$WORK/repo" --keep-full 0
    assert_eq 2 "$RC" "keep-full 0 refused"
    drop_db exp_copy
}

test_list_checks_the_chain_slot() {
    new_db lslot
    sql lslot "CREATE TABLE t (id int PRIMARY KEY)"
    run_cairn backup --source "$(uri lslot)" --repo "$WORK/repo" --json
    local slot
    slot=$(json_get "$OUT" .slot)
    run_cairn list --repo "$WORK/repo" --source "$(uri lslot)" --json
    assert_eq 0 "$RC" "list ($ERR)"
    assert_eq "$slot" "$(json_get "$OUT" .slot.name)" "slot named"
    assert_eq reserved "$(json_get "$OUT" .slot.status)" "slot status"
    [ "$(json_get "$OUT" .slot.retained_bytes)" -ge 0 ] || fail "retained bytes"
    sql lslot "SELECT pg_drop_replication_slot('$slot')" >/dev/null
    run_cairn list --repo "$WORK/repo" --source "$(uri lslot)"
    assert_eq 0 "$RC" "list ($ERR)"
    assert_contains "$ERR" "is missing" "a missing slot is reported"
}

test_incr_slot_consumed_elsewhere_is_a_gap() {
    new_db ahead
    sql ahead "CREATE TABLE t (id int PRIMARY KEY)"
    run_cairn backup --source "$(uri ahead)" --repo "$WORK/repo" --json
    local slot end
    slot=$(json_get "$OUT" .slot) end=$(json_get "$OUT" .end_position)
    sql ahead "SET synchronous_commit = on; INSERT INTO t VALUES (1)"
    # another reader consumes the slot: the change is in no backup
    sql ahead "SELECT count(*) FROM pg_logical_slot_get_changes('$slot', NULL, NULL)" >/dev/null
    local moved
    moved=$(sql ahead "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$slot'")
    run_cairn backup --type incr --source "$(uri ahead)" --repo "$WORK/repo"
    assert_eq 6 "$RC" "a slot ahead of the chain"
    assert_contains "$ERR" "$moved" "the slot's position is named"
    assert_contains "$ERR" "$end" "the chain's end is named"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 1 "$(echo "$OUT" | jq length)" "nothing stored"
}

test_incr_fork_is_refused() {
    new_db fork
    sql fork "CREATE TABLE t (id int PRIMARY KEY)"
    run_cairn backup --source "$(uri fork)" --repo "$WORK/repo"
    sql fork "INSERT INTO t VALUES (1)"
    run_cairn backup --type incr --source "$(uri fork)" --repo "$WORK/repo" --json
    local inc pos twin
    inc=$(json_get "$OUT" .id) pos=$(json_get "$OUT" .end_position)
    # a second increment naming the same parent: two histories
    twin="$(date -u -d '+1 hour' +%Y%m%d-%H%M%S)I"
    cp -r "$WORK/repo/backups/$inc" "$WORK/repo/backups/$twin"
    chmod -R u+w "$WORK/repo/backups/$twin"
    jq --arg id "$twin" '.id = $id' "$WORK/repo/backups/$inc/manifest.json" > "$WORK/repo/backups/$twin/manifest.json"
    run_cairn plan --repo "$WORK/repo" --to-position "$pos"
    assert_eq 6 "$RC" "a forked chain"
    assert_contains "$ERR" "forks" "message"
}
