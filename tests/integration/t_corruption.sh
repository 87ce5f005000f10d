# A damaged backup is refused before the target is touched.

make_backup() { # DB
    new_db "$1"
    sql "$1" "CREATE TABLE t (id int PRIMARY KEY, v text);
              INSERT INTO t SELECT i, md5(i::text) FROM generate_series(1, 20000) i;
              CREATE TABLE small (v int); INSERT INTO small VALUES (1)"
    run_cairn backup --source "$(uri "$1")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "backup ($ERR)"
    BACKUP_ID=$(json_get "$OUT" .id)
    BIG_FILE=$(jq -r '.units[0].objects[] | select(.name=="t") | .chunks[0].path' \
        "$WORK/repo/backups/$BACKUP_ID/manifest.json")
}

assert_target_untouched() {
    assert_eq 0 "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname = '$1'")" \
        "target database $1 was not created"
}

test_corrupt_file_exits_4_and_names_it() {
    make_backup cor
    local f="$WORK/repo/backups/$BACKUP_ID/$BIG_FILE"
    chmod u+w "$f"
    # flip one byte in the middle
    local size
    size=$(stat -c %s "$f")
    printf '\xff' | dd of="$f" bs=1 seek=$((size / 2)) conv=notrunc status=none
    run_cairn restore --repo "$WORK/repo" --target "$(uri cor_copy)"
    assert_eq 4 "$RC" "restore exit code"
    assert_contains "$ERR" "$BIG_FILE" "file named"
    assert_contains "$ERR" "public.t" "table named"
    assert_target_untouched cor_copy
    run_cairn verify --repo "$WORK/repo"
    assert_eq 4 "$RC" "verify exit code"
    assert_contains "$OUT" "$BIG_FILE" "verify names the file"
}

test_truncated_file_exits_4() {
    make_backup trunc
    local f="$WORK/repo/backups/$BACKUP_ID/$BIG_FILE"
    truncate -s -100 "$f"
    run_cairn restore --repo "$WORK/repo" --target "$(uri trunc_copy)"
    assert_eq 4 "$RC" "restore exit code"
    assert_contains "$ERR" "truncated" "message"
    assert_target_untouched trunc_copy
}

test_missing_file_exits_4() {
    make_backup miss
    rm -f "$WORK/repo/backups/$BACKUP_ID/$BIG_FILE"
    run_cairn restore --repo "$WORK/repo" --target "$(uri miss_copy)"
    assert_eq 4 "$RC" "restore exit code"
    assert_contains "$ERR" "missing" "message"
    assert_target_untouched miss_copy
    run_cairn verify --repo "$WORK/repo" --backup latest --json
    assert_eq 4 "$RC" "verify"
    assert_eq false "$(json_get "$OUT" .ok)" "verify json"
}

test_hostile_manifest_is_refused() {
    make_backup hostile
    local m="$WORK/repo/backups/$BACKUP_ID/manifest.json"
    jq '.units[0].objects[0].chunks[0].path = "data/../../../../etc/passwd"' "$m" > "$m.new"
    mv "$m.new" "$m"
    run_cairn restore --repo "$WORK/repo" --target "$(uri hostile_copy)" --backup "$BACKUP_ID"
    assert_eq 4 "$RC" "restore exit code"
    assert_contains "$ERR" "manifest is invalid" "message"
    assert_target_untouched hostile_copy
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$(json_get "$OUT" length)" "an invalid backup is not listed"
    assert_contains "$ERR" "skipping backup" "list warns"
}

test_unfinished_backup_does_not_exist() {
    make_backup unfin
    rm "$WORK/repo/backups/$BACKUP_ID/manifest.json"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$(json_get "$OUT" length)" "no manifest, no backup"
    run_cairn restore --repo "$WORK/repo" --target "$(uri unfin_copy)"
    assert_eq 6 "$RC" "nothing to restore"
    assert_target_untouched unfin_copy
}
