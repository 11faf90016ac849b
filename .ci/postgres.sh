#!/usr/bin/env bash
# Start a throwaway PostgreSQL server on 127.0.0.1 for the keystore tests.
#
#   .ci/postgres.sh [ENV_FILE]     start; print (and write to ENV_FILE, if given)
#                                  export SECRETUMVAULT_TEST_PG_DSN=postgresql://...
#                                  export SECRETUMVAULT_TEST_PG_DIR=<cluster dir>
#   .ci/postgres.sh --stop DIR     stop the cluster in DIR and delete DIR
#
# Run as root on a fresh Debian machine it installs Debian's "postgresql"
# package if initdb/pg_ctl are missing, and runs the server as the "postgres"
# user (the server refuses to run as root). Run as another user it uses the
# binaries already installed and runs the server as that user; where there
# are none it says so and exits 0 without a DSN, so the PostgreSQL tests skip
# with their reason instead of failing the run.
# The cluster listens on loopback only, with a random scram-sha-256 password.
set -euo pipefail

PORT_FIRST="${SECRETUMVAULT_PG_PORT:-55432}"
DATABASE=secretumvault_test

as_server_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u "$SERVER_USER" -- "$@"; else "$@"; fi
}

find_bin_dir() {
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"
        return
    fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

if [ "${1:-}" = "--stop" ]; then
    dir="${2:?usage: $0 --stop DIR}"
    SERVER_USER=$(stat -c %U "$dir/data")
    BIN=$(find_bin_dir)
    as_server_user "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    rm -rf -- "$dir"
    exit 0
fi

BIN=$(find_bin_dir)
if [ -z "$BIN" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "postgres.sh: PostgreSQL is not installed and only root can install it;" \
             "the PostgreSQL tests will skip" >&2
        [ -z "${1:-}" ] || : >"$1"
        exit 0
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq --no-install-recommends postgresql >&2
    BIN=$(find_bin_dir)
    [ -n "$BIN" ] || { echo "postgres.sh: initdb not found after installing postgresql" >&2; exit 1; }
fi

if [ "$(id -u)" -eq 0 ]; then
    SERVER_USER=postgres
    if ! id "$SERVER_USER" >/dev/null 2>&1; then
        useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$SERVER_USER"
    fi
else
    SERVER_USER=$(id -un)
fi

port="$PORT_FIRST"
while port_in_use "$port"; do
    port=$((port + 1))
    [ "$port" -lt $((PORT_FIRST + 50)) ] || { echo "postgres.sh: no free port" >&2; exit 1; }
done

dir=$(mktemp -d /tmp/secretumvault-pg.XXXXXX)
chmod 0755 "$dir"  # mktemp makes it 0700 for root; the server user must get in
password=$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')
printf '%s\n' "$password" >"$dir/pwfile"
chown -R "$SERVER_USER" "$dir"
chmod 0600 "$dir/pwfile"

as_server_user "$BIN/initdb" -D "$dir/data" -U postgres --pwfile="$dir/pwfile" \
    --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; exit 1; }
rm -f "$dir/pwfile"

as_server_user "$BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='$dir'" start >/dev/null \
    || { cat "$dir/server.log" >&2; exit 1; }

PGPASSWORD="$password" "$BIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DATABASE"

env_lines="export SECRETUMVAULT_TEST_PG_DSN=postgresql://postgres:${password}@127.0.0.1:${port}/${DATABASE}
export SECRETUMVAULT_TEST_PG_DIR=${dir}"
if [ -n "${1:-}" ]; then
    (umask 077 && printf '%s\n' "$env_lines" >"$1")
fi
printf '%s\n' "$env_lines"
