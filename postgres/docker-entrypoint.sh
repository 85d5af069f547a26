#!/bin/sh
# The entrypoint of the PostgreSQL image that `cargo xtask stack` makes from Debian packages
# where the official image cannot be pulled. It does what the official image's does, for the
# settings the compose file uses: on the first start it initialises the data directory from
# POSTGRES_USER, POSTGRES_PASSWORD and POSTGRES_DB and runs /docker-entrypoint-initdb.d/*.sh;
# then it runs the server as the unprivileged `postgres` user.
set -eu
BIN=/usr/lib/postgresql/17/bin
PGDATA=${PGDATA:-/var/lib/postgresql/data}
export PGDATA

if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDATA" /run/postgresql
    chown -R postgres:postgres "$PGDATA" /run/postgresql
    chmod 700 "$PGDATA"
    exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    : "${POSTGRES_PASSWORD:?POSTGRES_PASSWORD must be set}"
    POSTGRES_USER=${POSTGRES_USER:-postgres}
    POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
    export POSTGRES_USER POSTGRES_DB
    password_file=$(mktemp)
    printf '%s' "$POSTGRES_PASSWORD" > "$password_file"
    "$BIN/initdb" --username="$POSTGRES_USER" --pwfile="$password_file" --encoding=UTF8 \
        --auth-local=trust --auth-host=scram-sha-256 >/dev/null
    rm -f "$password_file"
    echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
    # Only the socket while initialising: nobody can connect before the setup is done.
    "$BIN/pg_ctl" --wait --silent -o "-c listen_addresses=''" start
    if [ "$POSTGRES_DB" != postgres ]; then
        psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
            -c "CREATE DATABASE \"$POSTGRES_DB\"" >/dev/null
    fi
    for script in /docker-entrypoint-initdb.d/*.sh; do
        [ -e "$script" ] || continue
        echo "running $script"
        sh "$script"
    done
    "$BIN/pg_ctl" --wait --silent -m fast stop
    echo "initialised the database cluster in $PGDATA"
fi

exec "$BIN/postgres" -c listen_addresses='*' "$@"
