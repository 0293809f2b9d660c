#!/usr/bin/env bash
# Installs what the tests need (Debian's PostgreSQL, Chromium and Redis when missing), starts a
# throw-away PostgreSQL cluster on loopback, runs the suite on SQLite and on PostgreSQL,
# and stops the cluster whatever happens.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

need=()
command -v chromium >/dev/null || need+=(chromium chromium-driver)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
fc-list 2>/dev/null | grep -qi dejavu || need+=(fonts-dejavu-core)
command -v pdftoppm >/dev/null || need+=(poppler-utils)  # renders PDF tickets to decode their QR
command -v redis-server >/dev/null || need+=(redis-server)  # the two-host test starts its own
command -v java >/dev/null || need+=(default-jre-headless)  # runs the Nu Html Checker
command -v npm >/dev/null || need+=(npm)
if ((${#need[@]})); then
  echo "installing: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# The accessibility checkers (axe-core, vnu-jar) at the versions pinned in
# tests/browser/package-lock.json; --ignore-scripts: vnu-jar's installer would fetch a Java.
if [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  (cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi

source scripts/pg-cluster.sh
pg_cluster_start
trap pg_cluster_stop EXIT

# Two pytest-xdist workers (TEST_WORKERS=0 runs in one process): each has its own SQLite file,
# its own PostgreSQL database (tests/conftest.py) and its own browser and servers.
workers=(-n "${TEST_WORKERS:-2}")
status=0
echo "=== SQLite ==="
TROPA_TEST_DATABASE_URL= $BIN/pytest "${workers[@]}" "$@" || status=$?
echo "=== PostgreSQL ==="
TROPA_TEST_DATABASE_URL="$PG_TEST_URL" $BIN/pytest "${workers[@]}" "$@" || status=$?
exit $status
