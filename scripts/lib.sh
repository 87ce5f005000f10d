# Shared by the server scripts (sourced).

# A random loopback port nobody listens on, below the kernel's range of
# ephemeral ports: a port in that range can be taken at any moment by the
# local end of some client connection, and a server then fails to bind it.
free_port() {
    local port="" low=32768
    read -r low _ < /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
    [ "$low" -gt 12000 ] || low=32768
    while [ -z "$port" ]; do
        port=$((10000 + RANDOM % (low - 10000)))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && port=""
    done
    echo "$port"
}

# A throwaway certificate authority and a server certificate for 127.0.0.1,
# so the test servers speak TLS:  make_tls DIR OWNER  writes DIR/tls/ca.crt,
# server.crt and server.key (the key readable by OWNER alone).
make_tls() {
    local tls="$1/tls" owner=$2
    mkdir -p "$tls"
    openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=cairn test CA" \
        -keyout "$tls/ca.key" -out "$tls/ca.crt" >/dev/null 2>&1
    openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
        -keyout "$tls/server.key" -out "$tls/server.csr" >/dev/null 2>&1
    printf 'subjectAltName = IP:127.0.0.1\n' > "$tls/ext"
    openssl x509 -req -in "$tls/server.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" \
        -CAcreateserial -days 2 -extfile "$tls/ext" -out "$tls/server.crt" >/dev/null 2>&1
    rm -f "$tls/ca.key" "$tls/server.csr" "$tls/ext" "$tls/ca.srl"
    chmod 755 "$tls"
    chmod 644 "$tls/ca.crt" "$tls/server.crt"
    chmod 600 "$tls/server.key"
    [ "$(id -u)" -ne 0 ] || chown "$owner": "$tls/server.key" "$tls/server.crt"
}
