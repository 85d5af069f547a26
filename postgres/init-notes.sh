#!/bin/sh
# Runs once, when the database cluster is first initialised (PostgreSQL images run
# /docker-entrypoint-initdb.d/*.sh): the notes service gets its own role and database, so it
# cannot read the auth server's tables (users, tokens) even by mistake.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" <<SQL
CREATE ROLE notes LOGIN PASSWORD '${NOTES_DB_PASSWORD:-notes}';
CREATE DATABASE notes OWNER notes;
REVOKE CONNECT ON DATABASE ${POSTGRES_DB} FROM PUBLIC;
SQL
