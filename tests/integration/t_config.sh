# The configuration file: a section per source, [defaults] for all;
# the command line overrides it; secrets are refused.

test_config_file_values_are_used_and_overridden() {
    new_db cf
    sql cf "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1)"
    cat > "$WORK/cairn.conf" <<CONF
# comments and blank lines are fine
[defaults]
jobs = 1
quiet = true

[shop]
source = $(uri cf)
repo = $WORK/repo
tag = from-config
json = yes
target = $CAIRN_PG_URI_BASE/cf_restored
CONF
    run_cairn backup --config "$WORK/cairn.conf" --source shop
    assert_eq 0 "$RC" "backup from the file's section ($ERR)"
    assert_eq from-config "$(json_get "$OUT" .tag)" "tag from the file"
    assert_eq "" "$ERR" "quiet from [defaults]"
    assert_eq 1 "$(jq .jobs "$WORK/repo/backups/$(json_get "$OUT" .id)/manifest.json")" \
        "jobs from [defaults]"
    run_cairn backup --config "$WORK/cairn.conf" --source shop --tag from-cli --jobs 2
    assert_eq 0 "$RC" "second backup ($ERR)"
    assert_eq from-cli "$(json_get "$OUT" .tag)" "the command line wins"
    assert_eq 2 "$(jq .jobs "$WORK/repo/backups/$(json_get "$OUT" .id)/manifest.json")" \
        "--jobs overrides [defaults]"
    # restore takes repo and target from the same section, and no --source
    drop_db cf_restored
    CAIRN_CONFIG="$WORK/cairn.conf" run_cairn restore --source shop --backup from-config
    assert_eq 0 "$RC" "restore through \$CAIRN_CONFIG ($ERR)"
    assert_eq 1 "$(sql cf_restored "SELECT count(*) FROM t")" "restored where the file says"
    drop_db cf_restored
    # a key some verbs take and others do not (jobs: verify yes, list no)
    run_cairn verify --config "$WORK/cairn.conf" --source shop
    assert_eq 0 "$RC" "verify with jobs from [defaults] ($ERR)"
    run_cairn list --config "$WORK/cairn.conf" --source shop
    assert_eq 0 "$RC" "list skips the jobs key ($ERR)"

    # errors: one line each, exit 2
    run_cairn list --config "$WORK/cairn.conf" --source nosuch
    assert_eq 2 "$RC" "an unknown section"
    assert_contains "$ERR" "neither a URI nor a section" "says so"
    run_cairn list --config "$WORK/missing.conf" --repo "$WORK/repo"
    assert_eq 2 "$RC" "a missing configuration file"
    assert_contains "$ERR" "cannot read the configuration file" "says so"
    printf '[shop]\nsource = postgresql://u:hunter2@h/db\n' > "$WORK/secret.conf"
    run_cairn list --config "$WORK/secret.conf" --source shop --repo "$WORK/repo"
    assert_eq 2 "$RC" "a password in the file"
    assert_contains "$ERR" "secrets do not belong" "says why"
    assert_not_contains "$ERR" "hunter2" "without repeating it"
    printf '[shop]\nthis is not ini\n' > "$WORK/broken.conf"
    run_cairn list --config "$WORK/broken.conf" --repo "$WORK/repo"
    assert_eq 2 "$RC" "a malformed file"
    assert_contains "$ERR" "broken.conf:2" "names the line"
    printf '[defaults]\njson = maybe\n' > "$WORK/flag.conf"
    run_cairn list --config "$WORK/flag.conf" --repo "$WORK/repo"
    assert_eq 2 "$RC" "a flag that is neither true nor false"
    drop_db cf
}
