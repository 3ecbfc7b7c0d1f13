#!/usr/bin/env bash
# Benchmark: the event poller with N tracked repositories in one gitpulse process, against
# the standalone fake GitHub with pacing lifted. Targets (DESIGN.md section 12, N = 10,000):
# a cycle with no new events costs 0 charged GitHub requests (all 304), finishes in <= 20 s,
# and the server's resident memory stays <= 64 MB.
#
# Needs: a local PostgreSQL (as for the tests), psql and curl.
# Usage: bench/poll.sh [repositories=10000]   (GITPULSE_BIN=path runs another server binary,
#        e.g. an older build for an A/B run; CARGO_BUILD_JOBS limits the build)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000}
ADMIN_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=gitpulse_bench_poll
DB_URL="${ADMIN_URL%/*}/$DB"
GH=127.0.0.1:19100
ADDR=127.0.0.1:18081
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gitpulse-target}"

cargo build --release --quiet --bin gitpulse && cargo build --release --quiet -p fake-github
psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1

"$CARGO_TARGET_DIR/release/fake-github" --addr "$GH" --repos "$N" --rate-limit 100000000 >/dev/null &
FAKE=$!
SERVER=
# Runs on every exit, also after a failure or ^C: nothing in it may stop it early (a killed
# child's `wait` returns 143), and the database is always dropped.
cleanup() {
  set +e
  for pid in $SERVER $FAKE; do kill "$pid" 2>/dev/null; done
  for pid in $SERVER $FAKE; do wait "$pid" 2>/dev/null; done
  psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null 2>&1
  return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
echo "load before: $(cat /proc/loadavg)"
for _ in $(seq 1 600); do curl -fs "http://$GH/rate_limit" >/dev/null && break; sleep 0.1; done

# Create and migrate the database, then track N repositories for one user.
DATABASE_URL=$DB_URL "$CARGO_TARGET_DIR/release/gitpulse" migrate >/dev/null
psql "$DB_URL" -q <<SQL
insert into users (username, password_hash) values ('bench', null);
insert into repositories (owner, name) select 'demo', 'repo-' || i from generate_series(0, $N - 1) i;
insert into tracked_repositories (user_id, repository_id) select u.id, r.id from users u, repositories r;
SQL

remaining() { curl -fs -H 'Authorization: Bearer bench-token' "http://$GH/rate_limit" | sed 's/.*"rate":{[^}]*"remaining":\([0-9]*\).*/\1/'; }
synced_since() { psql "$DB_URL" -Atc "select count(*) from repositories where last_synchronized >= '$1'"; }
wait_all_synced_since() {
  local since=$1 start=$(date +%s.%N)
  while [ "$(synced_since "$since")" -lt "$N" ]; do sleep 0.2; done
  awk -v a="$(date +%s.%N)" -v b="$start" 'BEGIN { printf "%.1f", a - b }'
}

T0=$(psql "$DB_URL" -Atc "select now()")
# Only the poller is measured: the star history job (which would load 100,000 histories
# from the fake at the same time) is off.
DATABASE_URL="$DB_URL?sslmode=disable" LISTEN_ADDR=$ADDR GITHUB_API_URL=http://$GH GITHUB_TOKENS=bench-token \
  STAR_HISTORY_ENABLED=false \
  GITHUB_MAX_REQUESTS_PER_MINUTE=100000000 GITHUB_MAX_CONCURRENCY=32 EVENTS_POLL_INTERVAL_SECS=3600 \
  RATE_LIMIT_ENABLED=false RUST_LOG=warn "${GITPULSE_BIN:-$CARGO_TARGET_DIR/release/gitpulse}" serve &
SERVER=$!

echo "== cycle 1: first poll of $N repositories (200s, 50 events each)"
echo "   $(wait_all_synced_since "$T0") s"
echo "   events stored: $(psql "$DB_URL" -Atc 'select count(*) from events')"

BEFORE=$(remaining)
T1=$(psql "$DB_URL" -Atc "select now()")
psql "$DB_URL" -qc "update repositories set next_poll_at = now()"
echo "== cycle 2: no new events (conditional requests)"
echo "   $(wait_all_synced_since "$T1") s"
AFTER=$(remaining)
echo "   charged GitHub requests: $((BEFORE - AFTER))"
echo "== gitpulse resident memory: $(grep -E 'VmHWM|VmRSS' /proc/$SERVER/status | tr -s ' ' | tr '\n' ' ')"
echo "load after: $(cat /proc/loadavg)"
