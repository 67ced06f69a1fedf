#!/usr/bin/env bash
# End-to-end tests of `muse serve` through its HTTP API, as CI runs them.
#
#   Scripts/e2e/api_e2e.sh [MUSE_BINARY]
#
# Without an argument it builds the CLI (`swift build --product muse`). It serves two models
# from a temporary data directory on a free port of 127.0.0.1: the default SmolLM2 (closed)
# and the small fixture Tests/Fixtures/models/llama-q8_0.gguf (open), creates API keys, runs
# pytest on Scripts/e2e/api_e2e/ (official openai SDK, closed-weights probes, budgets under
# concurrency, kill -9 recovery, a small load measurement) and always stops the server.
# Lines starting with "E2E-REPORT:" are informative measurements.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
PY="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore
cache="${MUSE_CACHE_DIR:-$HOME/.cache/muse}"
export MUSE_CACHE_DIR="$cache"

say() { echo "== api_e2e: $*"; }
die() { echo "api_e2e: error: $*" >&2; exit 1; }

if [ $# -ge 1 ] && [ -n "$1" ]; then
  bin="$1"
else
  say "building muse"
  swift build --product muse
  bin="$(swift build --show-bin-path)/muse"
fi
[ -x "$bin" ] || die "$bin is not an executable"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

say "Python packages"
"$PY" -m pip install -q --disable-pip-version-check -r Scripts/e2e/api_e2e/requirements.txt

closed="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -s "$closed" ] || bash Scripts/fixtures/fetch-smollm2.sh >/dev/null
[ -s "$closed" ] || die "$closed is missing (run Scripts/fixtures/fetch-smollm2.sh)"
open="$repo/Tests/Fixtures/models/llama-q8_0.gguf"
[ -s "$open" ] || die "$open is missing"

work="$(mktemp -d "${TMPDIR:-/tmp}/muse-e2e.XXXXXX")"
data="$work/data"
mkdir -p "$data"
pidfile="$work/server.pid"
log="$work/server.log"
report="$work/report.txt"
: >"$report"

stop_server() {
  local pid
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}
cleanup() {
  local rc=$?
  stop_server
  if [ "$rc" -ne 0 ]; then
    echo "api_e2e: failed (exit $rc); last lines of the server logs:" >&2
    tail -n 30 "$work"/server*.log >&2 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
config="$work/muse.yaml"
cat >"$config" <<EOF
host: 127.0.0.1
models:
  - id: smollm2-135m-instruct
    path: "$closed"
    visibility: closed
    display_name: SmolLM2 135M Instruct
    description: closed model of the end-to-end tests
  - id: fixture-llama
    path: "$open"
    visibility: open
    display_name: Fixture Llama
    description: open model of the end-to-end tests
EOF

say "starting muse serve on 127.0.0.1:$port"
"$bin" serve --config "$config" --port "$port" --data-dir "$data" >"$log" 2>&1 &
echo $! >"$pidfile"
disown # the crash test kills it with -9: no job report from bash

admin=""
for _ in $(seq 450); do # 90 s: loading both models and hashing them the first time
  admin="$(sed -n 's/^Admin key (shown once, keep it safe): \(muse-[A-Za-z0-9]*\).*$/\1/p' "$log" | head -n 1)"
  [ -n "$admin" ] && break
  kill -0 "$(cat "$pidfile")" 2>/dev/null || die "muse serve exited: $(tail -n 20 "$log")"
  sleep 0.2
done
[ -n "$admin" ] || die "no admin key on the server's stdout after 90 s"
for _ in $(seq 100); do
  curl -fsS --max-time 2 "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
  sleep 0.1
done
curl -fsS --max-time 2 "http://127.0.0.1:$port/health" >/dev/null || die "/health does not answer"

key() { "$bin" keys create --data-dir "$data" "$@" 2>/dev/null; }
inference="$(key --name e2e-inference --scopes inference)"
weights="$(key --name e2e-weights --scopes weights)"
exhausted="$(key --name e2e-exhausted --scopes inference --budget-tokens 1)"
open_only="$(key --name e2e-open-only --scopes inference,weights --models fixture-llama)"
for k in "$inference" "$weights" "$exhausted" "$open_only"; do
  [[ "$k" == muse-* ]] || die "muse keys create did not print a secret"
done

export MUSE_E2E_BASE_URL="http://127.0.0.1:$port"
export MUSE_E2E_PORT="$port"
export MUSE_E2E_BIN="$bin"
export MUSE_E2E_CONFIG="$config"
export MUSE_E2E_DATA_DIR="$data"
export MUSE_E2E_PID_FILE="$pidfile"
export MUSE_E2E_WORK_DIR="$work"
export MUSE_E2E_REPORT="$report"
export MUSE_E2E_CLOSED_ID=smollm2-135m-instruct
export MUSE_E2E_CLOSED_PATH="$closed"
export MUSE_E2E_OPEN_ID=fixture-llama
export MUSE_E2E_OPEN_PATH="$open"
export MUSE_E2E_ADMIN_KEY="$admin"
export MUSE_E2E_INFERENCE_KEY="$inference"
export MUSE_E2E_WEIGHTS_KEY="$weights"
export MUSE_E2E_EXHAUSTED_KEY="$exhausted"
export MUSE_E2E_OPEN_ONLY_KEY="$open_only"
export PYTHONDONTWRITEBYTECODE=1

say "pytest Scripts/e2e/api_e2e"
set +e
timeout -k 10 190 "$PY" -m pytest -q -rxXfE --durations=5 -p no:cacheprovider Scripts/e2e/api_e2e
status=$?
set -e
cat "$report"
[ "$status" -eq 0 ] || die "pytest failed (exit $status)"
say "passed"
