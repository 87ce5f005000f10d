# Tenant units: a schema (PostgreSQL) or database (MariaDB) per tenant,
# backed up as units of their own and restored alone.

# Every table's content and sequence state, for the schemas given
# (grep -E arguments on the "schema.table" lines).
pg_digest_of() { # DB GREP-ARGS...
    local db=$1
    shift
    content_digest "$db" | grep -E "$@" || true
}

test_pg_tenants_are_units_and_restore_identically() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --tenant-pattern 'tenant_*' \
        --tenant-pattern 'Tenant*' --exclude-tenant tenant_50 --json
    assert_eq 0 "$RC" "tenant backup exit code ($ERR)"
    assert_eq 51 "$(json_get "$OUT" .units)" "units: the database and 50 tenants"
    local id; id=$(json_get "$OUT" .id)
    run_cairn show --repo "$WORK/repo" "$id" --json
    assert_eq 50 "$(json_get "$OUT" '[.units[] | select(.kind == "tenant")] | length')" "tenant units"
    assert_eq 1 "$(json_get "$OUT" '[.units[] | select(.kind == "tenant" and .name == "Tenant \"Q\"")] | length')" "the quoted tenant is a unit"
    assert_eq "public.audit public.plans tenant_50.events tenant_50.users" \
        "$(json_get "$OUT" '.units[] | select(.kind == "database") | .objects[] | .schema + "." + .name' | sort | xargs)" \
        "the excluded tenant and the shared tables stay in the database's unit"
    drop_db tn_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --jobs 3
    assert_eq 0 "$RC" "full restore of a tenant backup ($ERR)"
    assert_same_database tn_src tn_dst
    drop_db tn_dst
    drop_db tn_src
}

test_pg_tenant_restored_alone_leaves_the_others() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --tenant-pattern 'tenant_*' \
        --tenant-pattern 'Tenant*'
    assert_eq 0 "$RC" "backup ($ERR)"
    drop_db tn_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)"
    assert_eq 0 "$RC" "first restore ($ERR)"
    # the target moves on: a tenant loses rows, another changes, the shared table grows
    sql tn_dst "DELETE FROM tenant_07.events; DELETE FROM tenant_07.users WHERE id > 5;
                UPDATE tenant_08.users SET name = 'changed on the target';
                INSERT INTO public.audit (what) VALUES ('after the backup')"
    local others_before; others_before=$(pg_digest_of tn_dst -v '^tenant_07\.')
    assert_contains "$others_before" "tenant_08.users" "the other tenants are compared"
    local schema_before; schema_before=$(schema_dump tn_dst)

    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --tenant tenant_07
    assert_eq 1 "$RC" "a tenant the target holds is refused without --clean"
    assert_contains "$ERR" 'already holds schema "tenant_07"' "refusal names the schema"
    assert_contains "$ERR" "--clean" "refusal hints at --clean"
    assert_eq "$others_before" "$(pg_digest_of tn_dst -v '^tenant_07\.')" "refusal touched nothing"
    assert_eq 5 "$(sql tn_dst 'SELECT count(*) FROM tenant_07.users')" "refusal kept the tenant as it was"

    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --tenant tenant_07 --clean --json
    assert_eq 0 "$RC" "tenant restore with --clean ($ERR)"
    assert_contains "$(pg_digest_of tn_dst '^tenant_07\.')" "tenant_07.events" "the tenant's tables are there"
    assert_eq "$(pg_digest_of tn_src '^tenant_07\.')" "$(pg_digest_of tn_dst '^tenant_07\.')" \
        "the tenant is back as it was at the backup"
    assert_eq "$others_before" "$(pg_digest_of tn_dst -v '^tenant_07\.')" "every other schema untouched"
    assert_eq "$schema_before" "$(schema_dump tn_dst)" "the schema (with the tenant's comment, grant, index, view, function) is whole again"
    assert_eq "changed on the target" "$(sql tn_dst 'SELECT DISTINCT name FROM tenant_08.users')" "another tenant kept its change"

    # a tenant whose name needs quoting, into a database that lost it
    sql tn_dst 'DROP SCHEMA "Tenant ""Q""" CASCADE'
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --tenant 'Tenant "Q"'
    assert_eq 0 "$RC" "restore of a quoted tenant name ($ERR)"
    assert_contains "$(pg_digest_of tn_dst '^"Tenant ""Q"""\.')" "users" "the quoted tenant's tables are there"
    assert_eq "$(pg_digest_of tn_src '^"Tenant ""Q"""\.')" "$(pg_digest_of tn_dst '^"Tenant ""Q"""\.')" "quoted tenant restored"
    assert_eq "customer 51" "$(sql tn_dst "SELECT obj_description('\"Tenant \"\"Q\"\"\"'::regnamespace)")" "its comment restored"
    drop_db tn_dst
    drop_db tn_src
}

test_pg_tenant_clean_refuses_to_cascade_into_others() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --tenant-pattern 'tenant_*'
    assert_eq 0 "$RC" "backup ($ERR)"
    drop_db tn_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)"
    sql tn_dst "CREATE VIEW tenant_02.peek AS SELECT * FROM tenant_03.users"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --tenant tenant_03 --clean
    assert_eq 1 "$RC" "a drop that would cascade into another tenant is refused"
    assert_contains "$ERR" "tenant_02.peek" "the error names the dependent object"
    assert_eq 1 "$(sql tn_dst "SELECT count(*) FROM pg_views WHERE viewname = 'peek'")" "the other tenant's view is still there"
    drop_db tn_dst
    drop_db tn_src
}

test_pg_tenant_restore_errors() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --tenant-pattern 'tenant_0*'
    assert_eq 0 "$RC" "backup ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_x)" --tenant tenant_11
    assert_eq 2 "$RC" "a tenant the backup does not hold as a unit"
    assert_contains "$ERR" 'no unit "tenant_11"' "names the missing unit"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_x)" --tenant tn_src
    assert_eq 2 "$RC" "the database unit is not a tenant"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --type incr --tenant-pattern 'x*'
    assert_eq 2 "$RC" "--tenant-pattern with an increment is a usage error"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --exclude-tenant 'x*'
    assert_eq 2 "$RC" "--exclude-tenant alone is a usage error"
    run_cairn plan --repo "$WORK/repo" --tenant tenant_01 --json
    assert_eq 0 "$RC" "plan of a tenant restore ($ERR)"
    assert_eq '["tenant_01"]' "$(json_get "$OUT" '.units | tojson')" "the plan names the tenant alone"
    drop_db tn_x
    drop_db tn_src
}

# --- MariaDB: a database per tenant ------------------------------------

mdb_tenants() { # PORT: 20 tenant databases and a shared one
    mdb_reset "$1"
    local i db
    {
        echo "CREATE DATABASE shared; CREATE TABLE shared.plans (id INT PRIMARY KEY, name VARCHAR(20));"
        echo "INSERT INTO shared.plans VALUES (1, 'free'), (2, 'pro');"
        for i in $(seq -w 1 20); do
            db="tenant_$i"
            echo "CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;"
            echo "CREATE TABLE $db.users (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(40), note TEXT, payload BLOB, KEY (name)) ENGINE=InnoDB;"
            echo "INSERT INTO $db.users (name, note, payload) SELECT CONCAT('user ', seq), IF(seq % 4 = 0, NULL, CONCAT('a\\tb\\n', seq)), UNHEX(MD5(seq)) FROM $db.seq_1_to_$((30 + 10#$i));"
            echo "CREATE VIEW $db.busy AS SELECT COUNT(*) AS n FROM $db.users;"
            echo "CREATE TRIGGER $db.users_bi BEFORE INSERT ON $db.users FOR EACH ROW SET NEW.name = TRIM(NEW.name);"
        done
    } | mdb "$1"
}

test_mariadb_tenants_backup_and_restore_alone() {
    mdb_tenants "$MDB_A"
    mdb_reset "$MDB_B"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --tenant-pattern 'tenant_*' --json
    assert_eq 0 "$RC" "tenant backup ($ERR)"
    assert_eq 21 "$(json_get "$OUT" .units)" "20 tenants and the shared database"
    run_cairn show --repo "$WORK/repo" "$(json_get "$OUT" .id)" --json
    assert_eq 20 "$(json_get "$OUT" '[.units[] | select(.kind == "tenant")] | length')" "tenant units"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --jobs 3
    assert_eq 0 "$RC" "full restore ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"

    # one tenant restored alone into a server holding the others
    mdb "$MDB_B" -e "DELETE FROM tenant_05.users WHERE id > 3; UPDATE tenant_06.users SET name = 'kept';
                     INSERT INTO shared.plans VALUES (3, 'new')"
    local before; before=$(mdb_digest "$MDB_B" | grep -v '`tenant_05`' | grep -v '^database tenant_05')
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --tenant tenant_05
    assert_eq 1 "$RC" "a tenant database the target holds is refused without --clean"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --tenant tenant_05 --clean
    assert_eq 0 "$RC" "tenant restore with --clean ($ERR)"
    assert_eq "$(mdb_digest "$MDB_A" | grep -F '`tenant_05`')" "$(mdb_digest "$MDB_B" | grep -F '`tenant_05`')" "the tenant is as it was at the backup"
    assert_eq "$before" "$(mdb_digest "$MDB_B" | grep -v '`tenant_05`' | grep -v '^database tenant_05')" "every other database untouched"
    mdb_reset "$MDB_B"
}

# --- partial backups and --resume --------------------------------------

pg_role_without() { # DB ROLE SCHEMA: a backup role that may read every schema but one
    psql -X -q -d postgres -c "DROP ROLE IF EXISTS $2" 2>/dev/null || sql "$1" "DROP OWNED BY $2; DROP ROLE $2"
    psql -X -q -d postgres -c "CREATE ROLE $2 LOGIN REPLICATION PASSWORD 'pw'"
    sql "$1" "DO \$\$ DECLARE s text; BEGIN
        FOR s IN SELECT nspname FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema' AND nspname <> '$3' LOOP
            EXECUTE format('GRANT USAGE ON SCHEMA %I TO $2', s);
            EXECUTE format('GRANT SELECT ON ALL TABLES IN SCHEMA %I TO $2', s);
            EXECUTE format('GRANT SELECT ON ALL SEQUENCES IN SCHEMA %I TO $2', s);
        END LOOP; END \$\$"
}

test_pg_unreadable_tenant_is_partial_then_resumed() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    pg_role_without tn_src tn_bk tenant_13
    local src="postgresql://tn_bk@${PGHOST}:${PGPORT}/tn_src"
    PGPASSWORD=pw run_cairn backup --source "$src" --repo "$WORK/repo" --tenant-pattern 'tenant_*' --json
    assert_eq 3 "$RC" "a tenant the role cannot read gives exit 3 ($ERR)"
    assert_eq partial "$(json_get "$OUT" .status)" "status"
    assert_eq tenant_13 "$(json_get "$OUT" '.failed_units[0].name')" "the failed unit is named"
    assert_contains "$(json_get "$OUT" '.failed_units[0].error')" "permission denied" "and why"
    local id; id=$(json_get "$OUT" .id)
    run_cairn show --repo "$WORK/repo" "$id" --json
    assert_eq failed "$(json_get "$OUT" '.units[] | select(.name == "tenant_13") | .status')" "show: unit status"
    assert_contains "$(json_get "$OUT" '.units[] | select(.name == "tenant_13") | .error')" "permission denied" "show: unit error"
    assert_eq "$(json_get "$OUT" '[.units[].objects[].chunks[]] | length')" \
        "$(find "$WORK/repo/backups/$id/data" -type f | wc -l)" "no file of the failed unit is left"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq partial "$(json_get "$OUT" '.[0].status')" "list: partial"

    drop_db tn_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --backup "$id"
    assert_eq 6 "$RC" "a partial backup is not restored whole"
    assert_contains "$ERR" "partial" "says why"
    assert_contains "$ERR" "--resume" "hints at --resume"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --backup "$id" --tenant tenant_13
    assert_eq 6 "$RC" "the failed tenant cannot be restored from it"

    # the source moves on; the grant comes; the backup is completed
    sql tn_src "INSERT INTO tenant_02.users (name, plan) VALUES ('late', 2);
                UPDATE tenant_13.users SET note = 'changed' WHERE id <= 10;
                DELETE FROM tenant_20.events WHERE at % 2 = 0;
                INSERT INTO public.audit (what) VALUES ('between')"
    sql tn_src "GRANT USAGE ON SCHEMA tenant_13 TO tn_bk; GRANT SELECT ON ALL TABLES IN SCHEMA tenant_13 TO tn_bk;
                GRANT SELECT ON ALL SEQUENCES IN SCHEMA tenant_13 TO tn_bk"
    PGPASSWORD=pw run_cairn backup --source "$src" --repo "$WORK/repo" --resume "$id" --json
    assert_eq 0 "$RC" "resume ($ERR)"
    assert_eq complete "$(json_get "$OUT" .status)" "the same backup, complete"
    assert_eq "$id" "$(json_get "$OUT" .id)" "same id"
    PGPASSWORD=pw run_cairn backup --source "$src" --repo "$WORK/repo" --resume "$id"
    assert_eq 0 "$RC" "a second resume does no harm"
    assert_contains "$ERR" "nothing to resume" "and says so"
    assert_eq 1 "$(sql postgres "SELECT count(*) FROM pg_replication_slots WHERE slot_name LIKE 'cairn_$(echo "$id" | tr 'A-Z-' 'a-z_')%'")" "one slot left for the backup"

    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --jobs 3
    assert_eq 0 "$RC" "restore of the resumed backup ($ERR)"
    assert_same_database tn_src tn_dst
    drop_db tn_dst

    # increments go on from the resumed backup
    sql tn_src "INSERT INTO tenant_13.users (name, plan) VALUES ('after resume', 1)"
    PGPASSWORD=pw run_cairn backup --source "$src" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "an increment on the resumed backup ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)"
    assert_eq 0 "$RC" "restore of the chain ($ERR)"
    assert_same_database tn_src tn_dst
    drop_db tn_dst
    drop_db tn_src
    psql -X -q -d postgres -c "DROP ROLE tn_bk"
}

test_pg_failing_chunk_is_retried_then_fails_its_unit_alone() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    CAIRN_FAULT=chunk-fail:1 run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" \
        --tenant-pattern 'tenant_*' --jobs 1
    assert_eq 0 "$RC" "one failure is retried ($ERR)"
    assert_contains "$ERR" "trying again" "the retry is logged"
    CAIRN_FAULT=chunk-fail:4 run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" \
        --tenant-pattern 'tenant_*' --jobs 1 --json
    assert_eq 3 "$RC" "a chunk that keeps failing fails its unit ($ERR)"
    assert_eq 1 "$(json_get "$OUT" '.failed_units | length')" "one unit failed"
    assert_contains "$(json_get "$OUT" '.failed_units[0].error')" "injected failure" "with the error"
    local id; id=$(json_get "$OUT" .id)
    sql tn_src "UPDATE tenant_31.users SET name = name || '!' WHERE id % 3 = 0"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --resume "$id"
    assert_eq 0 "$RC" "resume ($ERR)"
    drop_db tn_dst
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_dst)" --backup "$id"
    assert_eq 0 "$RC" "restore ($ERR)"
    assert_same_database tn_src tn_dst
    drop_db tn_dst
    drop_db tn_src
}

test_mariadb_unreadable_tenant_is_partial_then_resumed() {
    mdb_tenants "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE TABLE shared.log (id INT PRIMARY KEY, what TEXT) ENGINE=Aria;
        INSERT INTO shared.log VALUES (1, 'before');
        DROP USER IF EXISTS tn_bk; CREATE USER tn_bk IDENTIFIED BY 'pw';
        GRANT RELOAD, PROCESS, BINLOG MONITOR, REPLICATION SLAVE, SHOW DATABASES ON *.* TO tn_bk;"
    local db
    for db in shared $(seq -f 'tenant_%02g' 1 20); do
        [ "$db" = tenant_07 ] && continue
        mdb "$MDB_A" -e "GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON \`$db\`.* TO tn_bk"
    done
    local src="mariadb://tn_bk:pw@127.0.0.1:$MDB_A/"
    run_cairn backup --source "$src" --repo "$WORK/repo" --tenant-pattern 'tenant_*' --json
    assert_eq 3 "$RC" "a database the user cannot read gives exit 3 ($ERR)"
    assert_eq tenant_07 "$(json_get "$OUT" '.failed_units[0].name')" "the failed unit is named"
    local id; id=$(json_get "$OUT" .id)
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --backup "$id" --tenant tenant_03
    assert_eq 0 "$RC" "a complete tenant of the partial backup restores ($ERR)"
    assert_eq "$(mdb_digest "$MDB_A" | grep -F '`tenant_03`')" "$(mdb_digest "$MDB_B" | grep -F '`tenant_03`')" "identical"
    mdb_reset "$MDB_B"

    # the source moves on (rows in a tenant, the shared database, an Aria
    # table and the failed tenant); the grant comes; the backup is completed
    mdb "$MDB_A" -e "INSERT INTO tenant_03.users (name, note) VALUES ('late', 'x');
        UPDATE tenant_07.users SET note = 'changed' WHERE id <= 10;
        DELETE FROM tenant_20.users WHERE id % 2 = 0;
        UPDATE shared.plans SET name = 'gold' WHERE id = 2; INSERT INTO shared.log VALUES (2, 'between');
        GRANT SELECT, SHOW VIEW, TRIGGER, EVENT, LOCK TABLES ON tenant_07.* TO tn_bk"
    run_cairn backup --source "$src" --repo "$WORK/repo" --resume "$id" --json
    assert_eq 0 "$RC" "resume ($ERR)"
    assert_eq complete "$(json_get "$OUT" .status)" "the same backup, complete"
    assert_eq "$id" "$(json_get "$OUT" .id)" "same id"
    run_cairn backup --source "$src" --repo "$WORK/repo" --resume "$id"
    assert_eq 0 "$RC" "a second resume does no harm"
    assert_contains "$ERR" "nothing to resume" "and says so"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --jobs 3
    assert_eq 0 "$RC" "restore of the resumed backup ($ERR)"
    assert_contains "$ERR" "through the log of resume 1" "the units dumped before catch up"
    assert_same_mariadb "$MDB_A" "$MDB_B"

    # increments go on from the resumed backup
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "INSERT INTO tenant_07.users (name) VALUES ('after resume')"
    run_cairn backup --source "$src" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "an increment on the resumed backup ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 0 "$RC" "restore of the chain ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"
    mdb "$MDB_A" -e "DROP USER tn_bk"
    mdb_reset "$MDB_B"
}

test_mariadb_resume_refuses_a_schema_change() {
    mdb_tenants "$MDB_A"
    CAIRN_FAULT=chunk-fail:4 run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" \
        --tenant-pattern 'tenant_*' --jobs 1 --json
    assert_eq 3 "$RC" "a chunk that keeps failing fails its unit ($ERR)"
    local id; id=$(json_get "$OUT" .id)
    mdb "$MDB_A" -e "ALTER TABLE tenant_11.users ADD COLUMN extra INT"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --resume "$id"
    assert_eq 6 "$RC" "a schema change between the two snapshots is refused ($ERR)"
    assert_contains "$ERR" "schema changed" "says why"
    run_cairn show --repo "$WORK/repo" "$id" --json
    assert_eq partial "$(json_get "$OUT" .status)" "the backup stays partial"
}

# A tenant brought back to a point in time through the increments, into a
# database holding the other tenants, which keep their own later changes.
test_pg_tenant_point_in_time_through_increments() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --tenant-pattern 'tenant_*'
    assert_eq 0 "$RC" "full ($ERR)"
    sql tn_src "INSERT INTO tenant_05.users (name, plan) VALUES ('kept 1', 1);
                UPDATE tenant_06.users SET name = 'other tenant' WHERE id < 4;
                SELECT setval('tenant_05.users_id_seq', 500)" >/dev/null
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 1 ($ERR)"
    sleep 1.1
    local good; good=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
    local want; want=$(pg_digest_of tn_src '^tenant_05\.')
    sleep 1.1
    sql tn_src "DELETE FROM tenant_05.events; DELETE FROM tenant_05.users WHERE id > 10"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 2 ($ERR)"

    # the live database lost tenant_05's rows; bring them back as of "good"
    local others; others=$(pg_digest_of tn_src -v '^tenant_05\.')
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_src)" --tenant tenant_05 --clean \
        --to-time "$good"
    assert_eq 0 "$RC" "tenant restore to a point in time ($ERR)"
    assert_eq "$want" "$(pg_digest_of tn_src '^tenant_05\.')" "the tenant as it was at that time"
    assert_eq "$others" "$(pg_digest_of tn_src -v '^tenant_05\.')" "the other tenants keep everything"
    assert_eq 0 "$(sql tn_src "SELECT count(*) FROM pg_namespace WHERE nspname = '_cairn_restore'")" "no progress record left"
    drop_db tn_src
}

# MariaDB: one tenant database brought back to a point in time through the
# binlog increments, on the server holding the other tenants.
test_mariadb_tenant_point_in_time_through_increments() {
    mdb_tenants "$MDB_A"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --tenant-pattern 'tenant_*'
    assert_eq 0 "$RC" "full ($ERR)"
    mdb "$MDB_A" -e "INSERT INTO tenant_05.users (name, note) VALUES ('kept', 'x');
                     UPDATE tenant_06.users SET name = 'other tenant' WHERE id < 4"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 1 ($ERR)"
    sleep 1.1
    local good; good=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    local want; want=$(mdb_digest "$MDB_A" | grep -F '`tenant_05`')
    sleep 1.1
    mdb "$MDB_A" -e "DELETE FROM tenant_05.users WHERE id > 10; UPDATE tenant_07.users SET note = 'later'"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 2 ($ERR)"
    local others; others=$(mdb_digest "$MDB_A" | grep -vF '`tenant_05`' | grep -v '^database tenant_05')
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_A")" --tenant tenant_05 --clean \
        --to-time "$good"
    assert_eq 0 "$RC" "tenant restore to a point in time ($ERR)"
    assert_eq "$want" "$(mdb_digest "$MDB_A" | grep -F '`tenant_05`')" "the tenant as it was at that time"
    assert_eq "$others" "$(mdb_digest "$MDB_A" | grep -vF '`tenant_05`' | grep -v '^database tenant_05')" "the other tenants keep everything"
    mdb_reset "$MDB_B"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --tenant tenant_06 --tenant tenant_07
    assert_eq 0 "$RC" "two tenants through the increments ($ERR)"
    assert_eq "$(mdb_digest "$MDB_A" | grep -F -e '`tenant_06`' -e '`tenant_07`')" \
        "$(mdb_digest "$MDB_B" | grep -F -e '`tenant_06`' -e '`tenant_07`')" "both at the chain's end"
    assert_eq "" "$(mdb "$MDB_B" -e "SHOW DATABASES LIKE 'tenant_05'")" "and nothing else"

    mdb_reset "$MDB_B"
}

# Account statements in the log are passed over; a schema change stops a
# replay of some tenants, whose database it may touch is not known.
test_mariadb_tenant_replay_passes_grants_stops_at_ddl() {
    mdb_tenants "$MDB_A"
    mdb_reset "$MDB_B"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --tenant-pattern 'tenant_*'
    assert_eq 0 "$RC" "full ($ERR)"
    mdb "$MDB_A" -e "CREATE USER IF NOT EXISTS tn_reader; GRANT SELECT ON tenant_06.* TO tn_reader;
                     UPDATE tenant_06.users SET note = 'after grant' WHERE id = 1;
                     UPDATE tenant_07.users SET note = 'not restored' WHERE id = 1;
                     UPDATE tenant_06.users, tenant_07.users SET tenant_06.users.name = 'both'
                       WHERE tenant_06.users.id = 2 AND tenant_07.users.id = 0"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 1 ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --tenant tenant_06
    assert_eq 0 "$RC" "a GRANT in the log does not stop a tenant restore ($ERR)"
    assert_contains "$ERR" "passing over administration statements" "and says it passed it over"
    assert_eq "$(mdb_digest "$MDB_A" | grep -F '`tenant_06`')" "$(mdb_digest "$MDB_B" | grep -F '`tenant_06`')" "the tenant at the chain's end"
    assert_eq "" "$(mdb "$MDB_B" -e "SELECT user FROM mysql.user WHERE user = 'tn_reader'")" "no account made on the target"

    mdb "$MDB_A" -e "UPDATE tenant_06.users, tenant_07.users SET tenant_06.users.name = 'both', tenant_07.users.name = 'both'
                       WHERE tenant_06.users.id = 3 AND tenant_07.users.id = 3"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 2 ($ERR)"
    assert_eq 1 "$(json_get "$(cd "$WORK" && "$CAIRN" list --repo "$WORK/repo" --json)" '.[-1].transactions')" "the increment counts its transaction"
    mdb_reset "$MDB_B"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --tenant tenant_06
    assert_eq 6 "$RC" "one statement changing a restored and another tenant stops it ($ERR)"
    assert_contains "$ERR" "keeps apart" "says why"
    mdb_reset "$MDB_B"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --tenant tenant_06 --tenant tenant_07
    assert_eq 0 "$RC" "restored together, they replay ($ERR)"
    assert_eq "both" "$(mdb "$MDB_B" -e "SELECT name FROM tenant_07.users WHERE id = 3")" "the change to both"

    mdb "$MDB_A" -e "ALTER TABLE tenant_09.users ADD COLUMN extra INT; DROP USER tn_reader"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 3 ($ERR)"
    mdb_reset "$MDB_B"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --tenant tenant_06 --tenant tenant_07
    assert_eq 6 "$RC" "a schema change in the replayed log stops a tenant restore ($ERR)"
    assert_contains "$ERR" "ALTER TABLE" "naming the statement"
    mdb_reset "$MDB_B"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 0 "$RC" "the whole chain replays ($ERR)"
    assert_same_mariadb "$MDB_A" "$MDB_B"
    mdb_reset "$MDB_B"
}

# restore --tenant X --as Y: the tenant beside itself, under a new name,
# from the full backup and to a point in time through the increments.
test_pg_tenant_restored_as_a_new_name() {
    new_db tn_src "$FIXTURES/pg_tenants.sql"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --tenant-pattern 'tenant_*' \
        --tenant-pattern 'Tenant*' --json
    assert_eq 0 "$RC" "full ($ERR)"
    local full; full=$(json_get "$OUT" .id)
    local at_full; at_full=$(pg_digest_of tn_src '^tenant_05\.' | sed 's/^tenant_05\./t5_copy./')
    local quoted; quoted=$(pg_digest_of tn_src '^"Tenant ""Q"""\.' | sed 's/^"Tenant ""Q"""\./"Q copy"./')
    sql tn_src "INSERT INTO tenant_05.users (name, plan) VALUES ('kept', 1);
                UPDATE tenant_06.users SET name = 'other' WHERE id < 4;
                TRUNCATE tenant_06.events"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 1 ($ERR)"
    sleep 1.1
    local good; good=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
    local want; want=$(pg_digest_of tn_src '^tenant_05\.' | sed 's/^tenant_05\./t5_then./')
    sleep 1.1
    sql tn_src "DELETE FROM tenant_05.events; DELETE FROM tenant_05.users WHERE id > 10"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 2 ($ERR)"

    # to a point in time, through the increments, beside the live tenant
    local live; live=$(content_digest tn_src)
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_src)" --tenant tenant_05 --as t5_then \
        --to-time "$good"
    assert_eq 0 "$RC" "a tenant as it was, under a new name ($ERR)"
    assert_contains "$ERR" "refers to" "what it refers to outside itself is reported"
    assert_contains "$ERR" "table public.plans" "the shared table its foreign key points at"
    assert_eq "$want" "$(pg_digest_of tn_src '^t5_then\.')" "the copy as the tenant was then"
    assert_eq "$live" "$(content_digest tn_src | grep -v '^t5_then\.')" "the live tenant and the others untouched"
    assert_eq 0 "$(sql postgres "SELECT count(*) FROM pg_database WHERE datname LIKE '\_cairn\_as\_%'")" "no scratch database left"

    # from the full backup alone
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_src)" --backup "$full" --tenant tenant_05 --as t5_copy
    assert_eq 0 "$RC" "restore as a new name ($ERR)"
    assert_eq "$at_full" "$(pg_digest_of tn_src '^t5_copy\.')" "the copy holds the tenant's rows and sequences"
    assert_eq "$(pg_dump -s -n tenant_05 tn_src | grep -v '^\\\(un\)\?restrict' | sed 's/tenant_05/t5_copy/g')" \
        "$(pg_dump -s -n t5_copy tn_src | grep -v '^\\\(un\)\?restrict')" "the copy's schema is the tenant's, renamed"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_src)" --backup "$full" --tenant tenant_05 --as t5_copy
    assert_eq 1 "$RC" "the new name taken is refused without --clean"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_src)" --backup "$full" \
        --tenant 'Tenant "Q"' --as 'Q copy' --clean
    assert_eq 0 "$RC" "a name that needs quoting ($ERR)"
    assert_eq "$quoted" "$(pg_digest_of tn_src '^"Q copy"\.')" "the quoted tenant's copy"

    # a target without the shared table the tenant refers to: refused, untouched
    new_db tn_x
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_x)" --backup "$full" --tenant tenant_05 --as t5
    assert_eq 1 "$RC" "a missing dependency is refused ($ERR)"
    assert_contains "$ERR" "lacks what tenant tenant_05 refers to" "says so"
    assert_contains "$ERR" "table public.plans" "naming it"
    assert_eq 0 "$(sql tn_x "SELECT count(*) FROM pg_namespace WHERE nspname = 't5'")" "nothing created"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_src)" --tenant tenant_05 --tenant tenant_06 --as t5
    assert_eq 2 "$RC" "--as takes one tenant"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_src)" --as t5
    assert_eq 2 "$RC" "--as needs --tenant"
    drop_db tn_x
    drop_db tn_src
}

# MariaDB: a tenant database under a new name, beside the original.
mdb_renamed() { # PORT DB NEWNAME: DB's digest with its name replaced, quotes dropped
    mdb_digest "$1" "$2" | sed "s/$2/$3/g" | tr -d '`'
}

test_mariadb_tenant_restored_as_a_new_name() {
    mdb_tenants "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE VIEW tenant_04.plan_names AS SELECT u.name, p.name AS plan FROM tenant_04.users u JOIN shared.plans p ON p.id = u.id % 2 + 1"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --tenant-pattern 'tenant_*' --json
    assert_eq 0 "$RC" "full ($ERR)"
    local full; full=$(json_get "$OUT" .id)
    local at_full; at_full=$(mdb_renamed "$MDB_A" tenant_05 t5_copy)
    mdb "$MDB_A" -e "INSERT INTO tenant_05.users (name, note) VALUES ('kept', 'x');
                     UPDATE tenant_06.users SET name = 'other tenant' WHERE id < 4"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 1 ($ERR)"
    sleep 1.1
    local good; good=$(date -u +%Y-%m-%dT%H:%M:%SZ)
    local want; want=$(mdb_renamed "$MDB_A" tenant_05 t5_then)
    sleep 1.1
    mdb "$MDB_A" -e "DELETE FROM tenant_05.users WHERE id > 10"
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "incr 2 ($ERR)"

    local live; live=$(mdb_digest "$MDB_A")
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_A")" --tenant tenant_05 --as t5_then \
        --to-time "$good"
    assert_eq 0 "$RC" "a tenant as it was, under a new name ($ERR)"
    assert_eq "$want" "$(mdb_digest "$MDB_A" t5_then | tr -d '`')" "the copy as the tenant was then: rows, view, trigger"
    assert_eq "$live" "$(mdb_digest "$MDB_A" | grep -v 't5_then')" "the live tenant and the others untouched"

    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_A")" --backup "$full" --tenant tenant_05 --as t5_copy
    assert_eq 0 "$RC" "from the full backup ($ERR)"
    assert_eq "$at_full" "$(mdb_digest "$MDB_A" t5_copy | tr -d '`')" "the copy as at the full backup"
    mdb "$MDB_A" -e "INSERT INTO t5_copy.users (name) VALUES ('  trimmed  ')"
    assert_eq "trimmed" "$(mdb "$MDB_A" -e "SELECT name FROM t5_copy.users ORDER BY id DESC LIMIT 1")" "the copy's trigger fires on the copy"
    assert_eq "$live" "$(mdb_digest "$MDB_A" | grep -v -e 't5_then' -e 't5_copy')" "the original untouched by the copy's trigger"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_A")" --backup "$full" --tenant tenant_05 --as t5_copy
    assert_eq 1 "$RC" "the new name taken is refused without --clean"

    # what a tenant refers to in another database must be on the target
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_B")" --backup "$full" --tenant tenant_04 --as t4
    assert_eq 1 "$RC" "a missing database it refers to is refused ($ERR)"
    assert_contains "$ERR" "lacks the databases tenant tenant_04 refers to: shared" "naming it"
    assert_eq "" "$(mdb "$MDB_B" -e "SHOW DATABASES LIKE 't4'")" "nothing created"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_A")" --backup "$full" --tenant tenant_04 --as t4
    assert_eq 0 "$RC" "with it there, the copy restores ($ERR)"
    assert_contains "$ERR" "refers to database outside it: shared" "and says what it refers to"
    assert_eq "$(mdb "$MDB_A" -e "SELECT * FROM tenant_04.plan_names ORDER BY 1")" \
        "$(mdb "$MDB_A" -e "SELECT * FROM t4.plan_names ORDER BY 1")" "the view reads the copy and the shared table"
    run_cairn restore --repo "$WORK/repo" --target "$(muri "$MDB_A")" --tenant tenant_05 --as tenant_06
    assert_eq 1 "$RC" "a name another tenant has is refused without --clean"
    mdb_reset "$MDB_A"
}
