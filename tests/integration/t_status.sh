# cairn status: the RPO exposure, the last drill, and limits that a
# monitoring check holds them to (exit 7 when one is exceeded).

test_status_reports_rpo_and_trips_its_limits() {
    new_db st
    sql st "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a')"
    run_cairn status --repo "$WORK/repo" --max-rpo 1h
    assert_eq 1 "$RC" "no repository is an error"

    run_cairn backup --source "$(uri st)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "full backup ($ERR)"
    local id
    id=$(json_get "$OUT" .id)
    run_cairn status --repo "$WORK/repo" --json --max-rpo 1h
    assert_eq 0 "$RC" "within --max-rpo 1h ($ERR)"
    assert_eq "$id" "$(json_get "$OUT" .newest.id)" "newest backup"
    assert_eq 1 "$(json_get "$OUT" .chain_length)" "chain of one"
    assert_eq true "$(json_get "$OUT" '.rpo_seconds < 3600 and .rpo_seconds >= 0')" "rpo_seconds"
    assert_eq null "$(json_get "$OUT" .last_drill_at)" "no drill yet"
    assert_eq true "$(json_get "$OUT" .ok)" "ok"

    sleep 2
    run_cairn status --repo "$WORK/repo" --max-rpo 1s
    assert_eq 7 "$RC" "the RPO limit trips"
    assert_contains "$OUT" "more than --max-rpo" "and says which"
    run_cairn status --repo "$WORK/repo" --max-age-drill 1d --json
    assert_eq 7 "$RC" "no drill: the drill limit trips"
    assert_contains "$(json_get "$OUT" '.checks[0].message')" "no restore drill" "why"

    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/"
    assert_eq 0 "$RC" "drill ($ERR)"
    run_cairn status --repo "$WORK/repo" --max-age-drill 1d --max-rpo 1h --json \
        --prometheus "$WORK/cairn.prom"
    assert_eq 0 "$RC" "after a drill, within both limits ($ERR)"
    assert_eq true "$(json_get "$OUT" '.last_drill_rto_seconds >= 0')" "last_drill_rto_seconds"
    assert_eq true "$(json_get "$OUT" .last_drill_passed)" "last drill passed"
    assert_ne null "$(json_get "$OUT" .last_drill_at)" "last_drill_at"
    grep -q '^cairn_rpo_seconds{repo=".*"} [0-9]' "$WORK/cairn.prom" || fail "prometheus rpo"
    grep -q '^cairn_last_drill_rto_seconds{' "$WORK/cairn.prom" || fail "prometheus rto"
    grep -q '^cairn_status_ok{.*} 1$' "$WORK/cairn.prom" || fail "prometheus ok"
    [ ! -e "$WORK/cairn.prom.tmp" ] || fail "no temporary file left"
    sleep 2
    run_cairn status --repo "$WORK/repo" --max-age-drill 1s --prometheus "$WORK/cairn.prom"
    assert_eq 7 "$RC" "an old drill trips the drill limit"
    grep -q '^cairn_status_ok{.*} 0$' "$WORK/cairn.prom" || fail "prometheus shows the breach"

    # how far the source moved since the backup
    run_cairn status --repo "$WORK/repo" --source "$(uri st)" --json
    local before after
    before=$(json_get "$OUT" .source.behind_bytes)
    sql st "INSERT INTO t SELECT g, repeat('x', 200) FROM generate_series(2, 5000) g"
    run_cairn status --repo "$WORK/repo" --source "$(uri st)" --json
    after=$(json_get "$OUT" .source.behind_bytes)
    [ "$after" -gt "$((before + 500000))" ] || fail "behind_bytes grew: $before -> $after"
    assert_ne null "$(json_get "$OUT" .source.slot.retained_bytes)" "slot retained bytes"
    run_cairn backup --type incr --source "$(uri st)" --repo "$WORK/repo"
    run_cairn status --repo "$WORK/repo" --json
    assert_eq 2 "$(json_get "$OUT" .chain_length)" "the chain grew"

    run_cairn status --repo "$WORK/repo" --max-rpo soon
    assert_eq 2 "$RC" "a malformed duration"
    run_cairn status --repo "$WORK/repo" --prometheus /nonexistent/dir/x.prom
    assert_eq 1 "$RC" "an unwritable textfile"
    assert_contains "$ERR" "cannot write" "says so"
    drop_db st
}

test_status_of_a_mariadb_source() {
    mdb_reset "$MDB_A"
    mdb "$MDB_A" -e "CREATE DATABASE sm; CREATE TABLE sm.t (id INT PRIMARY KEY, v TEXT);
                     INSERT INTO sm.t VALUES (1, 'a')"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "backup ($ERR)"
    run_cairn status --repo "$WORK/repo" --source "$(muri "$MDB_A")" --json
    local before after
    before=$(json_get "$OUT" .source.behind_bytes)
    mdb "$MDB_A" -e "INSERT INTO sm.t SELECT seq, REPEAT('y', 500) FROM sm.seq_2_to_2000"
    run_cairn status --repo "$WORK/repo" --source "$(muri "$MDB_A")" --json
    after=$(json_get "$OUT" .source.behind_bytes)
    [ "$after" -gt "$((before + 500000))" ] || fail "behind_bytes grew: $before -> $after"
    assert_contains "$(json_get "$OUT" .source.position)" ":" "a binlog position"
    mdb_reset "$MDB_A"
}
