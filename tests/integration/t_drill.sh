# Restore drills: a backup restored into scratch databases, every table
# checked against the content digest the backup recorded, the RTO measured
# and recorded in the repository.

# Replaces chunk CHUNK of object NAME in backup TO by the file and checksums
# of the same chunk in backup FROM: every checksum still holds.
swap_chunk_from() { # REPO FROM TO NAME
    local repo=$1 from=$2 to=$3 name=$4 chunk path
    chunk=$(jq -c --arg n "$name" '[.units[].objects[] | select(.name == $n)][0].chunks[0]
                                   | {raw_bytes, raw_sha256, stored_bytes, stored_sha256}' \
            "$repo/backups/$from/manifest.json")
    path=$(jq -r --arg n "$name" '[.units[].objects[] | select(.name == $n)][0].chunks[0].path' \
           "$repo/backups/$to/manifest.json")
    chmod -R u+w "$repo/backups/$to"
    cp "$repo/backups/$from/$path" "$repo/backups/$to/$path"
    jq --arg n "$name" --argjson c "$chunk" \
       '(.units[].objects[] | select(.name == $n) | .chunks[0]) += $c' \
       "$repo/backups/$to/manifest.json" > "$WORK/manifest.new"
    cat "$WORK/manifest.new" > "$repo/backups/$to/manifest.json"
}

test_drill_passes_checks_every_table_and_is_recorded() {
    new_db dr "$FIXTURES/pg_fidelity.sql"
    sql dr "CREATE TABLE later (id int PRIMARY KEY, v text)"
    run_cairn backup --source "$(uri dr)" --repo "$WORK/repo" --jobs 2
    assert_eq 0 "$RC" "full backup ($ERR)"
    sql dr "INSERT INTO later VALUES (1, 'one')"
    run_cairn backup --type incr --source "$(uri dr)" --repo "$WORK/repo"
    assert_eq 0 "$RC" "increment ($ERR)"

    # the full backup alone, then the chain, into scratch databases
    local full
    full=$("$CAIRN" list --repo "$WORK/repo" --json | jq -r ".[0].id")
    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --backup "$full" --json
    assert_eq 0 "$RC" "drill of the full backup ($ERR)"
    assert_eq true "$(json_get "$OUT" .passed)" "passed"
    local n
    n=$(json_get "$OUT" '.tables | length')
    [ "$n" -ge 5 ] || fail "the drill checked $n tables"
    assert_eq "$n" "$(json_get "$OUT" '[.tables[] | select(.content == "match")] | length')" \
        "every table's content digest matched"
    assert_eq "$(sql dr "SELECT count(*) FROM keyless")" \
        "$(json_get "$OUT" '.tables[] | select(.name == "keyless") | .rows')" \
        "row count read back"
    json_get "$OUT" .rto_seconds | grep -Eq '^[0-9.e-]+$' || fail "rto_seconds is a number"
    assert_eq "" "$(sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'cairn_drill_%'")" \
        "the scratch database is dropped"

    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --keep
    assert_eq 0 "$RC" "drill of the chain ($ERR)"
    assert_contains "$OUT" "passed: RTO" "summary"
    assert_contains "$OUT" "and its increments" "the increment replayed"
    local scratch
    scratch=$(sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'cairn_drill_%'")
    [ -n "$scratch" ] || fail "--keep leaves the scratch database"
    assert_eq "1|one" "$(sql "$scratch" "SELECT * FROM later")" "the increment's table is there"
    # a scratch database left behind is replaced by the next drill
    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/"
    assert_eq 0 "$RC" "a drill over a kept scratch database ($ERR)"
    assert_eq "" "$(sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'cairn_drill_%'")" \
        "and it is dropped"

    # a database named by the target is restored into and kept
    drop_db dr_copy
    run_cairn drill --repo "$WORK/repo" --target "$(uri dr_copy)" --backup "$full"
    assert_eq 0 "$RC" "drill into a named database ($ERR)"
    assert_eq "$(content_digest dr_copy | grep -v later)" "$(content_digest dr | grep -v later)" \
        "named database kept, same content"
    drop_db dr_copy

    # recorded: list shows the last drill
    run_cairn list --repo "$WORK/repo"
    assert_contains "$OUT" "last drill" "list mentions the last drill"
    run_cairn list --repo "$WORK/repo" --json
    assert_eq 4 "$(ls "$WORK/repo/drills" | wc -l)" "four drill records"
    drop_db dr
}

test_drill_fails_on_a_chunk_swapped_between_backups() {
    new_db sw
    sql sw "CREATE TABLE a (id int PRIMARY KEY, v text);
            INSERT INTO a SELECT g, 'value ' || g FROM generate_series(1, 2000) g;
            CREATE TABLE b (id int PRIMARY KEY, v text); INSERT INTO b VALUES (1, 'b')"
    run_cairn backup --source "$(uri sw)" --repo "$WORK/repo" --json
    local one two
    one=$(json_get "$OUT" .id)
    sql sw "UPDATE a SET v = 'changed' WHERE id = 77"
    run_cairn backup --source "$(uri sw)" --repo "$WORK/repo" --json
    two=$(json_get "$OUT" .id)
    assert_eq 0 "$RC" "second backup ($ERR)"
    # the second backup gets the first one's file for table a, checksums and all
    swap_chunk_from "$WORK/repo" "$one" "$two" a
    run_cairn verify --repo "$WORK/repo" --backup "$two"
    assert_eq 0 "$RC" "every checksum still holds ($ERR)"

    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --backup "$two" --json
    assert_eq 4 "$RC" "the drill fails with exit 4"
    assert_eq false "$(json_get "$OUT" .passed)" "passed is false"
    assert_eq differs "$(json_get "$OUT" '.tables[] | select(.name == "a") | .content')" \
        "table a's content differs"
    assert_eq match "$(json_get "$OUT" '.tables[] | select(.name == "b") | .content')" \
        "table b still matches"
    assert_contains "$ERR" "table public.a" "the error names the table"
    assert_eq "" "$(sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'cairn_drill_%'")" \
        "scratch dropped after a failed drill"
    run_cairn list --repo "$WORK/repo"
    assert_contains "$OUT" "FAILED" "list shows the failed drill"
    drop_db sw
}

test_drill_of_several_databases() {
    new_db dra
    new_db drb
    sql dra "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a SELECT generate_series(1, 100)"
    sql drb "CREATE TABLE b (id int PRIMARY KEY); INSERT INTO b SELECT generate_series(1, 50);
             CREATE SEQUENCE s; SELECT nextval('s')" >/dev/null
    run_cairn backup --source "$CAIRN_PG_URI_BASE/" --database dra --database drb --repo "$WORK/repo"
    assert_eq 0 "$RC" "backup of two databases ($ERR)"
    sql drb "INSERT INTO b VALUES (51); SELECT nextval('s')" >/dev/null
    run_cairn backup --type incr --source "$CAIRN_PG_URI_BASE/" --database dra --database drb \
        --repo "$WORK/repo"
    assert_eq 0 "$RC" "increment ($ERR)"
    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --json
    assert_eq 0 "$RC" "drill of both databases ($ERR)"
    assert_eq "dra drb" "$(json_get "$OUT" '[.tables[].database] | sort | join(" ")')" \
        "a table of each database checked"
    assert_eq 2 "$(json_get "$OUT" '.sequences[] | select(.name == "s") | .expected')" \
        "the sequence as of the increment"
    assert_eq true "$(json_get "$OUT" .passed)" "passed"
    assert_eq "" "$(sql postgres "SELECT datname FROM pg_database WHERE datname LIKE 'cairn_drill_%'")" \
        "both scratch databases dropped"
    run_cairn drill --repo "$WORK/repo" --target "$(uri somedb)"
    assert_eq 2 "$RC" "a target naming one database for a backup of two"
    drop_db dra
    drop_db drb
}

test_drill_refuses_bad_input() {
    new_db dbad
    sql dbad "CREATE TABLE t (v int)"
    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/"
    assert_eq 1 "$RC" "no repository"
    run_cairn backup --source "$(uri dbad)" --repo "$WORK/repo"
    run_cairn drill --repo "$WORK/repo"
    assert_eq 2 "$RC" "--target is required"
    assert_contains "$ERR" "--target" "says so"
    run_cairn drill --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_eq 2 "$RC" "a MariaDB target for a PostgreSQL backup"
    assert_contains "$ERR" "postgresql" "names the kinds"
    run_cairn drill --repo "$WORK/repo" --target "$CAIRN_PG_URI_BASE/" --backup nope
    assert_ne 0 "$RC" "an unknown backup"
    drop_db dbad
}

test_mariadb_drill_passes_then_fails_on_mixed_up_chunks() {
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
    mdb "$MDB_A" -e "CREATE DATABASE dri;
        CREATE TABLE dri.t1 (id INT PRIMARY KEY, v VARCHAR(20));
        CREATE TABLE dri.t2 (id INT PRIMARY KEY, v VARCHAR(20));
        INSERT INTO dri.t1 SELECT seq, CONCAT('one ', seq) FROM dri.seq_1_to_500;
        INSERT INTO dri.t2 SELECT seq, CONCAT('two ', seq) FROM dri.seq_1_to_500;
        CREATE TABLE dri.n (x INT, y TEXT); INSERT INTO dri.n VALUES (1, NULL), (1, NULL), (2, 'NULL');
        CREATE SEQUENCE dri.s; SELECT NEXTVAL(dri.s);" >/dev/null
    run_cairn backup --source "$(muri "$MDB_A")" --repo "$WORK/repo" --json
    assert_eq 0 "$RC" "backup ($ERR)"
    local id
    id=$(json_get "$OUT" .id)
    run_cairn drill --repo "$WORK/repo" --target "$(muri "$MDB_B")" --json
    assert_eq 0 "$RC" "drill ($ERR)"
    assert_eq 3 "$(json_get "$OUT" '[.tables[] | select(.content == "match")] | length')" \
        "three tables matched"
    assert_eq "" "$(mdb "$MDB_B" -e "SHOW DATABASES LIKE 'dri'")" "the drill's databases are dropped"

    # an increment: the tables are checked as of the full backup, the
    # sequences after the replay (MariaDB's cache may put them ahead)
    mdb "$MDB_A" -e "INSERT INTO dri.t1 VALUES (1000, 'late'); SELECT NEXTVAL(dri.s);" >/dev/null
    run_cairn backup --type incr --source "$(muri "$MDB_A")" --repo "$WORK/repo"
    assert_eq 0 "$RC" "increment ($ERR)"
    run_cairn drill --repo "$WORK/repo" --target "$(muri "$MDB_B")" --keep --json
    assert_eq 0 "$RC" "drill of the chain ($ERR)"
    assert_eq 1 "$(json_get "$OUT" .increments)" "one increment replayed"
    assert_eq late "$(mdb "$MDB_B" -e "SELECT v FROM dri.t1 WHERE id = 1000")" "its change is there"
    mdb_reset "$MDB_B"

    # the target already holds the database: refused, and left alone
    mdb "$MDB_B" -e "CREATE DATABASE dri; CREATE TABLE dri.mine (v INT)"
    run_cairn drill --repo "$WORK/repo" --target "$(muri "$MDB_B")"
    assert_ne 0 "$RC" "a target holding the database"
    assert_contains "$ERR" "already holds" "says why"
    assert_eq mine "$(mdb "$MDB_B" -e "SHOW TABLES FROM dri")" "and leaves it alone"
    mdb_reset "$MDB_B"

    # the manifest points t1's chunk at t2's file and back: checksums hold
    local m="$WORK/repo/backups/$id/manifest.json"
    chmod -R u+w "$WORK/repo/backups/$id"
    jq '[.units[].objects[] | select(.name == "t1" or .name == "t2") | .chunks[0]
         | {path, raw_bytes, raw_sha256, stored_bytes, stored_sha256}] as $c
        | (.units[].objects[] | select(.name == "t1") | .chunks[0]) += $c[1]
        | (.units[].objects[] | select(.name == "t2") | .chunks[0]) += $c[0]' \
        "$m" > "$WORK/m.json"
    cat "$WORK/m.json" > "$m"
    run_cairn verify --repo "$WORK/repo"
    assert_eq 0 "$RC" "checksums hold ($ERR)"
    run_cairn drill --repo "$WORK/repo" --target "$(muri "$MDB_B")" --backup "$id"
    assert_eq 4 "$RC" "the drill fails"
    assert_contains "$OUT" "FAIL dri.t1" "t1 named"
    assert_contains "$OUT" "FAIL dri.t2" "t2 named"
    assert_contains "$OUT" "ok   dri.n" "n passed"
    mdb_reset "$MDB_A"
    mdb_reset "$MDB_B"
}
