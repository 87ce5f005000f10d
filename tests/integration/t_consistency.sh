# Every worker sees one snapshot: a backup taken while an application
# writes is consistent as of one instant.

test_backup_during_writes_is_consistent() {
    new_db busy
    sql busy "CREATE TABLE orders (id bigint PRIMARY KEY, pad text);
              CREATE TABLE order_lines (order_id bigint, n int, pad text);
              CREATE TABLE ledger (total bigint); INSERT INTO ledger VALUES (0);
              CREATE TABLE filler AS SELECT i, repeat('f', 200) AS pad FROM generate_series(1, 150000) i;"
    # an application that writes three tables per transaction, without pause
    {
        for i in $(seq 1 200000); do
            echo "BEGIN; INSERT INTO orders VALUES ($i, 'o'); INSERT INTO order_lines VALUES ($i, 1, 'l'), ($i, 2, 'l'); UPDATE ledger SET total = total + 1; COMMIT;"
        done
    } | psql -X -q -d busy >/dev/null 2>&1 &
    WRITER_PID=$!
    sleep 1
    run_cairn backup --source "$(uri busy)" --repo "$WORK/repo" --jobs 3 --chunk-size 1M --json
    local rc=$RC out=$OUT err=$ERR
    kill "$WRITER_PID" 2>/dev/null || true
    wait "$WRITER_PID" 2>/dev/null || true
    WRITER_PID=
    assert_eq 0 "$rc" "backup ($err)"
    # every worker's snapshot equals the leader's, as recorded
    local id
    id=$(json_get "$out" .id)
    local distinct
    distinct=$(jq -r '[.snapshot.identity] + .snapshot.workers | unique | length' \
        "$WORK/repo/backups/$id/manifest.json")
    assert_eq 1 "$distinct" "one snapshot for leader and workers"
    run_cairn restore --repo "$WORK/repo" --target "$(uri busy_copy)" --jobs 2
    assert_eq 0 "$RC" "restore ($ERR)"
    local orders lines total
    orders=$(sql busy_copy "SELECT count(*) FROM orders")
    lines=$(sql busy_copy "SELECT count(*) FROM order_lines")
    total=$(sql busy_copy "SELECT total FROM ledger")
    [ "$orders" -gt 0 ] || fail "the writer had not written before the snapshot"
    assert_eq "$((orders * 2))" "$lines" "lines match orders"
    assert_eq "$orders" "$total" "ledger matches orders"
    assert_eq 0 "$(sql busy_copy "SELECT count(*) FROM order_lines l LEFT JOIN orders o ON o.id = l.order_id WHERE o.id IS NULL")" \
        "no line without its order"
    drop_db busy_copy
}
