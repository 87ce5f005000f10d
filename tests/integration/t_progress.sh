# Progress: a status line redrawn in place on a terminal (stderr), plain
# log lines otherwise, nothing with --quiet; never on stdout.

# Runs cairn under a pseudo-terminal; its output (stdout and stderr, as
# the terminal saw them) in TTY_OUT.
run_cairn_tty() {
    local cmd="" a
    for a in "$CAIRN" "$@"; do cmd+="$(printf '%q ' "$a")"; done
    TTY_OUT=$(TERM=xterm script -qec "$cmd" /dev/null 2>&1)
    RC=$?
}

test_progress_on_a_terminal_and_not_otherwise() {
    new_db pr
    sql pr "CREATE TABLE big (id int PRIMARY KEY, v text);
            INSERT INTO big SELECT g, repeat('p', 200) FROM generate_series(1, 200000) g"
    local esc=$'\033[K'
    run_cairn_tty backup --source "$(uri pr)" --repo "$WORK/repo" --chunk-size 4M
    assert_eq 0 "$RC" "backup under a terminal"
    assert_contains "$TTY_OUT" "$esc" "the status line is redrawn in place"
    assert_contains "$TTY_OUT" "backup " "it names the work"
    assert_contains "$TTY_OUT" " chunks" "and counts chunks"
    assert_contains "$TTY_OUT" "ETA" "with an ETA"

    run_cairn backup --source "$(uri pr)" --repo "$WORK/repo" --chunk-size 4M --json
    assert_eq 0 "$RC" "backup without a terminal"
    assert_not_contains "$ERR" "$esc" "no terminal control on a plain stderr"
    assert_not_contains "$ERR" "ETA" "no status line"
    assert_not_contains "$OUT" "ETA" "never on stdout"
    json_get "$OUT" .id >/dev/null || fail "stdout is one JSON document"

    run_cairn_tty backup --source "$(uri pr)" --repo "$WORK/repo" --chunk-size 4M --quiet
    assert_eq 0 "$RC" "quiet backup"
    assert_not_contains "$TTY_OUT" "ETA" "--quiet shows no progress"

    drop_db pr_back
    run_cairn_tty restore --repo "$WORK/repo" --target "$(uri pr_back)"
    assert_eq 0 "$RC" "restore under a terminal"
    assert_contains "$TTY_OUT" "restore " "restore progress"
    assert_contains "$TTY_OUT" "$esc" "redrawn in place"
    assert_same_database pr pr_back
    drop_db pr_back
    drop_db pr
}
