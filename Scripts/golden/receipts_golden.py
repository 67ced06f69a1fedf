#!/usr/bin/env python3
"""Receipt golden values from independent references: the canonical JSON form of request bodies
and receipt payloads (Python's `json.dumps(x, sort_keys=True, separators=(",", ":"))`, i.e.
ensure_ascii), SHA-256 from hashlib, and an Ed25519 signature made by `cryptography` (pinned) from
a fixed seed. Tests/MuseServerTests/ReceiptTests.swift checks that Muse writes the same bytes and
accepts the signature, and that any change to a signed field is refused.

    python3 Scripts/golden/receipts_golden.py   # -> Tests/Fixtures/receipts/golden.json
"""

import base64
import hashlib
import json
import pathlib
from importlib.metadata import version

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

PINNED = "48.0.0"
assert version("cryptography") == PINNED, f"cryptography {version('cryptography')} != {PINNED}"

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests/Fixtures/receipts/golden.json"


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def sha256(data):
    return hashlib.sha256(data).hexdigest()


# Request bodies as a client sends them (text, so number spellings and key order are the
# client's), chosen for what canonical forms disagree on: floats near the exponent switch,
# integers written as floats, non-ASCII (BMP and astral), control characters, DEL, slashes,
# key order, nesting, duplicate keys (the last wins).
BODIES = [
    '{"model": "smol", "messages": [{"role": "user", "content": "Hello"}], "temperature": 0.7}',
    '{"temperature":1.0,"top_p":0.95,"seed":42,"max_tokens":16,"model":"m","prompt":"x"}',
    '{"a": 1e-05, "b": 0.0001, "c": 1e16, "d": 123456789012345.6, "e": 1E2, "f": -0.0, "g": 2.5e-7}',
    '{"z": "caf\u00e9 \u65e5\u672c \\ud83d\\ude00 \U0001F680", "y": "tab\\there\\nline \\u0001 \\u007f /slash/ \\"q\\" \\\\"}',
    '{"b": {"d": [1, 2, {"f": null, "e": true}], "c": false}, "a": []}',
    '{"k": 1, "k": 2, "\u00e9": "accent key", "Z": "upper", "_": "under"}',
    '{"tools": [{"type": "function", "function": {"name": "get", "parameters": {"type": "object"}}}], "n": -17}',
]

TOKENS = [[], [0], [1, 22, 333, 4444, 55555], list(range(0, 1000, 7))]


def main():
    seed = hashlib.sha256(b"muse receipts golden key").digest()
    key = Ed25519PrivateKey.from_private_bytes(seed)
    public = key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    key_id = "ed25519-" + sha256(public)[:16]
    payload = {
        "version": 1,
        "response_id": "chatcmpl-0123456789abcdef",
        "choice_index": 0,
        "request_id": "6F9619FF-8B86-D011-B42D-00C04FC964FF",
        "endpoint": "chat.completions",
        "model": "smol \u00e9",
        "weights_sha256": sha256(b"weights"),
        "request_sha256": sha256(canonical(json.loads(BODIES[0]))),
        "prompt_tokens_sha256": sha256(canonical([1, 2, 3])),
        "completion_tokens_sha256": sha256(canonical([4, 5])),
        "content_sha256": sha256("Hi there".encode()),
        "reasoning_sha256": sha256(b""),
        "tool_calls_sha256": sha256(canonical([])),
        "finish_reason": "stop",
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "engine": "muse 0.1.0",
        "created": 1796000000,
        "key_id": key_id,
    }
    signed = canonical(payload)
    golden = {
        "bodies": [
            {"body": b, "canonical": canonical(json.loads(b)).decode(), "sha256": sha256(canonical(json.loads(b)))}
            for b in BODIES
        ],
        "tokens": [{"ids": t, "sha256": sha256(canonical(t))} for t in TOKENS],
        "key": {
            "seed": base64.b64encode(seed).decode(),
            "key_id": key_id,
            "algorithm": "ed25519",
            "public_key": base64.b64encode(public).decode(),
            "not_before": 1795000000,
            "not_after": None,
        },
        "receipt": {
            "payload": payload,
            "canonical": signed.decode(),
            "signature": base64.b64encode(key.sign(signed)).decode(),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(golden, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
