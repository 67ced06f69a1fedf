#!/usr/bin/env python3
"""Tiny Hugging Face checkpoint folders with golden outputs from transformers itself.

Writes Tests/Fixtures/hf/<name>/ (config.json, safetensors, tokenizer.json,
tokenizer_config.json) and Tests/Fixtures/hf/<name>/golden.json for:

  llama-f32          LlamaForCausalLM, F32, one file
  llama-bf16-sharded LlamaForCausalLM, BF16, two shards + model.safetensors.index.json
  mixtral-f32        MixtralForCausalLM (per-expert w1/w2/w3), F32
  qwen3moe-f16       Qwen3MoeForCausalLM, F16
  olmoe-f32          OlmoeForCausalLM, F32
  qwen2moe-f32       Qwen2MoeForCausalLM (shared expert, QKV bias), F32

Weights are random (seeded) but scaled so logits are O(1); the seed is the first whose first 6 greedy steps have a gap of at
least 0.15 between the best two logits.
golden.json: the prompt's text and ids (from the `tokenizers` package), the logits of every
prompt position computed by transformers in float32 from the saved (dtype-rounded) weights, and
a 12-token greedy continuation (full recompute each step, no cache) with the gap between the
best and second-best logit at each step.

Requires torch (CPU) and transformers 5.23.0, tokenizers 0.23.3. Deterministic.
Run from the repository root: python3 Scripts/hf_fixtures.py   (~10 s)
"""
import json
import os
import shutil

import torch
import transformers
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.join(ROOT, "Tests", "Fixtures", "hf")
VOCAB = 320
PROMPT = "Hello world, this is Muse."
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)
CORPUS = [
    "Hello world, this is Muse. The quick brown fox jumps over the lazy dog.",
    "def main():\n    print('hello')\n    return 42\n",
    "Mixture of experts models route each token to a few experts.",
    "Tokenizers split text into words, then merge bytes into tokens.",
] * 8


def make_tokenizer():
    """A byte-level BPE of VOCAB tokens, with BOS/EOS and ChatML markers as special tokens."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    trainer = trainers.BpeTrainer(
        vocab_size=VOCAB, special_tokens=specials, initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False)
    tok.train_from_iterator(CORPUS, trainer)
    bos = tok.token_to_id("<s>")
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A", pair="<s> $A <s> $B", special_tokens=[("<s>", bos)])
    assert tok.get_vocab_size() == VOCAB, tok.get_vocab_size()
    return tok


def configs():
    common = dict(vocab_size=VOCAB, hidden_size=32, num_hidden_layers=2, num_attention_heads=4,
                  num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-5,
                  bos_token_id=0, eos_token_id=1, tie_word_embeddings=False)
    T = transformers
    return {
        "llama-f32": (T.LlamaConfig(**common, intermediate_size=64, rope_theta=10000.0), T.LlamaForCausalLM,
                      torch.float32, None),
        "llama-bf16-sharded": (T.LlamaConfig(**common, intermediate_size=64, rope_theta=10000.0),
                               T.LlamaForCausalLM, torch.bfloat16, "40KB"),
        "mixtral-f32": (T.MixtralConfig(**common, intermediate_size=32, num_local_experts=4,
                                        num_experts_per_tok=2, rope_theta=1e6), T.MixtralForCausalLM,
                        torch.float32, None),
        "qwen3moe-f16": (T.Qwen3MoeConfig(**common, intermediate_size=64, moe_intermediate_size=16, head_dim=8,
                                          num_experts=4, num_experts_per_tok=2, norm_topk_prob=True,
                                          rope_theta=1e6), T.Qwen3MoeForCausalLM, torch.float16, None),
        "olmoe-f32": (T.OlmoeConfig(**common, intermediate_size=16, num_experts=4, num_experts_per_tok=2,
                                    norm_topk_prob=False), T.OlmoeForCausalLM, torch.float32, None),
        "qwen2moe-f32": (T.Qwen2MoeConfig(**common, intermediate_size=64, moe_intermediate_size=16,
                                          shared_expert_intermediate_size=24, num_experts=4,
                                          num_experts_per_tok=2, norm_topk_prob=False),
                         T.Qwen2MoeForCausalLM, torch.float32, None),
    }


def randomize(model, seed):
    """Weights with unit-scale activations: std 1/sqrt(fan_in) matrices, ~1 norms, ±0.1 biases."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in sorted(model.named_parameters()):
            if p.dim() == 1:
                base = 1.0 if "norm" in name else 0.0
                p.copy_(base + 0.1 * torch.randn(p.shape, generator=g))
            elif "embed" in name:
                p.copy_(torch.randn(p.shape, generator=g))
            else:
                p.copy_(torch.randn(p.shape, generator=g) / p.shape[-1] ** 0.5)


def greedy(model, ids, steps):
    """Greedy tokens and, per step, the gap between the best and second-best logit."""
    ids = list(ids)
    out, margins = [], []
    for _ in range(steps):
        with torch.no_grad():
            logits = model(torch.tensor([ids])).logits[0, -1]
        top = torch.topk(logits, 2).values
        nxt = int(torch.argmax(logits))
        out.append(nxt)
        margins.append(round(float(top[0] - top[1]), 6))
        ids.append(nxt)
    return out, margins


def main():
    torch.manual_seed(0)
    tok = make_tokenizer()
    prompt_ids = tok.encode(PROMPT).ids
    os.makedirs(OUT, exist_ok=True)
    for seed, (name, (config, cls, dtype, shard)) in enumerate(configs().items()):
        folder = os.path.join(OUT, name)
        if os.path.isdir(folder):
            shutil.rmtree(folder)
        # The first seed whose greedy continuation has no near-tie in its first 6 steps (after
        # rounding to the checkpoint dtype), so quantized conversions can be held to it.
        for attempt in range(100):
            model = cls(config).eval()
            randomize(model, 1000 * seed + attempt + 1)
            model = model.to(dtype)
            _, margins = greedy(model.to(torch.float32), prompt_ids, 6)
            model = model.to(dtype)
            if min(margins) >= 0.15:
                break
        kwargs = {"max_shard_size": shard} if shard else {}
        model.save_pretrained(folder, safe_serialization=True, **kwargs)
        os.remove(os.path.join(folder, "generation_config.json"))
        tok.save(os.path.join(folder, "tokenizer.json"))
        with open(os.path.join(folder, "tokenizer_config.json"), "w") as f:
            json.dump({"bos_token": "<s>", "eos_token": "</s>", "add_bos_token": True,
                       "chat_template": CHAT_TEMPLATE, "tokenizer_class": "PreTrainedTokenizerFast"},
                      f, indent=2)
        # The reference: the saved checkpoint, read back by transformers and run in float32.
        ref = cls.from_pretrained(folder, dtype=torch.float32).eval()
        with torch.no_grad():
            logits = ref(torch.tensor([prompt_ids])).logits[0]
        tokens, margins = greedy(ref, prompt_ids, 12)
        golden = {
            "source": f"transformers {transformers.__version__} {cls.__name__}, float32 over {dtype} weights",
            "prompt": PROMPT,
            "prompt_ids": prompt_ids,
            "logits": [[round(float(v), 6) for v in row] for row in logits],
            "greedy": tokens,
            "greedy_margins": margins,
        }
        with open(os.path.join(folder, "golden.json"), "w") as f:
            json.dump(golden, f)
        files = sorted(os.listdir(folder))
        print(name, files, sum(os.path.getsize(os.path.join(folder, x)) for x in files), "bytes")


if __name__ == "__main__":
    main()
