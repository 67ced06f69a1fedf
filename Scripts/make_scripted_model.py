#!/usr/bin/env python3
"""Write Tests/Fixtures/models/scripted-reply.gguf: a tiny llama GGUF whose greedy reply to any
chat is one fixed Markdown text (with a table, code blocks, HTML that a safe client must not
run, and an HTML artifact whose script must run only in its sandboxed preview frame), for the
chat app's end-to-end and XSS tests; and scripted-reasoning.gguf, whose reply
opens with <think>…</think> and whose chat template reads enable_thinking (adding a system
line when it is on), for the app's reasoning switch and split.

    python3 Scripts/make_scripted_model.py [--out Tests/Fixtures]

How it works: the vocabulary is the 256 byte-level tokens, four control tokens and one token
per chunk of the script (chunks are unique strings). The chat template's generation prompt
ends with the control token <|reply|>. Every attention and FFN output projection is zero, so
the residual stream at a position is that token's embedding: chunk k embeds as the unit vector
e_k, and the output head maps e_k to chunk k+1 (and the last chunk to <|im_end|>, the end of
generation). Greedy decoding therefore walks the chain and stops after the script.

The script checks itself with numpy: it runs a llama forward pass (RMSNorm, attention,
SwiGLU, final norm, head) over the prompt and greedy continuation and asserts the decoded text
equals the script, then writes that text to Tests/Fixtures/scripted/<name>.json (not golden/: FixtureGoldenTests
reads every file there as a numpy reference) for the Swift
tests, which assert Muse generates exactly the same.
"""
import argparse
import json
import os

import gguf
import numpy as np

SCRIPT = """# Scripted reply

This reply is **fixed**: the model was built to say exactly this, whatever you ask.

| Feature | Status |
| --- | --- |
| Markdown | rendered |
| Tables | rendered |

```python
def greet(name):
    return f"Hello, {name}!"
```

<script>window.__pwned=1</script>
<img src=x onerror="window.__pwned=2">

```html
<!DOCTYPE html>
<html>
<head><title>Artifact</title></head>
<body><h1>Hello from an artifact</h1><p id="msg">It works.</p>
<script>
document.getElementById("msg").textContent = "Script ran.";
try { document.body.dataset.parent = parent.document.title; } catch (e) { document.body.dataset.parent = e.name; }
try { parent.__pwned = 12; } catch (e) { document.body.dataset.write = e.name; }
</script>
</body>
</html>
```"""

REASONING_SCRIPT = """<think>
The user wants to see reasoning. I will answer briefly.
</think>

The answer is **42**."""

SPECIALS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|reply|>"]
TEMPLATE = (
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<|reply|>' }}{% endif %}"
)
# A Qwen3-style template: enable_thinking switches reasoning, earlier replies lose their
# <think>…</think> part.
REASONING_TEMPLATE = (
    "{% if enable_thinking is defined and enable_thinking %}{{ '<|im_start|>system\\nThink step by step.<|im_end|>\\n' }}{% endif %}"
    "{% for message in messages %}{% set content = message['content'] %}"
    "{% if message['role'] == 'assistant' and '</think>' in content %}{% set content = content.split('</think>')[-1].lstrip('\\n') %}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + content + '<|im_end|>' + '\\n'}}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n<|reply|>' }}{% endif %}"
)
D = 128  # embedding width: one dimension per link of the chain
N_FF = 32
N_HEAD = 2
CTX = 4096
EPS = 1e-5
CHUNK = 8


def bytes_to_unicode():
    """GPT-2's byte-level alphabet (printable stand-ins for the 256 byte values)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


BYTE_CHARS = bytes_to_unicode()
CHAR_BYTES = {c: b for b, c in BYTE_CHARS.items()}


def to_alphabet(text: str) -> str:
    return "".join(BYTE_CHARS[b] for b in text.encode("utf-8"))


def from_alphabet(token: str) -> bytes:
    return bytes(CHAR_BYTES[c] for c in token)


def build_vocabulary(script):
    byte_tokens = [BYTE_CHARS[b] for b in range(256)]
    merge = ("Ġ", "Ġ")  # gpt2 tokenizers need at least one merge; two spaces become one token
    vocab = byte_tokens + ["ĠĠ"] + SPECIALS
    taken = set(vocab)
    # Script chunks of CHUNK bytes, lengthened until unique (a token string appears once).
    raw = script.encode("utf-8")
    chunks, start = [], 0
    while start < len(raw):
        end = min(start + CHUNK, len(raw))
        while end < len(raw) and "".join(BYTE_CHARS[b] for b in raw[start:end]) in taken:
            end += 1
        piece = "".join(BYTE_CHARS[b] for b in raw[start:end])
        if piece in taken:  # the tail repeats an earlier chunk: merge it into the previous one
            chunks[-1] += piece
        else:
            chunks.append(piece)
        taken.add(chunks[-1])
        start = end
    assert len(set(chunks)) == len(chunks) and b"".join(from_alphabet(c) for c in chunks) == raw
    assert len(chunks) + 1 <= D, f"{len(chunks)} chunks need a wider embedding than {D}"
    return vocab + chunks, [merge], chunks


def make_weights(vocab, chunks):
    V = len(vocab)
    reply, eos = vocab.index("<|reply|>"), vocab.index("<|im_end|>")
    chain = [reply] + [vocab.index(c) for c in chunks]
    embd = np.zeros((V, D), np.float32)
    head = np.zeros((V, D), np.float32)
    for k, tok in enumerate(chain):
        embd[tok, k] = 1.0
        nxt = chain[k + 1] if k + 1 < len(chain) else eos
        head[nxt, k] = 10.0  # a margin of ~113 in the logits: the same reply at any temperature up to 2
    zero = lambda *s: np.zeros(s, np.float32)  # noqa: E731
    return {
        "token_embd.weight": embd,
        "blk.0.attn_norm.weight": np.ones(D, np.float32),
        "blk.0.attn_q.weight": zero(D, D),
        "blk.0.attn_k.weight": zero(D, D),
        "blk.0.attn_v.weight": zero(D, D),
        "blk.0.attn_output.weight": zero(D, D),
        "blk.0.ffn_norm.weight": np.ones(D, np.float32),
        "blk.0.ffn_gate.weight": zero(N_FF, D),
        "blk.0.ffn_up.weight": zero(N_FF, D),
        "blk.0.ffn_down.weight": zero(D, N_FF),
        "output_norm.weight": np.ones(D, np.float32),
        "output.weight": head,
    }


# ----------------------------------------------------------------------------- numpy reference
def rms_norm(x, w):
    return x / np.sqrt(np.mean(x * x, axis=-1, keepdims=True) + EPS) * w


def forward(w, tokens):
    """Logits of the last position: a one-layer llama over the whole sequence (causal softmax
    attention over all heads, SwiGLU). RoPE is left out: q and k are zero here, and rotating
    zero leaves zero."""
    f16 = lambda a: a.astype(np.float16).astype(np.float32)  # noqa: E731  the file stores F16
    x = f16(w["token_embd.weight"])[tokens]
    T, hd = len(tokens), D // N_HEAD
    h = rms_norm(x, w["blk.0.attn_norm.weight"])
    q, k, v = (h @ f16(w[f"blk.0.attn_{n}.weight"]).T for n in "qkv")
    out = np.zeros_like(x)
    mask = np.triu(np.full((T, T), -np.inf), 1)
    for i in range(N_HEAD):
        s = slice(i * hd, (i + 1) * hd)
        att = q[:, s] @ k[:, s].T / np.sqrt(hd) + mask
        att = np.exp(att - att.max(-1, keepdims=True))
        out[:, s] = (att / att.sum(-1, keepdims=True)) @ v[:, s]
    x = x + out @ f16(w["blk.0.attn_output.weight"]).T
    h = rms_norm(x, w["blk.0.ffn_norm.weight"])
    g, u = h @ f16(w["blk.0.ffn_gate.weight"]).T, h @ f16(w["blk.0.ffn_up.weight"]).T
    x = x + (g / (1 + np.exp(-g)) * u) @ f16(w["blk.0.ffn_down.weight"]).T
    return rms_norm(x[-1], w["output_norm.weight"]) @ f16(w["output.weight"]).T


def encode_prompt(vocab, text):
    """Byte-level tokens, with the control tokens matched first (as parse_special does)."""
    ids, i = [], 0
    while i < len(text):
        special = next((s for s in SPECIALS if text.startswith(s, i)), None)
        if special:
            ids.append(vocab.index(special))
            i += len(special)
        else:
            ids += [vocab.index(BYTE_CHARS[b]) for b in text[i].encode("utf-8")]
            i += 1
    return ids


def greedy_reply(vocab, w, prompt_text):
    tokens = encode_prompt(vocab, prompt_text)
    eos = vocab.index("<|im_end|>")
    out = []
    for _ in range(D + 1):
        nxt = int(np.argmax(forward(w, tokens)))
        if nxt == eos:
            return b"".join(from_alphabet(vocab[t]) for t in out).decode("utf-8"), len(out)
        out.append(nxt)
        tokens.append(nxt)
    raise AssertionError("no end of generation")


def write_model(out, name, script, template, messages, thinking=None):
    vocab, merges, chunks = build_vocabulary(script)
    w = make_weights(vocab, chunks)
    prompt = ""
    if thinking:
        prompt += "<|im_start|>system\nThink step by step.<|im_end|>\n"
    prompt += "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
    prompt += "<|im_start|>assistant\n<|reply|>"
    text, generated = greedy_reply(vocab, w, prompt)
    assert text == script, "the numpy forward pass does not reproduce the script"

    path = os.path.join(out, "models", f"{name}.gguf")
    g = gguf.GGUFWriter(path, "llama")
    g.add_name(f"muse-{name}")
    g.add_context_length(CTX)
    g.add_embedding_length(D)
    g.add_block_count(1)
    g.add_feed_forward_length(N_FF)
    g.add_head_count(N_HEAD)
    g.add_head_count_kv(N_HEAD)
    g.add_rope_dimension_count(D // N_HEAD)
    g.add_rope_freq_base(10000.0)
    g.add_layer_norm_rms_eps(EPS)
    g.add_vocab_size(len(vocab))
    g.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    g.add_tokenizer_model("gpt2")
    g.add_tokenizer_pre("gpt-2")
    g.add_token_list(vocab)
    g.add_token_types([3 if t in SPECIALS else 1 for t in vocab])
    g.add_token_merges([f"{a} {b}" for a, b in merges])
    g.add_bos_token_id(vocab.index("<|endoftext|>"))
    g.add_eos_token_id(vocab.index("<|im_end|>"))
    g.add_pad_token_id(vocab.index("<|endoftext|>"))
    g.add_add_bos_token(False)
    g.add_chat_template(template)
    for tname, arr in w.items():
        g.add_tensor(tname, arr if arr.ndim == 1 else arr.astype(np.float16))
    g.write_header_to_file()
    g.write_kv_data_to_file()
    g.write_tensors_to_file()
    g.close()
    # completion_tokens: the tokens generated before the end of generation, as usage counts them.
    golden = {"messages": messages, "reply": text, "completion_tokens": generated}
    if text.startswith("<think>"):
        # The split a client shows: the thinking, and the reply after it without leading blank lines.
        thought, _, answer = text[len("<think>"):].partition("</think>")
        golden.update(reasoning=thought, content=answer.lstrip("\n"))
    golden_path = os.path.join(out, "scripted", f"{name}.json")
    with open(golden_path, "w", encoding="utf-8") as f:
        json.dump(golden, f, indent=2, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path} ({os.path.getsize(path)} bytes, {len(chunks)} chunks) and {golden_path}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "Tests", "Fixtures"))
    args = ap.parse_args()
    messages = [{"role": "user", "content": "Say something that tests the renderer."}]
    write_model(args.out, "scripted-reply", SCRIPT, TEMPLATE, messages)
    write_model(args.out, "scripted-reasoning", REASONING_SCRIPT, REASONING_TEMPLATE, messages, thinking=True)


if __name__ == "__main__":
    main()
