# One writer per repository; a lock left by a dead process never blocks.

test_second_backup_exits_5_naming_the_holder() {
    new_db lk
    sql lk "CREATE TABLE t (v int)"
    mkdir -p "$WORK/repo"
    run_cairn backup --source "$(uri lk)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "first backup ($ERR)"
    # another run holds the lock: same flock, same description format
    echo '{"pid": 4242, "host": "elsewhere", "command": "backup", "started_at": "2026-01-01T00:00:00Z"}' \
        > "$WORK/repo/lock"
    flock "$WORK/repo/lock" sleep 30 &
    local holder=$!
    sleep 0.3
    run_cairn backup --source "$(uri lk)" --repo "$WORK/repo"
    kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
    assert_eq 5 "$RC" "exit code while locked"
    assert_contains "$ERR" "locked by pid 4242 on elsewhere" "holder named"
    assert_contains "$ERR" "hint:" "hint"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 1 "$(json_get "$OUT" length)" "no second backup"
}

test_stale_lock_is_taken_over() {
    new_db stale
    sql stale "CREATE TABLE t (v int)"
    mkdir -p "$WORK/repo"
    run_cairn backup --source "$(uri stale)" --repo "$WORK/repo"
    # a run that was killed left its description, but holds no lock
    sh -c 'echo "{\"pid\": $$, \"host\": \"here\", \"command\": \"backup\", \"started_at\": \"x\"}" > "$1"' \
        _ "$WORK/repo/lock"
    run_cairn backup --source "$(uri stale)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "backup after a stale lock ($ERR)"
    assert_contains "$ERR" "which is gone" "stale lock reported"
}
