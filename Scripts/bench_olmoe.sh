#!/usr/bin/env bash
# Decode/prefill speed of Muse on the OLMoE-shaped random benchmark model, optionally side by
# side with llama.cpp's llama-bench on the same file.
#
#   Scripts/bench_olmoe.sh [TYPE...]            # types: q4_0 q8_0 (default), any of
#                                               # make_bench_model.py's --type values
# Environment:
#   BENCH_DIR    where models are kept (default /tmp/bench); a missing model is built with
#                Scripts/make_bench_model.py (a few minutes, 4–8 GB of disk)
#   THREADS      thread counts, comma-separated (default 1,2)
#   PROMPT=64 GEN=16 REPS=3                      muse bench settings
#   MUSE         the muse binary (default: builds .build/release/muse)
#   LLAMA_BENCH  a llama-bench binary: also run it (-p PROMPT -n GEN) and print muse/llama ratios
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_DIR=${BENCH_DIR:-/tmp/bench}
THREADS=${THREADS:-1,2}
PROMPT=${PROMPT:-64}
GEN=${GEN:-16}
REPS=${REPS:-3}
TYPES=("$@")
[ ${#TYPES[@]} -eq 0 ] && TYPES=(q4_0 q8_0)

if [ -z "${MUSE:-}" ]; then
  swift build -c release --product muse >&2
  MUSE=.build/release/muse
fi
mkdir -p "$BENCH_DIR"

for type in "${TYPES[@]}"; do
  model="$BENCH_DIR/olmoe-$type.gguf"
  if [ ! -f "$model" ]; then
    echo "== building $model" >&2
    python3 Scripts/make_bench_model.py "$model" --type "$type"
  fi
  echo "== muse, $type"
  muse_out=$("$MUSE" bench --model "$model" --threads "$THREADS" --prompt-tokens "$PROMPT" \
    --gen-tokens "$GEN" --repetitions "$REPS")
  echo "$muse_out"
  [ -z "${LLAMA_BENCH:-}" ] && continue

  echo "== llama-bench, $type"
  llama_out=$("$LLAMA_BENCH" -m "$model" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r "$REPS" -o csv)
  echo "$llama_out"
  # Ratios: muse's median-free mean vs llama-bench's avg_ts, per thread count and test.
  python3 - "$muse_out" "$llama_out" <<'PY'
import csv, io, re, sys
muse, llama = sys.argv[1], sys.argv[2]
ours = {}
for line in muse.splitlines():
    m = re.match(r"\s*(\d+)\s*\|\s*([\d.]+)\s*\(.*?\)\s*\|\s*([\d.]+)", line)
    if m:
        ours[int(m.group(1))] = (float(m.group(2)), float(m.group(3)))
print("threads | prefill muse/llama | decode muse/llama")
for row in csv.DictReader(io.StringIO(llama)):
    t, ts = int(row["n_threads"]), float(row["avg_ts"])
    if t not in ours:
        continue
    if int(row["n_prompt"]) > 0:
        print(f"{t:7d} | pp{row['n_prompt']}: {ours[t][0]:.2f} / {ts:.2f} = {ours[t][0] / ts:.2f}")
    if int(row["n_gen"]) > 0:
        print(f"{t:7d} | tg{row['n_gen']}: {ours[t][1]:.2f} / {ts:.2f} = {ours[t][1] / ts:.2f}")
PY
done
