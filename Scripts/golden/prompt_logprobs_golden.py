#!/usr/bin/env python3
"""Golden prompt log-probabilities (`echo` + `logprobs` scoring) from the numpy reference.

    python3 Scripts/golden/prompt_logprobs_golden.py

Writes Tests/Fixtures/golden/prompt-logprobs.json for Tests/Fixtures/models/llama-q8_0.gguf:
  {"model": "llama-q8_0.gguf",
   "tokens": [prompt ids: the 20-token case of golden/llama-q8_0.json],
   "max_logit": largest |logit| over all rows (the scale of float32 rounding),
   "logprobs": [for each token after the first: log-softmax of the previous row at that token],
   "top": [for each token after the first: [[id, logprob] x 5], most likely first]}
One forward pass over all the prompt's tokens (float64, dequantized stored weights, as
make_golden.py); row i predicts token i + 1. Values to 7 significant digits.
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "Tests", "Fixtures", "models", "llama-q8_0.gguf")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "golden", "prompt-logprobs.json")
TOP = 5


def r7(x) -> float:
    return float(f"{float(x):.7g}")


def main():
    with open(os.path.join(ROOT, "Tests", "Fixtures", "golden", "llama-q8_0.json")) as f:
        tokens = json.load(f)["cases"][2]["tokens"]
    m = reference.Model(MODEL)
    logits = m.forward(tokens)  # (T, n_vocab)
    shifted = logits - logits.max(axis=1, keepdims=True)
    logsm = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    logprobs, tops = [], []
    for i in range(1, len(tokens)):
        row = logsm[i - 1]
        logprobs.append(r7(row[tokens[i]]))
        best = np.argsort(-row, kind="stable")[:TOP]
        tops.append([[int(t), r7(row[t])] for t in best])
    out = {"model": os.path.basename(MODEL), "tokens": [int(t) for t in tokens],
           "max_logit": r7(np.abs(logits).max()), "logprobs": logprobs, "top": tops}
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print(f"{os.path.basename(OUT)}: {len(tokens)} tokens, sum {sum(logprobs):.4f}, max |logit| {out['max_logit']}")


if __name__ == "__main__":
    main()
