#!/usr/bin/env python3
"""Golden outputs for every fixture in Tests/Fixtures/models/, from the numpy reference.

    python3 Scripts/golden/make_golden.py [FIXTURE.gguf ...]

Writes Tests/Fixtures/golden/<fixture-name>.json (e.g. llama-q4_0.json):
  {"model": "llama-q4_0.gguf",
   "n_vocab": 512,
   "cases": [{"text": <decoded prompt, informational>,
              "tokens": [prompt ids],
              "logits": [n_vocab floats: last prompt position, 7 significant digits],
              "greedy": [32 ids: greedy continuation, each fed back autoregressively],
              "min_margin": smallest top1-top2 logit gap over the 32 greedy decisions,
              "margins": [32 floats, 4 significant digits]: that gap at each greedy step
                         (a test may compare greedy ids up to the first step whose margin is
                         below its numeric tolerance),
              "min_router_gap": smallest router-logit gap between the k-th and (k+1)-th
                                expert over all tokens/layers (null for dense models)}]}
Computation is float64 over the dequantized stored weights (gguf.quants.dequantize).
The prompts are the first 1, 7 and 20 ids of three fixed texts encoded with the fixture
tokenizer (Tests/Fixtures/models/fixture-tokenizer.json, HF `tokenizers`).
"""
from __future__ import annotations

import glob
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # Scripts/<job>/x.py
MODELS = os.path.join(ROOT, "Tests", "Fixtures", "models")
GOLDEN = os.path.join(ROOT, "Tests", "Fixtures", "golden")
N_GREEDY = 32
PROMPTS = [
    ("Hello", 1),
    ("First Citizen:\nBefore we proceed any further", 7),
    ("<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n", 20),
]


def r7(x) -> float:
    return float(f"{float(x):.7g}")


def prompt_tokens(tk):
    out = []
    for text, n in PROMPTS:
        ids = tk.encode(text).ids
        assert len(ids) >= n, (text, ids)
        out.append(ids[:n])
    return out


def golden_for(path, tk):
    m = reference.Model(path)
    cases = []
    for toks in prompt_tokens(tk):
        m.min_router_gap = float("inf")
        logits, greedy, margin = m.last_logits_and_greedy(toks, N_GREEDY)
        gap = m.min_router_gap if np.isfinite(m.min_router_gap) else None
        cases.append({
            "text": tk.decode(toks, skip_special_tokens=False),
            "tokens": [int(t) for t in toks],
            "logits": [r7(v) for v in logits],
            "greedy": [int(t) for t in greedy],
            "min_margin": r7(margin),
            "margins": [float(f"{x:.4g}") for x in m.margins],
            "min_router_gap": None if gap is None else r7(gap),
        })
    return {"model": os.path.basename(path), "n_vocab": m.cfg.n_vocab, "cases": cases}


def main():
    from tokenizers import Tokenizer

    tk = Tokenizer.from_file(os.path.join(MODELS, "fixture-tokenizer.json"))
    paths = sys.argv[1:] or sorted(glob.glob(os.path.join(MODELS, "*.gguf")))
    os.makedirs(GOLDEN, exist_ok=True)
    for p in paths:
        g = golden_for(p, tk)
        out = os.path.join(GOLDEN, os.path.basename(p)[:-5] + ".json")
        with open(out, "w") as f:
            json.dump(g, f, separators=(",", ":"))
            f.write("\n")
        summ = "; ".join(
            f"{len(c['tokens'])}tok distinct={len(set(c['greedy']))} margin={c['min_margin']:.3g}"
            + (f" rgap={c['min_router_gap']:.3g}" if c["min_router_gap"] is not None else "")
            for c in g["cases"])
        print(f"{os.path.basename(out):24s} {summ}", flush=True)


if __name__ == "__main__":
    main()
