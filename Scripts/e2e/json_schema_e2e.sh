#!/usr/bin/env bash
# `muse run --json-schema` on SmolLM2: every output of one schema per feature, several seeds at
# a high temperature, validated by the jsonschema package (json_schema_e2e.py). About 2.5 minutes
# on the shared 2-core machine.
#
#   Scripts/e2e/json_schema_e2e.sh [MUSE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/../.."
PY="${PYTHON:-python3}"
E2E_NAME=json_schema_e2e
# shellcheck source=Scripts/e2e/lib.sh
. Scripts/e2e/lib.sh
e2e_binary "${1:-}"
model="$(e2e_smollm2)"
"$PY" Scripts/e2e/json_schema_e2e.py "$bin" "$model"
