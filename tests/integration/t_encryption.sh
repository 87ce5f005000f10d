# Encrypted repositories: nothing readable at rest, one passphrase to open
# them, every kind of tampering caught.

enc_source() { # a database holding recognizable values
    new_db en_src "$FIXTURES/pg_fidelity.sql"
    sql en_src "CREATE TABLE secret_ledger (id int PRIMARY KEY, memo text);
                INSERT INTO secret_ledger SELECT g, 'needle-4242-' || g FROM generate_series(1, 5000) g"
}

repo_digest() { # every file of the repository and its bytes
    (cd "$1" && find . -type f ! -name lock -exec sha256sum {} + | sort)
}

test_encrypted_repository_round_trip() {
    enc_source
    printf 'correct horse battery staple\n' > "$WORK/pass"
    printf 'wrong\n' > "$WORK/wrong"
    printf 'a new one\n' > "$WORK/new"
    chmod 600 "$WORK/pass" "$WORK/wrong" "$WORK/new"

    run_cairn backup --source "$(uri en_src)" --repo "$WORK/repo" --encrypt
    assert_eq 2 "$RC" "--encrypt without a passphrase is a usage error"
    assert_contains "$ERR" "passphrase" "saying what is missing"
    assert_eq "" "$(ls "$WORK/repo" 2>/dev/null)" "and nothing is written"

    run_cairn backup --source "$(uri en_src)" --repo "$WORK/repo" --encrypt --passphrase-file "$WORK/pass"
    assert_eq 0 "$RC" "encrypted backup ($ERR)"
    assert_eq "" "$(grep -rl -e needle-4242 -e secret_ledger "$WORK/repo" || true)" "no value or name readable in any file"
    assert_eq "aes-256-gcm" "$(jq -r .encryption.cipher "$WORK/repo/cairn.json")" "cairn.json records the cipher"
    assert_eq "scrypt" "$(jq -r .encryption.kdf "$WORK/repo/cairn.json")" "and the key derivation"
    assert_not_contains "$(cat "$WORK/repo/cairn.json")" "correct horse" "never the passphrase"

    local before; before=$(repo_digest "$WORK/repo")
    run_cairn list --repo "$WORK/repo"
    assert_eq 2 "$RC" "an encrypted repository without its passphrase"
    assert_contains "$ERR" "CAIRN_PASSPHRASE" "the hint names where it comes from"
    run_cairn list --repo "$WORK/repo" --passphrase-file "$WORK/wrong"
    assert_eq 1 "$RC" "a wrong passphrase"
    assert_contains "$ERR" "wrong passphrase" "says so"
    run_cairn backup --source "$(uri en_src)" --repo "$WORK/repo" --passphrase-file "$WORK/wrong"
    assert_eq 1 "$RC" "no backup is appended without the key"
    assert_eq "$before" "$(repo_digest "$WORK/repo")" "nothing was written"

    sql en_src "UPDATE secret_ledger SET memo = memo || '!' WHERE id <= 100; INSERT INTO secret_ledger VALUES (9999, 'late')"
    CAIRN_PASSPHRASE='correct horse battery staple' run_cairn backup --source "$(uri en_src)" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "an increment, with the passphrase from the environment ($ERR)"
    assert_eq "" "$(grep -rl needle-4242 "$WORK/repo" || true)" "the increment is sealed too"
    CAIRN_PASSPHRASE='correct horse battery staple' run_cairn verify --repo "$WORK/repo"
    assert_eq 0 "$RC" "verify with the key ($ERR)"

    drop_db en_dst
    CAIRN_PASSPHRASE='correct horse battery staple' run_cairn restore --repo "$WORK/repo" --target "$(uri en_dst)"
    assert_eq 0 "$RC" "restore of the encrypted chain ($ERR)"
    assert_same_database en_src en_dst
    drop_db en_dst

    run_cairn passwd --repo "$WORK/repo" --passphrase-file "$WORK/pass" --new-passphrase-file "$WORK/new"
    assert_eq 0 "$RC" "passwd ($ERR)"
    run_cairn list --repo "$WORK/repo" --passphrase-file "$WORK/pass"
    assert_eq 1 "$RC" "the old passphrase no longer opens it"
    run_cairn list --repo "$WORK/repo" --passphrase-file "$WORK/new" --json
    assert_eq 0 "$RC" "the new one does ($ERR)"
    assert_eq 2 "$(json_get "$OUT" length)" "and both backups are there, unchanged"

    run_cairn backup --source "$(uri en_src)" --repo "$WORK/plain"
    assert_eq 0 "$RC" "a plain repository ($ERR)"
    run_cairn backup --source "$(uri en_src)" --repo "$WORK/plain" --encrypt --passphrase-file "$WORK/pass"
    assert_eq 2 "$RC" "--encrypt cannot convert a plain repository"
    drop_db en_src
}

test_encrypted_files_tampered_are_refused() {
    enc_source
    printf 'pw\n' > "$WORK/pass"
    export CAIRN_PASSPHRASE=pw
    run_cairn backup --source "$(uri en_src)" --repo "$WORK/repo" --encrypt --chunk-size 64k --json
    assert_eq 0 "$RC" "encrypted backup ($ERR)"
    local id; id=$(json_get "$OUT" .id)
    local f; f=$(find "$WORK/repo/backups/$id/data" -type f | sort | sed -n 1p)
    cp "$f" "$WORK/saved"
    flip_byte "$f" 100
    run_cairn verify --repo "$WORK/repo"
    assert_eq 4 "$RC" "a flipped byte ($ERR)"
    cp "$WORK/saved" "$f"
    truncate -s -20 "$f"
    run_cairn verify --repo "$WORK/repo"
    assert_eq 4 "$RC" "a truncated file ($ERR)"
    cp "$WORK/saved" "$f"
    run_cairn verify --repo "$WORK/repo"
    assert_eq 0 "$RC" "restored, it verifies ($ERR)"
    local m="$WORK/repo/backups/$id/manifest.json"
    cp "$m" "$WORK/saved.m"
    flip_byte "$m" 60
    run_cairn show --repo "$WORK/repo" "$id"
    assert_eq 4 "$RC" "an altered manifest is not read ($ERR)"
    assert_contains "$ERR" "authentication" "says why"
    cp "$WORK/saved.m" "$m"
    drop_db en_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri en_dst)"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database en_src en_dst
    unset CAIRN_PASSPHRASE
    drop_db en_dst
    drop_db en_src
}

test_encrypted_mariadb_round_trip() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE shop; CREATE TABLE shop.secret_ledger (id INT PRIMARY KEY, memo TEXT);
                     INSERT INTO shop.secret_ledger SELECT seq, CONCAT('needle-4242-', seq) FROM shop.seq_1_to_3000"
    printf 'pw\n' > "$WORK/pass"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --encrypt --passphrase-file "$WORK/pass"
    assert_eq 0 "$RC" "encrypted MariaDB backup ($ERR)"
    assert_eq "" "$(grep -rl -e needle-4242 -e secret_ledger "$WORK/repo" || true)" "nothing readable"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --passphrase-file "$WORK/pass"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
}
