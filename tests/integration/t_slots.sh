# Replication slots: kept for the chain, dropped when a new chain starts,
# never left behind by a failure; without the privilege, a clear fallback.

slots_of() { sql postgres "SELECT slot_name FROM pg_replication_slots WHERE database = '$1' ORDER BY 1"; }

test_new_full_backup_drops_previous_slot() {
    new_db sl
    sql sl "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"
    run_cairn backup --source "$(uri sl)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "first backup ($ERR)"
    local first
    first=$(json_get "$OUT" .slot)
    assert_eq slot "$(json_get "$OUT" .snapshot_mode)" "snapshot from a slot"
    assert_eq "$first" "$(slots_of sl)" "slot kept for increments"
    assert_eq "$(json_get "$OUT" .position)" \
        "$(sql postgres "SELECT confirmed_flush_lsn FROM pg_replication_slots WHERE slot_name = '$first'")" \
        "backup position is the slot's consistent point"
    run_cairn backup --source "$(uri sl)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "second backup ($ERR)"
    local second
    second=$(json_get "$OUT" .slot)
    [ "$first" != "$second" ] || fail "the second backup reused the slot"
    assert_eq "$second" "$(slots_of sl)" "only the new chain's slot remains"
}

test_without_replication_privilege_falls_back() {
    new_db fb "$FIXTURES/pg_fidelity.sql"
    sql postgres "DROP ROLE IF EXISTS reader; CREATE ROLE reader LOGIN PASSWORD 'readerpw';
                  GRANT pg_read_all_data TO reader"
    # row-level security would hide rows: refused, never a partial table
    run_cairn backup --source "postgresql://reader:readerpw@127.0.0.1:$PGPORT/fb" --repo "$WORK/repo"
    assert_eq 1 "$RC" "backup under row-level security"
    assert_contains "$ERR" "row-level security" "message"
    assert_contains "$ERR" "BYPASSRLS" "hint"
    sql postgres "ALTER ROLE reader BYPASSRLS"
    run_cairn backup --source "postgresql://reader:readerpw@127.0.0.1:$PGPORT/fb" --repo "$WORK/repo" --json --chunk-size 512k
    assert_eq 0 "$RC" "backup ($ERR)"
    assert_contains "$ERR" "cannot start a chain of increments" "warning printed"
    assert_eq exported "$(json_get "$OUT" .snapshot_mode)" "fallback mode recorded"
    assert_eq null "$(json_get "$OUT" .slot)" "no slot"
    assert_eq "" "$(slots_of fb)" "no slot created"
    run_cairn restore --repo "$WORK/repo" --target "$(uri fb_copy)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database fb fb_copy
    drop_db fb_copy
}

test_one_repository_one_source() {
    new_db one_a
    new_db one_b
    run_cairn backup --source "$(uri one_a)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "first ($ERR)"
    run_cairn backup --source "$(uri one_b)" --repo "$WORK/repo"
    assert_eq 1 "$RC" "another database into the same repository"
    assert_contains "$ERR" "holds backups of" "message"
    assert_eq "" "$(slots_of one_b)" "no slot left for the refused backup"
}

test_killed_backup_leaves_nothing_behind() {
    new_db killed
    sql killed "CREATE TABLE t AS SELECT i, repeat('k', 500) AS pad FROM generate_series(1, 400000) i"
    run_cairn backup --source "$(uri killed)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "first backup ($ERR)"
    local first_slot
    first_slot=$(json_get "$OUT" .slot)
    # a backup killed without a chance to clean up (power loss, OOM killer)
    "$CAIRN" backup --source "$(uri killed)" --repo "$WORK/repo" --jobs 1 --chunk-size 1M --quiet &
    local pid=$!
    for _ in $(seq 1 100); do
        [ -n "$(find "$WORK/repo/backups" -name '*.zst' -newer "$WORK/repo/cairn.json" -path '*data*' 2>/dev/null | head -n 1)" ] && \
            [ "$(slots_of killed | wc -l)" -ge 2 ] && break
        sleep 0.05
    done
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    assert_eq 2 "$(slots_of killed | wc -l)" "the killed run had created its slot"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 1 "$(json_get "$OUT" length)" "the killed backup does not exist for readers"
    # the next run removes what the killed one left, slot included
    run_cairn backup --source "$(uri killed)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "next backup ($ERR)"
    assert_contains "$ERR" "removed unfinished backup" "cleanup reported"
    assert_eq "$(json_get "$OUT" .slot)" "$(slots_of killed)" "only the newest chain's slot remains"
    assert_eq 2 "$(ls "$WORK/repo/backups" | wc -l)" "no unfinished directory left"
    [ "$first_slot" != "$(slots_of killed)" ] || fail "old slot kept"
}

test_interrupted_backup_cleans_up() {
    new_db intr
    sql intr "CREATE TABLE t AS SELECT i, repeat('i', 500) AS pad FROM generate_series(1, 400000) i"
    "$CAIRN" backup --source "$(uri intr)" --repo "$WORK/repo" --jobs 1 --chunk-size 1M 2>"$WORK/err" &
    local pid=$!
    for _ in $(seq 1 100); do
        [ -n "$(find "$WORK/repo/backups" -path '*data*' -name '*.zst' 2>/dev/null | head -n 1)" ] && break
        sleep 0.05
    done
    kill -TERM "$pid"
    set +e; wait "$pid"; local rc=$?; set -e
    assert_eq 1 "$rc" "exit code after SIGTERM"
    assert_contains "$(cat "$WORK/err")" "interrupted" "message"
    assert_eq "" "$(slots_of intr)" "no slot left"
    assert_eq "" "$(ls "$WORK/repo/backups" 2>/dev/null)" "no backup directory left"
}
