#!/usr/bin/env bash
# Tropa beside pretix (bench/bench_peers.py), on SQLite and then on a throw-away PostgreSQL
# cluster. Installs pretix into its own venv under bench/out/peers the first time. Not in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
PRETIX_VENV=bench/out/peers/pretix-venv
PRETIX_VERSION=2026.8.0
if [[ ! -x $PRETIX_VENV/bin/gunicorn ]]; then
  python3 -m venv "$PRETIX_VENV"
  "$PRETIX_VENV/bin/pip" install --quiet "pretix==$PRETIX_VERSION" gunicorn
fi
echo "=== SQLite ==="
TROPA_DATABASE_URL= .venv/bin/python -m bench.bench_peers "$@"
source scripts/pg-cluster.sh
pg_cluster_start
trap pg_cluster_stop EXIT
echo "=== PostgreSQL ==="
TROPA_DATABASE_URL="$PG_TEST_URL" .venv/bin/python -m bench.bench_peers "$@"
