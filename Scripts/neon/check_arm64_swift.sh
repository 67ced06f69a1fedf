#!/usr/bin/env bash
# The Swift side of the arm64 build, on an x86-64 machine (no Swift for arm64 here): copies
# MuseKernelsC, MuseKernels and MuseKernelsTests into a scratch package with every
# `#if arch(x86_64)` turned off and every `arch(arm64)` turned on, the NEON declarations of
# MuseKernelsC.h visible, and the AVX2 kernels standing in for the NEON ones (test_neon.sh
# shows both give the reference's bits) with MUSE_CPU_NEON_DOTPROD reported wherever AVX2 is.
# Then builds it and runs the kernel-level tests, so the `neon` level's dispatch, naming,
# repacking and the Swift calls into the kernels are compiled and exercised as on arm64.
#
#   bash Scripts/neon/check_arm64_swift.sh [swift test --filter pattern]
# A fresh build of the three targets: 1–3 minutes. Scripts/test.sh runs it.
set -euo pipefail
cd "$(dirname "$0")/../.."
filter="${1:-KernelDispatch|Interleaved|IntegerKernel|MatMulTests}"
sim="${TMPDIR:-/tmp}/muse-arm64-swift-check"
mkdir -p "$sim"
rm -rf "$sim/Sources" "$sim/Tests"
mkdir -p "$sim/Sources" "$sim/Tests/Fixtures"
cp -R Sources/MuseKernelsC Sources/MuseKernels "$sim/Sources/"
cp -R Tests/MuseKernelsTests Tests/MuseTestSupport "$sim/Tests/"
cp -R Tests/Fixtures/kernels "$sim/Tests/Fixtures/"

# Swift: arm64's branches on, x86-64's off.
find "$sim/Sources/MuseKernels" "$sim/Tests/MuseKernelsTests" -name '*.swift' -print0 |
  xargs -0 sed -i -E 's/(#(else)?if) arch\(x86_64\)/\1 false/; s/(#(else)?if) arch\(arm64\)/\1 true/'
# C: the NEON declarations visible; NEON's entry points forwarded to AVX2's; dotprod reported.
sed -i 's/#if defined(__aarch64__)/#if 1/' "$sim/Sources/MuseKernelsC/include/MuseKernelsC.h"
sed -i 's/    features |= MUSE_CPU_AVX2;/    features |= MUSE_CPU_AVX2 | MUSE_CPU_NEON_DOTPROD;/' "$sim/Sources/MuseKernelsC/int8_dot.c"
grep -q "MUSE_CPU_AVX2 | MUSE_CPU_NEON_DOTPROD" "$sim/Sources/MuseKernelsC/int8_dot.c"
cat >"$sim/Sources/MuseKernelsC/neon_standins.c" <<'EOF'
#include "MuseKernelsC.h"
MUSE_IDOT(muse_idot_q4_0_neon) { muse_idot_q4_0_avx2(w, blocks, x, xstride, ntok, y, ystride); }
MUSE_IDOT(muse_idot_q4_1_neon) { muse_idot_q4_1_avx2(w, blocks, x, xstride, ntok, y, ystride); }
MUSE_IDOT(muse_idot_q8_0_neon) { muse_idot_q8_0_avx2(w, blocks, x, xstride, ntok, y, ystride); }
MUSE_IDOT(muse_idot_q4_K_neon) { muse_idot_q4_K_avx2(w, blocks, x, xstride, ntok, y, ystride); }
MUSE_IDOT(muse_idot_q6_K_neon) { muse_idot_q6_K_avx2(w, blocks, x, xstride, ntok, y, ystride); }
void muse_split_activations_neon(const float *x, int8_t *dst, int blocks, int digits) {
  muse_split_activations_avx2(x, dst, blocks, digits);
}
EOF
cat >"$sim/Package.swift" <<'EOF'
// swift-tools-version:6.0
import PackageDescription

let package = Package(
  name: "MuseArm64Check",
  targets: [
    .target(name: "MuseKernelsC", cSettings: [.unsafeFlags(["-O3"])]),
    .target(name: "MuseKernels", dependencies: ["MuseKernelsC"], swiftSettings: [.unsafeFlags(["-Ounchecked"])]),
    .target(name: "MuseTestSupport", path: "Tests/MuseTestSupport"),
    .testTarget(name: "MuseKernelsTests", dependencies: ["MuseKernels", "MuseTestSupport"]),
  ],
  swiftLanguageModes: [.v5]
)
EOF
cd "$sim"
swift build --build-tests
swift test --skip-build --filter "$filter"
