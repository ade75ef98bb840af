#!/bin/sh
# Run once by the postgres image on an empty data volume (/docker-entrypoint-initdb.d): the
# application's own role, an ordinary one. A superuser or a BYPASSRLS role would pass the
# row-level security of every tenant table (README: "Running on PostgreSQL").
set -eu
: "${RATHAUS_DB_PASSWORD:?set RATHAUS_DB_PASSWORD}"
role="${RATHAUS_DB_USER:-rathaus}"
database="${RATHAUS_DB_NAME:-rathaus}"
psql -v ON_ERROR_STOP=1 -v role="$role" -v database="$database" -v password="$RATHAUS_DB_PASSWORD" \
    --username "${POSTGRES_USER:-postgres}" --dbname postgres <<'SQL'
CREATE ROLE :"role" LOGIN PASSWORD :'password' NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB;
CREATE DATABASE :"database" OWNER :"role";
\connect :"database"
GRANT CREATE ON SCHEMA public TO :"role";
SQL
