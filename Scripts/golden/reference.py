#!/usr/bin/env python3
"""Independent numpy reference forward pass for the GGUF architectures Muse supports.

Written straight from the published model definitions (Hugging Face modelling code
semantics, with llama.cpp's GGUF conventions for tensor layout and RoPE mode). It shares
no code with the Swift engine. Weights are read with gguf.GGUFReader and dequantized with
gguf.quants.dequantize, so the reference sees exactly the values stored in the file;
all arithmetic is float64.

Supported `general.architecture` values:
  llama     dense Llama/Mistral, or Mixtral-style MoE when blk.N.ffn_gate_inp exists.
            RoPE "normal" mode (ggml): rotates adjacent pairs (x[2i], x[2i+1]).
            MoE: softmax over all experts, top-k, renormalise the k weights to sum 1.
  qwen3moe  per-head QK RMSNorm (size head_dim) before RoPE; RoPE NEOX (pairs (x[i], x[i+d/2]));
            head_dim from qwen3moe.attention.key_length; MoE top-k WITH renormalisation.
  olmoe     QK RMSNorm over the whole projection (size n_head*head_dim / n_kv*head_dim) before
            splitting into heads; RoPE NEOX; MoE top-k WITHOUT renormalisation.
  qwen2moe  q/k/v biases; RoPE NEOX; MoE top-k WITHOUT renormalisation, plus a shared expert
            scaled by sigmoid(dot(ffn_gate_inp_shexp, x)).
  muse-glimmer  (transformers MuseGlimmerTextModel + lm_head of MuseGlimmerForConditionalGeneration)
            scale-less RMSNorm of the token embeddings (token_embd_norm.weight if present);
            layers marked in muse-glimmer.attention.sliding_window_pattern (bool per layer, true =
            sliding; or an int period n: layer i is global iff i % n == n-1, llama.cpp's
            set_swa_pattern) attend to the last attention.sliding_window positions WITH RoPE (NEOX),
            the others to everything WITHOUT RoPE; per-head scale-less QK RMSNorm (attn_q_norm /
            attn_k_norm weights if present); q.k scale attention.scale (default 1/sqrt(head_dim));
            attention output *= sigmoid(attn_gate @ x) before attn_output; sandwich norms
            x += post_attention_norm(attn(attn_norm(x))), x += post_ffw_norm(ffn(ffn_norm(x))), the
            post norms with epsilon attention.post_norm_rms_epsilon; SwiGLU FFN;
            logits = c * tanh(logit_scale * logits / c), c = final_logit_softcapping.
  gpt-oss   (transformers modeling_gpt_oss.py) q/k/v/o biases; RoPE NEOX with YaRN
            (rope.scaling.*, ramp ends NOT rounded: the published config's truncate=false);
            attention sinks (attn_sinks.weight: one logit per head joins the softmax denominator);
            sliding window (attention.sliding_window) on even layers; FFN pre-norm named
            post_attention_norm; router = ffn_gate_inp (+bias), top-k logits then softmax over
            those k; experts with biases and the clamped SwiGLU: g = min(g, 7), u = clip(u, -7, 7),
            h = (u + 1) * g * sigmoid(1.702 g).

Tensor layout: a GGUF tensor with ggml shape [ne0, ne1, ne2] (ne0 innermost) is a numpy array
of shape (ne2, ne1, ne0); a projection weight [n_in, n_out] is therefore (n_out, n_in) and
y = W @ x. Merged expert tensors [n_embd, n_ff, n_expert] are (n_expert, n_ff, n_embd).

Usage as a script:  python3 Scripts/golden/reference.py MODEL.gguf TOKEN_ID [TOKEN_ID ...]
prints the top-10 last-position logits and a 16-token greedy continuation.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np
import gguf
from gguf.quants import dequantize

ARCHES = ("llama", "qwen3moe", "olmoe", "qwen2moe", "muse-glimmer", "gpt-oss")


def _field(reader: gguf.GGUFReader, key: str, default=None):
    f = reader.fields.get(key)
    if f is None:
        return default
    v = f.contents()
    return v


@dataclass
class Config:
    arch: str
    n_embd: int
    n_layer: int
    n_head: int
    n_head_kv: int
    head_dim: int
    rope_dim: int
    rope_base: float
    eps: float
    n_vocab: int
    n_expert: int
    n_expert_used: int
    rope_neox: bool
    qk_norm: str  # "none" | "head" | "full"
    moe_renorm: bool
    # muse-glimmer / gpt-oss (defaults leave the other architectures untouched)
    window: int = 0
    swa_layers: tuple = ()
    nope_full_layers: bool = False  # full-attention layers skip RoPE (muse-glimmer)
    attn_scale: float | None = None
    post_eps: float | None = None
    logit_scale: float = 1.0
    softcap: float = 0.0
    yarn: dict | None = None
    ffn_norm: str = "ffn_norm"
    router: str = "softmax_topk"  # | "topk_softmax" (gpt-oss)
    act: str = "silu"  # | "oai_clamped" (gpt-oss)


def load_tensors(reader: gguf.GGUFReader) -> dict[str, np.ndarray]:
    out = {}
    for t in reader.tensors:
        shape = tuple(int(x) for x in reversed(t.shape.tolist()))
        a = dequantize(t.data, t.tensor_type)
        out[t.name] = np.asarray(a, dtype=np.float64).reshape(shape)
    return out


class Model:
    def __init__(self, path: str):
        self.path = path
        r = gguf.GGUFReader(path)
        arch = _field(r, "general.architecture")
        if arch not in ARCHES:
            raise ValueError(f"unsupported architecture {arch!r}")
        p = arch
        n_embd = int(_field(r, f"{p}.embedding_length"))
        n_head = int(_field(r, f"{p}.attention.head_count"))
        n_head_kv = int(_field(r, f"{p}.attention.head_count_kv", n_head))
        head_dim = int(_field(r, f"{p}.attention.key_length", n_embd // n_head))
        vdim = int(_field(r, f"{p}.attention.value_length", head_dim))
        assert vdim == head_dim, "value_length != key_length not supported"
        self.w = load_tensors(r)
        n_vocab = self.w["token_embd.weight"].shape[0]
        self.cfg = Config(
            arch=arch,
            n_embd=n_embd,
            n_layer=int(_field(r, f"{p}.block_count")),
            n_head=n_head,
            n_head_kv=n_head_kv,
            head_dim=head_dim,
            rope_dim=int(_field(r, f"{p}.rope.dimension_count", head_dim)),
            rope_base=float(_field(r, f"{p}.rope.freq_base", 10000.0)),
            eps=float(_field(r, f"{p}.attention.layer_norm_rms_epsilon", 1e-5)),
            n_vocab=n_vocab,
            n_expert=int(_field(r, f"{p}.expert_count", 0)),
            n_expert_used=int(_field(r, f"{p}.expert_used_count", 0)),
            rope_neox=(arch != "llama"),
            qk_norm={"qwen3moe": "head", "olmoe": "full", "muse-glimmer": "head"}.get(arch, "none"),
            moe_renorm=arch in ("llama", "qwen3moe"),
        )
        if arch in ("muse-glimmer", "gpt-oss"):
            self._extra_config(r, p)
        self.reader = r
        # smallest gap (in router logits) between the k-th and (k+1)-th expert seen so far;
        # a Swift implementation may pick a different expert set where this is tiny.
        self.min_router_gap = float("inf")

    def _extra_config(self, r, p):
        c = self.cfg
        c.window = int(_field(r, f"{p}.attention.sliding_window", 0))
        pat = _field(r, f"{p}.attention.sliding_window_pattern", 4 if c.arch == "muse-glimmer" else 2)
        if isinstance(pat, (list, tuple)):
            c.swa_layers = tuple(bool(b) for b in pat)
        else:
            n = int(pat)
            c.swa_layers = tuple(n == 0 or i % n < n - 1 for i in range(c.n_layer))
        assert len(c.swa_layers) == c.n_layer
        scale = _field(r, f"{p}.attention.scale")
        c.attn_scale = None if scale is None else float(scale)
        stype = _field(r, f"{p}.rope.scaling.type", "none")
        if stype == "yarn":
            c.yarn = dict(factor=float(_field(r, f"{p}.rope.scaling.factor")),
                          orig=int(_field(r, f"{p}.rope.scaling.original_context_length")),
                          beta_fast=float(_field(r, f"{p}.rope.scaling.yarn_beta_fast", 32.0)),
                          beta_slow=float(_field(r, f"{p}.rope.scaling.yarn_beta_slow", 1.0)),
                          truncate=False)
        elif stype != "none":
            raise ValueError(f"rope scaling {stype!r} not supported")
        if c.arch == "muse-glimmer":
            c.nope_full_layers = True
            c.post_eps = float(_field(r, f"{p}.attention.post_norm_rms_epsilon", c.eps))
            c.logit_scale = float(_field(r, f"{p}.logit_scale", 1.0))
            c.softcap = float(_field(r, f"{p}.final_logit_softcapping", 0.0))
        else:
            c.ffn_norm = "post_attention_norm"
            c.router = "topk_softmax"
            c.act = "oai_clamped"

    # ---------------------------------------------------------------- primitives
    def rmsnorm(self, x: np.ndarray, w: np.ndarray | None, eps: float | None = None) -> np.ndarray:
        ms = np.mean(x * x, axis=-1, keepdims=True)
        y = x / np.sqrt(ms + (self.cfg.eps if eps is None else eps))
        return y if w is None else y * w

    def inv_freq(self) -> tuple[np.ndarray, float]:
        """Inverse frequencies and the cos/sin multiplier (YaRN as transformers'
        _compute_yarn_parameters; plain RoPE otherwise)."""
        c = self.cfg
        d = c.rope_dim
        i = np.arange(d // 2, dtype=np.float64)
        theta = c.rope_base ** (-2.0 * i / d)  # (d/2,)
        if c.yarn is None:
            return theta, 1.0
        y = c.yarn

        def corr(rot):
            return d * np.log(y["orig"] / (rot * 2 * np.pi)) / (2 * np.log(c.rope_base))

        low, high = corr(y["beta_fast"]), corr(y["beta_slow"])
        if y["truncate"]:
            low, high = np.floor(low), np.ceil(high)
        low, high = max(low, 0.0), min(high, d - 1.0)
        if low == high:
            high += 0.001
        ramp = np.clip((i - low) / (high - low), 0.0, 1.0)
        extrap = 1.0 - ramp
        inv = theta / y["factor"] * (1.0 - extrap) + theta * extrap
        mscale = 1.0 if y["factor"] <= 1 else 0.1 * np.log(y["factor"]) + 1.0
        return inv, mscale

    def rope(self, x: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """x: (T, n_heads, head_dim); pos: (T,). Rotates the first rope_dim dims."""
        c = self.cfg
        d = c.rope_dim
        theta, mscale = self.inv_freq()
        ang = pos.astype(np.float64)[:, None] * theta[None, :]  # (T, d/2)
        cos = np.cos(ang)[:, None, :] * mscale
        sin = np.sin(ang)[:, None, :] * mscale
        y = x.copy()
        if c.rope_neox:
            a = x[..., : d // 2]
            b = x[..., d // 2 : d]
            y[..., : d // 2] = a * cos - b * sin
            y[..., d // 2 : d] = a * sin + b * cos
        else:
            a = x[..., 0:d:2]
            b = x[..., 1:d:2]
            y[..., 0:d:2] = a * cos - b * sin
            y[..., 1:d:2] = a * sin + b * cos
        return y

    @staticmethod
    def silu(x):
        return x / (1.0 + np.exp(-x))

    def swiglu(self, x, wg, wu, wd):
        return (self.silu(x @ wg.T) * (x @ wu.T)) @ wd.T

    # ---------------------------------------------------------------- layers
    def attention(self, il: int, x: np.ndarray, pos: np.ndarray, cache: dict) -> np.ndarray:
        c = self.cfg
        w = self.w
        pre = f"blk.{il}."
        T = x.shape[0]
        q = x @ w[pre + "attn_q.weight"].T
        k = x @ w[pre + "attn_k.weight"].T
        v = x @ w[pre + "attn_v.weight"].T
        if pre + "attn_q.bias" in w:
            q = q + w[pre + "attn_q.bias"]
        if pre + "attn_k.bias" in w:
            k = k + w[pre + "attn_k.bias"]
        if pre + "attn_v.bias" in w:
            v = v + w[pre + "attn_v.bias"]
        if c.qk_norm == "full":
            q = self.rmsnorm(q, w[pre + "attn_q_norm.weight"])
            k = self.rmsnorm(k, w[pre + "attn_k_norm.weight"])
        q = q.reshape(T, c.n_head, c.head_dim)
        k = k.reshape(T, c.n_head_kv, c.head_dim)
        v = v.reshape(T, c.n_head_kv, c.head_dim)
        if c.qk_norm == "head":  # muse-glimmer: no weights in the file = scale-less norm
            q = self.rmsnorm(q, w.get(pre + "attn_q_norm.weight"))
            k = self.rmsnorm(k, w.get(pre + "attn_k_norm.weight"))
        sliding = bool(c.swa_layers) and c.swa_layers[il] and c.window > 0
        if sliding or not c.nope_full_layers:
            q = self.rope(q, pos)
            k = self.rope(k, pos)
        # KV cache
        kc, vc = cache.get(il, (None, None))
        K = k if kc is None else np.concatenate([kc, k], axis=0)
        V = v if vc is None else np.concatenate([vc, v], axis=0)
        cache[il] = (K, V)
        S = K.shape[0]
        kpos = np.arange(S)
        rep = c.n_head // c.n_head_kv
        out = np.empty((T, c.n_head, c.head_dim))
        scale = 1.0 / np.sqrt(c.head_dim) if c.attn_scale is None else c.attn_scale
        mask = kpos[None, :] > pos[:, None]  # (T, S) True = masked (future)
        if sliding:  # keep p - window < j <= p (transformers' sliding_window_overlay)
            mask = mask | (kpos[None, :] <= pos[:, None] - c.window)
        sinks = w.get(pre + "attn_sinks.weight")
        for h in range(c.n_head):
            kh = K[:, h // rep, :]
            vh = V[:, h // rep, :]
            s = (q[:, h, :] @ kh.T) * scale
            s = np.where(mask, -np.inf, s)
            if sinks is None:
                s = s - s.max(axis=-1, keepdims=True)
                p = np.exp(s)
                p /= p.sum(axis=-1, keepdims=True)
            else:  # transformers: concat the sink logit, softmax, drop its column
                sk = np.full((T, 1), sinks[h])
                s = np.concatenate([s, sk], axis=-1)
                s = s - s.max(axis=-1, keepdims=True)
                p = np.exp(s)
                p = (p / p.sum(axis=-1, keepdims=True))[:, :-1]
            out[:, h, :] = p @ vh
        o = out.reshape(T, c.n_head * c.head_dim)
        if pre + "attn_gate.weight" in w:
            o = o * (1.0 / (1.0 + np.exp(-(x @ w[pre + "attn_gate.weight"].T))))
        o = o @ w[pre + "attn_output.weight"].T
        if pre + "attn_output.bias" in w:
            o = o + w[pre + "attn_output.bias"]
        return o

    def ffn(self, il: int, x: np.ndarray) -> np.ndarray:
        c = self.cfg
        w = self.w
        pre = f"blk.{il}."
        if pre + "ffn_gate_inp.weight" not in w:
            return self.swiglu(x, w[pre + "ffn_gate.weight"], w[pre + "ffn_up.weight"], w[pre + "ffn_down.weight"])
        if c.router == "topk_softmax":
            return self.ffn_gpt_oss(pre, x)
        router = w[pre + "ffn_gate_inp.weight"]  # (n_expert, n_embd)
        g = w[pre + "ffn_gate_exps.weight"]  # (n_expert, n_ff, n_embd)
        u = w[pre + "ffn_up_exps.weight"]
        d = w[pre + "ffn_down_exps.weight"]  # (n_expert, n_embd, n_ff)
        out = np.zeros_like(x)
        for t in range(x.shape[0]):
            xt = x[t]
            logits = router @ xt
            pr = np.exp(logits - logits.max())
            pr /= pr.sum()
            # stable descending order: highest prob first, ties -> lower expert id
            order = np.argsort(-pr, kind="stable")
            top = order[: c.n_expert_used]
            if c.n_expert_used < c.n_expert:
                gap = float(logits[order[c.n_expert_used - 1]] - logits[order[c.n_expert_used]])
                self.min_router_gap = min(self.min_router_gap, gap)
            wts = pr[top]
            if c.moe_renorm:
                wts = wts / wts.sum()
            for e, we in zip(top, wts):
                hdn = self.silu(g[e] @ xt) * (u[e] @ xt)
                out[t] += we * (d[e] @ hdn)
        if pre + "ffn_gate_inp_shexp.weight" in w:
            sh = self.swiglu(x, w[pre + "ffn_gate_shexp.weight"], w[pre + "ffn_up_shexp.weight"],
                             w[pre + "ffn_down_shexp.weight"])
            gate = 1.0 / (1.0 + np.exp(-(x @ w[pre + "ffn_gate_inp_shexp.weight"])))  # (T,)
            out = out + gate[:, None] * sh
        return out

    def ffn_gpt_oss(self, pre: str, x: np.ndarray) -> np.ndarray:
        """transformers GptOssTopKRouter + GptOssExperts (ggml layout: gate and up split)."""
        c = self.cfg
        w = self.w
        out = np.zeros_like(x)
        for t in range(x.shape[0]):
            xt = x[t]
            logits = w[pre + "ffn_gate_inp.weight"] @ xt + w[pre + "ffn_gate_inp.bias"]
            order = np.argsort(-logits, kind="stable")
            top = order[: c.n_expert_used]
            if c.n_expert_used < c.n_expert:
                gap = float(logits[order[c.n_expert_used - 1]] - logits[order[c.n_expert_used]])
                self.min_router_gap = min(self.min_router_gap, gap)
            wts = np.exp(logits[top] - logits[top].max())
            wts /= wts.sum()
            for e, we in zip(top, wts):
                g = w[pre + "ffn_gate_exps.weight"][e] @ xt + w[pre + "ffn_gate_exps.bias"][e]
                u = w[pre + "ffn_up_exps.weight"][e] @ xt + w[pre + "ffn_up_exps.bias"][e]
                g = np.minimum(g, 7.0)
                u = np.clip(u, -7.0, 7.0)
                hdn = (u + 1.0) * g / (1.0 + np.exp(-1.702 * g))
                out[t] += we * (w[pre + "ffn_down_exps.weight"][e] @ hdn + w[pre + "ffn_down_exps.bias"][e])
        return out

    # ---------------------------------------------------------------- model
    def forward(self, tokens, cache: dict | None = None, start_pos: int = 0) -> np.ndarray:
        """Process `tokens` at positions start_pos.. ; returns logits (T, n_vocab)."""
        if cache is None:
            cache = {}
        w = self.w
        c = self.cfg
        tokens = np.asarray(tokens, dtype=np.int64)
        pos = np.arange(start_pos, start_pos + len(tokens))
        x = w["token_embd.weight"][tokens]
        if c.arch == "muse-glimmer":
            x = self.rmsnorm(x, w.get("token_embd_norm.weight"))
        for il in range(c.n_layer):
            h = self.rmsnorm(x, w[f"blk.{il}.attn_norm.weight"])
            a = self.attention(il, h, pos, cache)
            if f"blk.{il}.post_attention_norm.weight" in w and c.ffn_norm != "post_attention_norm":
                a = self.rmsnorm(a, w[f"blk.{il}.post_attention_norm.weight"], c.post_eps)
            x = x + a
            h = self.rmsnorm(x, w[f"blk.{il}.{c.ffn_norm}.weight"])
            f = self.ffn(il, h)
            if f"blk.{il}.post_ffw_norm.weight" in w:
                f = self.rmsnorm(f, w[f"blk.{il}.post_ffw_norm.weight"], c.post_eps)
            x = x + f
        x = self.rmsnorm(x, w["output_norm.weight"])
        out_w = w.get("output.weight", w["token_embd.weight"])
        logits = x @ out_w.T
        if c.arch == "muse-glimmer":
            logits = logits * c.logit_scale
            if c.softcap > 0:
                logits = c.softcap * np.tanh(logits / c.softcap)
        return logits

    def last_logits_and_greedy(self, tokens, n_new: int):
        """Returns (last-position logits of the prompt, greedy ids, min top-2 margin)."""
        cache: dict = {}
        logits = self.forward(tokens, cache, 0)[-1]
        first = logits.copy()
        out = []
        self.margins = []  # per greedy step: top1 - top2 logit gap
        pos = len(tokens)
        for _ in range(n_new):
            srt = np.sort(logits)
            self.margins.append(float(srt[-1] - srt[-2]))
            nxt = int(np.argmax(logits))
            out.append(nxt)
            logits = self.forward([nxt], cache, pos)[-1]
            pos += 1
        margin = min(self.margins) if self.margins else float("inf")
        return first, out, margin


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        sys.exit(2)
    m = Model(sys.argv[1])
    toks = [int(t) for t in sys.argv[2:]]
    logits, greedy, margin = m.last_logits_and_greedy(toks, 16)
    top = np.argsort(-logits)[:10]
    print("config:", m.cfg)
    print("top10:", [(int(i), round(float(logits[i]), 4)) for i in top])
    print("greedy:", greedy, "min_margin:", margin)


if __name__ == "__main__":
    main()
