"""Signed receipts checked with nothing of Muse's: the public key from /.well-known/muse-keys, the
signature with `cryptography`, every hash recomputed with hashlib and json from the request the
official openai SDK sent (captured on the wire) and the reply it parsed, the weights' SHA-256 from
the GGUF file itself. A streamed and a non-streamed chat completion and a completion; each
tampering case (content, model, token ids, request, signature, key) fails; `muse verify` agrees;
after `muse identity rotate` and a restart, old receipts still verify with the retired key.
docs/RECEIPTS.md is the definition this file follows.
"""

import base64
import hashlib
import json
import os
import signal
import subprocess
import time

import httpx
import openai
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

CHAT = [{"role": "user", "content": "Name a colour. Caf\u00e9 \U0001F600"}]


def canonical(value) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Wire:
    """The openai SDK with the bytes of every request body it sends kept."""

    def __init__(self, e2e, key):
        self.sent: list[bytes] = []
        http = httpx.Client(event_hooks={"request": [lambda r: self.sent.append(r.read())]}, timeout=60)
        self.client = openai.OpenAI(api_key=key, base_url=e2e.base_url + "/v1", max_retries=0, http_client=http)


def published_keys(e2e) -> dict:
    r = httpx.get(e2e.base_url + "/.well-known/muse-keys", timeout=30)
    assert r.status_code == 200, r.text
    keys = {k["key_id"]: k for k in r.json()["keys"]}
    for k in keys.values():
        raw = base64.b64decode(k["public_key"])
        assert k["algorithm"] == "ed25519" and len(raw) == 32
        assert k["key_id"] == "ed25519-" + sha256(raw)[:16]
    return keys


def signature_problems(receipt: dict, keys: dict) -> list[str]:
    payload = receipt["payload"]
    key = keys.get(payload.get("key_id"))
    if key is None:
        return ["unknown key"]
    public = Ed25519PublicKey.from_public_bytes(base64.b64decode(key["public_key"]))
    try:
        public.verify(base64.b64decode(receipt["signature"]), canonical(payload))
    except InvalidSignature:
        return ["signature"]
    end = key["not_after"] if key["not_after"] is not None else float("inf")
    if not key["not_before"] <= payload["created"] <= end:
        return ["key not valid then"]
    return []


def content_problems(payload: dict, sent: bytes, reply: dict, tokens: dict | None) -> list[str]:
    """Each hash and value recomputed from what the client holds; the names of those that differ."""
    expected = {
        "request_sha256": sha256(canonical(json.loads(sent))),
        "response_id": reply["id"],
        "model": reply["model"],
        "content_sha256": sha256(reply["content"].encode()),
        "finish_reason": reply["finish_reason"],
        "prompt_tokens": reply["usage"][0],
        "completion_tokens": reply["usage"][1],
    }
    if reply["chat"]:
        expected["reasoning_sha256"] = sha256(b"")
        expected["tool_calls_sha256"] = sha256(canonical([]))
    if tokens is not None:
        expected["prompt_tokens_sha256"] = sha256(canonical(tokens["prompt_token_ids"]))
        expected["completion_tokens_sha256"] = sha256(canonical(tokens["completion_token_ids"]))
        expected["prompt_tokens"] = len(tokens["prompt_token_ids"])
        expected["completion_tokens"] = len(tokens["completion_token_ids"])
    return sorted(k for k, v in expected.items() if payload.get(k) != v)


def fetch(e2e, key, response_id) -> dict:
    with e2e.http(key) as h:
        r = h.get(f"/v1/receipts/{response_id}")
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    assert len(data) == 1 and data[0]["id"] == response_id
    return data[0]


def weights_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(8 << 20), b""):
            h.update(block)
    return h.hexdigest()


def check_all(e2e, keys, entry, sent, reply, model_path):
    receipt = entry["receipt"]
    payload = receipt["payload"]
    assert signature_problems(receipt, keys) == []
    assert content_problems(payload, sent, reply, entry) == []
    assert payload["version"] == 1 and payload["engine"].startswith("muse ")
    assert payload["weights_sha256"] == weights_sha256(model_path)
    assert abs(payload["created"] - time.time()) < 600
    # Integers and strings only, so the canonical bytes are the same in every language.
    assert all(isinstance(v, (int, str)) and not isinstance(v, bool) for v in payload.values())


def tampering_fails(keys, entry, sent, reply):
    receipt = entry["receipt"]
    payload = receipt["payload"]
    # The reply: one more character of content, another model's name.
    assert content_problems(payload, sent, {**reply, "content": reply["content"] + "."}, entry) == ["content_sha256"]
    assert content_problems(payload, sent, {**reply, "model": "another-model"}, entry) == ["model"]
    # Token ids: one changed.
    ids = list(entry["completion_token_ids"])
    ids[0] += 1
    assert content_problems(payload, sent, reply, {**entry, "completion_token_ids": ids}) == [
        "completion_tokens_sha256"
    ]
    # The request: another seed.
    body = json.loads(sent)
    body["seed"] = body.get("seed", 0) + 1
    assert content_problems(payload, json.dumps(body).encode(), reply, entry) == ["request_sha256"]
    # A signed field changed (the receipt made to vouch for other content), the signature.
    forged = {**receipt, "payload": {**payload, "content_sha256": sha256(b"something else")}}
    assert signature_problems(forged, keys) == ["signature"]
    sig = bytearray(base64.b64decode(receipt["signature"]))
    sig[0] ^= 1
    assert signature_problems({**receipt, "signature": base64.b64encode(bytes(sig)).decode()}, keys) == ["signature"]
    # Another key: the published id with someone else's public key, or an unknown id.
    swapped = {k: {**v, "public_key": base64.b64encode(hashlib.sha256(b"not the key").digest()).decode()}
               for k, v in keys.items()}
    assert signature_problems(receipt, swapped) == ["signature"]
    assert signature_problems({**receipt, "payload": {**payload, "key_id": "ed25519-0000000000000000"}}, keys) == [
        "unknown key"
    ]


def chat_reply(completion) -> dict:
    choice = completion.choices[0]
    return {
        "chat": True, "id": completion.id, "model": completion.model, "content": choice.message.content or "",
        "finish_reason": choice.finish_reason,
        "usage": (completion.usage.prompt_tokens, completion.usage.completion_tokens),
    }


def test_receipts_verify_with_an_independent_library(e2e):
    keys = published_keys(e2e)
    wire = Wire(e2e, e2e.inference_key)
    checked = []

    # A non-streamed chat completion: the receipt in the header, compact.
    raw = wire.client.chat.completions.with_raw_response.create(
        model=e2e.closed_id, messages=CHAT, max_tokens=12, temperature=0.7, seed=11)
    completion = raw.parse()
    header = raw.headers["muse-receipt"]
    assert len(header) < 2048
    signed, signature = header.split(".")
    entry = fetch(e2e, e2e.inference_key, completion.id)
    assert unb64url(signed) == canonical(entry["receipt"]["payload"])
    assert base64.b64decode(entry["receipt"]["signature"]) == unb64url(signature)
    reply = chat_reply(completion)
    check_all(e2e, keys, entry, wire.sent[-1], reply, e2e.closed_path)
    tampering_fails(keys, entry, wire.sent[-1], reply)
    checked.append((entry, wire.sent[-1], reply))

    # A streamed one: the receipt in the last chunk before [DONE]; the content is the deltas.
    content, finish, receipt, usage, rid, model = "", None, None, None, None, None
    for chunk in wire.client.chat.completions.create(
            model=e2e.closed_id, messages=CHAT, max_tokens=12, temperature=0.7, seed=12, stream=True,
            stream_options={"include_usage": True}):
        rid, model = chunk.id, chunk.model
        if chunk.choices:
            content += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = (chunk.usage.prompt_tokens, chunk.usage.completion_tokens)
        extra = chunk.model_extra or {}
        if "receipt" in extra:
            assert receipt is None and not chunk.choices
            receipt = extra["receipt"]
    assert receipt is not None
    reply = {"chat": True, "id": rid, "model": model, "content": content, "finish_reason": finish,
             "usage": usage}
    entry = fetch(e2e, e2e.inference_key, rid)
    assert entry["receipt"] == receipt
    check_all(e2e, keys, entry, wire.sent[-1], reply, e2e.closed_path)
    tampering_fails(keys, entry, wire.sent[-1], reply)
    checked.append((entry, wire.sent[-1], reply))

    # A completion on the open model.
    raw = wire.client.completions.with_raw_response.create(
        model=e2e.open_id, prompt="Once upon a time", max_tokens=6, temperature=0, extra_body={"ignore_eos": True})
    done = raw.parse()
    reply = {"chat": False, "id": done.id, "model": done.model, "content": done.choices[0].text,
             "finish_reason": done.choices[0].finish_reason,
             "usage": (done.usage.prompt_tokens, done.usage.completion_tokens)}
    entry = fetch(e2e, e2e.inference_key, done.id)
    assert raw.headers["muse-receipt"].split(".")[0] == base64.urlsafe_b64encode(
        canonical(entry["receipt"]["payload"])).decode().rstrip("=")
    check_all(e2e, keys, entry, wire.sent[-1], reply, e2e.open_path)
    tampering_fails(keys, entry, wire.sent[-1], reply)
    checked.append((entry, wire.sent[-1], reply))

    # Only the key that asked (or an admin) reads a receipt.
    with e2e.http(e2e.weights_key) as h:
        r = h.get(f"/v1/receipts/{completion.id}")
    assert r.status_code == 404 and r.json()["error"]["code"] == "receipt_not_found"
    with e2e.http(e2e.admin_key) as h:
        assert h.get(f"/v1/receipts/{completion.id}").status_code == 200

    # `muse verify` reaches the same verdicts.
    entry, sent, _ = checked[0]
    paths = {name: os.path.join(e2e.work_dir, f"receipt-{name}.json") for name in ("receipt", "request", "reply")}
    with open(paths["receipt"], "w") as f:
        json.dump(entry, f)
    with open(paths["request"], "wb") as f:
        f.write(sent)
    with open(paths["reply"], "w") as f:
        f.write(completion.model_dump_json())
    args = [e2e.bin, "verify", paths["receipt"], "--server", e2e.base_url, "--request", paths["request"],
            "--response", paths["reply"]]
    ok = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "FAIL" not in ok.stdout and "ok   content" in ok.stdout and "ok   signature" in ok.stdout
    tampered = completion.model_dump()
    tampered["choices"][0]["message"]["content"] += "!"
    with open(paths["reply"], "w") as f:
        json.dump(tampered, f)
    bad = subprocess.run(args, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1 and "FAIL content" in bad.stdout, bad.stdout + bad.stderr

    # Rotation, then a restart: the old receipts verify with the retired key, new ones with the new.
    old_key = entry["receipt"]["payload"]["key_id"]
    e2e.muse("identity", "rotate", "--data-dir", e2e.data_dir)
    os.kill(e2e.server_pid(), signal.SIGTERM)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(e2e.server_pid(), 0)
            time.sleep(0.1)
        except ProcessLookupError:
            break
    e2e.restart_server("server-receipts.log")
    e2e.wait_ready()
    keys = published_keys(e2e)
    assert keys[old_key]["not_after"] is not None and len(keys) >= 2
    for entry, sent, reply in checked:
        again = fetch(e2e, e2e.inference_key, entry["id"])
        assert again == entry
        assert signature_problems(again["receipt"], keys) == []
        assert content_problems(again["receipt"]["payload"], sent, reply, again) == []
    fresh = wire.client.chat.completions.with_raw_response.create(
        model=e2e.closed_id, messages=CHAT, max_tokens=4, temperature=0)
    new_entry = fetch(e2e, e2e.inference_key, fresh.parse().id)
    assert new_entry["receipt"]["payload"]["key_id"] != old_key
    assert keys[new_entry["receipt"]["payload"]["key_id"]]["not_after"] is None
    assert signature_problems(new_entry["receipt"], keys) == []
    e2e.report(
        f"receipts: 3 replies (chat, chat streamed, completion) verified with cryptography from "
        f"/.well-known/muse-keys, 8 tampering cases each refused, verified again after rotation and restart")
