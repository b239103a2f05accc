# Shell helpers sourced by scripts/serve, scripts/test and bench/run: logging, installing missing
# Debian packages, and a throwaway PostgreSQL cluster on a random free loopback port (as a system
# user when run as root, since PostgreSQL refuses root). start_postgres_cluster sets POSTGRES_URL;
# the cluster runs with fsync off (tests need no durability) unless PG_FSYNC=on (benchmarks).

log() { printf '==> %s\n' "$*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

# Installs the Debian packages named, if any is missing.
ensure_packages() {
    local missing=() package
    for package in "$@"; do dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package"); done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing ${missing[*]}"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

start_postgres_cluster() {
    ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 || ensure_packages postgresql
    pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
    pg_root=$(mktemp -d /tmp/agentry-pg.XXXXXX)
    pg_user=$(id -un)
    if [ "$(id -u)" = 0 ]; then
        pg_user=agentry-pg
        id -u "$pg_user" >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin "$pg_user"
        chown "$pg_user" "$pg_root"
    fi
    local password
    password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    printf '%s\n' "$password" >"$pg_root/pwfile"
    chmod 600 "$pg_root/pwfile"
    [ "$(id -u)" = 0 ] && chown "$pg_user" "$pg_root/pwfile"
    as_pg "$pg_bin/initdb" -D "$pg_root/data" -U agentry --pwfile="$pg_root/pwfile" --auth=scram-sha-256 \
        --locale=C.UTF-8 --encoding=UTF8 >"$pg_root/initdb.log" 2>&1 || { cat "$pg_root/initdb.log" >&2; return 1; }
    # A random free port; if another process takes it first, try another one.
    local attempt port=""
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$((20000 + RANDOM % 40000))
        (: </dev/tcp/127.0.0.1/$port) 2>/dev/null && continue
        if as_pg "$pg_bin/pg_ctl" -D "$pg_root/data" -l "$pg_root/server.log" -w -t 60 \
            -o "-p $port -k $pg_root -c listen_addresses=127.0.0.1 -c fsync=${PG_FSYNC:-off} -c max_connections=300" \
            start >/dev/null; then
            POSTGRES_URL="postgres://agentry:$password@127.0.0.1:$port/postgres?sslmode=disable"
            log "PostgreSQL is running on 127.0.0.1:$port"
            return 0
        fi
    done
    echo "PostgreSQL did not start:" >&2
    cat "$pg_root/server.log" >&2
    return 1
}

as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u "$pg_user" -- "$@"; else "$@"; fi; }

stop_postgres_cluster() {
    [ -n "${pg_root:-}" ] || return 0
    as_pg "$pg_bin/pg_ctl" -D "$pg_root/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$pg_root"
}

# A Python virtualenv with the vendors' SDKs pinned in Tests/sdk/requirements.txt, in
# .build/sdk-venv, reinstalled when the pins change. Sets SDK_PYTHON.
ensure_sdk_venv() {
    ensure_packages python3 python3-venv
    local venv=.build/sdk-venv stamp
    stamp=$(sha256sum Tests/sdk/requirements.txt | cut -d' ' -f1)
    if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$stamp" ]; then
        log "installing the pinned SDKs into $venv"
        rm -rf "$venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check -r Tests/sdk/requirements.txt
        printf '%s\n' "$stamp" >"$venv/.pins"
    fi
    SDK_PYTHON="$PWD/$venv/bin/python"
}
