#!/usr/bin/env python3
"""Reference token ids for SmolLM2-135M-Instruct's tokenizer -> Tests/Fixtures/tokenizer/smollm2.json.

The reference is Hugging Face `tokenizers` (pinned below), not Muse: a byte-level BPE built from the
GGUF's own tokenizer.ggml.tokens / merges / token_type (read with the `gguf` package) by
Scripts/fixtures/tokenizer_util.py (`hf_tokenizer_from_gguf`: digits split individually, as pre "smollm"
asks, then GPT-2's ByteLevel regex; control tokens as special added tokens).

    python3 Scripts/golden/tokenizer_reference.py [MODEL.gguf]   # default: the fetch-smollm2.sh cache path
"""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import gguf
import tokenizers

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fixtures"))
from tokenizer_util import hf_tokenizer_from_gguf  # noqa: E402

TOKENIZERS_VERSION = "0.23.3"
GGUF_VERSION = "0.19.0"

TEXTS = [
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n",
    "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi!<|im_end|>\n"
    "<|im_start|>assistant\n",
    # Multilingual: English, code, emoji (ZWJ sequence, flag), CJK, combining marks, whitespace runs.
    "The quick brown fox jumps over the lazy dog. It's 3.14159, isn't it? I'll pay $1,234.56!\n"
    "def f(x):\n    return x ** 2  # square\n\tif x != 0: print(f\"{x=}\")\n"
    "Emoji: 🦙🚀 👩‍👩‍👧‍👦 🇫🇷 ✅ 😶‍🌫️\n"
    "中文：我想在apple工作。日本語のテキスト、한국어 텍스트.\n"
    "Combining: e\u0301 a\u0300 n\u0303 Z\u0351\u0332a\u0361lgo; precomposed: é à ñ; Ελληνικά, русский, العربية, हिन्दी\n"
    "Spaces:   three,\t\ttabs,\n\n\nnewlines,    \n  trailing   ",
]


def main() -> None:
    if tokenizers.__version__ != TOKENIZERS_VERSION:
        sys.exit(f"tokenizers {tokenizers.__version__} installed; this script pins {TOKENIZERS_VERSION}")
    cache = os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse"))
    model = sys.argv[1] if len(sys.argv) > 1 else os.path.join(cache, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    reader = gguf.GGUFReader(model)
    tk = hf_tokenizer_from_gguf(reader)
    cases = []
    for text in TEXTS:
        ids = tk.encode(text, add_special_tokens=False).ids
        assert tk.decode(ids, skip_special_tokens=False) == text, "reference tokenizer is not lossless"
        cases.append({"text": text, "ids": ids})
    out = {
        "origin": "Scripts/golden/tokenizer_reference.py: HF tokenizers "
        + TOKENIZERS_VERSION
        + " ByteLevel BPE built from the GGUF's tokenizer.ggml.* (gguf "
        + GGUF_VERSION
        + ")",
        "model": "SmolLM2-135M-Instruct.Q4_1.gguf",
        "cases": cases,
    }
    dest = Path(__file__).resolve().parents[2] / "Tests/Fixtures/tokenizer/smollm2.json"
    # One line per case keeps the fixture diffable.
    lines = ",\n".join("  " + json.dumps(c, ensure_ascii=False) for c in cases)
    head = json.dumps({k: v for k, v in out.items() if k != "cases"}, ensure_ascii=False)[:-1]
    dest.write_text(head + ', "cases": [\n' + lines + "\n]}\n", encoding="utf-8")
    print(f"wrote {dest} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
