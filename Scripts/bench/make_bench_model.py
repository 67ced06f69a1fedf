#!/usr/bin/env python3
"""Write a random-weight OLMoE-shaped GGUF (arch `olmoe`) for benchmarks.

    python3 Scripts/bench/make_bench_model.py OUT.gguf --type {f32,f16,bf16,q8_0,q4_0,q4_1,q4_k_m}
        [--layers 16] [--width 2048] [--heads 16] [--kv-heads 16] [--experts 64]
        [--experts-used 8] [--expert-ffn 1024] [--vocab 50304] [--ctx 4096] [--seed 0] [--verify]

The defaults are OLMoE-1B-7B's shape (~6.9 B parameters, ~1.3 B active per token). The file
follows make_fixtures.py's olmoe conventions exactly (same metadata keys, tensor names,
quantisation policy and byte-level tokenizer), so anything that loads the `olmoe` fixtures loads
this. The tokenizer has only 512 real tokens; it is padded with UNUSED (type 5) `<|pad_N|>`
tokens up to --vocab because token_embd / output must have exactly one row per token.

Weights are meaningless but well scaled: norms are exactly 1, every matrix is N(0, 1/fan_in)
(token_embd N(0, 1)), so activations stay O(1) through all layers and logits are finite.

How it stays fast and small (the full model is 7.3 GB at q8_0, 28 GB at f32):
* Per (std, ggml type) one pool of 16M random values is generated and quantised ONCE. Every
  ggml quant block is independent of its neighbours (rows are whole blocks), so a run of whole
  blocks copied from a random offset in the quantised pool is byte-for-byte what quantising the
  matching float run would give. Tensors are filled with such runs (one per expert slice, at most
  8M values), so the benchmark sees realistic bytes and memory traffic without quantising 6.9 B
  values in Python. Runtime is dominated by disk writes.
* Tensor data is streamed: GGUFWriter gets only tensor infos (shapes/types/sizes), and each
  tensor is handed to write_tensor_data as a small object whose tofile() writes the runs one
  by one. Peak memory is a few hundred MB regardless of model size.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import gguf
from gguf import GGMLQuantizationType as QT

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "fixtures"))
# encode(): F32/F16/K-quant/gguf.quants dispatch; tensor_type(): llama.cpp's per-tensor type policy.
from make_fixtures import FORMATS, add_tokenizer, build_tokenizer, encode, tensor_type  # noqa: E402

POOL_VALUES = 1 << 24  # per (std, type): 64 MB as f32, 9 MB as q4_0
MAX_RUN = POOL_VALUES // 2  # a run must fit the pool at some offset; larger tensors use several runs
TOKEN_UNUSED = 5


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out")
    ap.add_argument("--type", required=True, choices=list(FORMATS))
    ap.add_argument("--layers", type=int, default=16)
    ap.add_argument("--width", type=int, default=2048)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--kv-heads", type=int, default=16)
    ap.add_argument("--experts", type=int, default=64)
    ap.add_argument("--experts-used", type=int, default=8)
    ap.add_argument("--expert-ffn", type=int, default=1024)
    ap.add_argument("--vocab", type=int, default=50304)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--rope-base", type=float, default=10000.0)
    ap.add_argument("--eps", type=float, default=1e-5)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--verify", action="store_true",
                    help="re-open with gguf.GGUFReader and check shapes, types and finite dequantized values")
    a = ap.parse_args()
    if a.width % a.heads or a.heads % a.kv_heads or a.experts_used > a.experts:
        ap.error("need width % heads == 0, heads % kv-heads == 0, experts-used <= experts")
    # Every row must be whole quant blocks (32 values; 256 for K-quants), or runs could split a block.
    blk = 256 if a.type == "q4_k_m" else 32
    if a.width % blk or a.expert_ffn % blk:
        ap.error(f"--width and --expert-ffn must be multiples of {blk} for --type {a.type}")
    return a


def layout(a):
    """(name, numpy shape, std) in make_fixtures' tensor order; std None = all-ones norm weight."""
    E, F, X = a.width, a.expert_ffn, a.experts
    D = E // a.heads
    q, kv = a.heads * D, a.kv_heads * D
    s_in, s_down = 1.0 / np.sqrt(E), 1.0 / np.sqrt(F)  # 1/sqrt(fan_in) keeps every projection O(1)
    t = [("token_embd.weight", (a.vocab, E), 1.0)]
    for il in range(a.layers):
        p = f"blk.{il}."
        t += [(p + "attn_norm.weight", (E,), None),
              (p + "attn_q.weight", (q, E), s_in),
              (p + "attn_k.weight", (kv, E), s_in),
              (p + "attn_v.weight", (kv, E), s_in),
              (p + "attn_q_norm.weight", (q,), None),  # OLMoE: QK-norm over the whole projection
              (p + "attn_k_norm.weight", (kv,), None),
              (p + "attn_output.weight", (E, q), 1.0 / np.sqrt(q)),
              (p + "ffn_norm.weight", (E,), None),
              (p + "ffn_gate_inp.weight", (X, E), s_in),
              (p + "ffn_gate_exps.weight", (X, F, E), s_in),
              (p + "ffn_up_exps.weight", (X, F, E), s_in),
              (p + "ffn_down_exps.weight", (X, E, F), s_down)]
    t += [("output_norm.weight", (E,), None), ("output.weight", (a.vocab, E), s_in)]
    return t


def qtype_of(name, shape, fmt) -> QT:
    # tensor_type only looks at the name and ndim; an empty array of the right rank stands in.
    return tensor_type(name, np.empty((0,) * len(shape), np.float32), fmt)


class Pools:
    """Quantised pools of random N(0, std) values, as rows of whole blocks: (n_blocks, bytes_per_block)."""

    def __init__(self, rng):
        self.rng, self.cache = rng, {}

    def get(self, std, qt):
        key = (float(std), qt)
        if key not in self.cache:
            x = (self.rng.standard_normal(POOL_VALUES, dtype=np.float32) * np.float32(std)).reshape(-1, 256)
            data, _ = encode(x, qt)
            bs, ts = gguf.GGML_QUANT_SIZES[qt]
            self.cache[key] = (np.ascontiguousarray(data).view(np.uint8).reshape(-1, ts), bs)
        return self.cache[key]


class StreamedTensor:
    """Duck-types the ndarray bits GGUFWriter.write_tensor_data uses (nbytes, tofile)."""

    def __init__(self, shape, qt, std, pools, rng):
        bs, ts = gguf.GGML_QUANT_SIZES[qt]
        self.n = int(np.prod(shape))
        self.nbytes = self.n // bs * ts
        # One run per expert slice (so experts differ), capped so a run fits in the pool.
        self.run = min(self.n if len(shape) < 3 else shape[-1] * shape[-2], MAX_RUN)
        self.shape, self.qt, self.std, self.pools, self.rng = shape, qt, std, pools, rng

    def tofile(self, fp):
        if self.std is None:
            fp.write(np.ones(self.n, np.float32).tobytes())
            return
        pool, bs = self.pools.get(self.std, self.qt)
        done = 0
        while done < self.n:
            nblk = min(self.run, self.n - done) // bs
            o = int(self.rng.integers(0, len(pool) - nblk + 1))
            fp.write(memoryview(pool[o:o + nblk]))
            done += nblk * bs


def padded_tokenizer(n_vocab):
    tokens, merges, types, specials = build_tokenizer()
    if n_vocab < len(tokens):
        sys.exit(f"--vocab must be >= {len(tokens)} (the fixture tokenizer's size)")
    n_pad = n_vocab - len(tokens)
    return (tokens + [f"<|pad_{i}|>" for i in range(n_pad)], merges, types + [TOKEN_UNUSED] * n_pad, specials)


def write_model(a, tensors):
    w = gguf.GGUFWriter(a.out, "olmoe")
    # Same keys as make_fixtures.write_fixture for olmoe (the expert FFN size under both names).
    w.add_name(f"muse-bench-olmoe-{a.type}")
    w.add_context_length(a.ctx)
    w.add_embedding_length(a.width)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.expert_ffn)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_dimension_count(a.width // a.heads)
    w.add_rope_freq_base(a.rope_base)
    w.add_layer_norm_rms_eps(a.eps)
    w.add_vocab_size(a.vocab)
    w.add_expert_count(a.experts)
    w.add_expert_used_count(a.experts_used)
    w.add_expert_feed_forward_length(a.expert_ffn)
    w.add_file_type(FORMATS[a.type][0])
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    add_tokenizer(w, padded_tokenizer(a.vocab))

    rng = np.random.default_rng(a.seed)
    pools = Pools(rng)
    streams = []
    for name, shape, std in tensors:
        qt = qtype_of(name, shape, a.type)
        st = StreamedTensor(shape, qt, std, pools, rng)
        if qt in (QT.F32, QT.F16):
            w.add_tensor_info(name, shape, np.dtype(np.float32 if qt == QT.F32 else np.float16), st.nbytes)
        else:  # quantised: GGUFWriter wants the byte shape (rows, row bytes) plus the ggml type
            bs, ts = gguf.GGML_QUANT_SIZES[qt]
            w.add_tensor_info(name, (*shape[:-1], shape[-1] // bs * ts), np.dtype(np.uint8), st.nbytes, raw_dtype=qt)
        streams.append(st)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    for st in streams:
        w.write_tensor_data(st)  # pads to the alignment, then calls st.tofile()
    w.close()


def param_counts(a, tensors):
    total = sum(int(np.prod(s)) for _, s, _ in tensors)
    per_expert = 3 * a.width * a.expert_ffn
    return total, total - a.layers * (a.experts - a.experts_used) * per_expert


def verify(a, tensors):
    """Re-read the file: every tensor present with the right shape/type, values finite and sane."""
    r = gguf.GGUFReader(a.out)
    got = {t.name: t for t in r.tensors}
    assert len(got) == len(tensors), (len(got), len(tensors))
    assert len(r.fields["tokenizer.ggml.tokens"].data) == a.vocab
    for name, shape, std in tensors:
        t = got[name]
        qt = qtype_of(name, shape, a.type)
        assert t.tensor_type == qt and tuple(int(d) for d in t.shape) == shape[::-1], (name, t.tensor_type, t.shape)
        rows = t.data.reshape(-1, t.data.shape[-1])
        sample = rows[: max(1, (1 << 20) // rows.shape[-1])]  # first ~1M values
        x = gguf.quants.dequantize(sample, qt) if qt not in (QT.F32, QT.F16) else sample.astype(np.float32)
        assert np.isfinite(x).all(), name
        if std is None:
            assert (x == 1).all(), name
        else:
            assert abs(float(x.std()) / std - 1) < 0.2, (name, float(x.std()), std)
    print(f"verified {len(got)} tensors, {a.vocab} tokens")


def main():
    a = parse_args()
    tensors = layout(a)
    total, active = param_counts(a, tensors)
    print(f"olmoe {a.type}: {a.layers} layers, width {a.width}, {a.heads}/{a.kv_heads} heads, "
          f"{a.experts} experts top-{a.experts_used}, expert ffn {a.expert_ffn}, vocab {a.vocab}")
    print(f"params: {total / 1e9:.3f} B total, {active / 1e9:.3f} B active")
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    t0 = time.time()
    write_model(a, tensors)
    dt = time.time() - t0
    size = os.path.getsize(a.out)
    print(f"wrote {a.out}: {size / 1e9:.3f} GB ({size} bytes) in {dt:.1f} s ({size / 1e6 / dt:.0f} MB/s)")
    if a.verify:
        t0 = time.time()
        verify(a, tensors)
        print(f"verify: {time.time() - t0:.1f} s")


if __name__ == "__main__":
    main()
