#!/usr/bin/env bash
# Commit ingestion benchmark: a release server on a fresh database on the local
# PostgreSQL, 1000-commit batches (new, then resent) timed from a client, p50/p95, and in
# the same runs the floor: the same 1000 rows written with one `\copy` from psql into a
# fresh repository (psql's process start measured apart with `select 1` and subtracted).
# Needs psql and curl. CARGO_BUILD_JOBS limits the build on a shared machine.
# Usage: bench/ingest.sh [runs]   (ADMIN_DATABASE_URL overrides the PostgreSQL server;
#        GITPULSE_BIN=path runs another server binary, e.g. an older build for an A/B run)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-30}"
ADMIN="${ADMIN_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DB="gitpulse_bench_$(date +%s)"
DATABASE_URL="${ADMIN%/*}/$DB"
PORT="${BENCH_PORT:-18089}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gitpulse-target}"
TARGET="$CARGO_TARGET_DIR"

cargo build --release --quiet --bin gitpulse --example ingest_bench

# The server talks to a PostgreSQL on this machine: no TLS on loopback.
DATABASE_URL="$DATABASE_URL?sslmode=disable" LISTEN_ADDR="127.0.0.1:$PORT" RATE_LIMIT_ENABLED=false \
  RUST_LOG="${BENCH_LOG:-warn}" "${GITPULSE_BIN:-$TARGET/release/gitpulse}" serve &
SERVER=$!
cleanup() {
  kill "$SERVER" 2>/dev/null || true
  wait "$SERVER" 2>/dev/null || true
  psql "$ADMIN" -qc "drop database if exists \"$DB\" with (force)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

echo "load before: $(cat /proc/loadavg)"
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  sleep 0.1
done

"$TARGET/release/examples/ingest_bench" "http://127.0.0.1:$PORT" "$DATABASE_URL" "$RUNS"
# CPU the server spent (user + system), steadier than wall time on a shared machine.
TICKS=$(getconf CLK_TCK)
awk -v t="$TICKS" '{ printf "server CPU time: %.2f s\n", ($14 + $15) / t }' "/proc/$SERVER/stat"
echo "load after: $(cat /proc/loadavg)"
