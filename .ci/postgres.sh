#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1 for the tests and print its SQLAlchemy URL.
#
# Run as root on Debian:  url=$(bash .ci/postgres.sh)
# or source it:           . .ci/postgres.sh   (exports HOC_TEST_DATABASE_URL)
#
# Installs the server with apt only when initdb/pg_ctl cannot be found. The cluster lives in a
# fresh temporary directory owned by the postgres user (HOC_PG_DIR to choose it; a cluster
# already running there is reused), listens on a free port, and is tuned for tests: fsync off,
# nothing here is meant to survive a crash. Stop it with: pg_ctl -D "$HOC_PG_DIR/data" stop
# (as the postgres user). Messages go to stderr; stdout carries only the URL.

_hoc_pg_main() (
    set -euo pipefail

    log() { echo "postgres.sh: $*" >&2; }

    find_bindir() {
        local dir candidates=()
        if command -v pg_config >/dev/null 2>&1; then
            candidates+=("$(pg_config --bindir 2>/dev/null || true)")
        fi
        # Newest version first.
        while IFS= read -r dir; do
            candidates+=("$dir")
        done < <(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k5,5 -V -r)
        if command -v initdb >/dev/null 2>&1; then
            candidates+=("$(dirname "$(readlink -f "$(command -v initdb)")")")
        fi
        for dir in "${candidates[@]}"; do
            if [[ -n "$dir" && -x "$dir/initdb" && -x "$dir/pg_ctl" && -x "$dir/postgres" ]]; then
                echo "$dir"
                return 0
            fi
        done
        return 1
    }

    as_postgres() {
        if command -v runuser >/dev/null 2>&1; then
            runuser -u postgres -- "$@"
        else
            su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
        fi
    }

    free_port() {
        python3 - <<'PY'
import socket

with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
PY
    }

    bindir=$(find_bindir || true)
    if [[ -z "$bindir" ]]; then
        if [[ $(id -u) -ne 0 ]]; then
            log "PostgreSQL server binaries not found and not root: cannot apt-get install postgresql"
            exit 1
        fi
        log "installing PostgreSQL with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq postgresql >&2
        bindir=$(find_bindir || true)
        [[ -n "$bindir" ]] || { log "initdb/pg_ctl still not found after installing postgresql"; exit 1; }
    fi

    if ! id postgres >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/postgresql --shell /bin/sh postgres
    fi

    root=${HOC_PG_DIR:-}
    if [[ -n "$root" && -f "$root/url" ]] && as_postgres "$bindir/pg_ctl" -D "$root/data" status >/dev/null 2>&1; then
        log "reusing the cluster running in $root"
        cat "$root/url"
        return 0
    fi
    if [[ -z "$root" ]]; then
        root=$(mktemp -d "${TMPDIR:-/tmp}/hoc-pg.XXXXXX")
    fi
    mkdir -p "$root"
    chown postgres: "$root"
    chmod 700 "$root"

    user=hoc
    db=hoc_test
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    port=$(free_port)

    umask 077
    printf '%s\n' "$password" >"$root/pwfile"
    chown postgres: "$root/pwfile"
    log "initdb in $root/data ($bindir)"
    as_postgres "$bindir/initdb" -D "$root/data" -U "$user" --pwfile="$root/pwfile" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C >"$root/initdb.log" 2>&1 ||
        { cat "$root/initdb.log" >&2; exit 1; }
    rm -f "$root/pwfile"

    # Test cluster: speed over durability.
    as_postgres "$bindir/pg_ctl" -D "$root/data" -l "$root/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >&2 || { cat "$root/server.log" >&2; exit 1; }

    PGPASSWORD=$password "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$user" "$db"

    url="postgresql+psycopg://$user:$password@127.0.0.1:$port/$db"
    printf '%s\n' "$url" >"$root/url"
    chmod 600 "$root/url"
    log "PostgreSQL running on 127.0.0.1:$port (data in $root/data); stop with: runuser -u postgres -- $bindir/pg_ctl -D $root/data stop"
    echo "$url"
)

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: export the URL, starting a cluster only when none is set yet.
    if [[ -z "${HOC_TEST_DATABASE_URL:-}" ]]; then
        HOC_TEST_DATABASE_URL=$(_hoc_pg_main) || return 1
        export HOC_TEST_DATABASE_URL
    fi
else
    _hoc_pg_main
fi
