#!/usr/bin/env python3
"""Runs the shell blocks of Markdown files and checks the output they document.

Called by tests/docs/run.sh, which builds the binaries, picks the ports and the scratch
database and cleans up; see its header for the rules. Python 3 standard library only.

    docs.py run FILE...     run each file's blocks in one bash session per file
    docs.py list FILE...    print the blocks that would run (after substitution) and exit
"""

import json
import os
import re
import signal
import subprocess
import sys
from dataclasses import dataclass

RUNNABLE = {"sh", "bash", "shell"}
NOT_RUN = re.compile(r"^#\s*not run:\s*(?P<reason>.+)$")
FENCE = re.compile(r"^(?P<indent>\s*)```(?P<info>[^`]*)$")
CARGO_RUN = re.compile(
    r"cargo run --release(?:\s+-p\s+(?P<package>[\w-]+))?(?:\s+--(?=\s|$)(?P<args>[^#]*))?\s*(?:#.*)?$"
)
CURL = re.compile(r"(?:^|[\s|;&(])curl\s")
CURL_FAILS = re.compile(r"\s(?:-[A-Za-z]*f[A-Za-z]*|--fail|--fail-with-body)(?=\s|$)")
# The documented ports and the ones of this run (numbers, so they work inside quotes too).
GITPULSE_PORT = os.environ.get("DOCS_GITPULSE_PORT", "8080")
FAKE_PORT = os.environ.get("DOCS_FAKE_PORT", "9100")
PORTS = [
    (re.compile(r"\b(localhost|127\.0\.0\.1):8080\b"), rf"\1:{GITPULSE_PORT}"),
    (re.compile(r"\b(localhost|127\.0\.0\.1):9100\b"), rf"\1:{FAKE_PORT}"),
]
SESSION_TIMEOUT_SECS = int(os.environ.get("DOCS_SESSION_TIMEOUT_SECS", "90"))


@dataclass
class Block:
    path: str
    line: int  # of the opening fence, 1-based
    info: str
    code: str
    expected: "str | None" = None  # a ```json block right after it
    expected_line: int = 0
    skip_reason: "str | None" = None
    script: str = ""  # what runs, after the substitutions


def parse(path):
    """The shell blocks of `path`, each with the ```json block that follows it, if any."""
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    blocks, i = [], 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m or not m["info"].strip():
            if m:  # a bare fence: skip to its end
                i = close_of(path, lines, i) + 1
                continue
            i += 1
            continue
        end = close_of(path, lines, i)
        indent = len(m["indent"])
        body = [l[indent:] if l[:indent].strip() == "" else l for l in lines[i + 1 : end]]
        info = m["info"].strip().split()[0]
        blocks.append(Block(path, i + 1, info, "\n".join(body) + "\n"))
        i = end + 1
    runnable = []
    for n, block in enumerate(blocks):
        if block.info in RUNNABLE:
            first = next((l.strip() for l in block.code.split("\n") if l.strip()), "")
            hit = NOT_RUN.match(first)
            block.skip_reason = hit["reason"].strip() if hit else None
            following = blocks[n + 1] if n + 1 < len(blocks) else None
            if following and following.info == "json" and adjacent(lines, block, following):
                block.expected, block.expected_line = following.code, following.line
            runnable.append(block)
    return runnable


def close_of(path, lines, start):
    """The line index of the fence that closes the one at `start`."""
    for j in range(start + 1, len(lines)):
        if lines[j].strip() == "```":
            return j
    raise SystemExit(f"{path}:{start + 1}: unclosed code fence")


def adjacent(lines, block, following):
    """Only blank lines between the end of `block` and the start of `following`."""
    end = close_of(block.path, lines, block.line - 1)
    return all(not l.strip() for l in lines[end + 1 : following.line - 1])


def logical_lines(code):
    """(first line index, joined text, raw lines) for each line with its `\\` continuations."""
    raw = code.split("\n")
    out, i = [], 0
    while i < len(raw):
        start, parts = i, [raw[i]]
        while parts[-1].endswith("\\") and i + 1 < len(raw):
            i += 1
            parts.append(raw[i])
        joined = " ".join(p[:-1].strip() if p.endswith("\\") else p.strip() for p in parts)
        out.append((start, joined, parts))
        i += 1
    return out


def substitute(block):
    """The block's lines as they run here, and the problems found (curl without -f)."""
    lines, problems, in_heredoc = [], [], None
    for offset, joined, raw in logical_lines(block.code):
        where = f"{block.path}:{block.line + 1 + offset}"
        if in_heredoc:
            lines.extend(raw)
            if joined.strip() == in_heredoc:
                in_heredoc = None
            continue
        heredoc = re.search(r"<<-?\s*'?\"?(\w+)'?\"?", joined)
        if heredoc:
            in_heredoc = heredoc.group(1)
        text = "\n".join(raw)
        if not joined.lstrip().startswith("#"):
            if CURL.search(joined) and not CURL_FAILS.search(joined):
                problems.append(f"{where}: curl without -f/--fail/--fail-with-body: {joined}")
            m = CARGO_RUN.search(joined)
            if m:
                text = cargo_run(joined, m)
        lines.append(text)
    script = "\n".join(lines)
    for pattern, replacement in PORTS:
        script = pattern.sub(replacement, script)
    return script, problems


def cargo_run(joined, m):
    """`cargo run --release ...` → the debug binary; servers start in the background."""
    prefix = joined[: m.start()]
    package = m["package"] or "gitpulse"
    args = (m["args"] or "").strip()
    if package == "fake-github":
        binary, name = f'"$DOCS_FAKE_GITHUB_BIN" --addr 127.0.0.1:{FAKE_PORT}', "fake-github"
        ready = f"http://127.0.0.1:{FAKE_PORT}/rate_limit"
    elif package == "gitpulse":
        binary, name = '"$DOCS_GITPULSE_BIN"', "gitpulse"
        ready = f"http://127.0.0.1:{GITPULSE_PORT}/readyz"
    else:
        raise SystemExit(f"cargo run of an unknown package {package!r}: {joined}")
    serves = package == "fake-github" or not args or args.split()[0] in ("serve", "--config")
    command = f"{prefix}{binary} {args}".rstrip()
    if not serves:
        return command
    return f'{command} >>"$DOCS_LOGS/{name}.log" 2>&1 & __docs_serve {name} "{ready}" $!'


PRELUDE = r"""# generated by tests/docs/docs.py from {path}
__docs_block() {{ printf '%s\n' "$1" >"$__docs_out/current"; printf '\n▶ %s\n' "$2"; }}
__docs_show() {{ awk 'NR <= 12 {{ print "  " substr($0, 1, 160) }} END {{ if (NR > 12) print "  … (" NR " lines)" }}' "$1"; }}
__docs_serve() {{ # NAME READY_URL PID: record the server, wait until it answers
  echo "$3" >>"$DOCS_PIDS"
  for _ in $(seq 1 600); do
    if curl -fs -o /dev/null "$2"; then echo "  ($1 is up)"; return 0; fi
    if ! kill -0 "$3" 2>/dev/null; then echo "$1 exited; its log:" >&2; tail -n 30 "$DOCS_LOGS/$1.log" >&2; return 1; fi
    sleep 0.1
  done
  echo "$1 did not answer at $2 within 60 s" >&2; return 1
}}
__docs_out={out}
"""


def generate(path, blocks, out):
    parts = [PRELUDE.format(path=path, out=sh_quote(out))]
    for n, block in enumerate(blocks):
        if block.skip_reason:
            continue
        parts.append(f"__docs_block {n} {sh_quote(f'{path}:{block.line}')}")
        parts.append("{")
        parts.append(block.script.rstrip("\n"))
        parts.append(f"}} >{sh_quote(os.path.join(out, f'{n}.out'))}")
        parts.append(f"__docs_show {sh_quote(os.path.join(out, f'{n}.out'))}")
    return "\n".join(parts) + "\n"


def sh_quote(text):
    return "'" + text.replace("'", "'\\''") + "'"


def last_json(text):
    """The last JSON object or array the block printed (curl often ends without a newline,
    so values may share a line)."""
    decoder, values, i = json.JSONDecoder(), [], 0
    while True:
        starts = [j for j in (text.find("{", i), text.find("[", i)) if j >= 0]
        if not starts:
            break
        start = min(starts)
        try:
            value, end = decoder.raw_decode(text, start)
        except ValueError:
            i = start + 1
            continue
        values.append(value)
        i = end
    if not values:
        raise ValueError("no JSON in the output")
    return values[-1]


def shape_problems(expected, actual, where="$"):
    """Where `actual` lacks the shape of `expected` (keys, nesting, kinds of values).

    `"..."` keys and values stand for anything; null and empty lists say nothing about kinds.
    """
    if expected is None or expected == "..." or actual is None:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{where}: expected an object, got {json.dumps(actual)[:80]}"]
        problems = []
        for key, value in expected.items():
            if key == "...":
                continue
            if key not in actual:
                problems.append(f"{where}: no key {key!r} (has {', '.join(actual) or 'none'})")
            else:
                problems += shape_problems(value, actual[key], f"{where}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{where}: expected an array, got {json.dumps(actual)[:80]}"]
        if expected and actual:
            return shape_problems(expected[0], actual[0], f"{where}[0]")
        return []
    kind = lambda v: "bool" if isinstance(v, bool) else type(v).__name__.replace("int", "float")
    if kind(expected) != kind(actual):
        return [f"{where}: expected a {kind(expected)}, got {json.dumps(actual)[:80]}"]
    return []


def run_file(path, blocks, work):
    """Runs one file's session; returns (ok, number of blocks checked against their JSON)."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")
    out = os.path.join(work, "out", slug)
    cwd = os.path.join(work, "cwd", slug)
    os.makedirs(out, exist_ok=True)
    os.makedirs(cwd, exist_ok=True)
    script = os.path.join(out, "session.sh")
    with open(script, "w", encoding="utf-8") as f:
        f.write(generate(path, blocks, out))
    print(f"\n=== {path}: {sum(not b.skip_reason for b in blocks)} blocks", flush=True)
    # A process group of its own, so that a session that hangs (or this script, interrupted)
    # stops it with everything it started.
    session = subprocess.Popen(["bash", "-euo", "pipefail", script], cwd=cwd, start_new_session=True)

    def stop(signum, _frame):
        os.killpg(session.pid, signal.SIGTERM)
        sys.exit(128 + signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        status = session.wait(timeout=SESSION_TIMEOUT_SECS)
    except subprocess.TimeoutExpired:
        os.killpg(session.pid, signal.SIGTERM)
        session.wait()
        status = "timeout"
    if status != 0:
        current = read(os.path.join(out, "current")).strip()
        block = blocks[int(current)] if current.isdigit() else None
        where = f"the block at {path}:{block.line}" if block else path
        reason = f"took longer than {SESSION_TIMEOUT_SECS} s" if status == "timeout" else f"exited {status}"
        print(f"\nFAILED: {where} {reason}", file=sys.stderr)
        if block:
            output = read(os.path.join(out, f"{current}.out"))
            print("its commands:\n" + indent(block.script), file=sys.stderr)
            print("its output:\n" + indent(output or "(none)"), file=sys.stderr)
        return False, 0
    checked, ok = 0, True
    for n, block in enumerate(blocks):
        if block.skip_reason or block.expected is None:
            continue
        checked += 1
        where = f"{path}:{block.expected_line} (the output of the block at line {block.line})"
        try:
            expected = json.loads(block.expected)
        except ValueError as e:
            print(f"FAILED: {where}: the documented JSON does not parse: {e}", file=sys.stderr)
            ok = False
            continue
        try:
            actual = last_json(read(os.path.join(out, f"{n}.out")))
        except ValueError as e:
            print(f"FAILED: {where}: {e}", file=sys.stderr)
            ok = False
            continue
        problems = shape_problems(expected, actual)
        if problems:
            ok = False
            print(f"FAILED: {where} differs from what the server answered:", file=sys.stderr)
            print(indent("\n".join(problems)), file=sys.stderr)
    return ok, checked


def read(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


def indent(text):
    return "\n".join("    " + l for l in text.rstrip("\n").split("\n"))


def prepare(paths):
    files, problems = [], []
    for path in paths:
        blocks = parse(path)
        for block in blocks:
            if not block.skip_reason:
                block.script, found = substitute(block)
                problems += found
        files.append((path, blocks))
    return files, problems


def main(argv):
    if len(argv) < 3 or argv[1] not in ("run", "list"):
        raise SystemExit(__doc__)
    files, problems = prepare(argv[2:])
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    if argv[1] == "list":
        for path, blocks in files:
            for block in blocks:
                state = f"not run: {block.skip_reason}" if block.skip_reason else "runs"
                print(f"--- {path}:{block.line} ({state})\n{block.script or block.code}")
        return 0
    work = os.environ["DOCS_WORK"]
    summary, all_ok = [], True
    for path, blocks in files:
        ok, checked = run_file(path, blocks, work)
        if not ok:
            summary.append(f"{path}: FAILED (the files after it were not run)")
            all_ok = False
            break
        skipped = [b for b in blocks if b.skip_reason]
        ran = len(blocks) - len(skipped)
        summary.append(f"{path}: {ran} blocks run, {checked} outputs checked, {len(skipped)} not run")
        summary += [f"    not run: {b.path}:{b.line}: {b.skip_reason}" for b in skipped]
    print("\n" + "\n".join(summary))
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
