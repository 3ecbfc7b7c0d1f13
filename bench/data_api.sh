#!/usr/bin/env bash
# Benchmark: every query shape of GET /data/github_commits (and /search) over N generated
# documents of one user's integration (issue 13 target, N = 1,000,000: every shape <= 50 ms
# p50). Prints a markdown table for BENCHMARKS.md.
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

load() { awk '{ printf "load %s %s %s", $1, $2, $3 }' /proc/loadavg; }
echo "== machine: $(nproc) cores, $(load)"
echo
echo "| query | total_items | estimate | p50 | p90 | p99 |"
echo "|---|---|---|---|---|---|"
# run NAME PATH_AND_QUERY: one request to show the total, then wrk with one connection.
run() {
  local name=$1 url="http://$ADDR$2"
  local body total estimate stats
  body=$(curl -fs -H "Authorization: Bearer $TOKEN" "$url")
  total=$(echo "$body" | sed -n 's/.*"total_\(items\|results\)":\([0-9]*\).*/\2/p')
  estimate=$(echo "$body" | sed -n 's/.*"total_is_estimate":\(true\|false\).*/\1/p')
  stats=$(wrk -t1 -c1 -d"${SECS}s" --latency -H "Authorization: Bearer $TOKEN" "$url" \
    | awk '$1 == "50%" { p50 = $2 } $1 == "90%" { p90 = $2 } $1 == "99%" { p99 = $2 }
           END { printf "%s | %s | %s", p50, p90, p99 }')
  echo "| $name: \`${2#/}\` | $total | $estimate | $stats |"
}
FILTER='%7B%22commit.author.name%22%3A%22author-3%22%7D'   # {"commit.author.name":"author-3"}
IN='%7B%22commit.author.name%22%3A%7B%22%24in%22%3A%5B%22author-3%22%2C%22author-7%22%5D%7D%7D' # {"commit.author.name":{"$in":["author-3","author-7"]}}
SORT='sort_by=commit.author.date&sort_order=desc'
D=/data/github_commits
run "no parameters (page 1, default order)" "$D"
run "page 500, no filter" "$D?page=500"
run "filter equality only, no sort" "$D?filter=$FILTER"
run "\$in filter, no sort" "$D?filter=$IN"
run "sort only" "$D?sort_by=commit.author.date"
run "\$in filter + sort" "$D?filter=$IN&$SORT"
run "filter + sort" "$D?filter=$FILTER&$SORT"
run "search across collections" "/search?q=parser"
run "search + sort, page 500" "$D?search=parser&$SORT&page=500"
# The same page through keyset paging: the cursor that page 499 hands out.
CURSOR=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://$ADDR$D?search=parser&$SORT&page=499" \
  | sed 's/.*"next_cursor":"\([^"]*\)".*/\1/')
run "search + sort, page 500 by cursor" "$D?search=parser&$SORT&cursor=$CURSOR"
CURSOR=$(curl -fs -H "Authorization: Bearer $TOKEN" "http://$ADDR$D?page=499" \
  | sed 's/.*"next_cursor":"\([^"]*\)".*/\1/')
run "page 500 by cursor, no filter" "$D?cursor=$CURSOR"
run "filter + search + sort" "$D?filter=$FILTER&search=parser&$SORT"
run "rare search term + sort" "$D?search=$(psql "$DB_URL" -Atc "select substr(key, 1, 10) from github_documents limit 1")&$SORT"
echo
echo "== after: $(load)"
