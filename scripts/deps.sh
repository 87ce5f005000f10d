#!/usr/bin/env bash
# Installs what cairn needs to build and test, from Debian's packages.
# Idempotent: installs only what is missing.  Needs root (or sudo).
set -euo pipefail

# "build": only what building cairn needs (the container image); default:
# also the servers and tools the tests run.
build=(build-essential cmake pkg-config libpq-dev libzstd-dev libssl-dev libjansson-dev
       libmariadb-dev libxxhash-dev libinih-dev)
packages=("${build[@]}")
if [ "${1:-}" != build ]; then
    packages+=(libcmocka-dev postgresql postgresql-contrib postgresql-client zstd jq
               mariadb-server mariadb-client clang openssl)
fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# the postgresql package must not start a system cluster we did not ask for
if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
