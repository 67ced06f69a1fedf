#!/usr/bin/env bash
# End-to-end tests of the chat app in a real headless Chromium, as CI runs them.
#
#   Scripts/e2e/app_e2e.sh [MUSE_BINARY]
#
# Without an argument it builds the CLI (`swift build --product muse`). It serves three models
# from a temporary data directory on a free port of 127.0.0.1: the default SmolLM2 (closed,
# real streaming), the fixture Tests/Fixtures/models/llama-q8_0.gguf (open) and the scripted
# model Tests/Fixtures/models/scripted-reply.gguf (its reply holds Markdown, an HTML artifact,
# <script> and <img onerror>) and Tests/Fixtures/models/scripted-reasoning.gguf (a <think> part,
# then "The answer is **42**."). It creates three users with `muse users create` (an admin, a
# user allowed only SmolLM2, a user whose token budget is spent), runs Scripts/e2e/app_e2e.py (Selenium + Debian's chromium and
# chromedriver), which also writes the screenshots in docs/screenshots, and always stops
# the server. Lines starting with "E2E-REPORT:" are informative measurements.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo="$(pwd)"
PY="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore
cache="${MUSE_CACHE_DIR:-$HOME/.cache/muse}"
export MUSE_CACHE_DIR="$cache"

say() { echo "== app_e2e: $*"; }
die() { echo "app_e2e: error: $*" >&2; exit 1; }

if [ $# -ge 1 ] && [ -n "$1" ]; then
  bin="$1"
else
  say "building muse"
  swift build --product muse
  bin="$(swift build --show-bin-path)/muse"
fi
[ -x "$bin" ] || die "$bin is not an executable"
bin="$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")"

command -v chromium >/dev/null || die "chromium is not installed (apt-get install -y chromium chromium-driver)"
command -v chromedriver >/dev/null || die "chromedriver is not installed (apt-get install -y chromium-driver)"
say "Python packages"
"$PY" -m pip install -q --disable-pip-version-check "$(grep -E '^selenium==' Scripts/requirements.txt)"

closed="$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf"
[ -s "$closed" ] || bash Scripts/fixtures/fetch-smollm2.sh >/dev/null
[ -s "$closed" ] || die "$closed is missing (run Scripts/fixtures/fetch-smollm2.sh)"
open="$repo/Tests/Fixtures/models/llama-q8_0.gguf"
scripted="$repo/Tests/Fixtures/models/scripted-reply.gguf"
[ -s "$open" ] || die "$open is missing"
reasoning="$repo/Tests/Fixtures/models/scripted-reasoning.gguf"
[ -s "$scripted" ] || die "$scripted is missing (python3 Scripts/fixtures/make_scripted_model.py)"
[ -s "$reasoning" ] || die "$reasoning is missing (python3 Scripts/fixtures/make_scripted_model.py)"

work="$(mktemp -d "${TMPDIR:-/tmp}/muse-app-e2e.XXXXXX")"
data="$work/data"
mkdir -p "$data"
pidfile="$work/server.pid"
log="$work/server.log"

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
    echo "app_e2e: failed (exit $rc); last lines of the server log:" >&2
    tail -n 30 "$log" >&2 2>/dev/null || true
    if [ -d "$work/failures" ]; then
      mkdir -p "${TMPDIR:-/tmp}/muse-app-e2e-failures"
      cp "$work"/failures/*.png "${TMPDIR:-/tmp}/muse-app-e2e-failures/" 2>/dev/null || true
      echo "app_e2e: screenshots of the failed steps: ${TMPDIR:-/tmp}/muse-app-e2e-failures/" >&2
    fi
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')"
config="$work/muse.yaml"
# Short replies keep the run fast: the streaming test stops SmolLM2 long before 96 tokens.
cat >"$config" <<EOF
host: 127.0.0.1
models:
  - id: smollm2-135m-instruct
    path: "$closed"
    visibility: closed
    display_name: SmolLM2 135M Instruct
    description: A small instruction-tuned model
    max_tokens: 96
    input_price_per_million: 0.5
    output_price_per_million: 1.5
  - id: fixture-llama
    path: "$open"
    visibility: open
    display_name: Fixture Llama
    description: Tiny open test model
    max_tokens: 16
  - id: scripted-reply
    path: "$scripted"
    visibility: closed
    display_name: Scripted test model
    description: Always gives the same Markdown reply
  - id: scripted-reasoning
    path: "$reasoning"
    visibility: closed
    display_name: Scripted thinking model
    description: Always thinks briefly, then answers 42
EOF

# Passwords are made here and given to `muse users create` on stdin, so they are never on a
# command line or in the server's output; the test then checks the log holds none of them.
admin_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
limited_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
spent_password="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(18))')"
users() { "$bin" users "$@" --data-dir "$data"; }
printf '%s\n' "$admin_password" | users create maria --admin --budget-tokens 250000 --requests-per-minute 60 \
  --password-stdin >/dev/null
printf '%s\n' "$limited_password" | users create sam --models smollm2-135m-instruct --budget-usd 5 \
  --password-stdin >/dev/null
printf '%s\n' "$spent_password" | users create lee --budget-tokens 1 --password-stdin >/dev/null

say "starting muse serve on 127.0.0.1:$port"
"$bin" serve --config "$config" --port "$port" --data-dir "$data" >"$log" 2>&1 &
echo $! >"$pidfile"

ready=""
for _ in $(seq 450); do # 90 s: loading the models and hashing them the first time
  if curl -fsS --max-time 2 "http://127.0.0.1:$port/health" >/dev/null 2>&1; then ready=1; break; fi
  kill -0 "$(cat "$pidfile")" 2>/dev/null || die "muse serve exited: $(tail -n 20 "$log")"
  sleep 0.2
done
[ -n "$ready" ] || die "/health does not answer after 90 s"

# The first-run banner prints the admin API key once by design; every other line of the log
# must be free of it, as of the passwords and session tokens (app_e2e.py's last step).
secrets_file="$work/secrets.txt"
for _ in $(seq 30); do grep -q '^Admin key' "$log" && break; sleep 0.1; done
sed -n 's/^Admin key (shown once, keep it safe): \(muse-[A-Za-z0-9]*\).*$/\1/p' "$log" >"$secrets_file"

export MUSE_APP_BASE_URL="http://127.0.0.1:$port"
export MUSE_APP_LOG="$log"
export MUSE_APP_ADMIN_USER=maria
export MUSE_APP_ADMIN_PASSWORD="$admin_password"
export MUSE_APP_LIMITED_USER=sam
export MUSE_APP_LIMITED_PASSWORD="$limited_password"
export MUSE_APP_SPENT_USER=lee
export MUSE_APP_SPENT_PASSWORD="$spent_password"
export MUSE_APP_DEFAULT_MODEL=smollm2-135m-instruct
export MUSE_APP_OPEN_MODEL=fixture-llama
export MUSE_APP_XSS_MODEL=scripted-reply
export MUSE_APP_REASONING_MODEL=scripted-reasoning
export MUSE_APP_SCREENSHOTS="${MUSE_APP_SCREENSHOTS:-$repo/docs/screenshots}"
export MUSE_APP_FAILURES="$work/failures"
export MUSE_APP_SECRETS_FILE="$secrets_file"
# The restart step stops the server (pid file) and starts it again with the same arguments.
export MUSE_APP_PID_FILE="$pidfile"
MUSE_APP_SERVE_ARGV="$("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' \
  "$bin" serve --config "$config" --port "$port" --data-dir "$data")"
export MUSE_APP_SERVE_ARGV
export PYTHONDONTWRITEBYTECODE=1

say "Selenium + headless Chromium ($(chromium --version 2>/dev/null | head -n 1))"
set +e
timeout -k 10 300 "$PY" Scripts/e2e/app_e2e.py
status=$?
set -e
[ "$status" -eq 0 ] || die "app_e2e.py failed (exit $status)"
say "passed"
