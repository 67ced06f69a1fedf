#!/usr/bin/env bash
# The contract fuzz of issue #15: schemathesis (every check, bounded examples per operation)
# against a live `muse serve` whose /openapi.json is the contract, signed in both as an admin key
# and as the app's admin (session cookie), so every route is reached. Serves the small fixture
# model (context 256, so no generated request can run long) and the MiniLM embedder. Passes when
# schemathesis finds nothing and the server still answers /health.
#
#   Scripts/e2e/hardening.sh [MUSE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
E2E_NAME=hardening
export PIP_ROOT_USER_ACTION=ignore
# shellcheck source=Scripts/e2e/lib.sh
. Scripts/e2e/lib.sh
e2e_binary "${1:-}"
"$PY" -m pip install -q --disable-pip-version-check -r Scripts/e2e/hardening/requirements.txt

work="$(mktemp -d "${TMPDIR:-/tmp}/muse-hardening.XXXXXX")"
pidfile="$work/server.pid"
log="$work/server.log"
cleanup() {
  local rc=$?
  e2e_stop_server "$pidfile"
  if [ "$rc" -ne 0 ]; then tail -n 30 "$log" >&2 2>/dev/null || true; fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

minilm="${MUSE_CACHE_DIR:-$HOME/.cache/muse}/models/all-MiniLM-L6-v2"
[ -d "$minilm" ] || bash Scripts/fixtures/fetch-minilm.sh >/dev/null
cat >"$work/muse.yaml" <<YAML
host: 127.0.0.1
header_timeout_seconds: 10
models:
  - id: fixture
    path: "$(e2e_fixture llama-q8_0.gguf)"
    visibility: closed
  - id: minilm
    path: "$minilm"
YAML
port="$(e2e_free_port)"
e2e_start_server "$work/muse.yaml" "$work/data" "$port" "$log" "$pidfile"
admin="$(e2e_admin_key "$log")"
password="$(sed -n 's/^Chat app: .* sign in as admin \/ \([^ ]*\) (shown once).*$/\1/p' "$log" | head -n 1)"
[ -n "$password" ] || e2e_die "no admin password in the server's first-run banner"
cookie="$(curl -fsS -D - -o /dev/null -H 'X-Muse-App: 1' -H 'Content-Type: application/json' \
  -d "{\"username\": \"admin\", \"password\": \"$password\"}" "http://127.0.0.1:$port/app/api/login" \
  | sed -n 's/^[Ss]et-[Cc]ookie: muse_session=\([^;]*\).*$/\1/p')"
[ -n "$cookie" ] || e2e_die "could not sign in to the app as admin"

export MUSE_HARDENING_KEY="$admin" MUSE_HARDENING_SESSION="$cookie"
e2e_say "schemathesis on http://127.0.0.1:$port/openapi.json"
set +e
(cd Scripts/e2e/hardening && timeout -k 10 900 "$PY" -m schemathesis.cli run \
  "http://127.0.0.1:$port/openapi.json" --url "http://127.0.0.1:$port" \
  --checks all --seed 1)
status=$?
set -e
curl -fsS --max-time 5 "http://127.0.0.1:$port/health" >/dev/null || e2e_die "the server stopped answering /health"
[ "$status" -eq 0 ] || e2e_die "schemathesis found failures (exit $status)"
e2e_say "passed: no failures, and the server answers /health"
