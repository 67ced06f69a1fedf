#!/usr/bin/env bash
# Receipt overhead per response, timed in-process: serves a model with `muse serve` on a fresh
# data directory, drives it with `muse bench serve --url` (streamed chat completions at the
# given concurrency levels), then reads the receipt stage's own histogram from /metrics
# (muse_receipt_duration_seconds: hashing, signing and storing one reply's receipt).
#
#   Scripts/bench/receipt_overhead.sh MUSE_BINARY [MODEL.gguf] [CONCURRENCY] [GEN_TOKENS]
#
# Use a release binary (swift build -c release --product muse) for numbers to report.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin="${1:?usage: $0 MUSE_BINARY [MODEL.gguf] [CONCURRENCY] [GEN_TOKENS]}"
model="${2:-${MUSE_CACHE_DIR:-$HOME/.cache/muse}/models/SmolLM2-135M-Instruct.Q4_1.gguf}"
levels="${3:-1,4}"
gen="${4:-32}"
PY="${PYTHON:-python3}"
E2E_NAME=receipt_overhead
# shellcheck source=Scripts/e2e/lib.sh
. Scripts/e2e/lib.sh

work="$(mktemp -d "${TMPDIR:-/tmp}/muse-receipts.XXXXXX")"
trap 'e2e_stop_server "$work/pid"; rm -rf "$work"' EXIT
port="$(e2e_free_port)"
printf 'host: 127.0.0.1\nmodels:\n  - id: bench\n    path: "%s"\n    visibility: closed\n' "$model" >"$work/muse.yaml"
e2e_start_server "$work/muse.yaml" "$work/data" "$port" "$work/log" "$work/pid"
key="$(e2e_admin_key "$work/log")"
"$bin" bench serve --url "http://127.0.0.1:$port" --key "$key" --model-name bench --chat \
  --concurrency "$levels" --gen-tokens "$gen"
curl -fsS "http://127.0.0.1:$port/metrics" | "$PY" -c '
import sys
sums = {}
for line in sys.stdin:
    if line.startswith("muse_receipt_duration_seconds"):
        name, value = line.rsplit(" ", 1)
        sums[name] = float(value)
count = sums["muse_receipt_duration_seconds_count"]
total = sums["muse_receipt_duration_seconds_sum"]
print(f"receipts: {int(count)}, mean {total / count * 1000:.3f} ms per response")
for name, value in sums.items():
    if "_bucket" in name:
        print("  <=", name.split("le=")[1].split(chr(34))[1], "s:", int(value))
'
