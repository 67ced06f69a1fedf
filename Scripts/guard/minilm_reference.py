"""A NumPy reference of all-MiniLM-L6-v2, independent of Muse's Swift encoder.

The moderation head's training embeddings come from here, not from Muse: the weights are read
straight from the folder's model.safetensors (the format is an 8-byte header length, a JSON
header, raw little-endian tensors), the text is tokenized by Hugging Face `tokenizers` with the
folder's tokenizer.json, and the BERT forward pass (post-LayerNorm, exact-erf GELU, no padding:
one text at a time) is written out below in float64. `check_golden` compares it with
sentence-transformers' own vectors in Tests/Fixtures/embeddings/minilm-golden.json.

Long texts are cut into windows the way ModerationClassifier.swift does (see `windows`).
"""
import json
import os
import struct

import numpy as np
from tokenizers import Tokenizer

SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length, [CLS] and [SEP] included
WINDOW_STRIDE = 128  # content tokens between the starts of two windows of a long text


def default_folder() -> str:
    cache = os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse"))
    return os.path.join(cache, "models", "all-MiniLM-L6-v2")


def read_safetensors(path: str) -> dict:
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, spec in header.items():
        if name == "__metadata__" or spec["dtype"] != "F32":
            continue
        begin, end = spec["data_offsets"]
        out[name] = np.frombuffer(data[begin:end], dtype="<f4").reshape(spec["shape"]).astype(np.float64)
    return out


def erf(x: np.ndarray) -> np.ndarray:
    """erf to ~1e-7 (Abramowitz & Stegun 7.1.26), well inside float32 rounding of the GELU."""
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))))
    return sign * (1.0 - poly * np.exp(-a * a))


class MiniLM:
    def __init__(self, folder: str | None = None):
        self.folder = folder or default_folder()
        with open(os.path.join(self.folder, "config.json")) as f:
            self.config = json.load(f)
        self.w = read_safetensors(os.path.join(self.folder, "model.safetensors"))
        self.tokenizer = Tokenizer.from_file(os.path.join(self.folder, "tokenizer.json"))
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.cls = self.tokenizer.token_to_id("[CLS]")
        self.sep = self.tokenizer.token_to_id("[SEP]")
        self.eps = self.config["layer_norm_eps"]

    def content_ids(self, text: str) -> list[int]:
        """Token ids of `text` without [CLS]/[SEP]."""
        ids = self.tokenizer.encode(text, add_special_tokens=True).ids
        assert ids[0] == self.cls and ids[-1] == self.sep
        return ids[1:-1]

    def windows(self, text: str, max_tokens: int = MAX_TOKENS, stride: int = WINDOW_STRIDE) -> list[list[int]]:
        """The token windows a text is read in, each with [CLS]/[SEP]: the whole text when it fits
        in `max_tokens`, else windows of `max_tokens` − 2 content tokens starting every `stride`
        tokens, the last one ending at the text's end (so every token is seen and neighbouring
        windows overlap). The defaults are sentence-transformers' truncation (the first window);
        the moderation head names its own."""
        ids = self.content_ids(text)
        width = max_tokens - 2
        if len(ids) <= width:
            return [[self.cls] + ids + [self.sep]]
        starts = list(range(0, len(ids) - width, stride)) + [len(ids) - width]
        return [[self.cls] + ids[s:s + width] + [self.sep] for s in starts]

    def layer_norm(self, x, name):
        mean = x.mean(-1, keepdims=True)
        var = ((x - mean) ** 2).mean(-1, keepdims=True)
        return (x - mean) / np.sqrt(var + self.eps) * self.w[name + ".weight"] + self.w[name + ".bias"]

    def linear(self, x, name):
        return x @ self.w[name + ".weight"].T + self.w[name + ".bias"]

    def hidden_states(self, ids: list[int]) -> np.ndarray:
        """Last-layer hidden states, (tokens, 384)."""
        return self.layer_states(ids)[-1]

    def layer_states(self, ids: list[int]) -> list[np.ndarray]:
        """The hidden states after the embeddings' LayerNorm and after each layer, (tokens, 384)
        each: index 0 is the embeddings, index i layer i (1-based), the last one the output."""
        w = self.w
        t = len(ids)
        x = (w["embeddings.word_embeddings.weight"][ids] + w["embeddings.position_embeddings.weight"][:t]
             + w["embeddings.token_type_embeddings.weight"][0])
        x = self.layer_norm(x, "embeddings.LayerNorm")
        states = [x]
        heads = self.config["num_attention_heads"]
        d = x.shape[1] // heads
        for i in range(self.config["num_hidden_layers"]):
            p = f"encoder.layer.{i}."
            q = self.linear(x, p + "attention.self.query").reshape(t, heads, d).transpose(1, 0, 2)
            k = self.linear(x, p + "attention.self.key").reshape(t, heads, d).transpose(1, 0, 2)
            v = self.linear(x, p + "attention.self.value").reshape(t, heads, d).transpose(1, 0, 2)
            scores = q @ k.transpose(0, 2, 1) / np.sqrt(d)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            scores /= scores.sum(-1, keepdims=True)
            context = (scores @ v).transpose(1, 0, 2).reshape(t, heads * d)
            x = self.layer_norm(x + self.linear(context, p + "attention.output.dense"), p + "attention.output.LayerNorm")
            inner = self.linear(x, p + "intermediate.dense")
            inner = 0.5 * inner * (1.0 + erf(inner / np.sqrt(2.0)))
            x = self.layer_norm(x + self.linear(inner, p + "output.dense"), p + "output.LayerNorm")
            states.append(x)
        return states

    def embed_ids(self, ids: list[int]) -> np.ndarray:
        """Mean-pooled, L2-normalised sentence embedding (what sentence-transformers returns)."""
        mean = self.hidden_states(ids).mean(0)
        return mean / max(np.linalg.norm(mean), 1e-12)

    def embed(self, text: str) -> np.ndarray:
        """The embedding of the text's first window: the text truncated as sentence-transformers does."""
        return self.embed_ids(self.windows(text)[0])


def check_golden(model: MiniLM, golden_path: str, atol: float = 1e-4) -> float:
    """Largest absolute difference against sentence-transformers' golden vectors (asserts ≤ atol)."""
    with open(golden_path) as f:
        golden = json.load(f)
    worst = 0.0
    for sentence, count, vector in zip(golden["sentences"], golden["tokenCounts"], golden["vectors"]):
        ids = model.windows(sentence)[0]
        assert len(ids) == count, (sentence[:40], len(ids), count)
        worst = max(worst, float(np.abs(model.embed_ids(ids) - np.asarray(vector)).max()))
    assert worst <= atol, f"NumPy MiniLM differs from sentence-transformers by {worst}"
    return worst
