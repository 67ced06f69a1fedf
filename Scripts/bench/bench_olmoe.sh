#!/usr/bin/env bash
# Decode/prefill speed of Muse on the OLMoE-shaped random benchmark models and on SmolLM2-135M
# Q4_1, optionally side by side with llama.cpp's llama-bench on the same files in the same run.
#
#   Scripts/bench/bench_olmoe.sh [TYPE|FILE.gguf ...]  # OLMoE types: q4_0 q8_0 (default), any of
#                                                # make_bench_model.py's --type values; a
#                                                # .gguf path is measured as it is
# Environment:
#   BENCH_DIR    where models are kept (default /tmp/bench); a missing model is built with
#                Scripts/bench/make_bench_model.py (a few minutes, 4–8 GB of disk)
#   SMOL         a further GGUF to measure (default ~/.cache/muse/models/SmolLM2-135M-Instruct.Q4_1.gguf
#                when present; SMOL= to skip)
#   THREADS      thread counts, comma-separated (default 1,2)
#   PROMPT=64 GEN=32 REPS=3                      prompt and generated tokens, repetitions
#   ROUNDS       rounds per model (default 1): each runs muse then llama-bench, and with more
#                than one a last line gives the medians over rounds and the median of the
#                per-round ratios (this machine's bandwidth drifts between minutes, so a
#                ratio is only fair between runs taken right after each other)
#   MUSE         the muse binary (default: builds .build/release/muse)
#   KERNEL_LEVEL muse's kernel level (portable, avx2, vnni, avx512; default the CPU's best):
#                passed as --kernel-level, to measure a lower level on a machine with a higher one
#   LLAMA_BENCH  a llama-bench binary: also run it (-p PROMPT -n GEN) on each file and print
#                muse/llama ratios for prefill and decode, and both programs' decode/roofline
#                (the roofline is muse's: measured read bandwidth / weight bytes per token)
set -euo pipefail
cd "$(dirname "$0")/../.."

BENCH_DIR=${BENCH_DIR:-/tmp/bench}
THREADS=${THREADS:-1,2}
PROMPT=${PROMPT:-64}
GEN=${GEN:-32}
REPS=${REPS:-3}
SMOL=${SMOL-$HOME/.cache/muse/models/SmolLM2-135M-Instruct.Q4_1.gguf}
TYPES=("$@")
[ ${#TYPES[@]} -eq 0 ] && TYPES=(q4_0 q8_0)

if [ -z "${MUSE:-}" ]; then
  swift build -c release --product muse >&2
  MUSE=.build/release/muse
fi
mkdir -p "$BENCH_DIR"

MODELS=()
for type in "${TYPES[@]}"; do
  if [[ "$type" == *.gguf ]]; then
    MODELS+=("$type")
    continue
  fi
  model="$BENCH_DIR/olmoe-$type.gguf"
  if [ ! -f "$model" ]; then
    echo "== building $model" >&2
    python3 Scripts/bench/make_bench_model.py "$model" --type "$type"
  fi
  MODELS+=("$model")
done
[ -n "$SMOL" ] && [ -f "$SMOL" ] && MODELS+=("$SMOL")

echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs); vector flags:" \
  "$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -E '^(avx2|fma|f16c|avx512f|avx512vl|avx512bw|avx512_vnni|avx_vnni|amx_int8)$' | xargs)"
LEVEL_ARGS=()
[ -n "${KERNEL_LEVEL:-}" ] && LEVEL_ARGS=(--kernel-level "$KERNEL_LEVEL")
echo "== prompt $PROMPT, gen $GEN, repetitions $REPS, threads $THREADS"
ROUNDS=${ROUNDS:-1}
echo "== rounds $ROUNDS"
for model in "${MODELS[@]}"; do
  rounds=()
  for round in $(seq 1 "$ROUNDS"); do
    echo "== round $round: muse, $(basename "$model")"
    muse_json=$("$MUSE" bench --model "$model" --threads "$THREADS" --prompt-tokens "$PROMPT" \
      --gen-tokens "$GEN" --repetitions "$REPS" "${LEVEL_ARGS[@]}" --json)
    llama_csv=""
    if [ -n "${LLAMA_BENCH:-}" ]; then
      echo "== round $round: llama-bench, $(basename "$model")"
      llama_csv=$("$LLAMA_BENCH" -m "$model" -t "$THREADS" -p "$PROMPT" -n "$GEN" -r "$REPS" -o csv)
    fi
    rounds+=("$(python3 -c 'import json, sys; print(json.dumps([json.loads(sys.argv[1]), sys.argv[2]]))' \
      "$muse_json" "$llama_csv")")
  done
  results=$(mktemp)
  printf '%s\n' "${rounds[@]}" > "$results"
  python3 - "$results" <<'PY'
import csv, io, json, statistics, sys
rounds = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
print(f"{rounds[0][0]['active_bytes_per_token'] / 1e6:.1f} MB of weights per token")
first = rounds[0][0]
if "kernel_level" in first:
    print(f"muse kernel level {first['kernel_level']} on {first['cpu']}")
    for name, path in sorted(first["kernel_paths"].items()):
        print(f"  {name}: {path}")
print("round | threads | muse pp | llama pp | ratio | muse tg | llama tg | ratio "
      "| roofline tg | muse/roof | llama/roof")
ratio = lambda a, b: a / b if a and b else None
fmt = lambda v, f: format(v, f) if v is not None else "-"
rows = {}
for index, (muse, llama_text) in enumerate(rounds, 1):
    llama = {}
    for row in csv.DictReader(io.StringIO(llama_text)) if llama_text else []:
        test = "prefill" if int(row["n_prompt"]) > 0 else "decode"
        llama[(int(row["n_threads"]), test)] = float(row["avg_ts"])
    for run in muse["runs"]:
        t, roof = run["threads"], run["rooflineTokensPerSecond"]
        pp, tg = run["prefill"]["median"], run["decode"]["median"]
        lpp, ltg = llama.get((t, "prefill")), llama.get((t, "decode"))
        values = (pp, lpp, ratio(pp, lpp), tg, ltg, ratio(tg, ltg), roof, ratio(tg, roof), ratio(ltg, roof))
        rows.setdefault(t, []).append(values)
        print(f"{index:5d} | {t:7d} | " + " | ".join(fmt(v, f) for v, f in zip(values, (
            "7.2f", "8.2f", "5.2f", "7.2f", "8.2f", "5.2f", "11.1f", "8.0%", "9.0%"))))
if len(rounds) > 1:
    for t, values in rows.items():
        medians = [statistics.median([v[i] for v in values if v[i] is not None] or [0]) or None
                   for i in range(9)]
        print(f"  med | {t:7d} | " + " | ".join(fmt(v, f) for v, f in zip(medians, (
            "7.2f", "8.2f", "5.2f", "7.2f", "8.2f", "5.2f", "11.1f", "8.0%", "9.0%"))))
PY
  rm -f "$results"
done
