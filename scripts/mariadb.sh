#!/usr/bin/env bash
# A throwaway MariaDB server for tests, the demo and benchmarks.
#
#   scripts/mariadb.sh start DIR [PORT] [SERVER_ID]   install a data directory in DIR, start
#                                                     on 127.0.0.1:PORT
#   scripts/mariadb.sh stop DIR                       stop it and remove DIR
#
# Runs as the "mysql" user when started as root, with the binary log on
# (binlog_format=ROW, full row images; CAIRN_MARIADB_BINLOG=off leaves it off) and a user "cairn" (password "cairn")
# with every privilege.  DIR/env holds the settings to source:
# CAIRN_MARIADB_URI_BASE, CAIRN_MARIADB_PORT, CAIRN_MARIADB_SOCKET.
set -euo pipefail

cmd=${1:?usage: mariadb.sh start|stop DIR [PORT] [SERVER_ID]}
dir=${2:?usage: mariadb.sh start|stop DIR [PORT] [SERVER_ID]}

# shellcheck source=lib.sh
. "$(dirname "$0")/lib.sh"

case "$cmd" in
start)
    port=${3:-}
    [ -n "$port" ] || port=$(free_port)
    server_id=${4:-$((1 + RANDOM % 1000))}
    mkdir -p "$dir/data" "$dir/binlog" "$dir/tmp"
    owner=$(id -un)
    if [ "$(id -u)" -eq 0 ]; then owner=mysql; chown -R mysql: "$dir"; fi
    chmod 755 "$dir"
    make_tls "$dir" "$owner"
    cat > "$dir/my.cnf" <<CNF
[mariadbd]
datadir = $dir/data
socket = $dir/mariadb.sock
pid-file = $dir/mariadb.pid
log-error = $dir/error.log
tmpdir = $dir/tmp
port = $port
bind-address = 127.0.0.1
user = $owner
server-id = $server_id
$( [ "${CAIRN_MARIADB_BINLOG:-on}" = off ] && echo "skip-log-bin" || printf 'log-bin = %s\nbinlog-format = ROW\nbinlog-row-image = FULL' "$dir/binlog/mysql-bin")
local-infile = 1
ssl-ca = $dir/tls/ca.crt
ssl-cert = $dir/tls/server.crt
ssl-key = $dir/tls/server.key
skip-name-resolve
innodb-buffer-pool-size = ${CAIRN_MARIADB_BUFFER_POOL:-256M}
innodb-log-file-size = 256M
innodb-flush-log-at-trx-commit = ${CAIRN_MARIADB_FLUSH:-2}
max-connections = 200
character-set-server = utf8mb4
collation-server = utf8mb4_general_ci
CNF
    chmod 644 "$dir/my.cnf"
    mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=socket \
        >"$dir/install.log" 2>&1 || { cat "$dir/install.log" >&2; exit 1; }
    # exec: the server itself gets the redirections, so no shell of ours
    # keeps a caller's pipe open (this script runs inside $(...))
    (cd / && exec mariadbd --defaults-file="$dir/my.cnf" </dev/null >/dev/null 2>&1) &
    for _ in $(seq 1 120); do
        mariadb-admin --no-defaults --socket="$dir/mariadb.sock" -uroot ping >/dev/null 2>&1 && break
        sleep 0.25
    done
    mariadb-admin --no-defaults --socket="$dir/mariadb.sock" -uroot ping >/dev/null 2>&1 \
        || { cat "$dir/error.log" >&2; exit 1; }
    mariadb --no-defaults --socket="$dir/mariadb.sock" -uroot <<SQL
DROP DATABASE IF EXISTS test;
CREATE USER 'cairn'@'%' IDENTIFIED BY 'cairn';
GRANT ALL PRIVILEGES ON *.* TO 'cairn'@'%' WITH GRANT OPTION;
CREATE USER 'cairn'@'localhost' IDENTIFIED BY 'cairn';
GRANT ALL PRIVILEGES ON *.* TO 'cairn'@'localhost' WITH GRANT OPTION;
SQL
    cat > "$dir/env" <<ENV
export CAIRN_MARIADB_PORT=$port
export CAIRN_MARIADB_SOCKET=$dir/mariadb.sock
export CAIRN_MARIADB_URI_BASE=mariadb://cairn:cairn@127.0.0.1:$port
export CAIRN_MARIADB_DIR=$dir
export CAIRN_MARIADB_TLS_CA=$dir/tls/ca.crt
ENV
    chmod 644 "$dir/env"
    echo "$dir/env"
    ;;
stop)
    if [ -f "$dir/mariadb.pid" ]; then
        pid=$(cat "$dir/mariadb.pid")
        kill "$pid" 2>/dev/null || true
        for _ in $(seq 1 120); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -rf "$dir"
    ;;
*)
    echo "usage: mariadb.sh start|stop DIR [PORT] [SERVER_ID]" >&2
    exit 2
    ;;
esac
