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
    sql tn_src "INSERT INTO tenant_01.users (name) VALUES ('later')"
    run_cairn backup --source "$(uri tn_src)" --repo "$WORK/repo" --type incr
    assert_eq 0 "$RC" "an increment on a tenant backup ($ERR)"
    run_cairn restore --repo "$WORK/repo" --target "$(uri tn_x)" --tenant tenant_01
    assert_eq 2 "$RC" "a tenant restore of a chain with increments is refused"
    assert_contains "$ERR" "--backup" "hints at the full backup"
    run_cairn plan --repo "$WORK/repo" --backup "$(json_get "$("$CAIRN" list --repo "$WORK/repo" --json)" '.[0].id')" --tenant tenant_01 --json
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
