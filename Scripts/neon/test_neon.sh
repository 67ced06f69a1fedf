#!/usr/bin/env bash
# The arm64 NEON (dotprod) kernels without an ARM machine: cross-compiles every C file of
# Sources/MuseKernelsC for aarch64 (the arm64 build of the target), then builds
# neon_kernel_test.c with interleaved_dot_neon.c and runs it under QEMU user emulation as
# `-cpu max` and as a Neoverse N1 (Graviton2's core), both with FEAT_DotProd; checks that the
# CPU feature test sees dotprod there and not on a Cortex-A53 (which lacks it); and, on x86-64,
# runs the same test natively against the x86 levels this CPU has, so the test's references are
# shown to agree with the kernels the Swift tests already cover. Fails on any mismatch.
#
# Needs the Swift toolchain's clang (or CLANG=...); installs qemu-user and Debian's aarch64
# cross libc and binutils when missing (apt-get, as root or through sudo). ~10 s once installed.
set -euo pipefail
cd "$(dirname "$0")/../.."

clang="${CLANG:-}"
if [ -z "$clang" ]; then
  swift_bin="$(command -v swift || true)"
  if [ -n "$swift_bin" ] && [ -x "$(dirname "$(readlink -f "$swift_bin")")/clang" ]; then
    clang="$(dirname "$(readlink -f "$swift_bin")")/clang"
  else
    clang="$(command -v clang || true)"
  fi
fi
[ -n "$clang" ] || { echo "test_neon.sh: no clang (set CLANG=...)" >&2; exit 1; }

have_tools() {
  command -v qemu-aarch64 >/dev/null && command -v aarch64-linux-gnu-ld >/dev/null &&
    [ -e /usr/aarch64-linux-gnu/lib/libc.a ] && compgen -G "/usr/lib/gcc-cross/aarch64-linux-gnu/*/crtbeginT.o" >/dev/null
}

# apt-get, retried while another process holds the dpkg or list lock (CI machines run
# unattended upgrades); any other failure is returned at once.
apt_get() {
  local sudo_cmd="" try out
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  for try in $(seq 1 30); do
    if out="$($sudo_cmd env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=60 "$@" 2>&1)"; then
      return 0
    fi
    if ! grep -qi "lock" <<<"$out"; then
      echo "$out" >&2
      return 1
    fi
    echo "test_neon.sh: apt-get $1 waits for a lock (try $try)" >&2
    sleep 5
  done
  echo "$out" >&2
  return 1
}

if ! have_tools; then
  echo "== installing qemu-user and the aarch64 cross toolchain"
  packages=(qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
  apt_get install -y -q --no-install-recommends "${packages[@]}" || {
    apt_get update -q
    apt_get install -y -q --no-install-recommends "${packages[@]}"
  }
  have_tools || { echo "test_neon.sh: qemu-aarch64 or the aarch64 cross toolchain still missing" >&2; exit 1; }
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
src=Sources/MuseKernelsC
arm=("$clang" --target=aarch64-linux-gnu -I"$src/include")
# The references' int32 arithmetic wraps (Swift's &+), and no float operation may be fused
# unless the code says fmaf; the kernels get the package's flags (-O3).
test_flags=(-O2 -fwrapv -ffp-contract=off -Wall -Wextra -Werror)

echo "== MuseKernelsC for aarch64"
for f in "$src"/*.c; do "${arm[@]}" -O3 -c "$f" -o "$work/$(basename "$f" .c).o"; done

"${arm[@]}" "${test_flags[@]}" -c Scripts/neon/neon_kernel_test.c -o "$work/test.o"
"${arm[@]}" -static "$work/test.o" "$work/interleaved_dot_neon.o" "$work/int8_dot.o" -lm -o "$work/neon_kernel_test"
for cpu in max neoverse-n1; do
  echo "== NEON dotprod kernels under qemu-aarch64 -cpu $cpu"
  qemu-aarch64 -cpu "$cpu" "$work/neon_kernel_test"
done

echo "== CPU feature test: dotprod seen on -cpu max and a Neoverse N1, not on a Cortex-A53"
max="$(qemu-aarch64 -cpu max "$work/neon_kernel_test" features)"
n1="$(qemu-aarch64 -cpu neoverse-n1 "$work/neon_kernel_test" features)"
a53="$(qemu-aarch64 -cpu cortex-a53 "$work/neon_kernel_test" features)"
echo "muse_cpu_features: max $max, neoverse-n1 $n1, cortex-a53 $a53 (MUSE_CPU_NEON_DOTPROD = 8)"
if [ $((max & 8)) -eq 0 ] || [ $((n1 & 8)) -eq 0 ] || [ $((a53 & 8)) -ne 0 ]; then
  echo "FAIL MUSE_CPU_NEON_DOTPROD misdetected" >&2
  exit 1
fi

if [ "$(uname -m)" = x86_64 ]; then
  echo "== the same test natively against this CPU's x86 levels"
  x86=("$clang" -I"$src/include")
  "${x86[@]}" -O3 -c "$src/interleaved_dot.c" -o "$work/x86_interleaved_dot.o"
  "${x86[@]}" -O3 -c "$src/interleaved_dot_kquants.c" -o "$work/x86_interleaved_dot_kquants.o"
  "${x86[@]}" -O3 -c "$src/int8_dot.c" -o "$work/x86_int8_dot.o"
  "${x86[@]}" "${test_flags[@]}" Scripts/neon/neon_kernel_test.c "$work/x86_interleaved_dot.o" \
    "$work/x86_interleaved_dot_kquants.o" "$work/x86_int8_dot.o" -lm -o "$work/x86_kernel_test"
  "$work/x86_kernel_test"
fi
