#!/usr/bin/env bash
# Runs the benchmarks on SQLite, then on a throw-away PostgreSQL cluster on loopback (stopped
# whatever happens). Each benchmark prints its figures beside a bare Flask endpoint measured
# in the same run and writes them into bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=.venv/bin/python
BENCHMARKS=(bench.bench_catalogue bench.bench_enrolment bench.bench_checkin bench.bench_self_scan
  bench.bench_progress_grid bench.bench_feed bench.bench_dashboard
  bench.bench_certificates bench.bench_registration_burst)

echo "=== SQLite ==="
for benchmark in "${BENCHMARKS[@]}"; do
  TROPA_DATABASE_URL= $PYTHON -m "$benchmark"
done

source scripts/pg-cluster.sh
pg_cluster_start
trap pg_cluster_stop EXIT
echo "=== PostgreSQL ==="
for benchmark in "${BENCHMARKS[@]}"; do
  TROPA_DATABASE_URL="$PG_TEST_URL" $PYTHON -m "$benchmark"
done

pg_cluster_stop
trap - EXIT
echo "=== Goals (bench/RESULTS.md) ==="
$PYTHON -m bench.harness
