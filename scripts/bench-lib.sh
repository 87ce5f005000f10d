# Shared by the benchmark scripts: timing with peak memory, best of
# $repeat runs, results kept in $results as "NAME seconds peak_kib".
: "${tmp:?}" "${repeat:?}"
results="$tmp/results"
: > "$results"

# measure NAME SETUP-FUNCTION CMD...
measure() {
    local name=$1 setup=$2; shift 2
    local best="" mem=""
    for _ in $(seq 1 "$repeat"); do
        $setup
        /usr/bin/time -f '%e %M' "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
        local out s m
        out=$(tail -n 1 "$tmp/err")
        s=${out% *} m=${out#* }
        if [ -z "$best" ] || awk "BEGIN{exit !($s < $best)}"; then best=$s; fi
        if [ -z "$mem" ] || [ "$m" -gt "$mem" ]; then mem=$m; fi
    done
    echo "$name $best $mem" >> "$results"
    printf '  %-34s %8.2f s  %8d KiB peak\n' "$name" "$best" "$mem"
}
record() { echo "$1 $2 0" >> "$results"; } # NAME VALUE
size_of() { du -sb "$1" | cut -f1; }
get() { awk -v n="$1" '$1 == n {print $2}' "$results"; }
mem() { awk -v n="$1" '$1 == n {print $3}' "$results"; }
ratio() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }
mib() { awk "BEGIN{printf \"%.1f\", $1 / 1048576}"; }
need_time() {
    command -v /usr/bin/time >/dev/null && return
    local sudo=""
    [ "$(id -u)" -ne 0 ] && sudo=sudo
    $sudo apt-get install -y -qq time >/dev/null
}
