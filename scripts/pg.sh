#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests, the demo and benchmarks.
#
#   scripts/pg.sh start DIR [PORT]   initdb in DIR, start on 127.0.0.1:PORT
#   scripts/pg.sh stop DIR           stop it and remove DIR
#
# The cluster runs as the "postgres" user when started as root (the server
# refuses root), with wal_level=logical, a superuser "cairn" (password
# "cairn") and password authentication on TCP.  DIR/env holds the settings
# to source: PGHOST PGPORT PGUSER PGPASSWORD CAIRN_PG_URI_BASE.
set -euo pipefail

cmd=${1:?usage: pg.sh start|stop DIR [PORT]}
dir=${2:?usage: pg.sh start|stop DIR [PORT]}

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -x "$bindir/pg_ctl" ] || { echo "pg.sh: no PostgreSQL server found; run scripts/deps.sh" >&2; exit 1; }

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

case "$cmd" in
start)
    port=${3:-}
    [ -n "$port" ] || port=$(free_port)
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    pwfile="$dir/pw"
    echo cairn > "$pwfile"
    [ "$(id -u)" -eq 0 ] && chown postgres: "$pwfile"
    as_owner "$bindir/initdb" -D "$dir/data" -U cairn --pwfile="$pwfile" -A scram-sha-256 \
        --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; exit 1; }
    rm -f "$pwfile"
    make_tls "$dir" postgres
    # a role that may only come over TLS, for the tests of it
    { printf 'hostssl all tls_only 127.0.0.1/32 scram-sha-256\nhost all tls_only 127.0.0.1/32 reject\n'
      cat "$dir/data/pg_hba.conf"; } > "$dir/hba.new"
    mv "$dir/hba.new" "$dir/data/pg_hba.conf"
    [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/data/pg_hba.conf"
    cat >> "$dir/data/postgresql.conf" <<CONF
ssl = on
ssl_cert_file = '$dir/tls/server.crt'
ssl_key_file = '$dir/tls/server.key'
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
wal_level = logical
max_replication_slots = 32
max_wal_senders = 32
max_connections = 100
fsync = ${CAIRN_PG_FSYNC:-off}
synchronous_commit = off
full_page_writes = off
shared_buffers = ${CAIRN_PG_SHARED_BUFFERS:-256MB}
maintenance_work_mem = 256MB
max_locks_per_transaction = ${CAIRN_PG_MAX_LOCKS:-64}
max_wal_size = 4GB
log_min_messages = warning
CONF
    # a port can be taken between the check and the bind: try another
    for attempt in 1 2 3 4 5; do
        as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start >/dev/null \
            && break
        if [ "$attempt" -lt 5 ] && [ -z "${3:-}" ] && grep -q "already in use" "$dir/server.log"; then
            port=$(free_port)
            sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
            continue
        fi
        cat "$dir/server.log" >&2
        exit 1
    done
    cat > "$dir/env" <<ENV
export PGHOST=127.0.0.1
export PGPORT=$port
export PGUSER=cairn
export PGPASSWORD=cairn
export PGDATABASE=postgres
export CAIRN_PG_BINDIR=$bindir
export CAIRN_PG_URI_BASE=postgresql://cairn@127.0.0.1:$port
export CAIRN_PG_DIR=$dir
export CAIRN_PG_TLS_CA=$dir/tls/ca.crt
ENV
    chmod 644 "$dir/env"
    echo "$dir/env"
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: pg.sh start|stop DIR [PORT]" >&2
    exit 2
    ;;
esac
