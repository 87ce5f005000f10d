# --mode sequential|parallel|hybrid, and hybrid's adaptive concurrency.

modes_db() { # a database whose backup lasts a few seconds under --max-rate
    new_db md_src
    sql md_src "CREATE TABLE t (id int PRIMARY KEY, pad text);
                INSERT INTO t SELECT g, repeat(md5(g::text), 6) FROM generate_series(1, 200000) g;
                CREATE SCHEMA tenant_a; CREATE TABLE tenant_a.x AS SELECT g AS id FROM generate_series(1, 1000) g;
                CREATE SCHEMA tenant_b; CREATE TABLE tenant_b.x AS SELECT g AS id FROM generate_series(1, 1000) g;
                ANALYZE"
}

test_backup_modes_sequential_and_parallel() {
    modes_db
    run_cairn backup --source "$(uri md_src)" --repo "$WORK/repo" --mode sequential --jobs 4 \
        --tenant-pattern 'tenant_*' --chunk-size 1M --json
    assert_eq 0 "$RC" "sequential ($ERR)"
    assert_eq sequential "$(json_get "$OUT" .concurrency.mode)" "mode recorded"
    assert_eq 1 "$(json_get "$OUT" .concurrency.max_workers)" "one worker"
    run_cairn show --repo "$WORK/repo" "$(json_get "$OUT" .id)" --json
    assert_eq 1 "$(json_get "$OUT" '.snapshot.workers | length')" "one worker's snapshot"
    drop_db md_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri md_dst)"
    assert_eq 0 "$RC" "restore of a sequential backup ($ERR)"
    assert_same_database md_src md_dst
    run_cairn backup --source "$(uri md_src)" --repo "$WORK/repo" --mode parallel --jobs 3 --json
    assert_eq 0 "$RC" "parallel ($ERR)"
    assert_eq "parallel 0 3 3" "$(json_get "$OUT" '[.concurrency.mode, .concurrency.changes, .concurrency.min_workers, .concurrency.max_workers] | join(" ")')" "parallel keeps its workers"
    run_cairn backup --source "$(uri md_src)" --repo "$WORK/repo" --mode serial
    assert_eq 2 "$RC" "an unknown mode"
    run_cairn backup --source "$(uri md_src)" --repo "$WORK/repo" --max-latency-increase 0
    assert_eq 2 "$RC" "a bad percentage"
    drop_db md_dst
    drop_db md_src
}

# The probe made slow for a while (the fault point adds 100 ms to each of
# its first 40 tries, about 3 s): the workers go down to one, and back up
# when it recovers.  The allowed increase is set high (5000%: tens of
# milliseconds), so that only the injected slowness counts, not the
# backup's own load on a small machine.
test_hybrid_lowers_and_raises_concurrency() {
    modes_db
    CAIRN_FAULT=probe-slow:40 run_cairn backup --source "$(uri md_src)" --repo "$WORK/repo" \
        --jobs 2 --chunk-size 1M --max-rate 3M --max-latency-increase 5000 --json
    assert_eq 0 "$RC" "hybrid backup ($ERR)"
    assert_contains "$ERR" "lowering concurrency to 1 workers" "the drop is logged with its reason"
    assert_contains "$ERR" "above --max-latency-increase 5000%" "and why"
    assert_contains "$ERR" "raising concurrency to 2 workers" "the recovery is logged"
    assert_eq hybrid "$(json_get "$OUT" .concurrency.mode)" "mode"
    assert_eq 1 "$(json_get "$OUT" .concurrency.min_workers)" "lowest"
    assert_eq 2 "$(json_get "$OUT" .concurrency.max_workers)" "highest"
    [ "$(json_get "$OUT" .concurrency.changes)" -ge 2 ] || fail "changes counted: $(json_get "$OUT" .concurrency.changes)"
    drop_db md_src
}

# A real load generator on the source during a hybrid backup.
test_hybrid_backs_off_under_pgbench() {
    modes_db
    "$CAIRN_PG_BINDIR/pgbench" -i -q -s 2 md_src >/dev/null 2>&1
    "$CAIRN" backup --source "$(uri md_src)" --repo "$WORK/repo" --jobs 2 --chunk-size 1M \
        --max-rate 4M --json >"$WORK/out" 2>"$WORK/err" &
    local pid=$!
    sleep 1.5 # the probe's baseline is taken before the load starts
    "$CAIRN_PG_BINDIR/pgbench" -n -c 32 -j 2 -T 8 md_src >/dev/null 2>&1 || true
    set +e; wait "$pid"; local rc=$?; set -e
    assert_eq 0 "$rc" "backup under load ($(cat "$WORK/err"))"
    assert_contains "$(cat "$WORK/err")" "lowering concurrency" "cairn backs off, and says so"
    assert_eq 1 "$(json_get "$(cat "$WORK/out")" .concurrency.min_workers)" "down to one worker"
    drop_db md_src
}
