#!/usr/bin/env bash
# Benchmark: GET /data/github_commits with filter + search + sort over N generated documents
# (DESIGN.md section 12 target, N = 1,000,000: <= 50 ms p50), one user's integration.
#
# Needs: a local PostgreSQL (as for the tests) with pg_trgm, psql, curl and wrk.
# Usage: bench/data_api.sh [documents=1000000] [seconds=15]
#   KEEP_DB=1 keeps the seeded database afterwards; REUSE_DB=1 runs against the kept one.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-1000000}
SECS=${2:-15}
ADMIN_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=gitpulse_bench_data
DB_URL="${ADMIN_URL%/*}/$DB"
ADDR=127.0.0.1:18082
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gitpulse-target}"

cargo build --release --quiet --bin gitpulse
[ -z "${REUSE_DB:-}" ] && psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1
SERVER=
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null && wait "$SERVER" 2>/dev/null
  [ -z "${KEEP_DB:-}" ] && psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1
  true
}
trap cleanup EXIT

DATABASE_URL=$DB_URL LISTEN_ADDR=$ADDR RATE_LIMIT_ENABLED=false SCHEDULER_ENABLED=false \
  TOKEN_ENCRYPTION_KEY=$(printf '%064d' 0) RUST_LOG=error "$CARGO_TARGET_DIR/release/gitpulse" serve &
SERVER=$!
for _ in $(seq 1 600); do curl -fs "http://$ADDR/readyz" >/dev/null && break; sleep 0.1; done
CREDENTIALS='{"username":"bench","password":"bench-password"}'
if [ -n "${REUSE_DB:-}" ]; then
  TOKEN=$(curl -fs -H 'content-type: application/json' -d "$CREDENTIALS" "http://$ADDR/auth/login" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
else
  TOKEN=$(curl -fs -H 'content-type: application/json' -d "$CREDENTIALS" "http://$ADDR/auth/register" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  echo "== seeding $N commits"
  START=$(date +%s.%N)
  psql "$DB_URL" -q -v n="$N" -f bench/data_api_seed.sql
  awk -v a="$(date +%s.%N)" -v b="$START" 'BEGIN { printf "   %.1f s\n", a - b }'
fi
echo "   table + indexes: $(psql "$DB_URL" -Atc "select pg_size_pretty(pg_total_relation_size('github_documents'))")"

run() {
  local name=$1 query=$2 url="http://$ADDR/data/github_commits?$2"
  local body
  body=$(curl -fs -H "Authorization: Bearer $TOKEN" "$url")
  echo "== $name: total_items=$(echo "$body" | sed 's/.*"total_items":\([0-9]*\).*/\1/')"
  echo "   GET /data/github_commits?$query"
  wrk -t1 -c1 -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$url" \
    | grep -E '^\s+(50|90|99)%|Requests/sec' | sed 's/^ */   /'
}
FILTER='%7B%22commit.author.name%22%3A%22author-3%22%7D'   # {"commit.author.name":"author-3"}
SORT='sort_by=commit.author.date&sort_order=desc&limit=20'
run "filter + search + sort (the target)" "filter=$FILTER&search=parser&$SORT"
run "search + sort" "search=parser&$SORT"
run "filter + sort, no search (not index-backed: scans every document)" "filter=$FILTER&$SORT"
run "rare search term" "search=$(psql "$DB_URL" -Atc "select substr(key, 1, 10) from github_documents limit 1")&$SORT"
