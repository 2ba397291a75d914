#!/usr/bin/env bash
# Start a local PostgreSQL on 127.0.0.1:5432 for the store tests (Debian; run as root).
# Idempotent: installs the server if missing, creates/starts the cluster, creates role
# scro (password scro) and database scro_test, and prints the export line for the tests.
set -euo pipefail
cd /  # the postgres user may not be able to enter the caller's folder

PGPORT=5432
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq postgresql >/dev/null
fi
PGVER=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
PGBIN=/usr/lib/postgresql/$PGVER/bin

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$PGVER main"; then
    pg_createcluster "$PGVER" main --port "$PGPORT" >/dev/null
fi
CONF=/etc/postgresql/$PGVER/main/postgresql.conf
# Listen on loopback only; enough connections for parallel writers in the tests.
sed -i -E "s/^#?listen_addresses\s*=.*/listen_addresses = '127.0.0.1'/" "$CONF"
sed -i -E "s/^#?port\s*=.*/port = $PGPORT/" "$CONF"

online() { pg_lsclusters -h | awk -v v="$PGVER" '$1==v && $2=="main" {print $4}' | grep -q online; }
# A server killed hard (as at the end of a session) can leave lock files whose processes are
# still exiting; postgres clears stale ones itself, so retrying a few times is enough.
for attempt in 1 2 3 4 5; do
    if online; then break; fi
    pg_ctlcluster "$PGVER" main start || { [ "$attempt" = 5 ] && exit 1; sleep 2; }
done
for _ in $(seq 1 60); do
    if "$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT" -q; then break; fi
    sleep 0.5
done
"$PGBIN/pg_isready" -h 127.0.0.1 -p "$PGPORT"

psql_admin() { su postgres -c "psql -p $PGPORT -v ON_ERROR_STOP=1 -qAt $*"; }
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_roles WHERE rolname='scro'\"")" != "1" ]; then
    psql_admin "-c \"CREATE ROLE scro LOGIN PASSWORD 'scro'\""
fi
if [ "$(psql_admin "-c \"SELECT 1 FROM pg_database WHERE datname='scro_test'\"")" != "1" ]; then
    psql_admin "-c \"CREATE DATABASE scro_test OWNER scro\""
fi

echo "export SCRO_SIM_TEST_PG=postgresql+psycopg://scro:scro@127.0.0.1:$PGPORT/scro_test"
