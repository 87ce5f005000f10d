# A repository others cannot quietly change: modes, read-only backups.

test_finished_backups_are_read_only() {
    new_db sec_src "$FIXTURES/pg_fidelity.sql"
    umask 0 # what cairn creates has its own modes, whatever the umask
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo" --json
    umask 022
    assert_eq 0 "$RC" "backup ($ERR)"
    local id; id=$(json_get "$OUT" .id)
    local b="$WORK/repo/backups/$id"
    assert_eq 700 "$(stat -c %a "$WORK/repo")" "the repository is its owner's alone"
    assert_eq 500 "$(stat -c %a "$b")" "a finished backup's directory is read-only"
    assert_eq "" "$(find "$WORK/repo/backups" -type f ! -perm 0400)" "and every file in it"
    assert_eq "" "$(find "$WORK/repo/backups" -mindepth 1 -type d ! -perm 0500)" "and every directory"
    assert_eq 600 "$(stat -c %a "$WORK/repo/cairn.json")" "cairn.json stays writable, by its owner"

    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo" --type incr --json
    assert_eq 0 "$RC" "an increment ($ERR)"
    assert_eq 500 "$(stat -c %a "$WORK/repo/backups/$(json_get "$OUT" .id)")" "read-only too"
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "a second chain ($ERR)"
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --yes
    assert_eq 0 "$RC" "expire removes read-only backups ($ERR)"
    [ ! -e "$b" ] || fail "the old chain is gone"

    chmod o+w "$WORK/repo"
    run_cairn list --repo "$WORK/repo"
    assert_eq 1 "$RC" "a world-writable repository is refused"
    assert_contains "$ERR" "writable by every user" "says why"
    assert_contains "$ERR" "chmod o-w" "and how to fix it"
    chmod o-w "$WORK/repo"
    run_cairn list --repo "$WORK/repo"
    assert_eq 0 "$RC" "fixed, it opens ($ERR)"
    drop_db sec_src
}

test_expire_keeps_backups_younger_than_the_minimum_retention() {
    new_db sec_src "$FIXTURES/pg_fidelity.sql"
    local i
    for i in 1 2 3; do
        run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo"
        assert_eq 0 "$RC" "backup $i ($ERR)"
    done
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --min-retention 1h --yes --json
    assert_eq 0 "$RC" "expire with a minimum retention ($ERR)"
    assert_eq 0 "$(json_get "$OUT" '.removed | length')" "nothing younger than an hour goes"
    assert_eq 2 "$(json_get "$OUT" '.retained | length')" "the two older chains are kept for it"
    assert_eq 3600 "$(jq .min_retention_seconds "$WORK/repo/cairn.json")" "recorded in cairn.json"
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --yes --json
    assert_eq 0 "$(json_get "$OUT" '.removed | length')" "the recorded retention holds for later runs"
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --min-retention 0 --yes
    assert_eq 2 "$RC" "shortening it needs the override"
    assert_contains "$ERR" "--ignore-min-retention" "and names it"
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --min-retention 1x
    assert_eq 2 "$RC" "a malformed duration"
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --yes --ignore-min-retention --json
    assert_eq 0 "$RC" "the explicit override ($ERR)"
    assert_eq 2 "$(json_get "$OUT" '.removed | length')" "removes them this once"
    assert_eq 3600 "$(jq .min_retention_seconds "$WORK/repo/cairn.json")" "and leaves the setting"
    drop_db sec_src
}

# An offline last-resort copy is one command, and refuses what went bad.
test_copy_to_a_second_repository() {
    new_db sec_src "$FIXTURES/pg_fidelity.sql"
    export CAIRN_PASSPHRASE=pw
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo" --encrypt
    assert_eq 0 "$RC" "full ($ERR)"
    sql sec_src "CREATE TABLE added (i int PRIMARY KEY); INSERT INTO added SELECT generate_series(1, 50)"
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "second full ($ERR)"
    local full2; full2=$(json_get "$OUT" .id)
    sql sec_src "INSERT INTO added VALUES (51)"
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr ($ERR)"

    run_cairn copy --from "$WORK/repo" --to "$WORK/offline" --json
    assert_eq 0 "$RC" "copy of the latest chain ($ERR)"
    assert_eq 2 "$(json_get "$OUT" '.copied | length')" "the increment and the full backup it needs"
    assert_eq "$full2" "$(json_get "$OUT" '.copied[0]')" "parents first"
    assert_eq "$(jq -c .encryption "$WORK/repo/cairn.json")" "$(jq -c .encryption "$WORK/offline/cairn.json")" "the copy keeps the encryption"
    run_cairn verify --repo "$WORK/offline"
    assert_eq 0 "$RC" "the copy verifies ($ERR)"
    run_cairn copy --from "$WORK/repo" --to "$WORK/offline" --all --json
    assert_eq 1 "$(json_get "$OUT" '.copied | length')" "--all adds the older chain"
    assert_eq 2 "$(json_get "$OUT" '.present | length')" "and leaves what is there"
    drop_db sec_dst
    run_cairn restore --repo "$WORK/offline" --target "$(uri sec_dst)"
    assert_eq 0 "$RC" "restore from the copy ($ERR)"
    assert_same_database sec_src sec_dst

    # a file gone bad in the source is not copied
    local f; f=$(find "$WORK/repo/backups/$full2/data" -type f | sed -n 1p)
    flip_byte "$f" 40
    run_cairn copy --from "$WORK/repo" --to "$WORK/third" --backup "$full2"
    assert_eq 4 "$RC" "a bad file stops the copy ($ERR)"
    run_cairn list --repo "$WORK/third" --json
    assert_eq 0 "$(json_get "$OUT" length)" "and nothing looks copied"
    run_cairn copy --from "$WORK/repo" --to "$WORK/plain-other"
    assert_eq 4 "$RC" "the latest chain holds the bad file too"
    unset CAIRN_PASSPHRASE
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/plain2"
    assert_eq 0 "$RC" "a plain repository ($ERR)"
    CAIRN_PASSPHRASE=pw run_cairn copy --from "$WORK/repo" --to "$WORK/plain2" --all
    assert_eq 1 "$RC" "copying into a repository of another kind is refused"
    drop_db sec_dst
    drop_db sec_src
}

test_immutable_backups() {
    new_db sec_src "$FIXTURES/pg_fidelity.sql"
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo" --immutable --json
    assert_eq 0 "$RC" "backup --immutable ($ERR)"
    local id; id=$(json_get "$OUT" .id)
    assert_contains "$ERR" "immutable (chattr +i)" "says so"
    assert_contains "$(lsattr -d "$WORK/repo/backups/$id" 2>&1)" "i" "the directory carries the attribute"
    assert_eq "" "$(lsattr -R "$WORK/repo/backups/$id" 2>/dev/null | grep -v '^$' | grep -v ':$' | awk '{print $1}' | grep -v i || true)" "and every file"
    rm -f "$WORK/repo/backups/$id/manifest.json" 2>/dev/null || true
    [ -e "$WORK/repo/backups/$id/manifest.json" ] || fail "not even root removed the manifest"
    run_cairn backup --source "$(uri sec_src)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "a second chain ($ERR)"
    run_cairn expire --repo "$WORK/repo" --keep-full 1 --yes
    assert_eq 0 "$RC" "expire clears the attribute to remove the old chain ($ERR)"
    [ ! -e "$WORK/repo/backups/$id" ] || fail "the immutable chain is gone"
    drop_db sec_src
}
