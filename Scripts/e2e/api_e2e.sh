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
PY="${PYTHON:-python3}"
export PIP_ROOT_USER_ACTION=ignore
cache="${MUSE_CACHE_DIR:-$HOME/.cache/muse}"
export MUSE_CACHE_DIR="$cache"

E2E_NAME=api_e2e
# shellcheck source=Scripts/e2e/lib.sh
. Scripts/e2e/lib.sh
say() { e2e_say "$@"; }
die() { e2e_die "$@"; }

e2e_binary "${1:-}"

say "Python packages"
"$PY" -m pip install -q --disable-pip-version-check -r Scripts/e2e/api_e2e/requirements.txt

closed="$(e2e_smollm2)"
open="$(e2e_fixture llama-q8_0.gguf)"
minilm="$(bash Scripts/fixtures/fetch-minilm.sh)"

work="$(mktemp -d "${TMPDIR:-/tmp}/muse-e2e.XXXXXX")"
data="$work/data"
mkdir -p "$data"
pidfile="$work/server.pid"
log="$work/server.log"
report="$work/report.txt"
: >"$report"

cleanup() {
  local rc=$?
  e2e_stop_server "$pidfile"
  if [ "$rc" -ne 0 ]; then
    echo "api_e2e: failed (exit $rc); last lines of the server logs:" >&2
    tail -n 30 "$work"/server*.log >&2 2>/dev/null || true
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port="$(e2e_free_port)"
config="$work/muse.yaml"
cat >"$config" <<EOF
host: 127.0.0.1
header_timeout_seconds: 5
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
  - id: smollm2-guarded
    path: "$closed"
    visibility: closed
    description: the closed model behind the operator's guardrails
    guard:
      input:
        - {rail: pii, action: block, categories: [payment_card, iban, national_id, api_key, private_key]}
        - {rail: pii, action: redact, categories: [email, phone]}
        - {rail: injection, action: block}
      output:
        - {rail: patterns, action: block, deny: [Paris]}
        - {rail: moderation, action: block}
  - id: all-minilm-l6-v2
    path: "$minilm"
EOF

e2e_start_server "$config" "$data" "$port" "$log" "$pidfile"
admin="$(e2e_admin_key "$log")"

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
export MUSE_E2E_GUARDED_ID=smollm2-guarded
export MUSE_E2E_ADMIN_KEY="$admin"
export MUSE_E2E_INFERENCE_KEY="$inference"
export MUSE_E2E_WEIGHTS_KEY="$weights"
export MUSE_E2E_EXHAUSTED_KEY="$exhausted"
export MUSE_E2E_OPEN_ONLY_KEY="$open_only"
export PYTHONDONTWRITEBYTECODE=1
export MUSE_E2E_HEADER_TIMEOUT=5

say "pytest Scripts/e2e/api_e2e"
set +e
timeout -k 10 600 "$PY" -m pytest -q -rxXfE --durations=5 -p no:cacheprovider Scripts/e2e/api_e2e
status=$?
set -e
cat "$report"
[ "$status" -eq 0 ] || die "pytest failed (exit $status)"
say "passed"
