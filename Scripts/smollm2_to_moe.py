#!/usr/bin/env python3
"""Turn dense SmolLM2 (GGUF arch llama) into an exactly-equivalent Mixtral-style MoE GGUF.

    python3 Scripts/smollm2_to_moe.py IN.gguf OUT.gguf [--experts 8] [--no-verify]

Each layer's SwiGLU FFN of n_ff units (1536) is split into E experts of n_ff/E units (192):
  ffn_gate_exps[e] = ffn_gate rows   e*F..(e+1)*F        ggml shape [n_embd, F, E]
  ffn_up_exps[e]   = ffn_up rows     e*F..(e+1)*F        ggml shape [n_embd, F, E]
  ffn_down_exps[e] = E * ffn_down columns e*F..(e+1)*F   ggml shape [F, n_embd, E]
  ffn_gate_inp     = zeros (F32)                         ggml shape [n_embd, E]
With llama.expert_count = llama.expert_used_count = E, the zero router gives equal logits,
softmax 1/E each, the renormalised top-E weights stay 1/E, and
  sum_e (1/E) * (E * down_e) (silu(gate_e x) * up_e x) == down (silu(gate x) * up x).
llama.feed_forward_length becomes F (llama.cpp sizes Mixtral experts from it).

Tensor types are kept: gate/up rows and down column blocks are sliced on block boundaries
(F must be a multiple of the block size, 32 for Q4_0/Q4_1/Q8_0, 256 for K-quants), and the
x E scaling of down is applied to the f16 block scales (d, and m for Q4_1; d for Q4_0/Q8_0),
which is exact for a power-of-two E. F32/F16/BF16 down weights are scaled directly; any other
type is dequantized and stored as F32. All other tensors and all metadata (tokenizer, chat
template, ...) are copied unchanged. Unless --no-verify, the numpy reference is run on one
ChatML prompt for both models and the max |logit difference| is printed (and must be < 1e-3).
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT
from gguf.constants import GGML_QUANT_SIZES, GGUFValueType

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

SKIP_KEYS = {"general.architecture"}


def copy_metadata(r: gguf.GGUFReader, w: gguf.GGUFWriter, overrides: dict):
    done = set()
    for key, f in r.fields.items():
        if key.startswith("GGUF.") or key in SKIP_KEYS:
            continue
        if key in overrides:
            val, vt = overrides[key]
            w.add_key_value(key, val, vt)
            done.add(key)
            continue
        vt = f.types[0]
        sub = f.types[-1] if vt == GGUFValueType.ARRAY else None
        val = f.contents()
        if vt == GGUFValueType.ARRAY and sub == GGUFValueType.ARRAY:
            raise ValueError(f"nested array metadata not supported: {key}")
        w.add_key_value(key, val, vt, sub_type=sub)
    for key, (val, vt) in overrides.items():
        if key not in done:
            w.add_key_value(key, val, vt)


def raw_rows(t) -> np.ndarray:
    """Tensor bytes as (rows, bytes_per_row) uint8 (quantized) or the typed array (float)."""
    return np.asarray(t.data)


def scale_blocks(rows: np.ndarray, qt: QT, factor: float) -> np.ndarray:
    """Multiply a quantized (…, nbytes) uint8 row array by `factor` via its f16 block scales."""
    bs, ts = GGML_QUANT_SIZES[qt]
    a = rows.copy()
    blk = a.reshape(*a.shape[:-1], a.shape[-1] // ts, ts)
    if qt in (QT.Q4_0, QT.Q8_0):
        fields = [0]
    elif qt == QT.Q4_1:
        fields = [0, 2]
    else:
        raise ValueError(qt)
    for off in fields:
        h = np.ascontiguousarray(blk[..., off:off + 2]).view(np.float16)
        h2 = (h.astype(np.float32) * factor).astype(np.float16)
        assert np.all(np.isfinite(h2)) and np.array_equal(h2.astype(np.float32), h.astype(np.float32) * factor), \
            "scaling is not exact"
        blk[..., off:off + 2] = h2.view(np.uint8)
    return a


def split_layer(tensors: dict, il: int, E: int):
    """Returns [(name, array, raw_dtype)] for the MoE FFN of layer il."""
    p = f"blk.{il}."
    gate, up, down = tensors[p + "ffn_gate.weight"], tensors[p + "ffn_up.weight"], tensors[p + "ffn_down.weight"]
    n_embd, n_ff = int(gate.shape[0]), int(gate.shape[1])
    assert n_ff % E == 0
    F = n_ff // E
    out = [(p + "ffn_gate_inp.weight", np.zeros((E, n_embd), dtype=np.float32), None)]
    for name, t in (("ffn_gate_exps", gate), ("ffn_up_exps", up)):
        a = raw_rows(t)  # (n_ff, bytes) or (n_ff, n_embd)
        out.append((p + name + ".weight", np.ascontiguousarray(a.reshape(E, F, a.shape[-1])),
                    t.tensor_type if t.tensor_type not in (QT.F32, QT.F16) else None))
    qt = down.tensor_type
    bs, ts = GGML_QUANT_SIZES[qt]
    a = raw_rows(down)  # (n_embd, n_ff/bs*ts) quantized or (n_embd, n_ff) float
    if qt in (QT.Q4_0, QT.Q4_1, QT.Q8_0) and F % bs == 0:
        per = F // bs * ts
        ex = np.stack([a[:, e * per:(e + 1) * per] for e in range(E)])  # (E, n_embd, per)
        out.append((p + "ffn_down_exps.weight", scale_blocks(np.ascontiguousarray(ex), qt, float(E)), qt))
    elif qt in (QT.F32, QT.F16):
        ex = np.stack([a[:, e * F:(e + 1) * F] for e in range(E)]) * a.dtype.type(E)
        out.append((p + "ffn_down_exps.weight", np.ascontiguousarray(ex), None))
    else:
        d = gguf.quants.dequantize(a, qt).reshape(n_embd, n_ff).astype(np.float32)
        ex = np.stack([d[:, e * F:(e + 1) * F] for e in range(E)]) * np.float32(E)
        out.append((p + "ffn_down_exps.weight", np.ascontiguousarray(ex), None))
    return out, F


def convert(inp: str, outp: str, E: int):
    r = gguf.GGUFReader(inp)
    arch = r.fields["general.architecture"].contents()
    assert arch == "llama", arch
    tensors = {t.name: t for t in r.tensors}
    n_layer = int(r.fields["llama.block_count"].contents())
    new = []
    F = None
    for t in r.tensors:
        name = t.name
        if name.endswith(("ffn_gate.weight", "ffn_up.weight", "ffn_down.weight")):
            il = int(name.split(".")[1])
            if name.endswith("ffn_gate.weight"):
                parts, F = split_layer(tensors, il, E)
                new.extend(parts)
            continue
        a = raw_rows(t)
        raw = t.tensor_type if t.tensor_type not in (QT.F32, QT.F16) else None
        new.append((name, a, raw))
    assert sum(n.endswith("ffn_gate_exps.weight") for n, _, _ in new) == n_layer
    w = gguf.GGUFWriter(outp, arch)
    copy_metadata(r, w, {
        "llama.feed_forward_length": (F, GGUFValueType.UINT32),
        "llama.expert_count": (E, GGUFValueType.UINT32),
        "llama.expert_used_count": (E, GGUFValueType.UINT32),
    })
    for name, a, raw in new:
        w.add_tensor(name, a, raw_dtype=raw)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return F


def verify(inp: str, outp: str):
    import reference
    from tokenizer_util import hf_tokenizer_from_gguf

    dense = reference.Model(inp)
    tk = hf_tokenizer_from_gguf(dense.reader)
    text = ("<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n"
            "<|im_start|>user\nWhat is the capital of France?<|im_end|>\n<|im_start|>assistant\n")
    ids = tk.encode(text).ids
    ld = dense.forward(ids)
    del dense
    moe = reference.Model(outp)
    assert moe.cfg.n_expert == moe.cfg.n_expert_used > 0
    lm = moe.forward(ids)
    diff = float(np.abs(ld - lm).max())
    last = float(np.abs(ld[-1] - lm[-1]).max())
    print(f"verify: {len(ids)} tokens, max |dense - moe| over all positions = {diff:.3e} "
          f"(last position {last:.3e}); argmax dense {int(ld[-1].argmax())} moe {int(lm[-1].argmax())}; "
          f"logit range [{ld.min():.2f}, {ld.max():.2f}]")
    if not diff < 1e-3:
        sys.exit("verify: FAILED, the MoE split does not reproduce the dense model")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--experts", type=int, default=8)
    ap.add_argument("--no-verify", action="store_true")
    a = ap.parse_args()
    F = convert(a.inp, a.out, a.experts)
    print(f"wrote {a.out}: {a.experts} experts x {F} units, {os.path.getsize(a.out)} bytes")
    if not a.no_verify:
        verify(a.inp, a.out)


if __name__ == "__main__":
    main()
