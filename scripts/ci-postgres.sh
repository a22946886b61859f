#!/usr/bin/env bash
# Makes a PostgreSQL server reachable on 127.0.0.1 for the PostgreSQL half of the test suite, and prints its URL.
# Idempotent: installs Debian's postgresql only when absent, creates or starts one cluster, creates the role and the
# database only when missing. Usable from .ci/run:  export DATABASE_URL="$(bash scripts/ci-postgres.sh)"
# Everything but the URL goes to stderr, so the command substitution above captures the URL alone.
set -euo pipefail

PG_USER="${COUNTERSIGN_PG_USER:-countersign}"
PG_PASSWORD="${COUNTERSIGN_PG_PASSWORD:-countersign}"
PG_DB="${COUNTERSIGN_PG_DB:-countersign}"
PG_CLUSTER="${COUNTERSIGN_PG_CLUSTER:-main}"

log() { printf 'ci-postgres: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    if command -v runuser >/dev/null 2>&1; then runuser -u postgres -- "$@"; else su postgres -s /bin/sh -c "$(printf '%q ' "$@")"; fi
  else
    sudo -u postgres "$@"
  fi
}

if ! command -v pg_lsclusters >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  log "installing postgresql (apt-get)"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >&2
fi

# The newest installed major version.
PG_VERSION="$(ls /usr/lib/postgresql | sort -n | tail -1)"

if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "${PG_VERSION} ${PG_CLUSTER}"; then
  log "creating cluster ${PG_VERSION}/${PG_CLUSTER}"
  as_root pg_createcluster "${PG_VERSION}" "${PG_CLUSTER}" >&2
fi

PG_PORT="$(pg_lsclusters -h | awk -v v="${PG_VERSION}" -v c="${PG_CLUSTER}" '$1==v && $2==c {print $3}')"

if ! pg_lsclusters -h | awk -v v="${PG_VERSION}" -v c="${PG_CLUSTER}" '$1==v && $2==c {print $4}' | grep -q online; then
  log "starting cluster ${PG_VERSION}/${PG_CLUSTER} on port ${PG_PORT}"
  as_root pg_ctlcluster "${PG_VERSION}" "${PG_CLUSTER}" start >&2
fi

for _ in $(seq 1 60); do
  if pg_isready -q -h 127.0.0.1 -p "${PG_PORT}"; then break; fi
  sleep 0.5
done
pg_isready -q -h 127.0.0.1 -p "${PG_PORT}" || { log "server on 127.0.0.1:${PG_PORT} did not become ready"; exit 1; }

psql_admin() { as_postgres psql -p "${PG_PORT}" -v ON_ERROR_STOP=1 -qtAX "$@"; }

if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '${PG_USER}'")" != "1" ]; then
  log "creating role ${PG_USER}"
  psql_admin -c "CREATE ROLE \"${PG_USER}\" LOGIN PASSWORD '${PG_PASSWORD}'" >&2
fi
# The topology suite creates databases of its own (a Temporal server's persistence and visibility, a registry per file).
if [ "$(psql_admin -c "SELECT rolcreatedb FROM pg_roles WHERE rolname = '${PG_USER}'")" != "t" ]; then
  log "granting CREATEDB to ${PG_USER}"
  psql_admin -c "ALTER ROLE \"${PG_USER}\" CREATEDB" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '${PG_DB}'")" != "1" ]; then
  log "creating database ${PG_DB}"
  psql_admin -c "CREATE DATABASE \"${PG_DB}\" OWNER \"${PG_USER}\"" >&2
fi

URL="postgres://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${PG_PORT}/${PG_DB}"
PGPASSWORD="${PG_PASSWORD}" psql "${URL}" -qtAX -c 'SELECT 1' >/dev/null || { log "cannot log in as ${PG_USER}"; exit 1; }
log "ready: postgres://${PG_USER}:***@127.0.0.1:${PG_PORT}/${PG_DB}"
printf '%s\n' "${URL}"
