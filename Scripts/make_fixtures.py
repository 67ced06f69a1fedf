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
Two newer architectures, each with its own chat template and end-of-turn tokens:
  muse-glimmer  3 layers (sliding window 6 with RoPE, sliding, global NoPE), scale-less QK-norm with
                attention.scale, sigmoid output gate (attn_gate), post-norms (post_attention_norm,
                post_ffw_norm), scale-less embedding norm, logit_scale 2 + final_logit_softcapping 10;
                f32, f16, q8_0; vocab + <|start|> <|message|> <|eot|> <|eom|> (eos = eot = <|eot|>),
                template = Tests/Fixtures/templates/muse-glimmer.jinja
  gpt-oss       3 layers (window 4 on even layers), q/k/v/o biases, attn_sinks, YaRN RoPE (theta
                150000, x32 from 4096), MoE 4 experts top-2 with biased router and experts (clamped
                SwiGLU), FFN pre-norm named post_attention_norm; f32 and mxfp4 (experts MXFP4 via
                gguf.quants.quantize, the rest F32); vocab + harmony tokens (eos <|return|>, eot
                <|end|>), template = Tests/Fixtures/templates/openai-gpt-oss-120b.jinja

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
# The fixture tokenizer is trained on the first 50,000 characters of tinyshakespeare.txt, whose
# first 100 KB are committed (see Tests/Fixtures/README.md); the templates are committed too.
CORPUS = os.path.join(ROOT, "Tests", "Fixtures", "corpora", "tinyshakespeare-100k.txt")
TEMPLATES = os.path.join(ROOT, "Tests", "Fixtures", "templates")

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


def add_tokenizer(w: gguf.GGUFWriter, tok, eos="<|im_end|>", eot=None, template=CHAT_TEMPLATE):
    tokens, merges, types, specials = tok
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("gpt-2")
    w.add_token_list(tokens)
    w.add_token_types(types)
    w.add_token_merges([f"{a} {b}" for a, b in merges])
    w.add_bos_token_id(specials["<|endoftext|>"])
    w.add_eos_token_id(specials[eos])
    if eot is not None:
        w.add_eot_token_id(specials[eot])
    w.add_pad_token_id(specials["<|endoftext|>"])
    w.add_add_bos_token(False)
    w.add_chat_template(template)


def extend_tokenizer(tok, extra):
    """The fixture tokenizer plus control tokens appended after id 511 (one architecture's
    chat-format tokens; the first 512 ids stay those of fixture-tokenizer.json)."""
    tokens, merges, types, specials = tok
    tokens = tokens + extra
    return tokens, merges, types + [3] * len(extra), {**specials, **{t: tokens.index(t) for t in extra}}


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
        # 3 layers: sliding (RoPE), sliding (RoPE), global (NoPE) — transformers' default layout
        # for 3 layers; window 6 < the 20-token prompt.
        "muse-glimmer": dict(arch="muse-glimmer", n_layer=3, window=6, swa=[True, True, False], qk_scale=2.0,
                             post_eps=1e-6, logit_scale=2.0, softcap=10.0, specials=GLIMMER_SPECIALS,
                             eos="<|eot|>", eot="<|eot|>", template="muse-glimmer.jinja"),
        # 3 layers: sliding window 4 on layers 0 and 2 (the default period 2), full on layer 1;
        # gpt-oss-20b's RoPE (theta 150000, YaRN x32 from 4096).
        "gpt-oss": dict(arch="gpt-oss", n_layer=3, window=4, n_expert=4, n_used=2, n_ff=64, n_ff_exp=64,
                        rope_base=150000.0, yarn=(32.0, 4096), specials=HARMONY_SPECIALS, eos="<|return|>",
                        eot="<|end|>", template="openai-gpt-oss-120b.jinja"),
    }[name]
    base.update(s)
    return base


SEEDS = {"llama": 101, "mixtral": 102, "qwen3moe": 103, "olmoe": 104, "qwen2moe": 105, "llama-k": 106, "qwen3moe-k": 107,
         "muse-glimmer": 108, "gpt-oss": 109}
# Chat-format control tokens of the two newer fixtures (their templates' end-of-turn tokens).
GLIMMER_SPECIALS = ["<|start|>", "<|message|>", "<|eot|>", "<|eom|>"]
HARMONY_SPECIALS = ["<|start|>", "<|message|>", "<|channel|>", "<|constrain|>", "<|end|>", "<|return|>", "<|call|>"]


def make_weights(name, sp):
    """Float32 weights in numpy layout (ggml shape reversed). Dict name -> array, insertion order."""
    if sp["arch"] in ("muse-glimmer", "gpt-oss"):
        return make_weights_v2(name, sp)
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


def make_weights_v2(name, sp):
    """muse-glimmer and gpt-oss: the tensors of llama.cpp's gemma3 / LLM_ARCH_OPENAI_MOE layout."""
    rng = np.random.default_rng(SEEDS[name])
    E, H, KV, D, V = sp["n_embd"], sp["n_head"], sp["n_kv"], sp["head_dim"], sp["n_vocab"] + len(sp["specials"])
    glimmer = sp["arch"] == "muse-glimmer"

    def nrm(*shape, s):
        return (rng.standard_normal(shape) * s).astype(np.float32)

    def norm_w(n):
        return (1.0 + rng.standard_normal(n) * 0.1).astype(np.float32)

    proj = 1.0 / np.sqrt(E)
    w = {"token_embd.weight": nrm(V, E, s=1.0)}
    for il in range(sp["n_layer"]):
        p = f"blk.{il}."
        w[p + "attn_norm.weight"] = norm_w(E)
        w[p + "attn_q.weight"] = nrm(H * D, E, s=proj * 1.5)
        w[p + "attn_k.weight"] = nrm(KV * D, E, s=proj * 1.5)
        w[p + "attn_v.weight"] = nrm(KV * D, E, s=proj)
        if glimmer:
            w[p + "attn_gate.weight"] = nrm(H * D, E, s=proj * 2)
        else:
            w[p + "attn_q.bias"] = nrm(H * D, s=0.2)
            w[p + "attn_k.bias"] = nrm(KV * D, s=0.2)
            w[p + "attn_v.bias"] = nrm(KV * D, s=0.2)
            w[p + "attn_sinks.weight"] = nrm(H, s=1.0)
            w[p + "attn_output.bias"] = nrm(E, s=0.2)
        w[p + "attn_output.weight"] = nrm(E, H * D, s=0.5 / np.sqrt(H * D))
        if glimmer:
            w[p + "post_attention_norm.weight"] = norm_w(E)
            w[p + "ffn_norm.weight"] = norm_w(E)
            F = sp["n_ff"]
            w[p + "ffn_gate.weight"] = nrm(F, E, s=proj)
            w[p + "ffn_up.weight"] = nrm(F, E, s=proj)
            w[p + "ffn_down.weight"] = nrm(E, F, s=1.0 / np.sqrt(F))
            w[p + "post_ffw_norm.weight"] = norm_w(E)
        else:
            X, F = sp["n_expert"], sp["n_ff_exp"]
            w[p + "post_attention_norm.weight"] = norm_w(E)  # llama.cpp's name for the FFN pre-norm
            w[p + "ffn_gate_inp.weight"] = nrm(X, E, s=0.3)
            w[p + "ffn_gate_inp.bias"] = nrm(X, s=0.2)
            # gate/up ~3x wider than elsewhere so that gpt-oss's clamps at +-7 are reached
            w[p + "ffn_gate_exps.weight"] = nrm(X, F, E, s=proj * 3)
            w[p + "ffn_gate_exps.bias"] = nrm(X, F, s=0.5)
            w[p + "ffn_up_exps.weight"] = nrm(X, F, E, s=proj * 3)
            w[p + "ffn_up_exps.bias"] = nrm(X, F, s=0.5)
            w[p + "ffn_down_exps.weight"] = nrm(X, E, F, s=0.1 / np.sqrt(F))
            w[p + "ffn_down_exps.bias"] = nrm(X, E, s=0.2)
    w["output_norm.weight"] = norm_w(E)
    w["output.weight"] = nrm(V, E, s=0.35)
    return w


def write_v2_keys(w: gguf.GGUFWriter, sp):
    """muse-glimmer / gpt-oss hyperparameters (see Sources/MuseModels/Architectures/*.swift)."""
    w.add_sliding_window(sp["window"])
    if sp["arch"] == "muse-glimmer":
        w.add_sliding_window_pattern(sp["swa"])
        # transformers: q = qk_scale_factor * rmsnorm(q), scores * head_dim^-0.5
        w.add_attention_scale(sp["qk_scale"] / np.sqrt(sp["head_dim"]))
        w.add_float32("muse-glimmer.attention.post_norm_rms_epsilon", sp["post_eps"])
        w.add_logit_scale(sp["logit_scale"])
        w.add_final_logit_softcapping(sp["softcap"])
    else:
        factor, orig = sp["yarn"]
        w.add_rope_scaling_type(gguf.RopeScalingType.YARN)
        w.add_rope_scaling_factor(factor)
        w.add_rope_scaling_orig_ctx_len(orig)


FORMATS = {
    "f32": (FT.ALL_F32, QT.F32),
    "f16": (FT.MOSTLY_F16, QT.F16),
    "bf16": (FT.MOSTLY_BF16, QT.BF16),
    "q8_0": (FT.MOSTLY_Q8_0, QT.Q8_0),
    "q4_0": (FT.MOSTLY_Q4_0, QT.Q4_0),
    "q4_1": (FT.MOSTLY_Q4_1, QT.Q4_1),
    "q4_k_m": (FT.MOSTLY_Q4_K_M, None),
    "mxfp4": (FT.MOSTLY_MXFP4_MOE, None),
}


def tensor_type(name: str, arr: np.ndarray, fmt: str) -> QT:
    if arr.ndim == 1 or name.endswith(("ffn_gate_inp.weight", ".bias")):
        return QT.F32
    if fmt == "mxfp4":  # as gpt-oss releases: MXFP4 experts, everything else unquantised
        return QT.MXFP4 if name.endswith("_exps.weight") else QT.F32
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
    w.add_vocab_size(sp["n_vocab"] + len(sp.get("specials", ())))
    if sp["n_expert"]:
        w.add_expert_count(sp["n_expert"])
        w.add_expert_used_count(sp["n_used"])
        if sp["n_ff_exp"]:
            w.add_expert_feed_forward_length(sp["n_ff_exp"])
        if sp["n_ff_shexp"]:
            w.add_expert_shared_feed_forward_length(sp["n_ff_shexp"])
        if arch == "qwen3moe":
            w.add_expert_weights_norm(True)
    if "window" in sp:
        write_v2_keys(w, sp)
    w.add_file_type(FORMATS[fmt][0])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    if "specials" in sp:
        with open(os.path.join(TEMPLATES, sp["template"]), encoding="utf-8") as f:
            template = f.read()
        add_tokenizer(w, extend_tokenizer(tok, sp["specials"]), eos=sp["eos"], eot=sp["eot"], template=template)
    else:
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
    jobs += [("muse-glimmer", f) for f in ("f32", "f16", "q8_0")] + [("gpt-oss", f) for f in ("f32", "mxfp4")]
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
