# TLS to the database: the URI's settings reach cairn's connections and its
# children (pg_dump, pg_restore, mariadb-binlog).  Each server has a user
# that may only connect over TLS, so a connection without it fails.

test_postgres_over_tls_only() {
    new_db tl_src "$FIXTURES/pg_fidelity.sql"
    sql tl_src "CREATE TABLE later (i int PRIMARY KEY)"
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS tls_only" -c "CREATE ROLE tls_only LOGIN SUPERUSER REPLICATION PASSWORD 'pw'"
    local tls="sslmode=verify-full&sslrootcert=$CAIRN_PG_TLS_CA"
    local src="postgresql://tls_only@127.0.0.1:$PGPORT/tl_src"
    PGPASSWORD=pw run_cairn backup --source "$src?sslmode=disable" --repo "$WORK/repo"
    assert_eq 1 "$RC" "without TLS the user is turned away"
    assert_contains "$ERR" "pg_hba.conf" "by the server's rule"
    PGPASSWORD=pw run_cairn backup --source "$src?$tls" --repo "$WORK/repo"
    assert_eq 0 "$RC" "a backup over verified TLS, pg_dump included ($ERR)"
    sql tl_src "INSERT INTO later VALUES (1)"
    PGPASSWORD=pw run_cairn backup --source "$src?$tls" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "an increment over TLS ($ERR)"
    drop_db tl_dst
    PGPASSWORD=pw run_cairn restore --repo "$WORK/repo" --target "postgresql://tls_only@127.0.0.1:$PGPORT/tl_dst?$tls"
    assert_eq 0 "$RC" "a restore over TLS, pg_restore included ($ERR)"
    assert_same_database tl_src tl_dst
    drop_db tl_dst
    drop_db tl_src
    psql -X -q -d postgres -c "DROP ROLE tls_only"
}

test_mariadb_over_tls_only() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    local u
    for u in "$MDB_A" "$MDB_B"; do
        mdb "$u" -e "DROP USER IF EXISTS tls_only; CREATE USER tls_only IDENTIFIED BY 'pw' REQUIRE SSL;
                     GRANT ALL PRIVILEGES ON *.* TO tls_only"
    done
    mdb "$MDB_A" -e "CREATE DATABASE tl; CREATE TABLE tl.t (id INT PRIMARY KEY, v TEXT);
                     INSERT INTO tl.t SELECT seq, CONCAT('row ', seq) FROM tl.seq_1_to_500"
    local a="mariadb://tls_only:pw@127.0.0.1:$MDB_A/"
    local tls="ssl-mode=VERIFY_IDENTITY&ssl-ca=$MDB_A_CA"
    run_cairn backup --source "$a" --repo "$WORK/repo"
    assert_eq 1 "$RC" "without TLS the user is turned away"
    run_cairn backup --source "$a?ssl-mode=sometimes" --repo "$WORK/repo"
    assert_eq 2 "$RC" "an unknown ssl-mode is a usage error"
    run_cairn backup --source "$a?$tls" --repo "$WORK/repo"
    assert_eq 0 "$RC" "a backup over verified TLS ($ERR)"
    mdb "$MDB_A" -e "INSERT INTO tl.t VALUES (501, 'later')"
    run_cairn backup --source "$a?$tls" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "an increment over TLS, mariadb-binlog included ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "mariadb://tls_only:pw@127.0.0.1:$MDB_B/?ssl-mode=VERIFY_IDENTITY&ssl-ca=$MDB_B_CA"
    assert_eq 0 "$RC" "a restore over TLS ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"
    for u in "$MDB_A" "$MDB_B"; do mdb "$u" -e "DROP USER tls_only"; done
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
}

# A MariaDB password may come from the client's option file, as for the
# mariadb client: cairn's connections and mariadb-binlog both read it.
test_mariadb_password_from_option_file() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "DROP USER IF EXISTS opt_user; CREATE USER opt_user IDENTIFIED BY 'opt-secret';
                     GRANT ALL PRIVILEGES ON *.* TO opt_user;
                     CREATE DATABASE od; CREATE TABLE od.t (id INT PRIMARY KEY); INSERT INTO od.t VALUES (1), (2)"
    mkdir -p "$WORK/home"
    printf '[client]\npassword=opt-secret\n' > "$WORK/home/.my.cnf"
    chmod 600 "$WORK/home/.my.cnf"
    local src="mariadb://opt_user@127.0.0.1:$MDB_A/"
    HOME=/nonexistent run_cairn backup --source "$src" --repo "$WORK/repo"
    assert_eq 1 "$RC" "without the option file: no password"
    assert_contains "$ERR" ".my.cnf" "the hint names the option file"
    HOME="$WORK/home" run_cairn backup --source "$src" --repo "$WORK/repo"
    assert_eq 0 "$RC" "the password from ~/.my.cnf ($ERR)"
    mdb "$MDB_A" -e "INSERT INTO od.t VALUES (3)"
    HOME="$WORK/home" run_cairn backup --source "$src" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "an increment: mariadb-binlog reads it too ($ERR)"
    assert_not_contains "$ERR" "opt-secret" "never shown"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"
    mdb "$MDB_A" -e "DROP USER opt_user"
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
}
