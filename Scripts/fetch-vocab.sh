#!/usr/bin/env bash
# Fetch llama.cpp's vocab-only GGUF files and their tokenizer test vectors (`.inp` texts,
# `.out` Hugging Face token ids; MIT, see LICENSE.llama.cpp) from the llama-cpp-python 0.3.36
# source distribution on PyPI (its vendor/llama.cpp/models/) into
# ${MUSE_CACHE_DIR:-$HOME/.cache/muse}/vocab/. 49 MB: too large to commit beside the tests.
# Every file is checked against the sha256 below (the same bytes the team's ../shared/data/vocab
# holds). Idempotent: exits 0 at once when every file is already there with the right sha256.
# Prints the folder on success; exits non-zero with a message on any failure.
set -euo pipefail

CACHE="${MUSE_CACHE_DIR:-$HOME/.cache/muse}"
DEST="$CACHE/vocab"
PKG="llama-cpp-python==0.3.36"
SDIST="llama_cpp_python-0.3.36.tar.gz"
SDIST_SHA256="832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
PREFIX="llama_cpp_python-0.3.36/vendor/llama.cpp/"
PY="${PYTHON:-python3}"

# sha256 and name of every file the tests read, under $PREFIX/models/ in the archive.
MANIFEST="\
7c53c3c516ac67c7ca12977b9690fdea3d2ef13bbaed6378f98191a13ef5ca00  ggml-vocab-aquila.gguf
4f5b955697f3bd3108070b1d5936c7eb9fc542b81c6932e59abddec75bca1963  ggml-vocab-baichuan.gguf
fbcbe22278fb302694d5f4a41bfe48c5f90e8e3554eab1c0435387dff654a854  ggml-vocab-bert-bge.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-bert-bge.gguf.inp
8f95b1d4e5680634af06ac5a1b19f15ddeb743d3a6240056625e4345a4b06917  ggml-vocab-bert-bge.gguf.out
867f77537b54565f0d81d508c04edc41aa1d4ffc1a92745f225b4c1b02755f76  ggml-vocab-deepseek-llm.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-deepseek-llm.gguf.inp
87cfc1a8a9a7ef25d04d28c26a67b6a620af7be938c9bd0feeb4d319b9302832  ggml-vocab-deepseek-llm.gguf.out
9f0bf8b0733680398b72e652e90f260f43782f326e75545fc0e49611a5ba35ad  ggml-vocab-falcon.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-falcon.gguf.inp
f8c80a0483582ef195c2129b69bb2e4e421b0f31ed7b35d84b63511d7ebae7cd  ggml-vocab-falcon.gguf.out
cedc56ca6e2e89f63e781696d1fd76b4b1d49e6720dee86463e915f6e90016ac  ggml-vocab-gpt-2.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-gpt-2.gguf.inp
48e8c4cb3ad5c37915b225f872222567c1c4dd4d66951aa53460c8d152ff6d60  ggml-vocab-gpt-2.gguf.out
ae593a7f9b8bb174ed4f5019e41530463e4dac7aa06e42dee8aa650d2bdac53d  ggml-vocab-gpt-neox.gguf
97272e430d53bc7688f52d5e0ad8ea8f163ede9f1bbd1694feaa504797d5d96e  ggml-vocab-llama-bpe.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-llama-bpe.gguf.inp
118abf2034a197fc5c9dec5204dfdeee7004c7c70952ae577f66b99e212fab9b  ggml-vocab-llama-bpe.gguf.out
16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69  ggml-vocab-llama-spm.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-llama-spm.gguf.inp
ad6905c925c49c022974fe67e030382e8a4f56eb4489a0b9481dcedb1ec73b29  ggml-vocab-llama-spm.gguf.out
59dc382612866d1fc6c11ea531318d327598f3412d9c8f8600607cdf3030898f  ggml-vocab-mpt.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-mpt.gguf.inp
9d0982a7e7950b81bc2e325fb61bb7e295d2238934ab889737494de2dc4d906b  ggml-vocab-mpt.gguf.out
90a6746926454784a98389ad36a36d89bc9cfc81db9cb0f33c941bcc959fe5f9  ggml-vocab-nomic-bert-moe.gguf
967d7190d11c4842eab697079d98d56c2116e10eb617be355a2733bfc132e326  ggml-vocab-phi-3.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-phi-3.gguf.inp
ad6905c925c49c022974fe67e030382e8a4f56eb4489a0b9481dcedb1ec73b29  ggml-vocab-phi-3.gguf.out
44c2f46b715f585c6ab513970e8a006bfa5badd6108560054921cf598d154d8c  ggml-vocab-qwen2.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-qwen2.gguf.inp
de785bb305cc6fa9d43908ed5da337f853c0b79e971348fcfb9f0915a39c5363  ggml-vocab-qwen2.gguf.out
63ed952ff338996cf0bdf24a7b10015124273f75c6dc9bb427356aa3f67ec62c  ggml-vocab-qwen35.gguf
0fc6547e7876cd5b2ef64a9d319c6e39040eb53986660bd4227ed7ddef017a94  ggml-vocab-qwen35.gguf.inp
5efe225820325303857d0a087a8d59216f0d1e9a9e31133e7a5b44c3c4e1e9ca  ggml-vocab-qwen35.gguf.out
fedb892b4e1bd3c1f2fcdae356440b14fb458f4264d586e5c987ed93df4e174d  ggml-vocab-starcoder.gguf
be0a11f7071f0c67d3053a2d377d8f35f0dbcb77ff11a60300fb57d36b477cf0  ggml-vocab-starcoder.gguf.inp
3ef12183c57ad076f9defd8e5eb454f509f5f0865cad35646abb4c4b2d2c5764  ggml-vocab-starcoder.gguf.out
"

die() { echo "fetch-vocab: error: $*" >&2; exit 1; }

sha_of() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | cut -d' ' -f1
  else shasum -a 256 "$1" | cut -d' ' -f1; fi
}

# verify DIR: every manifest file is in DIR with its sha256.
verify() {
  local sha name
  while read -r sha name; do
    [ -n "$name" ] || continue
    [ -f "$1/$name" ] && [ "$(sha_of "$1/$name")" = "$sha" ] || return 1
  done <<<"$MANIFEST"
  [ -f "$1/LICENSE.llama.cpp" ]
}

if verify "$DEST"; then
  echo "$DEST"
  exit 0
fi

command -v "$PY" >/dev/null 2>&1 || die "$PY not found (set PYTHON=...)"
mkdir -p "$CACHE/pip" || die "cannot create $CACHE"

if [ ! -f "$CACHE/pip/$SDIST" ] || [ "$(sha_of "$CACHE/pip/$SDIST")" != "$SDIST_SHA256" ]; then
  rm -f "$CACHE/pip/$SDIST"
  echo "fetch-vocab: downloading the $PKG source distribution from PyPI (77 MB) ..." >&2
  # --no-binary for this package only: pip still takes its build tools (cmake, ninja) as wheels
  # to read the sdist's metadata; nothing is built or installed.
  "$PY" -m pip download --no-deps --no-binary llama-cpp-python --disable-pip-version-check \
    --dest "$CACHE/pip" "$PKG" >&2 || die "pip download of $PKG failed (is PyPI reachable?)"
fi
[ -f "$CACHE/pip/$SDIST" ] || die "expected $CACHE/pip/$SDIST after download"
[ "$(sha_of "$CACHE/pip/$SDIST")" = "$SDIST_SHA256" ] \
  || die "$CACHE/pip/$SDIST has sha256 $(sha_of "$CACHE/pip/$SDIST"), expected $SDIST_SHA256"

TMP="$DEST.part.$$"
trap 'rm -rf "$TMP"' EXIT
rm -rf "$TMP"
mkdir -p "$TMP"
names="$(awk 'NF == 2 { print $2 }' <<<"$MANIFEST")"
"$PY" - "$CACHE/pip/$SDIST" "$PREFIX" "$TMP" $names <<'PYEOF' || die "could not extract the vocab files from $SDIST"
import os, shutil, sys, tarfile
sdist, prefix, out, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
wanted = {prefix + "models/" + n: n for n in names}
wanted[prefix + "LICENSE"] = "LICENSE.llama.cpp"
with tarfile.open(sdist, "r:gz") as tar:
    for member in tar:
        name = wanted.pop(member.name, None)
        if name is None or not member.isfile():
            continue
        with tar.extractfile(member) as src, open(os.path.join(out, name), "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
if wanted:
    sys.exit("missing from the archive: " + ", ".join(sorted(wanted)))
PYEOF

verify "$TMP" || die "a file extracted from $SDIST does not have the expected sha256"
rm -rf "$DEST"
mv -f "$TMP" "$DEST"
trap - EXIT
echo "$DEST"
