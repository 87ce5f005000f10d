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

test_wait_lock_waits_then_gives_up() {
    new_db wl
    sql wl "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"
    run_cairn backup --source "$(uri wl)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "first backup ($ERR)"
    flock "$WORK/repo/lock" sleep 2 &
    local holder=$!
    sleep 0.3
    run_cairn backup --source "$(uri wl)" --repo "$WORK/repo" --wait-lock 30s
    wait "$holder" 2>/dev/null || true
    assert_eq 0 "$RC" "--wait-lock waits for the other run ($ERR)"
    assert_contains "$ERR" "waiting up to 30 s" "and says so"
    flock "$WORK/repo/lock" sleep 10 &
    holder=$!
    sleep 0.3
    run_cairn backup --source "$(uri wl)" --repo "$WORK/repo" --wait-lock 1s
    kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null || true
    assert_eq 5 "$RC" "then gives up with exit 5"
    assert_contains "$ERR" "--wait-lock" "saying it waited"
    run_cairn backup --source "$(uri wl)" --repo "$WORK/repo" --wait-lock soon
    assert_eq 2 "$RC" "a malformed duration"
    drop_db wl
}

test_pre_deploy_hook() {
    new_db hk
    sql hk "CREATE TABLE t (v int); INSERT INTO t VALUES (1)"
    local out rc
    set +e
    out=$(CAIRN="$CAIRN" CAIRN_SOURCE="$(uri hk)" CAIRN_REPO="$WORK/repo" "$ROOT/scripts/hooks/pre-deploy.sh" 42 2>"$WORK/err")
    rc=$?
    set -e
    assert_eq 0 "$rc" "the hook passes when the backup is complete ($(cat "$WORK/err"))"
    assert_contains "$out" "--backup before-deploy-42" "and prints the restore command for this backup"
    run_cairn restore --repo "$WORK/repo" --backup before-deploy-42 --target "$(uri hk_rolled)"
    assert_eq 0 "$RC" "the tag it printed restores ($ERR)"
    assert_same_database hk hk_rolled
    set +e
    out=$(CAIRN="$CAIRN" CAIRN_SOURCE="$(uri no_such_db)" CAIRN_REPO="$WORK/repo" "$ROOT/scripts/hooks/pre-deploy.sh" 43 2>"$WORK/err")
    rc=$?
    set -e
    [ "$rc" -ne 0 ] || fail "a failed backup fails the hook"
    assert_contains "$(cat "$WORK/err")" "do not deploy" "and says so"
    set +e
    out=$(CAIRN="$CAIRN" CAIRN_SOURCE="postgresql://cairn@127.0.0.1:1/hk" CAIRN_REPO="$WORK/repo" \
          "$ROOT/scripts/hooks/pre-deploy.sh" 44 2>"$WORK/err")
    rc=$?
    set -e
    [ "$rc" -ne 0 ] || fail "an unreachable server fails the hook"
    assert_contains "$(cat "$WORK/err")" "do not deploy" "and says so"
    drop_db hk_rolled
    drop_db hk
}
