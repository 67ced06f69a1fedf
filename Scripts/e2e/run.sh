#!/usr/bin/env bash
# Both end-to-end suites, as CI runs them: builds `muse` once (or takes MUSE_BINARY), then runs
# the API suite (api_e2e.sh: the official openai SDK and raw HTTP against `muse serve`) and the
# chat-app suite (app_e2e.sh: Selenium + headless Chromium), then the contract fuzz
# (hardening.sh: schemathesis on /openapi.json), then constrained decoding (json_schema_e2e.sh:
# `muse run --json-schema` outputs checked by jsonschema). All run even when one fails; the exit status is
# non-zero when any failed.
#
#   Scripts/e2e/run.sh [MUSE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
E2E_NAME=e2e
# shellcheck source=Scripts/e2e/lib.sh
. Scripts/e2e/lib.sh
e2e_binary "${1:-}"

failed=()
e2e_say "API end-to-end (official openai SDK against a running muse serve)"
bash Scripts/e2e/api_e2e.sh "$bin" || failed+=(api_e2e)
e2e_say "Chat app end-to-end (Selenium + headless Chromium against a running muse serve)"
bash Scripts/e2e/app_e2e.sh "$bin" || failed+=(app_e2e)
e2e_say "Contract fuzz (schemathesis, every check, against a running muse serve)"
bash Scripts/e2e/hardening.sh "$bin" || failed+=(hardening)
e2e_say "Constrained decoding (muse run --json-schema on SmolLM2, every output checked by jsonschema)"
bash Scripts/e2e/json_schema_e2e.sh "$bin" || failed+=(json_schema_e2e)

[ ${#failed[@]} -eq 0 ] || e2e_die "failed: ${failed[*]}"
e2e_say "every suite passed"
