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
    flip_byte "$f" $((size / 2))
    run_cairn restore --repo "$WORK/repo" --target "$(uri cor_copy)"
    assert_eq 4 "$RC" "restore exit code"
    assert_contains "$ERR" "$BIG_FILE" "file named"
    assert_contains "$ERR" "public.t" "table named"
    assert_target_untouched cor_copy
    run_cairn verify --repo "$WORK/repo"
    assert_eq 4 "$RC" "verify exit code"
    assert_contains "$OUT" "$BIG_FILE" "verify names the file"
}

# Files are checked on several threads: every damaged file is still
# reported, and the error a restore gives is the same from run to run.
test_verify_in_parallel_reports_every_damaged_file() {
    make_backup par
    local small
    small=$(jq -r '.units[0].objects[] | select(.name=="small") | .chunks[0].path' \
        "$WORK/repo/backups/$BACKUP_ID/manifest.json")
    flip_byte "$WORK/repo/backups/$BACKUP_ID/$BIG_FILE" 100
    truncate -s -1 "$WORK/repo/backups/$BACKUP_ID/$small"
    run_cairn verify --repo "$WORK/repo" --backup "$BACKUP_ID" --jobs 3 --json
    assert_eq 4 "$RC" "verify exit code ($ERR)"
    assert_eq 2 "$(json_get "$OUT" '.backups[0].failures | length')" "both files reported"
    assert_contains "$OUT" "$BIG_FILE" "the first file named"
    assert_contains "$OUT" "$small" "the second file named"
    local first
    run_cairn restore --repo "$WORK/repo" --target "$(uri par_copy)" --jobs 2
    assert_eq 4 "$RC" "restore exit code"
    first=$ERR
    run_cairn restore --repo "$WORK/repo" --target "$(uri par_copy)" --jobs 2
    assert_eq "$first" "$ERR" "the same file named each time"
    assert_target_untouched par_copy
    run_cairn verify --repo "$WORK/repo" --jobs 0
    assert_eq 2 "$RC" "--jobs 0 is a usage error"
    assert_contains "$ERR" "--jobs" "message"
    drop_db par
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

# Every kind of hostile manifest and repository entry is refused with a
# clear error, never followed.
test_hostile_manifests_and_entries_are_refused() {
    make_backup hostile2
    local m="$WORK/repo/backups/$BACKUP_ID/manifest.json"
    cp "$m" "$WORK/good.json"
    local edit
    for edit in '.units[0].objects[0].chunks[0].path = "/etc/passwd"' \
                '.units[0].objects[0].chunks[0].path = "data/x/../../../x"' \
                '.units[0].objects[0].rows = "many"' \
                '.units[0].objects[0].chunks[0].raw_bytes = 1e300' \
                '.units[0].objects[0].chunks[0].raw_bytes = -5' \
                '.units = 7' \
                '.id = "../../etc"' \
                '.schema.path = "schema/\u0000x"'; do
        jq "$edit" "$WORK/good.json" > "$m"
        run_cairn verify --repo "$WORK/repo" --backup "$BACKUP_ID"
        [ "$RC" = 4 ] || [ "$RC" = 1 ] || fail "manifest edit [$edit]: exit $RC ($ERR)"
        [ "$RC" -lt 128 ] || fail "manifest edit [$edit] crashed cairn"
    done
    printf '{"id": ' > "$m"
    run_cairn show --repo "$WORK/repo" "$BACKUP_ID"
    assert_eq 4 "$RC" "malformed JSON ($ERR)"
    cp "$WORK/good.json" "$m"
    run_cairn verify --repo "$WORK/repo" --backup "$BACKUP_ID"
    assert_eq 0 "$RC" "the good manifest back ($ERR)"

    # a payload file that is a symbolic link is not followed
    local f="$WORK/repo/backups/$BACKUP_ID/$BIG_FILE"
    mv "$f" "$WORK/moved"
    ln -s "$WORK/moved" "$f"
    run_cairn verify --repo "$WORK/repo" --backup "$BACKUP_ID"
    assert_eq 4 "$RC" "a symbolic link in the repository ($ERR)"
    rm "$f"
    mv "$WORK/moved" "$f"
    run_cairn show --repo "$WORK/repo" "../$BACKUP_ID"
    assert_eq 1 "$RC" "a backup id with a slash ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(uri hostile2_copy)" --backup "a/b"
    assert_eq 1 "$RC" "restore --backup with a slash"
    assert_target_untouched hostile2_copy
    drop_db hostile2
}

# Names built to break out of SQL quoting come back as names.
test_hostile_identifiers_round_trip() {
    local db="inj';DROP--x" # quotes and semicolons, and a valid URI path
    new_db "$db"
    sql "$db" "CREATE TABLE victim (i int); INSERT INTO victim VALUES (1);
               CREATE SCHEMA \"s'); DROP TABLE victim; --\";
               CREATE TABLE \"s'); DROP TABLE victim; --\".\"t\"\"; DELETE FROM victim; --\" (
                   \"c'; TRUNCATE victim; --\" text PRIMARY KEY);
               INSERT INTO \"s'); DROP TABLE victim; --\".\"t\"\"; DELETE FROM victim; --\"
                   VALUES ('v''); DROP TABLE victim; --')"
    run_cairn backup --source "$(uri "$db")" --repo "$WORK/repo" --tenant-pattern "s*"
    assert_eq 0 "$RC" "backup ($ERR)"
    drop_db inj_copy
    run_cairn restore --repo "$WORK/repo" --target "$(uri inj_copy)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database "$db" inj_copy
    assert_eq 1 "$(sql inj_copy "SELECT count(*) FROM victim")" "the victim table is whole"
    drop_db inj_copy
    drop_db "$db"

    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE \`inj\`\`; DROP DATABASE mysql; --\`;
                     CREATE TABLE \`inj\`\`; DROP DATABASE mysql; --\`.\`t'); DROP TABLE x; --\` (
                         \`c\`\`; --\` VARCHAR(40) PRIMARY KEY);
                     INSERT INTO \`inj\`\`; DROP DATABASE mysql; --\`.\`t'); DROP TABLE x; --\`
                         VALUES ('v''); DROP TABLE x; --')"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/mrepo"
    assert_eq 0 "$RC" "MariaDB backup ($ERR)"
    run_cairn restore --repo "$WORK/mrepo" --target "$(muri "$MDB_B")"
    assert_eq 0 "$RC" "MariaDB restore ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
}
