#!/usr/bin/env python3
"""Golden GGUF metadata and tensor infos from the reference reader (the `gguf` Python
package, pinned in Scripts/requirements.txt), for Muse's GGUF reader tests.

Usage: python3 Scripts/golden/gguf_metadata_golden.py  (from the repository root)
Writes Tests/Fixtures/golden/gguf-metadata.json.
"""
import glob
import json
import os

import numpy as np
from gguf import GGUFReader, GGUFValueType

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # Scripts/<job>/x.py
# llama.cpp's vocab files, as Scripts/fixtures/fetch-vocab.sh caches them; written as "vocab/<name>".
VOCAB = os.path.join(os.environ.get("MUSE_CACHE_DIR", os.path.expanduser("~/.cache/muse")), "vocab")
FILES = [os.path.join(VOCAB, f) for f in
         ["ggml-vocab-aquila.gguf", "ggml-vocab-bert-bge.gguf", "ggml-vocab-qwen2.gguf", "ggml-vocab-llama-spm.gguf"]]
FILES += sorted(glob.glob(os.path.join(ROOT, "Tests", "Fixtures", "models", "*-q4_0.gguf")))[:2]
FILES += sorted(glob.glob(os.path.join(ROOT, "Tests", "Fixtures", "models", "*-q4_k_m.gguf")))[:1]


def scalar(field, i):
    part = field.parts[field.data[i]]
    if field.types[-1] == GGUFValueType.STRING:
        return bytes(part).decode("utf-8", errors="replace")
    v = part.tolist()[0]
    return float(np.float32(v)) if isinstance(v, float) else v


def describe(field):
    t = field.types[0]
    if t == GGUFValueType.ARRAY:
        n = len(field.data)
        first = [scalar(field, i) for i in range(min(n, 5))]
        return {"type": "array", "element": field.types[-1].name.lower(), "count": n,
                "first": first, "last": scalar(field, n - 1) if n else None}
    return {"type": t.name.lower(), "value": scalar(field, 0)}


out = []
for path in FILES:
    r = GGUFReader(path)
    keys = {name: describe(f) for name, f in r.fields.items() if not name.startswith("GGUF.")}
    tensors = [{"name": t.name, "shape": [int(x) for x in t.shape], "type": int(t.tensor_type),
                "offset": int(t.data_offset)} for t in r.tensors]
    name = "vocab/" + os.path.basename(path) if path.startswith(VOCAB) else os.path.relpath(path, ROOT)
    out.append({"file": name, "version": int(r.fields["GGUF.version"].parts[-1][0]),
                "alignment": int(r.alignment), "keys": keys, "tensors": tensors})

dest = os.path.join(ROOT, "Tests", "Fixtures", "golden", "gguf-metadata.json")
with open(dest, "w") as f:
    json.dump(out, f, indent=1, ensure_ascii=False)
print("wrote", dest, [o["file"] for o in out])
