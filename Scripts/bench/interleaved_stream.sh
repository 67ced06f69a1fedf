#!/usr/bin/env bash
# The AVX2 kernels streaming a tensor larger than the caches (interleaved_stream.c), built with
# and without the one-token software prefetch of the interleaved kernels
# (MUSE_IDOT_PREFETCH_ONE), alternating ROUNDS times at each thread count; prints each run and
# the medians. x86-64 with AVX2 only.
#   Scripts/bench/interleaved_stream.sh [q4_0|q4_1|q8_0-rows|q4_K|q6_K]
#   (TOKENS=1 ROUNDS=6 THREADS="1 2" MB=640 AHEADS="0 1024 8192": the one-token prefetch
#   distances built; KDIST=N: the K-quant kernels' distance; MB=1 keeps the tensor in L2;
#   MUSE_STREAM_CHUNKS=8 runs each group 8 times as a prefill would; MUSE_STREAM_LEVEL=avx512vnni)
set -euo pipefail
cd "$(dirname "$0")/../.."
TYPE=${1:-q4_0}
TOKENS=${TOKENS:-1}
ROUNDS=${ROUNDS:-6}
THREADS=${THREADS:-1 2}
MB=${MB:-640}
AHEADS=${AHEADS:-0 1024 8192}
CC=${CC:-clang}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for ahead in $AHEADS; do
  "$CC" -O2 -ISources/MuseKernelsC/include -DMUSE_IDOT_PREFETCH_ONE=$ahead ${KDIST:+-DKDIST=$KDIST} \
    Scripts/bench/interleaved_stream.c Sources/MuseKernelsC/interleaved_dot.c Sources/MuseKernelsC/interleaved_dot_kquants.c \
    Sources/MuseKernelsC/float_dot.c -o "$out/stream-$ahead" -lpthread
done
echo "== $(date -u '+%Y-%m-%d %H:%M UTC'), load $(cut -d' ' -f1-3 /proc/loadavg), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs)"
for t in $THREADS; do
  for r in $(seq "$ROUNDS"); do
    for ahead in $AHEADS; do
      echo "prefetch $ahead: $("$out/stream-$ahead" "$TYPE" "$TOKENS" "$t" "$MB")"
    done
  done | tee "$out/runs-$t"
  for ahead in $AHEADS; do
    echo "median, prefetch $ahead, $t thread(s): $(grep "^prefetch $ahead:" "$out/runs-$t" | sed 's/.*: \([0-9.]*\) GB\/s/\1/' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}') GB/s"
  done
done
