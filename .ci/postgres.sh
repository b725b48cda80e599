#!/usr/bin/env bash
# Installs (from Debian's packages) and starts a local PostgreSQL for the test suite's second
# run, and prints the URL to reach it. Idempotent: safe to run on a machine that has it.
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
  apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2
fi
version=$(ls /usr/lib/postgresql | sort -V | tail -n 1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -qx "$version main"; then
  pg_createcluster "$version" main >&2
fi
pg_ctlcluster "$version" main start >&2 2>/dev/null || true
for _ in $(seq 1 30); do
  su postgres -c "pg_isready -q" && break
  sleep 1
done
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='haven'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"CREATE ROLE haven LOGIN CREATEDB PASSWORD 'haven'\"" >&2
su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='haven'\"" | grep -q 1 ||
  su postgres -c "createdb -O haven haven" >&2
port=$(pg_lsclusters -h | awk -v v="$version" '$1==v && $2=="main" {print $3}')
echo "postgresql://haven:haven@127.0.0.1:${port}/haven"
