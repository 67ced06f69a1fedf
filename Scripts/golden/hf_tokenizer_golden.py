#!/usr/bin/env python3
"""Golden token ids of real tokenizer.json files, from the Hugging Face `tokenizers` package.

Writes Tests/Fixtures/golden/hf-tokenizers.json: for each tokenizer (OLMoE, Mistral v0.3 and
all-MiniLM-L6-v2 from Tests/Fixtures/hf/tokenizers, and the fixture
checkpoints' tokenizer) and each text, the ids with and without special tokens added, and the
decoded text. Texts cover English, code, emoji, CJK, combining marks, whitespace runs, digits
and special tokens written in the text.

tokenizers==0.23.3 (Scripts/requirements.txt). Run from the repository root (~2 s).
"""
import json
import os

import tokenizers
from tokenizers import Tokenizer

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
TOKENIZERS = os.path.join(ROOT, "Tests", "Fixtures", "hf", "tokenizers")
FILES = {
    "olmoe-1b-7b": os.path.join(TOKENIZERS, "olmoe-1b-7b", "tokenizer.json"),
    "mistral-7b-v0.3": os.path.join(TOKENIZERS, "mistral-7b-v0.3", "tokenizer.json"),
    "all-minilm-l6-v2": os.path.join(TOKENIZERS, "all-minilm-l6-v2", "tokenizer.json"),
    "fixture": os.path.join(ROOT, "Tests", "Fixtures", "hf", "llama-f32", "tokenizer.json"),
}
TEXTS = [
    "Hello world! This is a test.",
    "The quick brown fox jumps over the lazy dog 1234567 times.",
    "def fibonacci(n):\n    if n < 2:\n        return n\n    return fibonacci(n - 1) + fibonacci(n - 2)\n",
    "Emoji: 🦙🚀👍🏽 and 👨‍👩‍👧‍👦 family",
    "中文分词测试，日本語のテキスト、한국어 텍스트",
    "Café naïve résumé — combining: e\u0301 a\u0308 n\u0303",
    "   leading spaces, double  spaces,\ttabs\t\tand\n\n\nnewlines   ",
    "Ünïcödé ÀÉÎÕÜ straße İstanbul ﬁ ①②③",
    "<s>[INST] special tokens <|padding|> inside [/INST]</s>",
    "x",
    " ",
    "",
]


def main():
    out = {"source": f"tokenizers {tokenizers.__version__}", "texts": TEXTS, "tokenizers": {}}
    for name, path in FILES.items():
        tok = Tokenizer.from_file(path)
        tok.no_truncation()
        tok.no_padding()
        cases = []
        for text in TEXTS:
            plain = tok.encode(text, add_special_tokens=False).ids
            special = tok.encode(text, add_special_tokens=True).ids
            cases.append({"ids": plain, "ids_with_special": special, "decoded": tok.decode(plain, skip_special_tokens=False)})
        out["tokenizers"][name] = cases
    path = os.path.join(ROOT, "Tests", "Fixtures", "golden", "hf-tokenizers.json")
    with open(path, "w") as f:
        json.dump(out, f, ensure_ascii=False, indent=None)
    print(path, os.path.getsize(path), "bytes")


if __name__ == "__main__":
    main()
