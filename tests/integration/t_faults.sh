# Faults: whatever happens, nothing is lost and nothing is falsely good.

fault_slots() { sql postgres "SELECT count(*) FROM pg_replication_slots WHERE database = '$1'"; }

# Every backup the repository lists verifies; no unfinished one is listed.
assert_repository_sound() { # MESSAGE
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "$1: list ($ERR)"
    local id
    for id in $(json_get "$OUT" '.[].id'); do
        run_cairn verify --repo "$WORK/repo" --backup "$id"
        assert_eq 0 "$RC" "$1: listed backup $id verifies ($ERR)"
    done
}

test_backups_killed_at_random_moments_lose_nothing() {
    new_db fk
    sql fk "CREATE TABLE t AS SELECT i, md5(i::text) AS pad FROM generate_series(1, 300000) i;
            ALTER TABLE t ADD PRIMARY KEY (i); CREATE TABLE u (i int PRIMARY KEY)"
    local t0 t1 span
    t0=$(date +%s%N)
    run_cairn backup --source "$(uri fk)" --repo "$WORK/repo" --chunk-size 2M
    t1=$(date +%s%N)
    assert_eq 0 "$RC" "a backup to time ($ERR)"
    span=$(( (t1 - t0) / 1000000 ))
    local k pid delay
    for k in 1 2 3 4 5 6 7 8; do
        # a full backup or an increment, killed after a random share of a run
        delay=$(( RANDOM % (span + 1) ))
        sql fk "INSERT INTO u VALUES ($k)"
        if [ $((k % 2)) -eq 0 ]; then
            "$CAIRN" backup --source "$(uri fk)" --repo "$WORK/repo" --type incr --quiet 2>/dev/null &
        else
            "$CAIRN" backup --source "$(uri fk)" --repo "$WORK/repo" --chunk-size 2M --quiet 2>/dev/null &
        fi
        pid=$!
        sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        assert_repository_sound "after kill $k at ${delay} ms"
    done
    # the next run takes over the lock, removes what the killed ones left
    run_cairn backup --source "$(uri fk)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "the next backup ($ERR)"
    assert_eq 1 "$(fault_slots fk)" "one slot left: the newest chain's"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq "$(json_get "$OUT" length)" "$(ls "$WORK/repo/backups" | wc -l)" "no unfinished directory left"
    assert_eq "" "$(find "$WORK/repo" -name '*.tmp.*')" "no temporary file left"
    drop_db fk_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri fk_dst)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database fk fk_dst
    drop_db fk_dst
    drop_db fk
}

test_disk_full_fails_clearly_and_leaves_nothing() {
    new_db fd
    sql fd "CREATE TABLE t AS SELECT i, decode(md5(i::text) || md5((i + 1)::text), 'hex') AS b
            FROM generate_series(1, 200000) i"
    mkdir -p "$WORK/small"
    if ! mount -t tmpfs -o size=2M tmpfs "$WORK/small"; then
        fail "cannot mount a small tmpfs to fill (the fault suite runs as root)"
        return
    fi
    run_cairn backup --source "$(uri fd)" --repo "$WORK/small/repo" --compress none
    local rc=$RC err=$ERR
    run_cairn list --repo "$WORK/small/repo" --json
    local listed=$OUT
    local left; left=$(find "$WORK/small/repo" -type f ! -name cairn.json ! -name lock | wc -l)
    umount "$WORK/small"
    assert_eq 1 "$rc" "a full disk is an error"
    assert_contains "$err" "No space left on device" "and says so"
    assert_eq 0 "$(json_get "$listed" length)" "nothing listed as good"
    assert_eq 0 "$left" "no partial file left"
    assert_eq 0 "$(fault_slots fd)" "no slot left"
    drop_db fd
}

test_expire_racing_a_backup_waits_its_turn() {
    new_db fr
    sql fr "CREATE TABLE t AS SELECT i, md5(i::text) AS pad FROM generate_series(1, 400000) i"
    run_cairn backup --source "$(uri fr)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "first ($ERR)"
    "$CAIRN" backup --source "$(uri fr)" --repo "$WORK/repo" --jobs 1 --max-rate 4M --quiet >/dev/null 2>&1 &
    local pid=$!
    sleep 0.5
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --yes
    assert_eq 5 "$RC" "expire while a backup runs is refused: the lock"
    assert_contains "$ERR" "locked by pid $pid" "naming the backup"
    wait "$pid"
    assert_eq 0 "$?" "the backup finished"
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --yes
    assert_eq 0 "$RC" "then expire runs ($ERR)"
    assert_repository_sound "after the race"
    drop_db fr
}

test_postgres_worker_terminated_mid_dump_is_retried() {
    new_db ft
    sql ft "CREATE TABLE t AS SELECT i, md5(i::text) AS pad FROM generate_series(1, 600000) i;
            ALTER TABLE t ADD PRIMARY KEY (i)"
    "$CAIRN" backup --source "$(uri ft)" --repo "$WORK/repo" --jobs 2 --chunk-size 4M \
        --max-rate 8M --json >"$WORK/out" 2>"$WORK/err" &
    local pid=$! killed=""
    for _ in $(seq 1 200); do
        killed=$(sql postgres "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                               WHERE datname = 'ft' AND application_name = 'cairn'
                                 AND query LIKE 'COPY%' LIMIT 1")
        [ -n "$killed" ] && break
        sleep 0.05
    done
    wait "$pid"
    local rc=$?
    assert_eq t "$killed" "a worker was terminated mid-dump"
    assert_eq 0 "$rc" "the backup completes ($(cat "$WORK/err"))"
    assert_contains "$(cat "$WORK/err")" "trying again" "the chunk was tried again"
    drop_db ft_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri ft_dst)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database ft ft_dst
    drop_db ft_dst
    drop_db ft
}
