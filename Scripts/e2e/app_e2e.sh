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

E2E_NAME=app_e2e
# shellcheck source=Scripts/e2e/lib.sh
. Scripts/e2e/lib.sh
say() { e2e_say "$@"; }
die() { e2e_die "$@"; }

e2e_binary "${1:-}"

command -v chromium >/dev/null || die "chromium is not installed (apt-get install -y chromium chromium-driver)"
command -v chromedriver >/dev/null || die "chromedriver is not installed (apt-get install -y chromium-driver)"
say "Python packages"
"$PY" -m pip install -q --disable-pip-version-check "$(grep -E '^selenium==' Scripts/requirements.txt)"

closed="$(e2e_smollm2)"
open="$(e2e_fixture llama-q8_0.gguf)"
scripted="$(e2e_fixture scripted-reply.gguf)"
reasoning="$(e2e_fixture scripted-reasoning.gguf)"
tools="$(e2e_fixture scripted-tools.gguf)"

work="$(mktemp -d "${TMPDIR:-/tmp}/muse-app-e2e.XXXXXX")"
data="$work/data"
mkdir -p "$data"
pidfile="$work/server.pid"
log="$work/server.log"

cleanup() {
  local rc=$?
  e2e_stop_server "$pidfile"
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

port="$(e2e_free_port)"
config="$work/muse.yaml"
# The streaming and regenerate tests stop SmolLM2 mid-reply, so its replies must outlast the
# browser's Stop: on a fast CPU 96 tokens were generated (and stored with finish_reason
# "length") before the click reached the server. No test waits for a whole SmolLM2 reply.
cat >"$config" <<EOF
host: 127.0.0.1
models:
  - id: smollm2-135m-instruct
    path: "$closed"
    visibility: closed
    display_name: SmolLM2 135M Instruct
    description: A small instruction-tuned model
    max_tokens: 1024
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
  - id: scripted-tools
    path: "$tools"
    visibility: closed
    display_name: Scripted tool caller
    description: Always calls get_weather and get_time
  - id: scripted-guarded
    path: "$scripted"
    visibility: closed
    display_name: Scripted guarded model
    description: The scripted reply behind the operator's guardrails
    guard:
      input: [{rail: pii, action: block, categories: [payment_card]}]
      output: [{rail: patterns, action: block, deny: [onerror]}]
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

e2e_start_server "$config" "$data" "$port" "$log" "$pidfile"

# The first-run banner prints the admin API key once by design; every other line of the log
# must be free of it, as of the passwords and session tokens (app_e2e.py's last step).
secrets_file="$work/secrets.txt"
e2e_admin_key "$log" >"$secrets_file"

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
export MUSE_APP_TOOLS_MODEL=scripted-tools
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
