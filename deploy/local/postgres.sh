#!/usr/bin/env bash
# Ensure a local PostgreSQL 15 (cluster 15/main) is installed, running on 127.0.0.1:5432
# with max_connections >= 200, and has role+database "lantern" (password "lantern").
# Idempotent and fast when everything is already in place. Prints the DSN at the end.
# A second cluster beside it (the fault drill restarts its own): LANTERN_PG_CLUSTER=drill
# LANTERN_PG_PORT=5433 (defaults main and 5432).
set -euo pipefail

PG_VERSION=15
PG_CLUSTER=${LANTERN_PG_CLUSTER:-main}
PG_PORT=${LANTERN_PG_PORT:-5432}
DEADLINE_S=${LANTERN_PG_TIMEOUT:-60}

log() { echo "[postgres] $*" >&2; }
as_pg() { (cd / && if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi); }
psql_pg() { as_pg psql -X -q -v ON_ERROR_STOP=1 -At -p "$PG_PORT" "$@"; }

wait_ready() {
  local end=$((SECONDS + DEADLINE_S))
  until pg_isready -q -h 127.0.0.1 -p "$PG_PORT"; do
    if ((SECONDS >= end)); then
      log "ERROR: PostgreSQL not ready on 127.0.0.1:$PG_PORT after ${DEADLINE_S}s (see /var/log/postgresql/postgresql-$PG_VERSION-$PG_CLUSTER.log)"
      exit 1
    fi
    sleep 0.5
  done
}

# Only the DSN goes to stdout, for callers that capture it; whatever apt, pg_ctlcluster
# or psql print goes to stderr.
ensure_postgres() {
  if ! command -v pg_ctlcluster >/dev/null; then
    log "installing postgresql via apt"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q && apt-get install -y -q postgresql
  fi
  if ! pg_lsclusters -h | grep -q "^$PG_VERSION $PG_CLUSTER "; then
    log "creating cluster $PG_VERSION/$PG_CLUSTER"
    pg_createcluster "$PG_VERSION" "$PG_CLUSTER" --port "$PG_PORT"
  fi

  pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" status >/dev/null 2>&1 || pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" start
  wait_ready

  # Loopback only, so no TLS: asyncpg would otherwise negotiate it on every connection
  # and pay for it on every round trip.
  if (($(psql_pg -c 'SHOW max_connections') < 200)) || [ "$(psql_pg -c 'SHOW ssl')" = on ]; then
    log "setting max_connections = 200, ssl = off (restart)"
    psql_pg -c 'ALTER SYSTEM SET max_connections = 200' -c 'ALTER SYSTEM SET ssl = off'
    pg_ctlcluster "$PG_VERSION" "$PG_CLUSTER" restart
    wait_ready
  fi

  psql_pg <<'SQL'
SELECT 'CREATE ROLE lantern' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lantern')\gexec
ALTER ROLE lantern LOGIN SUPERUSER CREATEDB PASSWORD 'lantern';
SELECT 'CREATE DATABASE lantern OWNER lantern' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'lantern')\gexec
SQL
}

ensure_postgres >&2
echo "postgresql+asyncpg://lantern:lantern@127.0.0.1:$PG_PORT/lantern"
