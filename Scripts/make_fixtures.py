#!/usr/bin/env python3
"""Write tiny deterministic GGUF fixture models into Tests/Fixtures/models/.

    python3 Scripts/make_fixtures.py [--out Tests/Fixtures/models]

Fixtures (random weights, fixed seeds, standard llama.cpp arch names / keys / tensor names):
  llama      dense Llama/Mistral: GQA 4q/2kv heads, RoPE normal mode, SwiGLU, untied output.weight
  mixtral    GGUF arch `llama` + llama.expert_count=4, expert_used_count=2, merged expert tensors
  qwen3moe   per-head QK-norm, head_dim 32 != n_embd/n_head, RoPE NEOX, MoE top-2 renormalised
  olmoe      QK-norm over the whole q/k projection, RoPE NEOX, MoE top-2 NOT renormalised
  qwen2moe   q/k/v biases, RoPE NEOX, MoE top-2 NOT renormalised + sigmoid-gated shared expert
in the formats f32, f16, bf16, q8_0, q4_0, q4_1 (`<arch>-<type>.gguf`), plus llama-q4_k_m.gguf
and qwen3moe-q4_k_m.gguf (n_embd 256; Q4_K everywhere except attn_v / ffn_down(_exps) /
output which are Q6_K, as llama.cpp's Q4_K_M does).

Quantisation policy (as llama.cpp): 1-D tensors (norms, biases, ffn_gate_inp_shexp) and the
MoE router ffn_gate_inp stay F32; every other 2-D/3-D weight (token_embd and output included)
uses the file's type. F16/BF16/Q8_0/Q4_0/Q4_1 come from gguf.quants.quantize; Q4_K and Q6_K
from the straightforward quantizers below (gguf-py only dequantizes K-quants). Golden outputs
are computed from the dequantized stored bytes, so quantiser quality does not matter.

Every fixture carries the same byte-level BPE tokenizer (tokenizer.ggml.model "gpt2", pre
"gpt-2"): 256 byte tokens (id == byte value, GPT-2 bytes_to_unicode spelling), 253 merges learnt
on the first 50 KB of tinyshakespeare.txt, then <|endoftext|> (509), <|im_start|> (510),
<|im_end|> (511) as control tokens; bos = <|endoftext|>, eos = <|im_end|>, add_bos false,
and SmolLM2's ChatML chat template. The same tokenizer is written as a Hugging Face
tokenizer.json (models/fixture-tokenizer.json) and golden/fixture-tokenizer.json holds the
ids HF `tokenizers` gives for a set of test texts.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf import LlamaFileType as FT

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tokenizer_util import hf_tokenizer, train_bpe  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.environ.get("MUSE_SHARED_DATA", os.path.join(os.path.dirname(ROOT), "shared", "data"))
CORPUS = os.path.join(CORPUS, "corpora", "tinyshakespeare.txt")

N_MERGES = 253
SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
# SmolLM2-135M-Instruct's chat template (ChatML, default system prompt when none is given).
CHAT_TEMPLATE = (
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\\n' }}"
    "{% endif %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)

TOKENIZER_TEST_TEXTS = [
    "Hello world! First Citizen:\nBefore we proceed any further, hear me speak.",
    "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)  # 12345 3.14159\n",
    "Emoji: 🦙🚀👍🏽 and CJK: 你好，世界。日本語のテキスト 한국어",
    "Combining: e\u0301 n\u0303 a\u0308 — Ünïcödé ß café naïve Ελληνικά русский",
    "   leading spaces\t\ttabs   trailing   \n\n\n\nnewline runs\r\n \n  \n",
    "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n",
    "I'm sure they'll say we've done it, they're 'quoted' and you'd've known.",
    "",
]


# ----------------------------------------------------------------------------- tokenizer
def build_tokenizer():
    with open(CORPUS, encoding="utf-8") as f:
        text = f.read(50_000)
    tokens, merges = train_bpe(text, N_MERGES)
    assert len(tokens) == 256 + N_MERGES, len(tokens)
    tokens = tokens + SPECIALS
    types = [1] * (256 + N_MERGES) + [3] * len(SPECIALS)
    specials = {s: tokens.index(s) for s in SPECIALS}
    return tokens, merges, types, specials


def add_tokenizer(w: gguf.GGUFWriter, tok):
    tokens, merges, types, specials = tok
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([f"{a} {b}" for a, b in merges])
    w.add_bos_token_id(specials["<|endoftext|>"])
    w.add_eos_token_id(specials["<|im_end|>"])
    w.add_pad_token_id(specials["<|endoftext|>"])
    w.add_add_bos_token(False)
    w.add_chat_template(CHAT_TEMPLATE)


# ----------------------------------------------------------------------------- K-quants
def _f16(x):
    return np.asarray(x, dtype=np.float16)


def quantize_q4_k(x: np.ndarray) -> np.ndarray:
    """ggml block_q4_K: d f16, dmin f16, scales[12] (6-bit scale+min per 32-value sub-block), qs[128]."""
    shape = x.shape
    assert shape[-1] % 256 == 0
    xb = x.reshape(-1, 8, 32).astype(np.float32)
    nb = xb.shape[0]
    mn = np.minimum(xb.min(-1), 0.0)
    mx = xb.max(-1)
    scale = (mx - mn) / 15.0
    mins = -mn
    d = _f16(scale.max(-1) / 63.0)
    dmin = _f16(mins.max(-1) / 63.0)
    df = d.astype(np.float32)[:, None]
    dmf = dmin.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        ls = np.where(df > 0, np.rint(scale / df), 0).clip(0, 63).astype(np.uint8)
        lm = np.where(dmf > 0, np.rint(mins / dmf), 0).clip(0, 63).astype(np.uint8)
        es = (df * ls)[:, :, None]
        em = (dmf * lm)[:, :, None]
        L = np.where(es > 0, np.rint((xb + em) / es), 0).clip(0, 15).astype(np.uint8)
    sc = np.zeros((nb, 12), dtype=np.uint8)
    for j in range(8):
        if j < 4:
            sc[:, j] = ls[:, j]
            sc[:, j + 4] = lm[:, j]
        else:
            sc[:, j + 4] = (ls[:, j] & 0xF) | ((lm[:, j] & 0xF) << 4)
            sc[:, j - 4] |= (ls[:, j] >> 4) << 6
            sc[:, j] |= (lm[:, j] >> 4) << 6
    L = L.reshape(nb, 4, 2, 32)  # (pair of sub-blocks, lo/hi, 32)
    qs = (L[:, :, 0, :] | (L[:, :, 1, :] << 4)).reshape(nb, 128).astype(np.uint8)
    out = np.concatenate([d.view(np.uint8).reshape(nb, 2), dmin.view(np.uint8).reshape(nb, 2), sc, qs], axis=1)
    return out.reshape(*shape[:-1], shape[-1] // 256 * 144)


def quantize_q6_k(x: np.ndarray) -> np.ndarray:
    """ggml block_q6_K: ql[128], qh[64], scales[16] (int8, per 16 values), d f16."""
    shape = x.shape
    assert shape[-1] % 256 == 0
    xb = x.reshape(-1, 16, 16).astype(np.float32)
    nb = xb.shape[0]
    amax = np.abs(xb).max(-1)
    s = amax / 31.0
    d = _f16(s.max(-1) / 127.0)
    df = d.astype(np.float32)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        sc = np.where(df > 0, np.rint(s / df), 0).clip(-128, 127).astype(np.int8)
        es = (df * sc)[:, :, None]
        L = (np.where(es != 0, np.rint(xb / es), 0).clip(-32, 31) + 32).astype(np.uint8)
    L = L.reshape(nb, 2, 4, 32)  # half, quarter (q1..q4), l
    ql = np.empty((nb, 2, 64), dtype=np.uint8)
    ql[:, :, :32] = (L[:, :, 0] & 0xF) | ((L[:, :, 2] & 0xF) << 4)
    ql[:, :, 32:] = (L[:, :, 1] & 0xF) | ((L[:, :, 3] & 0xF) << 4)
    qh = (L[:, :, 0] >> 4) | ((L[:, :, 1] >> 4) << 2) | ((L[:, :, 2] >> 4) << 4) | ((L[:, :, 3] >> 4) << 6)
    out = np.concatenate(
        [ql.reshape(nb, 128), qh.reshape(nb, 64).astype(np.uint8), sc.view(np.uint8), d.view(np.uint8).reshape(nb, 2)],
        axis=1,
    )
    return out.reshape(*shape[:-1], shape[-1] // 256 * 210)


def self_test_kquants():
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((8, 512)) * 0.1).astype(np.float32)
    x[0, :40] = 0.0
    x[1] = np.abs(x[1])
    for q, fn, tol in ((QT.Q4_K, quantize_q4_k, 0.15), (QT.Q6_K, quantize_q6_k, 0.03)):
        b = fn(x)
        y = gguf.quants.dequantize(b, q)
        err = np.abs(y - x).max() / np.abs(x).max()
        assert y.shape == x.shape and err < tol, (q.name, err)


# ----------------------------------------------------------------------------- models
def spec(name):
    base = dict(n_vocab=256 + N_MERGES + len(SPECIALS), n_embd=64, n_layer=2, n_head=4, n_kv=2, head_dim=16,
                n_ff=128, n_expert=0, n_used=0, n_ff_exp=0, n_ff_shexp=0, ctx=256, rope_base=10000.0, eps=1e-5,
                arch="llama", bias=False, qk_norm="none")
    s = {
        "llama": dict(),
        "mixtral": dict(n_expert=4, n_used=2, n_ff=64),
        "qwen3moe": dict(arch="qwen3moe", head_dim=32, n_expert=4, n_used=2, n_ff_exp=64, eps=1e-6, qk_norm="head"),
        "olmoe": dict(arch="olmoe", n_expert=4, n_used=2, n_ff=64, n_ff_exp=64, eps=1e-5, qk_norm="full"),
        "qwen2moe": dict(arch="qwen2moe", bias=True, n_expert=4, n_used=2, n_ff_exp=64, n_ff_shexp=128, eps=1e-6),
        # K-quant sized variants: every row length a multiple of 256.
        "llama-k": dict(n_embd=256, head_dim=64, n_ff=512),
        "qwen3moe-k": dict(arch="qwen3moe", n_embd=256, head_dim=128, n_expert=4, n_used=2, n_ff_exp=256,
                           n_ff=512, eps=1e-6, qk_norm="head"),
    }[name]
    base.update(s)
    return base


SEEDS = {"llama": 101, "mixtral": 102, "qwen3moe": 103, "olmoe": 104, "qwen2moe": 105, "llama-k": 106, "qwen3moe-k": 107}


def make_weights(name, sp):
    """Float32 weights in numpy layout (ggml shape reversed). Dict name -> array, insertion order."""
    rng = np.random.default_rng(SEEDS[name])
    E, H, KV, D = sp["n_embd"], sp["n_head"], sp["n_kv"], sp["head_dim"]

    def nrm(*shape, s):
        return (rng.standard_normal(shape) * s).astype(np.float32)

    def norm_w(n):
        return (1.0 + rng.standard_normal(n) * 0.1).astype(np.float32)

    w = {}
    w["token_embd.weight"] = nrm(sp["n_vocab"], E, s=1.0)
    proj = 1.0 / np.sqrt(E)  # keeps projections ~O(1)
    for il in range(sp["n_layer"]):
        p = f"blk.{il}."
        w[p + "attn_norm.weight"] = norm_w(E)
        w[p + "attn_q.weight"] = nrm(H * D, E, s=proj * 1.5)
        w[p + "attn_k.weight"] = nrm(KV * D, E, s=proj * 1.5)
        w[p + "attn_v.weight"] = nrm(KV * D, E, s=proj)
        if sp["bias"]:
            w[p + "attn_q.bias"] = nrm(H * D, s=0.2)
            w[p + "attn_k.bias"] = nrm(KV * D, s=0.2)
            w[p + "attn_v.bias"] = nrm(KV * D, s=0.2)
        if sp["qk_norm"] == "head":
            w[p + "attn_q_norm.weight"] = norm_w(D)
            w[p + "attn_k_norm.weight"] = norm_w(D)
        elif sp["qk_norm"] == "full":
            w[p + "attn_q_norm.weight"] = norm_w(H * D)
            w[p + "attn_k_norm.weight"] = norm_w(KV * D)
        w[p + "attn_output.weight"] = nrm(E, H * D, s=0.5 / np.sqrt(H * D))
        w[p + "ffn_norm.weight"] = norm_w(E)
        if sp["n_expert"] == 0:
            F = sp["n_ff"]
            w[p + "ffn_gate.weight"] = nrm(F, E, s=proj)
            w[p + "ffn_up.weight"] = nrm(F, E, s=proj)
            w[p + "ffn_down.weight"] = nrm(E, F, s=1.0 / np.sqrt(F))
        else:
            X = sp["n_expert"]
            F = sp["n_ff_exp"] or sp["n_ff"]
            w[p + "ffn_gate_inp.weight"] = nrm(X, E, s=0.3)
            w[p + "ffn_gate_exps.weight"] = nrm(X, F, E, s=proj)
            w[p + "ffn_up_exps.weight"] = nrm(X, F, E, s=proj)
            w[p + "ffn_down_exps.weight"] = nrm(X, E, F, s=1.0 / np.sqrt(F))
            if sp["n_ff_shexp"]:
                S = sp["n_ff_shexp"]
                w[p + "ffn_gate_inp_shexp.weight"] = nrm(E, s=0.2)
                w[p + "ffn_gate_shexp.weight"] = nrm(S, E, s=proj)
                w[p + "ffn_up_shexp.weight"] = nrm(S, E, s=proj)
                w[p + "ffn_down_shexp.weight"] = nrm(E, S, s=1.0 / np.sqrt(S))
    w["output_norm.weight"] = norm_w(E)
    w["output.weight"] = nrm(sp["n_vocab"], E, s=0.35)
    return w


FORMATS = {
    "f32": (FT.ALL_F32, QT.F32),
    "f16": (FT.MOSTLY_F16, QT.F16),
    "bf16": (FT.MOSTLY_BF16, QT.BF16),
    "q8_0": (FT.MOSTLY_Q8_0, QT.Q8_0),
    "q4_0": (FT.MOSTLY_Q4_0, QT.Q4_0),
    "q4_1": (FT.MOSTLY_Q4_1, QT.Q4_1),
    "q4_k_m": (FT.MOSTLY_Q4_K_M, None),
}


def tensor_type(name: str, arr: np.ndarray, fmt: str) -> QT:
    if arr.ndim == 1 or name.endswith("ffn_gate_inp.weight"):
        return QT.F32
    if fmt == "q4_k_m":
        if name == "output.weight" or name.endswith(("attn_v.weight", "ffn_down.weight", "ffn_down_exps.weight")):
            return QT.Q6_K
        return QT.Q4_K
    return FORMATS[fmt][1]


def encode(arr: np.ndarray, qt: QT):
    if qt == QT.F32:
        return arr.astype(np.float32), None
    if qt == QT.F16:
        return arr.astype(np.float16), None
    if qt == QT.Q4_K:
        return quantize_q4_k(arr), qt
    if qt == QT.Q6_K:
        return quantize_q6_k(arr), qt
    return gguf.quants.quantize(arr.astype(np.float32), qt), qt


def write_fixture(path, name, sp, weights, fmt, tok):
    arch = sp["arch"]
    w = gguf.GGUFWriter(path, arch)
    w.add_name(f"muse-fixture-{os.path.basename(path)[:-5]}")
    w.add_context_length(sp["ctx"])
    w.add_embedding_length(sp["n_embd"])
    w.add_block_count(sp["n_layer"])
    w.add_feed_forward_length(sp["n_ff"])
    w.add_head_count(sp["n_head"])
    w.add_head_count_kv(sp["n_kv"])
    if sp["head_dim"] != sp["n_embd"] // sp["n_head"] or arch == "qwen3moe":
        w.add_key_length(sp["head_dim"])
        w.add_value_length(sp["head_dim"])
    w.add_rope_dimension_count(sp["head_dim"])
    w.add_rope_freq_base(sp["rope_base"])
    w.add_layer_norm_rms_eps(sp["eps"])
    w.add_vocab_size(sp["n_vocab"])
    if sp["n_expert"]:
        w.add_expert_count(sp["n_expert"])
        w.add_expert_used_count(sp["n_used"])
        if sp["n_ff_exp"]:
            w.add_expert_feed_forward_length(sp["n_ff_exp"])
        if sp["n_ff_shexp"]:
            w.add_expert_shared_feed_forward_length(sp["n_ff_shexp"])
        if arch == "qwen3moe":
            w.add_expert_weights_norm(True)
    w.add_file_type(FORMATS[fmt][0])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    add_tokenizer(w, tok)
    for tname, arr in weights.items():
        data, raw = encode(arr, tensor_type(tname, arr, fmt))
        w.add_tensor(tname, data, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()


def write_tokenizer_files(tok, models_dir, golden_dir):
    tokens, merges, types, specials = tok
    tk = hf_tokenizer(tokens, merges, specials)
    tk.save(os.path.join(models_dir, "fixture-tokenizer.json"))
    cases = []
    for t in TOKENIZER_TEST_TEXTS:
        ids = tk.encode(t).ids
        assert tk.decode(ids, skip_special_tokens=False) == t, repr(t)
        cases.append({"text": t, "ids": ids})
    with open(os.path.join(golden_dir, "fixture-tokenizer.json"), "w", encoding="utf-8") as f:
        json.dump({"tokenizer": "models/fixture-tokenizer.json", "parse_special": True, "add_bos": False,
                   "cases": cases}, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", default=os.path.join(ROOT, "Tests", "Fixtures", "models"))
    ap.add_argument("--golden", default=os.path.join(ROOT, "Tests", "Fixtures", "golden"))
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.golden, exist_ok=True)
    self_test_kquants()
    tok = build_tokenizer()
    write_tokenizer_files(tok, args.out, args.golden)
    jobs = [(n, f) for n in ("llama", "mixtral", "qwen3moe", "olmoe", "qwen2moe")
            for f in ("f32", "f16", "bf16", "q8_0", "q4_0", "q4_1")]
    jobs += [("llama-k", "q4_k_m"), ("qwen3moe-k", "q4_k_m")]
    cache = {}
    for name, fmt in jobs:
        sp = spec(name)
        if name not in cache:
            cache[name] = make_weights(name, sp)
        fname = f"{name.removesuffix('-k')}-{fmt}.gguf"
        path = os.path.join(args.out, fname)
        write_fixture(path, name, sp, cache[name], fmt, tok)
        print(f"{fname:28s} {os.path.getsize(path):>9d} bytes")


if __name__ == "__main__":
    main()
