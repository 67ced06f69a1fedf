#!/usr/bin/env python3
"""Optional: cross-check Scripts/golden/reference.py against Hugging Face `transformers`.

    pip install /path/to/torch-cpu.whl transformers==5.23.0   # not in requirements.txt
    python3 Scripts/golden/crosscheck_hf.py [FIXTURE.gguf ...]     # default: every fixture

Builds the matching transformers model (LlamaForCausalLM, MixtralForCausalLM,
Qwen3MoeForCausalLM, OlmoeForCausalLM, Qwen2MoeForCausalLM, GptOssForCausalLM, and
MuseGlimmerTextModel + the lm_head / output_multiplier / softcap of
MuseGlimmerForConditionalGeneration) from each fixture's dequantized weights, runs it in float64 with eager attention, and compares all-position logits with the
numpy reference. For arch llama the Q/K rows are un-permuted (inverse of convert_hf_to_gguf's
permute), which is what makes ggml's "normal" RoPE (adjacent pairs) equal HF's rotate_half.
"""
from __future__ import annotations

import glob
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import reference  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # Scripts/<job>/x.py


def unpermute(w: np.ndarray, n_head: int) -> np.ndarray:
    """Inverse of convert_hf_to_gguf LlamaModel.permute (GGUF rows -> HF rows)."""
    return w.reshape(n_head, w.shape[0] // n_head // 2, 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def hf_model(m: reference.Model):
    import torch
    import transformers as T

    c = m.cfg
    w = m.w
    moe = c.n_expert > 0
    common = dict(vocab_size=c.n_vocab, hidden_size=c.n_embd, num_hidden_layers=c.n_layer,
                  num_attention_heads=c.n_head, num_key_value_heads=c.n_head_kv, head_dim=c.head_dim,
                  rms_norm_eps=c.eps, max_position_embeddings=256, tie_word_embeddings="output.weight" not in w,
                  bos_token_id=None, eos_token_id=None, pad_token_id=None)
    rope = {"rope_type": "default", "rope_theta": c.rope_base}
    if c.arch in ("gpt-oss", "muse-glimmer"):
        return hf_model_v2(m, common, rope)
    if c.arch == "llama" and not moe:
        n_ff = w["blk.0.ffn_gate.weight"].shape[0]
        cfg, cls = T.LlamaConfig(intermediate_size=n_ff, rope_parameters=rope, **common), T.LlamaForCausalLM
    elif c.arch == "llama":
        F = w["blk.0.ffn_gate_exps.weight"].shape[1]
        cfg = T.MixtralConfig(intermediate_size=F, num_local_experts=c.n_expert, num_experts_per_tok=c.n_expert_used,
                              rope_parameters=rope, **common)
        cls = T.MixtralForCausalLM
    elif c.arch == "qwen3moe":
        F = w["blk.0.ffn_gate_exps.weight"].shape[1]
        cfg = T.Qwen3MoeConfig(moe_intermediate_size=F, intermediate_size=F, num_experts=c.n_expert,
                               num_experts_per_tok=c.n_expert_used, norm_topk_prob=True, decoder_sparse_step=1,
                               mlp_only_layers=[], rope_parameters=rope, **common)
        cls = T.Qwen3MoeForCausalLM
    elif c.arch == "olmoe":
        F = w["blk.0.ffn_gate_exps.weight"].shape[1]
        cfg = T.OlmoeConfig(intermediate_size=F, num_experts=c.n_expert, num_experts_per_tok=c.n_expert_used,
                            norm_topk_prob=False, clip_qkv=None, rope_parameters=rope, **common)
        cls = T.OlmoeForCausalLM
    elif c.arch == "qwen2moe":
        F = w["blk.0.ffn_gate_exps.weight"].shape[1]
        S = w["blk.0.ffn_gate_shexp.weight"].shape[0]
        cfg = T.Qwen2MoeConfig(moe_intermediate_size=F, intermediate_size=S, shared_expert_intermediate_size=S,
                               num_experts=c.n_expert, num_experts_per_tok=c.n_expert_used, norm_topk_prob=False,
                               decoder_sparse_step=1, mlp_only_layers=[], rope_parameters=rope, **common)
        cls = T.Qwen2MoeForCausalLM
    else:
        raise ValueError(c.arch)
    cfg._attn_implementation = "eager"
    cfg._experts_implementation = "eager"
    model = cls(cfg).double().eval()
    sd = {"model.embed_tokens.weight": w["token_embd.weight"], "model.norm.weight": w["output_norm.weight"]}
    if "output.weight" in w:
        sd["lm_head.weight"] = w["output.weight"]
    for il in range(c.n_layer):
        g = f"blk.{il}."
        h = f"model.layers.{il}."
        q, k = w[g + "attn_q.weight"], w[g + "attn_k.weight"]
        if c.arch == "llama":
            q, k = unpermute(q, c.n_head), unpermute(k, c.n_head_kv)
        sd[h + "self_attn.q_proj.weight"] = q
        sd[h + "self_attn.k_proj.weight"] = k
        sd[h + "self_attn.v_proj.weight"] = w[g + "attn_v.weight"]
        sd[h + "self_attn.o_proj.weight"] = w[g + "attn_output.weight"]
        for b in ("q", "k", "v"):
            if g + f"attn_{b}.bias" in w:
                sd[h + f"self_attn.{b}_proj.bias"] = w[g + f"attn_{b}.bias"]
        if g + "attn_q_norm.weight" in w:
            sd[h + "self_attn.q_norm.weight"] = w[g + "attn_q_norm.weight"]
            sd[h + "self_attn.k_norm.weight"] = w[g + "attn_k_norm.weight"]
        sd[h + "input_layernorm.weight"] = w[g + "attn_norm.weight"]
        sd[h + "post_attention_layernorm.weight"] = w[g + "ffn_norm.weight"]
        if not moe:
            sd[h + "mlp.gate_proj.weight"] = w[g + "ffn_gate.weight"]
            sd[h + "mlp.up_proj.weight"] = w[g + "ffn_up.weight"]
            sd[h + "mlp.down_proj.weight"] = w[g + "ffn_down.weight"]
        else:
            sd[h + "mlp.gate.weight"] = w[g + "ffn_gate_inp.weight"]
            sd[h + "mlp.experts.gate_up_proj"] = np.concatenate(
                [w[g + "ffn_gate_exps.weight"], w[g + "ffn_up_exps.weight"]], axis=1)
            sd[h + "mlp.experts.down_proj"] = w[g + "ffn_down_exps.weight"]
            if g + "ffn_gate_inp_shexp.weight" in w:
                sd[h + "mlp.shared_expert.gate_proj.weight"] = w[g + "ffn_gate_shexp.weight"]
                sd[h + "mlp.shared_expert.up_proj.weight"] = w[g + "ffn_up_shexp.weight"]
                sd[h + "mlp.shared_expert.down_proj.weight"] = w[g + "ffn_down_shexp.weight"]
                sd[h + "mlp.shared_expert_gate.weight"] = w[g + "ffn_gate_inp_shexp.weight"][None, :]
    sd = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64)) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    missing = [k for k in missing if not (k == "lm_head.weight" and cfg.tie_word_embeddings)]
    assert not missing and not unexpected, (missing, unexpected)
    return model


def hf_model_v2(m: reference.Model, common: dict, rope: dict):
    """gpt-oss and Muse Glimmer: the GGUF tensors mapped back to transformers' names (the
    inverse of llama.cpp's convert_hf_to_gguf for gpt-oss; for Glimmer, the centered norms
    stored as weight - 1 and the sliding/NoPE layout spelled out per layer)."""
    import torch
    import transformers as T

    c = m.cfg
    w = m.w
    types = ["sliding_attention" if s else "full_attention" for s in c.swa_layers]
    sd = {}
    if c.arch == "gpt-oss":
        F = w["blk.0.ffn_gate_exps.weight"].shape[1]
        y = c.yarn
        rope = {"rope_type": "yarn", "rope_theta": c.rope_base, "factor": y["factor"], "beta_fast": y["beta_fast"],
                "beta_slow": y["beta_slow"], "truncate": y["truncate"], "original_max_position_embeddings": y["orig"]}
        cfg = T.GptOssConfig(intermediate_size=F, num_local_experts=c.n_expert, num_experts_per_tok=c.n_expert_used,
                             sliding_window=c.window, layer_types=types, attention_bias=True, rope_parameters=rope,
                             **common)
        cls = T.GptOssForCausalLM
        prefix = "model."
    else:
        theta = [c.rope_base if s else 0 for s in c.swa_layers]
        cfg = T.MuseGlimmerTextConfig(
            intermediate_size=w["blk.0.ffn_gate.weight"].shape[0], sliding_window=c.window, layer_types=types,
            layer_rope_theta=theta, qk_scale_factor=c.attn_scale * np.sqrt(c.head_dim),
            output_multiplier=c.logit_scale, final_logit_softcapping=c.softcap, post_norm_eps=c.post_eps,
            rope_parameters=rope, **common)
        cls = T.MuseGlimmerTextModel
        prefix = ""
    cfg._attn_implementation = "eager"
    cfg._experts_implementation = "eager"
    model = cls(cfg).double().eval()
    sd[prefix + "embed_tokens.weight"] = w["token_embd.weight"]
    sd[prefix + "norm.weight"] = w["output_norm.weight"]
    for il in range(c.n_layer):
        g = f"blk.{il}."
        h = f"{prefix}layers.{il}."
        for b in ("q", "k", "v"):
            sd[h + f"self_attn.{b}_proj.weight"] = w[g + f"attn_{b}.weight"]
        sd[h + "self_attn.o_proj.weight"] = w[g + "attn_output.weight"]
        if c.arch == "gpt-oss":
            for b in ("q", "k", "v"):
                sd[h + f"self_attn.{b}_proj.bias"] = w[g + f"attn_{b}.bias"]
            sd[h + "self_attn.o_proj.bias"] = w[g + "attn_output.bias"]
            sd[h + "self_attn.sinks"] = w[g + "attn_sinks.weight"]
            sd[h + "input_layernorm.weight"] = w[g + "attn_norm.weight"]
            sd[h + "post_attention_layernorm.weight"] = w[g + "post_attention_norm.weight"]
            sd[h + "mlp.router.weight"] = w[g + "ffn_gate_inp.weight"]
            sd[h + "mlp.router.bias"] = w[g + "ffn_gate_inp.bias"]
            wg, wu = w[g + "ffn_gate_exps.weight"], w[g + "ffn_up_exps.weight"]  # (E, F, d)
            gate_up = np.empty((wg.shape[0], wg.shape[2], 2 * wg.shape[1]))
            gate_up[:, :, 0::2] = wg.transpose(0, 2, 1)  # transformers interleaves gate/up columns
            gate_up[:, :, 1::2] = wu.transpose(0, 2, 1)
            bias = np.empty((wg.shape[0], 2 * wg.shape[1]))
            bias[:, 0::2] = w[g + "ffn_gate_exps.bias"]
            bias[:, 1::2] = w[g + "ffn_up_exps.bias"]
            sd[h + "mlp.experts.gate_up_proj"] = gate_up
            sd[h + "mlp.experts.gate_up_proj_bias"] = bias
            sd[h + "mlp.experts.down_proj"] = w[g + "ffn_down_exps.weight"].transpose(0, 2, 1)
            sd[h + "mlp.experts.down_proj_bias"] = w[g + "ffn_down_exps.bias"]
        else:
            sd[h + "self_attn.gate_proj.weight"] = w[g + "attn_gate.weight"]
            for hf, gg in (("input_layernorm", "attn_norm"), ("post_attention_layernorm", "post_attention_norm"),
                           ("pre_feedforward_layernorm", "ffn_norm"), ("post_feedforward_layernorm", "post_ffw_norm")):
                sd[h + hf + ".weight"] = w[g + gg + ".weight"] - 1.0  # centered: output * (1 + weight)
            for b in ("gate", "up", "down"):
                sd[h + f"mlp.{b}_proj.weight"] = w[g + f"ffn_{b}.weight"]
    if "output.weight" in w and c.arch == "gpt-oss":
        sd["lm_head.weight"] = w["output.weight"]
    sd = {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64)) for k, v in sd.items()}
    missing, unexpected = model.load_state_dict(sd, strict=False)
    assert not missing and not unexpected, (missing, unexpected)
    if c.arch == "gpt-oss":
        return model

    def glimmer_logits(ids):
        hidden = model(ids).last_hidden_state
        logits = hidden @ torch.from_numpy(w["output.weight"]).T
        # MuseGlimmerForConditionalGeneration.forward: T * tanh(logits * output_multiplier / T)
        logits = logits * cfg.output_multiplier / cfg.final_logit_softcapping
        return type("Out", (), {"logits": torch.tanh(logits) * cfg.final_logit_softcapping})()

    return glimmer_logits


def main():
    import torch

    paths = sys.argv[1:] or sorted(glob.glob(os.path.join(ROOT, "Tests", "Fixtures", "models", "*.gguf")))
    toks = [510, 282, 269, 10, 474, 341, 260, 479, 112, 270, 350, 306, 32, 70, 114, 300, 339, 63, 511, 10, 5, 400]
    worst = 0.0
    for p in paths:
        m = reference.Model(p)
        t = [x % m.cfg.n_vocab for x in toks]
        ref = m.forward(t)
        model = hf_model(m)
        with torch.no_grad():
            hf = model(torch.tensor([t])).logits[0].numpy()
        d = float(np.abs(ref - hf).max())
        worst = max(worst, d)
        print(f"{os.path.basename(p):28s} max|ref-hf| = {d:.3e}  (logit scale {np.abs(ref).max():.2f})", flush=True)
    print(f"worst {worst:.3e}")
    # HF computes RMSNorm variance and RoPE cos/sin in float32 even in a float64 model, so
    # agreement is ~1e-6 relative; a convention error shows up as O(0.1-1).
    sys.exit(0 if worst < 1e-4 else 1)


if __name__ == "__main__":
    main()
