#!/usr/bin/env python3
"""Golden logits for the real SmolLM2-135M-Instruct (Q4_1) from the numpy reference.

    Scripts/fixtures/fetch-smollm2.sh            # once
    python3 Scripts/golden/smollm2_golden.py [MODEL.gguf]

MODEL defaults to ${MUSE_CACHE_DIR:-$HOME/.cache/muse}/models/SmolLM2-135M-Instruct.Q4_1.gguf.

Prompts are rendered with the model's own tokenizer.chat_template (jinja2,
add_generation_prompt=True; the template inserts SmolLM2's default system prompt when the
conversation has none) and tokenized with an independent reference tokenizer: HF
`tokenizers` built from the GGUF vocab + merges (byte-level BPE, pre-tokenizer = individual
digits + GPT-2 ByteLevel regex, i.e. llama.cpp pre "smollm"; control tokens such as
<|im_start|> matched as special added tokens; no BOS is added: add_bos_token is false).

Output Tests/Fixtures/golden/smollm2.json:
  {"model": "SmolLM2-135M-Instruct.Q4_1.gguf", "model_sha256": ..., "n_vocab": 49152,
   "cases": [{"messages": [...], "text": <rendered prompt>, "tokens": [ids],
              "logits": [49152 floats, full last-position logits, 6 significant digits],
              "top": [[id, logit], ...]   top 10 for a quick look,
              "greedy": [12 ids], "greedy_text": <decoded, specials kept>,
              "margins": [12 floats]: top1-top2 logit gap at each greedy step}]}
Full logits for 3 cases at 6 significant digits keep the file at ~1.4 MB, so no subsampling.
Also writes Tests/Fixtures/golden/smollm2-tokenizer.json: {"cases": [{"text", "ids"}]} for the
same test texts as fixture-tokenizer.json, using SmolLM2's tokenizer.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time

import jinja2
import numpy as np

SCRIPTS = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[:0] = [os.path.join(SCRIPTS, "golden"), os.path.join(SCRIPTS, "fixtures")]
import reference  # noqa: E402
from make_fixtures import TOKENIZER_TEST_TEXTS  # noqa: E402
from tokenizer_util import hf_tokenizer_from_gguf  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # Scripts/<job>/x.py
CACHE = os.environ.get("MUSE_CACHE_DIR", os.path.join(os.path.expanduser("~"), ".cache", "muse"))
DEFAULT_MODEL = os.path.join(CACHE, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
N_GREEDY = 12
CONVERSATIONS = [
    [{"role": "user", "content": "What is the capital of France?"}],
    [{"role": "user", "content": "Write one sentence about the ocean."}],
    [{"role": "system", "content": "You are a concise math tutor."},
     {"role": "user", "content": "What is 12 + 30?"}],
]


def render(template: str, messages) -> str:
    env = jinja2.Environment(trim_blocks=False, lstrip_blocks=False)
    return env.from_string(template).render(messages=messages, add_generation_prompt=True,
                                            bos_token="<|im_start|>", eos_token="<|im_end|>")


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else DEFAULT_MODEL
    if not os.path.exists(path):
        sys.exit(f"model not found: {path} (run Scripts/fixtures/fetch-smollm2.sh)")
    t0 = time.time()
    m = reference.Model(path)
    tk = hf_tokenizer_from_gguf(m.reader)
    template = m.reader.fields["tokenizer.chat_template"].contents()
    print(f"loaded in {time.time() - t0:.1f}s: {m.cfg}", flush=True)
    cases = []
    for msgs in CONVERSATIONS:
        text = render(template, msgs)
        ids = tk.encode(text).ids
        logits, greedy, _ = m.last_logits_and_greedy(ids, N_GREEDY)
        top = np.argsort(-logits)[:10]
        case = {
            "messages": msgs,
            "text": text,
            "tokens": ids,
            "logits": [float(f"{v:.6g}") for v in logits],
            "top": [[int(i), float(f"{logits[i]:.6g}")] for i in top],
            "greedy": greedy,
            "greedy_text": tk.decode(greedy, skip_special_tokens=False),
            "margins": [float(f"{x:.4g}") for x in m.margins],
        }
        cases.append(case)
        print(repr(text), ids, "->", repr(case["greedy_text"]), f"min margin {min(m.margins):.3g}", flush=True)
    france = tk.decode(cases[0]["greedy"], skip_special_tokens=True)
    if not france.startswith("The capital of France is Paris."):
        print(f"WARNING: France reply is {france!r}", file=sys.stderr)
    golden = os.path.join(ROOT, "Tests", "Fixtures", "golden")
    os.makedirs(golden, exist_ok=True)
    out = {"model": os.path.basename(path), "model_sha256": sha256(path), "n_vocab": m.cfg.n_vocab,
           "cases": cases}
    with open(os.path.join(golden, "smollm2.json"), "w", encoding="utf-8") as f:
        json.dump(out, f, separators=(",", ":"), ensure_ascii=False)
        f.write("\n")
    tcases = [{"text": t, "ids": tk.encode(t).ids} for t in TOKENIZER_TEST_TEXTS]
    with open(os.path.join(golden, "smollm2-tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({"model": os.path.basename(path), "parse_special": True, "add_bos": False, "cases": tcases},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"done in {time.time() - t0:.1f}s")


if __name__ == "__main__":
    main()
