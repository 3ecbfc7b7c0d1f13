#!/usr/bin/env bash
# Benchmark: GET /repository/all/stats for one user tracking 100 repositories x 500 events.
# Target (DESIGN.md section 12): <= 10 ms p50 and >= 2,000 requests/s.
#
# Needs: a local PostgreSQL (as for the tests), psql, curl and wrk (`apt-get install wrk`).
# Usage: bench/stats.sh [duration_secs=15] [connections=16]
# GITPULSE_BIN=<a gitpulse binary> measures that build instead (e.g. an older one, for an A/B).
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${1:-15}
CONNECTIONS=${2:-16}
ADMIN_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
DB=gitpulse_bench_stats
DB_URL="${ADMIN_URL%/*}/$DB"
# The server talks to a PostgreSQL on this machine: no TLS on loopback.
SERVER_DB_URL="$DB_URL?sslmode=disable"
ADDR=127.0.0.1:18080
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/gitpulse-target}"

command -v wrk >/dev/null || { echo "wrk is required: apt-get install wrk" >&2; exit 1; }
if [[ -z "${GITPULSE_BIN:-}" ]]; then
  cargo build --release --quiet --bin gitpulse
fi
BIN=${GITPULSE_BIN:-$CARGO_TARGET_DIR/release/gitpulse}
psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null

DATABASE_URL=$SERVER_DB_URL LISTEN_ADDR=$ADDR SCHEDULER_ENABLED=false RATE_LIMIT_ENABLED=false RUST_LOG=warn \
  "$BIN" serve &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; psql "$ADMIN_URL" -qc "drop database if exists $DB with (force)" >/dev/null' EXIT
for _ in $(seq 1 100); do curl -fs "http://$ADDR/readyz" >/dev/null && break; sleep 0.1; done

TOKEN=$(curl -fs -X POST "http://$ADDR/auth/register" -H 'Content-Type: application/json' \
  -d '{"username":"bench","password":"bench-password"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

# 100 repositories tracked by the user, 500 events each over the last 5 days, 6 event types.
psql "$DB_URL" -q <<'SQL'
insert into repositories (owner, name, github_id, last_synchronized, next_poll_at)
  select 'bench', 'repo-' || i, 1000 + i, now(), now() + interval '1 day' from generate_series(1, 100) i;
insert into tracked_repositories (user_id, repository_id)
  select u.id, r.id from users u cross join repositories r where u.username = 'bench';
insert into events (repository_id, id, event_type, actor_login, created_at)
  select r.id, r.id * 1000 + n,
         (array['PushEvent','WatchEvent','IssuesEvent','ForkEvent','PullRequestEvent','IssueCommentEvent'])[1 + n % 6],
         'someone', now() - make_interval(secs => n * 797 + r.id)
    from repositories r cross join generate_series(1, 500) n;
analyze;
SQL

URL="http://$ADDR/repository/all/stats"
echo "== first request (statistics computed from 100 x 500 events and cached)"
curl -fs -o /dev/null -w "   %{time_total}s, %{size_download} bytes\n" -H "Authorization: Bearer $TOKEN" "$URL"
echo "== warm: wrk -t2 -c$CONNECTIONS -d${DURATION}s"
wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" --latency -H "Authorization: Bearer $TOKEN" "$URL"
echo "== single client, sequential (latency without queueing): wrk -t1 -c1 -d5s"
wrk -t1 -c1 -d5s --latency -H "Authorization: Bearer $TOKEN" "$URL"
