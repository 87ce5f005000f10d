# Bad input gets one clear line, a hint and a documented exit code.

test_wrong_password() {
    new_db pw
    run_cairn backup --source "postgresql://cairn:wrong-secret@127.0.0.1:$PGPORT/pw" --repo "$WORK/repo"
    assert_eq 1 "$RC" "exit code"
    assert_contains "$ERR" "password authentication failed" "message"
    assert_contains "$ERR" "hint: check the user and password" "hint"
    assert_not_contains "$ERR" "wrong-secret" "password shown"
    assert_eq "" "$(ls "$WORK/repo/backups" 2>/dev/null)" "no backup directory left"
}

test_unreachable_server() {
    run_cairn backup --source "postgresql://cairn@127.0.0.1:1/x" --repo "$WORK/repo"
    assert_eq 1 "$RC" "exit code"
    assert_contains "$ERR" "cannot connect" "message"
    assert_contains "$ERR" "hint: is the server running" "hint"
}

test_malformed_uri_is_usage() {
    run_cairn backup --source "postgresql://u:p@host:notaport/db" --repo "$WORK/repo"
    assert_eq 2 "$RC" "exit code"
    assert_contains "$ERR" "malformed URI" "message"
    assert_not_contains "$ERR" "u:p@" "password shown"
    run_cairn backup --source "localhost/db" --repo "$WORK/repo"
    assert_eq 2 "$RC" "no scheme"
    run_cairn backup --source "oracle://h/db" --repo "$WORK/repo"
    assert_eq 2 "$RC" "unknown scheme"
    assert_contains "$ERR" "unsupported URI scheme" "message"
}

test_not_a_repository() {
    mkdir -p "$WORK/notrepo"
    echo hello > "$WORK/notrepo/file"
    run_cairn list --repo "$WORK/notrepo"
    assert_eq 1 "$RC" "list exit code"
    assert_contains "$ERR" "is not a cairn repository" "message"
    assert_contains "$ERR" "hint:" "hint"
    new_db nr
    run_cairn backup --source "$(uri nr)" --repo "$WORK/notrepo"
    assert_eq 1 "$RC" "backup into a non-empty non-repository"
    assert_eq "file" "$(ls "$WORK/notrepo")" "directory untouched"
    run_cairn restore --repo "$WORK/nowhere" --target "$(uri nr_copy)"
    assert_eq 1 "$RC" "restore from a missing repository"
}

test_unknown_backup_id() {
    new_db unk
    run_cairn backup --source "$(uri unk)" --repo "$WORK/repo"
    run_cairn show --repo "$WORK/repo" 19990101-000000F
    assert_eq 1 "$RC" "show exit code"
    assert_contains "$ERR" 'no backup "19990101-000000F"' "message"
    assert_contains "$ERR" "cairn list" "hint"
    run_cairn restore --repo "$WORK/repo" --target "$(uri unk_copy)" --backup ../../etc
    assert_eq 1 "$RC" "restore with a hostile id"
}

test_missing_privilege_fails_cleanly() {
    new_db priv
    sql priv "CREATE TABLE open_t (v int); INSERT INTO open_t VALUES (1);
              CREATE TABLE secret_t (v int); INSERT INTO secret_t VALUES (2);"
    sql postgres "DROP ROLE IF EXISTS limited; CREATE ROLE limited LOGIN REPLICATION PASSWORD 'limitedpw'"
    sql priv "GRANT SELECT ON open_t TO limited"
    run_cairn backup --source "postgresql://limited:limitedpw@127.0.0.1:$PGPORT/priv" --repo "$WORK/repo"
    assert_eq 1 "$RC" "exit code"
    assert_contains "$ERR" "permission denied" "message"
    assert_contains "$ERR" "secret_t" "object named"
    assert_contains "$ERR" "hint:" "hint"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$(json_get "$OUT" length)" "nothing listed"
    assert_eq "" "$(ls "$WORK/repo/backups" 2>/dev/null)" "no partial backup directory"
    assert_eq 0 "$(sql postgres "SELECT count(*) FROM pg_replication_slots WHERE database = 'priv'")" \
        "the failed backup's slot was dropped"
}

test_usage_errors_exit_2() {
    run_cairn backup --repo "$WORK/repo"
    assert_eq 2 "$RC" "missing --source"
    assert_contains "$ERR" "--source is required" "message"
    run_cairn backup --source "$(uri x)" --repo "$WORK/repo" --jobs 0
    assert_eq 2 "$RC" "bad --jobs"
    run_cairn backup --source "$(uri x)" --repo "$WORK/repo" --compress lz4
    assert_eq 2 "$RC" "bad --compress"
    run_cairn backup --source "$(uri x)" --repo "$WORK/repo" --frobnicate
    assert_eq 2 "$RC" "unknown option"
    run_cairn restore --repo "$WORK/repo"
    assert_eq 2 "$RC" "restore without --target"
    run_cairn show --repo "$WORK/repo"
    assert_eq 2 "$RC" "show without id"
    run_cairn frobnicate
    assert_eq 2 "$RC" "unknown verb"
}

test_help_on_every_verb() {
    for v in backup restore plan list show verify expire passwd copy; do
        run_cairn "$v" --help
        assert_eq 0 "$RC" "$v --help"
        assert_contains "$OUT" "usage: cairn $v" "$v usage"
    done
    run_cairn --help
    assert_eq 0 "$RC" "cairn --help"
}

test_password_never_leaks() {
    new_db leak
    sql leak "CREATE TABLE t (v text); INSERT INTO t VALUES ('x')"
    sql postgres "DROP ROLE IF EXISTS leaky; CREATE ROLE leaky LOGIN SUPERUSER PASSWORD 'Sup3r-S3cret-pw'"
    # shims record the argument lists cairn gives pg_dump and pg_restore
    mkdir -p "$WORK/shim"
    for p in pg_dump pg_restore; do
        printf '#!/bin/sh\necho "$0 $*" >> %s/argv.log\nexec %s/%s "$@"\n' \
            "$WORK/shim" "$CAIRN_PG_BINDIR" "$p" > "$WORK/shim/$p"
        chmod +x "$WORK/shim/$p"
    done
    local src="postgresql://leaky:Sup3r-S3cret-pw@127.0.0.1:$PGPORT/leak"
    CAIRN_PG_BINDIR="$WORK/shim" PGPASSWORD= run_cairn backup --source "$src" --repo "$WORK/repo" --json --verbose
    assert_eq 0 "$RC" "backup ($ERR)"
    CAIRN_PG_BINDIR="$WORK/shim" PGPASSWORD= run_cairn restore --repo "$WORK/repo" \
        --target "postgresql://leaky:Sup3r-S3cret-pw@127.0.0.1:$PGPORT/leak_copy" --json --verbose
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_contains "$(cat "$WORK/shim/argv.log")" "--snapshot" "pg_dump ran through the shim"
    assert_not_contains "$(cat "$WORK/shim/argv.log")" "S3cret" "child argument lists"
    assert_not_contains "$OUT$ERR" "S3cret" "output"
    assert_eq "" "$(grep -rl 'S3cret' "$WORK/repo" || true)" "repository files"
    drop_db leak_copy
}

test_large_objects_are_refused_not_skipped() {
    new_db lob
    sql lob "CREATE TABLE t (v int); SELECT lo_from_bytea(0, '\\x0102')" >/dev/null
    run_cairn backup --source "$(uri lob)" --repo "$WORK/repo"
    assert_eq 1 "$RC" "exit code"
    assert_contains "$ERR" "large objects" "message"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 0 "$(json_get "$OUT" length)" "no backup that looks good"
}
