# Shared by the server scripts (sourced).

# A random loopback port nobody listens on.
free_port() {
    local port=""
    while [ -z "$port" ]; do
        port=$((20000 + RANDOM % 20000))
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && port=""
    done
    echo "$port"
}
