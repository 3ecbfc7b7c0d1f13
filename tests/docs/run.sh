#!/usr/bin/env bash
# Runs every command of README.md and docs/*.md, so the documentation cannot drift.
#
# Rules (tests/docs/docs.py applies them):
# - Every ```sh (or ```bash) block runs, in the order of its file, in one `bash -euo pipefail`
#   session per file, so variables (TOKEN=...) carry from block to block. Files run in this
#   order: README.md (whose quick start starts the fake GitHub and gitpulse), then docs/*.md
#   by name, each in a scratch directory of its own. Any non-zero exit fails the run.
# - A block whose first line is `# not run: <reason>` is skipped; the summary lists it.
#   Illustrative text belongs in ```text blocks.
# - Every curl command must fail on an HTTP error (-f, --fail or --fail-with-body).
# - A ```json block right after a block documents that block's output: the last JSON the
#   block printed must have its shape (its keys, recursively; "..." stands for anything).
#
# What differs from a reader's terminal (the only substitutions):
# - `cargo run --release ...` lines run the debug binaries that `cargo test --workspace`
#   built (built here if missing; no release build in CI, it costs minutes).
#   `cargo run --release -p fake-github` and `cargo run --release` (the server) start in the
#   background and are waited for; this script stops them at the end;
# - ports 8080 (gitpulse) and 9100 (the fake GitHub) become free ports, so runs never clash;
# - gitpulse's database is a scratch one (DATABASE_URL), dropped at the end.
#
# Knobs (environment): TEST_DATABASE_URL (the server to create the database on, as for
# cargo test), CARGO_TARGET_DIR, DOCS_BUILD=1 (build the binaries first, after editing code
# without running the tests), DOCS_KEEP=1 (keep the scratch directory with the logs and the
# generated sessions), DOCS_FILES (files to run instead of all), DOCS_SESSION_TIMEOUT_SECS (90).
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
admin_url="${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
log() { echo "docs: $*" >&2; }
started=$SECONDS

# --- binaries ---------------------------------------------------------------------------------
# The debug binaries `cargo test --workspace` built. They are built here only when missing (or
# with DOCS_BUILD=1): `cargo build` resolves features differently from `cargo test` and would
# rebuild dependencies for minutes right after the tests.
target="${CARGO_TARGET_DIR:-$root/target}"
export DOCS_GITPULSE_BIN="$target/debug/gitpulse"
export DOCS_FAKE_GITHUB_BIN="$target/debug/fake-github"
if [[ "${DOCS_BUILD:-}" == 1 || ! -x "$DOCS_GITPULSE_BIN" || ! -x "$DOCS_FAKE_GITHUB_BIN" ]]; then
  log "building the debug binaries"
  cargo build --quiet -p gitpulse -p fake-github
fi

# --- scratch space, cleaned up at exit (also on failure) ----------------------------------------
work="$(mktemp -d "${TMPDIR:-/tmp}/gitpulse-docs.XXXXXX")"
db="gitpulse_docs_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
export DOCS_WORK="$work" DOCS_LOGS="$work/logs" DOCS_PIDS="$work/pids"
mkdir -p "$DOCS_LOGS"
: >"$DOCS_PIDS"
cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  # The servers are not this shell's children (a session started them), so no `wait`:
  # ask them to stop, give them 5 s, then kill what is left.
  local pid pids
  pids="$(cat "$DOCS_PIDS" 2>/dev/null || true)"
  for pid in $pids; do kill "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    local alive=0
    for pid in $pids; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    sleep 0.1
  done
  for pid in $pids; do kill -9 "$pid" 2>/dev/null || true; done
  psql -q "$admin_url" -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  if [[ $status -ne 0 ]]; then
    for f in "$DOCS_LOGS"/*.log; do
      [[ -s "$f" ]] || continue
      log "last lines of $(basename "$f"):"
      tail -n 20 "$f" >&2 || true
    done
  fi
  if [[ "${DOCS_KEEP:-}" == 1 ]]; then
    log "kept $work"
  else
    rm -rf "$work"
  fi
  log "finished in $((SECONDS - started)) s"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
export DOCS_GITPULSE_PORT DOCS_FAKE_PORT
DOCS_GITPULSE_PORT="$(free_port)"
DOCS_FAKE_PORT="$(free_port)"

# --- what the sessions inherit ---------------------------------------------------------------------
# The server listens where the rewritten URLs point, on the scratch database; `gitpulse` (the
# push client) is the debug binary.
export DATABASE_URL="${admin_url%/*}/$db"
export LISTEN_ADDR="127.0.0.1:$DOCS_GITPULSE_PORT"
export PATH="$target/debug:$PATH"
export RUST_LOG="${RUST_LOG:-info}"

if [[ -n "${DOCS_FILES:-}" ]]; then
  read -r -a files <<<"$DOCS_FILES"
else
  files=(README.md docs/*.md)
fi
log "running the shell blocks of ${files[*]} (gitpulse on :$DOCS_GITPULSE_PORT, the fake GitHub on :$DOCS_FAKE_PORT)"
python3 "$here/docs.py" run "${files[@]}"
