# cmake --install: the binary, the man page and the systemd units; the man
# page and --help describe every verb there is.

test_install_puts_binary_man_page_and_units_in_place() {
    local build
    build=$(dirname "$CAIRN")
    cmake --install "$build" --prefix "$WORK/inst" >/dev/null
    [ -x "$WORK/inst/bin/cairn" ] || fail "the binary is installed"
    [ -f "$WORK/inst/share/man/man1/cairn.1" ] || fail "the man page is installed"
    local unit
    for unit in full incr drill; do
        [ -f "$WORK/inst/lib/systemd/system/cairn-$unit@.service" ] || fail "cairn-$unit@.service"
        [ -f "$WORK/inst/lib/systemd/system/cairn-$unit@.timer" ] || fail "cairn-$unit@.timer"
        grep -q "^ExecStart=/.*/cairn " "$WORK/inst/lib/systemd/system/cairn-$unit@.service" ||
            fail "cairn-$unit@.service runs the installed binary"
    done
    # every verb --help lists has its section in the man page and its own --help
    local verbs verb
    verbs=$("$WORK/inst/bin/cairn" --help | awk '/^  [a-z]+  / {print $1}')
    [ "$(echo "$verbs" | wc -l)" -ge 11 ] || fail "verbs listed: $verbs"
    for verb in $verbs; do
        grep -q "^\.B $verb" "$ROOT/docs/cairn.1" || fail "the man page lacks $verb"
        "$CAIRN" "$verb" --help | grep -q "^usage: cairn $verb" || fail "$verb --help"
    done
}
