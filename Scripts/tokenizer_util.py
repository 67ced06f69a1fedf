"""Byte-level BPE helpers shared by the fixture/golden scripts.

* `bytes_to_unicode()`      GPT-2's byte -> printable-unicode map.
* `train_bpe(text, n)`      deterministic byte-level BPE training (GPT-2 pre-tokenizer regex).
* `hf_tokenizer(...)`       a Hugging Face `tokenizers.Tokenizer` built from a vocab + merges,
                            used as the independent reference tokenizer.
* `hf_tokenizer_from_gguf`  the same, from a GGUF file's tokenizer.ggml.* metadata.
"""
from __future__ import annotations

from collections import Counter

import regex

# GPT-2 pre-tokenizer regex (llama.cpp pre "gpt-2"; HF ByteLevel(use_regex=True)).
GPT2_PAT = r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""


def bytes_to_unicode() -> dict[int, str]:
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {b: chr(c) for b, c in zip(bs, cs)}


def train_bpe(text: str, n_merges: int) -> tuple[list[str], list[tuple[str, str]]]:
    """Returns (tokens, merges). tokens = 256 byte tokens in byte order (token id == byte value)
    followed by one token per merge. Deterministic: most frequent pair wins, ties broken by the
    lexicographically smallest (left, right) pair of token strings."""
    b2u = bytes_to_unicode()
    words = Counter(regex.findall(GPT2_PAT, text))
    # word -> list of symbols
    seqs = {w: [b2u[b] for b in w.encode("utf-8")] for w in words}
    tokens = [b2u[b] for b in range(256)]
    merges: list[tuple[str, str]] = []
    for _ in range(n_merges):
        pairs: Counter = Counter()
        for w, cnt in words.items():
            s = seqs[w]
            for a, b in zip(s, s[1:]):
                pairs[(a, b)] += cnt
        if not pairs:
            break
        best_count = max(pairs.values())
        best = min(p for p, c in pairs.items() if c == best_count)
        merges.append(best)
        new = best[0] + best[1]
        tokens.append(new)
        for w in words:
            s = seqs[w]
            if len(s) < 2:
                continue
            out = []
            i = 0
            while i < len(s):
                if i + 1 < len(s) and s[i] == best[0] and s[i + 1] == best[1]:
                    out.append(new)
                    i += 2
                else:
                    out.append(s[i])
                    i += 1
            seqs[w] = out
    return tokens, merges


def hf_tokenizer(tokens: list[str], merges: list[tuple[str, str]], specials: dict[str, int],
                 digits_individual: bool = False):
    """Byte-level BPE tokenizer with GPT-2 pre-tokenization (optionally preceded by an
    individual-digit split, as SmolLM/StarCoder use) and `specials` as special added tokens."""
    from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

    vocab = {t: i for i, t in enumerate(tokens)}
    tk = Tokenizer(models.BPE(vocab=vocab, merges=list(merges), fuse_unk=False, byte_fallback=False))
    bl = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    if digits_individual:
        tk.pre_tokenizer = pre_tokenizers.Sequence([pre_tokenizers.Digits(individual_digits=True), bl])
    else:
        tk.pre_tokenizer = bl
    tk.decoder = decoders.ByteLevel()
    for s, i in sorted(specials.items(), key=lambda kv: kv[1]):
        tk.add_special_tokens([AddedToken(s, special=True, normalized=False)])
        assert tk.token_to_id(s) == i, (s, i, tk.token_to_id(s))
    return tk


def hf_tokenizer_from_gguf(reader):
    """Reference HF tokenizer from a GGUF's tokenizer.ggml.* arrays (gpt2-style BPE)."""
    toks = [str(t) for t in reader.fields["tokenizer.ggml.tokens"].contents()]
    merges = [tuple(m.split(" ", 1)) for m in reader.fields["tokenizer.ggml.merges"].contents()]
    types = list(reader.fields["tokenizer.ggml.token_type"].contents())
    pre = reader.fields["tokenizer.ggml.pre"].contents() if "tokenizer.ggml.pre" in reader.fields else "gpt-2"
    specials = {t: i for i, (t, ty) in enumerate(zip(toks, types)) if ty in (3, 4)}
    digits = pre in ("smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b")
    return hf_tokenizer(toks, merges, specials, digits_individual=digits)
