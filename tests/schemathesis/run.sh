#!/usr/bin/env bash
# Property-based contract test: schemathesis with every check over the whole /openapi.json.
#
# Starts the fake GitHub and gitpulse on free local ports over a fresh database (dropped at
# exit), registers a user, and runs schemathesis with that user's bearer token. Exits non-zero
# on any failure. Knobs (environment):
#   SCHEMATHESIS_VENV          virtualenv to (re)use   (default ~/.cache/gitpulse-schemathesis-venv)
#   SCHEMATHESIS_MAX_EXAMPLES  examples per operation  (default 100)
#   SCHEMATHESIS_SEED          hypothesis seed         (default 20240610)
#   SCHEMATHESIS_WORKERS       concurrent workers      (default 1: with more, hypothesis's
#                              threads can race inside CPython 3.11.7's `ast` module and end
#                              the run with "AST constructor recursion depth mismatch")
#   SCHEMATHESIS_REPORT_DIR   if set, JUnit and NDJSON reports are written there
#   SCHEMATHESIS_ARGS          extra arguments for `schemathesis run`
#   TEST_DATABASE_URL          server to create the database on (as for cargo test)
#   CARGO_TARGET_DIR           honoured for the build
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"

venv="${SCHEMATHESIS_VENV:-$HOME/.cache/gitpulse-schemathesis-venv}"
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-100}"
seed="${SCHEMATHESIS_SEED:-20240610}"
workers="${SCHEMATHESIS_WORKERS:-1}"
admin_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"

log() { echo "schemathesis: $*" >&2; }

# --- schemathesis, pinned, in its own virtualenv ------------------------------------------
# Reinstalled whenever requirements.txt changes (its checksum is kept in the virtualenv).
wanted="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [[ ! -x "$venv/bin/schemathesis" ]] ||
  [[ "$(cat "$venv/.gitpulse-requirements" 2>/dev/null)" != "$wanted" ]]; then
  log "installing $(grep '^schemathesis==' "$here/requirements.txt") into $venv"
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  echo "$wanted" >"$venv/.gitpulse-requirements"
fi
py="$venv/bin/python"

# --- build ----------------------------------------------------------------------------------
cargo build --quiet --bin gitpulse && cargo build --quiet -p fake-github
target="${CARGO_TARGET_DIR:-$root/target}"
gitpulse_bin="$target/debug/gitpulse"
fake_bin="$target/debug/fake-github"

# --- scratch space, cleaned up at exit --------------------------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/gitpulse-schemathesis.XXXXXX")"
db="gitpulse_schemathesis_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
db_url="${admin_url%/*}/$db"
pids=()
cleanup() {
  local status=$?
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  if [[ $status -ne 0 && -f "$work/gitpulse.log" ]]; then
    log "last lines of the server log:"
    tail -n 40 "$work/gitpulse.log" >&2 || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_for() { # URL what
  for _ in $(seq 1 120); do
    if "$py" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.5
  done
  log "$2 did not come up at $1"
  return 1
}

# --- servers ----------------------------------------------------------------------------------
fake_port="$(free_port)"
# A quota the run cannot use up (gitpulse polls with a token, so the authenticated one):
# GitHub's 60 anonymous requests an hour would turn later lookups into 503s (documented,
# but failing `not_a_server_error`).
"$fake_bin" --addr "127.0.0.1:$fake_port" --repos 10 --rate-limit 10000000 \
  >"$work/fake_github.log" 2>&1 &
pids+=($!)
fake_url="http://127.0.0.1:$fake_port"
wait_for "$fake_url/rate_limit" "the fake GitHub"

port="$(free_port)"
base="http://127.0.0.1:$port"
mkdir -p "$work/backups" "$work/mirrors"
# Rate limits off (schemathesis sends thousands of requests); the scheduler off so background
# polling does not change answers between two requests of one test; GitHub is the fake; backups
# may only reach the fake's host name, which serves no git, so nothing is cloned from outside.
DATABASE_URL="$db_url" \
  LISTEN_ADDR="127.0.0.1:$port" \
  PUBLIC_URL="$base" \
  GITHUB_API_URL="$fake_url" \
  GITHUB_WEB_URL="$fake_url" \
  GITHUB_TOKENS="schemathesis-polling-token" \
  GITHUB_CLIENT_ID="schemathesis-client" \
  GITHUB_CLIENT_SECRET="schemathesis-secret" \
  FRONTEND_URLS="http://localhost:5173" \
  RATE_LIMIT_ENABLED=false \
  SCHEDULER_ENABLED=false \
  BACKUP_DIR="$work/backups" \
  BACKUP_ALLOWED_HOSTS="backups.invalid" \
  PULL_MIRROR_DIR="$work/mirrors" \
  TOKEN_ENCRYPTION_KEY_FILE="$work/token.key" \
  LOG_FORMAT=text \
  RUST_LOG="${RUST_LOG:-warn}" \
  "$gitpulse_bin" serve >"$work/gitpulse.log" 2>&1 &
pids+=($!)
wait_for "$base/healthz" "gitpulse"

# --- a user and a bearer token ------------------------------------------------------------------
token="$("$py" - "$base" <<'PY'
import json, sys, urllib.request
body = json.dumps({"username": "schemathesis", "password": "schemathesis-password"}).encode()
request = urllib.request.Request(sys.argv[1] + "/auth/register", data=body,
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=30) as response:
    print(json.load(response)["access_token"])
PY
)"

# --- the run ------------------------------------------------------------------------------------
log "running against $base (max examples $max_examples, seed $seed, $workers workers)"
started=$SECONDS
# shellcheck disable=SC2086 # SCHEMATHESIS_ARGS is split on purpose
SCHEMATHESIS_TOKEN="$token" "$venv/bin/schemathesis" \
  --config-file "$here/schemathesis.toml" \
  run "$base/openapi.json" \
  --checks all \
  --header "Authorization: Bearer $token" \
  --max-examples "$max_examples" \
  --seed "$seed" \
  --workers "$workers" \
  --no-color \
  ${SCHEMATHESIS_REPORT_DIR:+--report junit,ndjson --report-dir "$SCHEMATHESIS_REPORT_DIR"} \
  ${SCHEMATHESIS_ARGS:-}
log "finished in $((SECONDS - started)) s"
