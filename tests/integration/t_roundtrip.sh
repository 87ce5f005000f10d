# Backup and restore give back exactly what was backed up.

test_fidelity_round_trip() {
    new_db fid "$FIXTURES/pg_fidelity.sql"
    # a small chunk size forces the big table (and others) to be split
    run_cairn backup --source "$(uri fid)" --repo "$WORK/repo" --jobs 3 --chunk-size 256k --json
    assert_eq 0 "$RC" "backup exit code ($ERR)"
    assert_eq full "$(json_get "$OUT" .type)" "backup type"
    local chunks tables
    chunks=$(json_get "$OUT" .chunks) tables=$(json_get "$OUT" .tables)
    [ "$chunks" -gt "$tables" ] || fail "no table was split into chunks ($chunks chunks, $tables tables)"
    # the big table was split and its chunks cover it
    local big
    big=$(jq '[.units[0].objects[] | select(.name == "big") | .chunks[]] | length' \
        "$WORK"/repo/backups/*/manifest.json)
    [ "$big" -gt 2 ] || fail "big table has $big chunks"
    run_cairn restore --repo "$WORK/repo" --target "$(uri fid_copy)" --jobs 3
    assert_eq 0 "$RC" "restore exit code ($ERR)"
    assert_same_database fid fid_copy
    drop_db fid_copy
}

test_uncompressed_single_job_round_trip() {
    new_db plain "$FIXTURES/pg_fidelity.sql"
    run_cairn backup --source "$(uri plain)" --repo "$WORK/repo" --jobs 1 --compress none
    assert_eq 0 "$RC" "backup ($ERR)"
    local f
    f=$(find "$WORK/repo/backups" -name '*.zst' | sed -n 1p)
    assert_eq "" "$f" "no compressed files with --compress none"
    # payload files are named by number, never by identifier
    assert_eq "" "$(find "$WORK/repo" -name '*big*' -o -name '*Foo*')" "file names free of identifiers"
    run_cairn restore --repo "$WORK/repo" --target "$(uri plain_copy)" --jobs 1
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database plain plain_copy
    drop_db plain_copy
}

test_list_show_verify_json() {
    new_db lsv
    sql lsv "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT i, 'v' || i FROM generate_series(1, 1000) i"
    run_cairn backup --source "$(uri lsv)" --repo "$WORK/repo" --tag first --json
    assert_eq 0 "$RC" "backup ($ERR)"
    local id pos
    id=$(json_get "$OUT" .id) pos=$(json_get "$OUT" .position)
    for k in raw_bytes stored_bytes duration_seconds phases.snapshot phases.parallel phases.sequential; do
        [ "$(json_get "$OUT" ".$k")" != null ] || fail "backup --json lacks $k"
    done
    [[ "$pos" =~ ^[0-9A-F]+/[0-9A-F]+$ ]] || fail "position [$pos] is not an LSN"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "list"
    assert_eq 1 "$(json_get "$OUT" length)" "one backup listed"
    for k in id type parent status start_position end_position started_at finished_at raw_bytes stored_bytes units; do
        assert_eq true "$(json_get "$OUT" ".[0] | has(\"$k\")")" "list --json has $k"
    done
    assert_eq "$id" "$(json_get "$OUT" '.[0].id')" "list id"
    assert_eq complete "$(json_get "$OUT" '.[0].status')" "list status"
    assert_eq null "$(json_get "$OUT" '.[0].parent')" "a full backup has no parent"
    assert_eq "$pos" "$(json_get "$OUT" '.[0].end_position')" "list end position"
    run_cairn list --repo "$WORK/repo"
    assert_contains "$OUT" "$id" "list text"
    run_cairn show --repo "$WORK/repo" "$id" --json
    assert_eq 0 "$RC" "show"
    assert_eq 1000 "$(json_get "$OUT" '.units[0].objects[] | select(.name=="t") | .rows')" "rows recorded"
    run_cairn show --repo "$WORK/repo" first
    assert_contains "$OUT" "public.t" "show by tag"
    run_cairn verify --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "verify ($ERR)"
    assert_eq true "$(json_get "$OUT" .ok)" "verify ok"
}

test_dry_run_and_plan_touch_nothing() {
    new_db dry
    sql dry "CREATE TABLE t (id int); INSERT INTO t VALUES (1)"
    run_cairn backup --source "$(uri dry)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "backup ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(uri dry_never)" --dry-run --json
    assert_eq 0 "$RC" "dry run ($ERR)"
    assert_eq verify "$(json_get "$OUT" '.steps[0].step')" "first step verifies"
    assert_eq data "$(json_get "$OUT" '.steps[3].step')" "data step"
    run_cairn plan --repo "$WORK/repo" --target "$(uri dry_never)"
    assert_eq 0 "$RC" "plan ($ERR)"
    assert_contains "$OUT" "verify the checksums" "plan text"
    assert_eq 0 "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname = 'dry_never'")" \
        "target not created"
}

test_restore_by_tag_and_id() {
    new_db tagged
    sql tagged "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"
    run_cairn backup --source "$(uri tagged)" --repo "$WORK/repo" --tag v1 --json
    local first
    first=$(json_get "$OUT" .id)
    sql tagged "INSERT INTO t VALUES (2)"
    run_cairn backup --source "$(uri tagged)" --repo "$WORK/repo" --tag v2
    assert_eq 0 "$RC" "second backup ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tagged_v1)" --backup v1
    assert_eq 0 "$RC" "restore by tag ($ERR)"
    assert_eq 1 "$(sql tagged_v1 'SELECT count(*) FROM t')" "v1 content"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tagged_latest)"
    assert_eq 2 "$(sql tagged_latest 'SELECT count(*) FROM t')" "latest content"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tagged_id)" --backup "$first"
    assert_eq 1 "$(sql tagged_id 'SELECT count(*) FROM t')" "restore by id"
    drop_db tagged_v1; drop_db tagged_latest; drop_db tagged_id
}

test_nonempty_target_is_refused() {
    new_db ne_src
    sql ne_src "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"
    new_db ne_dst
    sql ne_dst "CREATE TABLE precious (v int); INSERT INTO precious VALUES (7)"
    run_cairn backup --source "$(uri ne_src)" --repo "$WORK/repo"
    run_cairn restore --repo "$WORK/repo" --target "$(uri ne_dst)"
    assert_eq 1 "$RC" "exit code"
    assert_contains "$ERR" "not empty" "message"
    assert_contains "$ERR" "hint:" "hint"
    assert_eq 7 "$(sql ne_dst 'SELECT v FROM precious')" "target untouched"
    assert_eq 0 "$(sql ne_dst "SELECT count(*) FROM pg_class WHERE relname = 't'")" "nothing restored"
}

test_clean_replaces_a_nonempty_target() {
    new_db cl_src
    sql cl_src "CREATE TABLE t (v int); INSERT INTO t VALUES (1), (2)"
    new_db cl_dst
    sql cl_dst "CREATE TABLE stale (v int); INSERT INTO stale VALUES (7)"
    run_cairn backup --source "$(uri cl_src)" --repo "$WORK/repo"
    run_cairn restore --repo "$WORK/repo" --target "$(uri cl_dst)" --clean
    assert_eq 0 "$RC" "restore --clean ($ERR)"
    assert_eq 2 "$(sql cl_dst 'SELECT count(*) FROM t')" "restored content"
    assert_eq 0 "$(sql cl_dst "SELECT count(*) FROM pg_class WHERE relname = 'stale'")" "old content gone"
    assert_same_database cl_src cl_dst
    # refused while someone is connected, and nothing is changed
    psql -X -q -d cl_dst -c "SELECT pg_sleep(20)" >/dev/null 2>&1 &
    local sleeper=$!
    sleep 0.5
    run_cairn restore --repo "$WORK/repo" --target "$(uri cl_dst)" --clean
    kill "$sleeper" 2>/dev/null; wait "$sleeper" 2>/dev/null || true
    assert_eq 1 "$RC" "exit code while in use"
    assert_contains "$ERR" "other sessions" "hint"
    assert_eq 2 "$(sql cl_dst 'SELECT count(*) FROM t')" "target unchanged"
}

test_backup_dry_run_plans_and_takes_nothing() {
    new_db dry
    sql dry "CREATE TABLE t (id int PRIMARY KEY, v text);
             INSERT INTO t SELECT i, repeat('x', 200) FROM generate_series(1, 50000) i;
             CREATE TABLE u (id int PRIMARY KEY)"
    local slots
    slots=$(sql dry "SELECT count(*) FROM pg_replication_slots")
    run_cairn backup --dry-run --source "$(uri dry)" --chunk-size 1M --json
    assert_eq 0 "$RC" "dry run without a repository ($ERR)"
    assert_eq dry "$(json_get "$OUT" '.units[0].name')" "the unit"
    assert_eq 2 "$(json_get "$OUT" .objects)" "objects"
    [ "$(json_get "$OUT" .chunks)" -gt 2 ] || fail "the big table is planned in chunks"
    assert_contains "$(json_get "$OUT" .estimate_basis)" "default rate" "estimate from the default"
    assert_eq "$slots" "$(sql dry "SELECT count(*) FROM pg_replication_slots")" "no slot created"
    run_cairn backup --source "$(uri dry)" --repo "$WORK/repo" --json
    local id
    id=$(json_get "$OUT" .id)
    run_cairn backup --dry-run --source "$(uri dry)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "dry run with a repository ($ERR)"
    assert_contains "$OUT" "the rate of backup $id" "estimate from the last backup"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 1 "$(echo "$OUT" | jq length)" "the dry run stored nothing"
    run_cairn backup --dry-run --type incr --source "$(uri dry)" --repo "$WORK/repo"
    assert_eq 2 "$RC" "dry run of an increment"
}

test_max_rate_caps_the_reads() {
    new_db capped
    # about 6 MB of raw rows
    sql capped "CREATE TABLE t (id int PRIMARY KEY, v text);
                INSERT INTO t SELECT i, repeat(md5(i::text), 3) FROM generate_series(1, 60000) i"
    local start end
    start=$(date +%s.%N)
    run_cairn backup --source "$(uri capped)" --repo "$WORK/repo" --max-rate 2M --jobs 2 --json
    end=$(date +%s.%N)
    assert_eq 0 "$RC" "capped backup ($ERR)"
    local raw
    raw=$(json_get "$OUT" .raw_bytes)
    # the cap is a floor on the time: raw bytes / 2 MiB/s, less one write's head start
    awk -v s="$start" -v e="$end" -v raw="$raw" 'BEGIN { exit !(e - s >= raw / 2097152 - 0.5) }' ||
        fail "a backup of $raw bytes at 2M/s took less than $(awk -v r="$raw" 'BEGIN{print r/2097152}') s"
    assert_eq 2097152 "$(jq .max_rate "$WORK"/repo/backups/*/manifest.json)" "the cap is recorded"
    run_cairn restore --repo "$WORK/repo" --target "$(uri capped_copy)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database capped capped_copy
    drop_db capped_copy
    run_cairn backup --source "$(uri capped)" --repo "$WORK/repo" --max-rate 10
    assert_eq 2 "$RC" "a rate below 1k is refused"
}
