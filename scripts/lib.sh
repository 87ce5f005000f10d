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
