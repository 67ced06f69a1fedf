"""`muse verify --model` (issue #20): an auditor with the weights checks a receipt beyond its
signature — the file is the one the receipt names (weights_root), the request renders to the
prompt the model saw, and one prefill pass reproduces the reply's activation commitment. Another
model's file fails; so do token ids changed after the fact."""

import json
import subprocess

import httpx

REQUEST = {"messages": [{"role": "system", "content": "Answer in one sentence."},
                        {"role": "user", "content": "What is the capital of France?"}],
           "max_tokens": 40, "temperature": 0}


def verify(e2e, tmp_path, response_id, model_path, receipt_file=None):
    args = [e2e.bin, "verify", "--server", e2e.base_url, "--api-key", e2e.inference_key,
            "--request", str(tmp_path / "request.json"), "--response", str(tmp_path / "response.json"),
            "--model", model_path]
    args += [str(receipt_file)] if receipt_file else ["--id", response_id]
    return subprocess.run(args, capture_output=True, text=True, timeout=300)


def test_an_auditor_replays_a_receipt_with_the_weights(e2e, tmp_path):
    body = dict(REQUEST, model=e2e.closed_id)
    raw = json.dumps(body).encode()
    (tmp_path / "request.json").write_bytes(raw)
    with httpx.Client(base_url=e2e.base_url, timeout=120) as http:
        reply = http.post("/v1/chat/completions", content=raw, headers={
            "Authorization": f"Bearer {e2e.inference_key}", "Content-Type": "application/json"})
        assert reply.status_code == 200, reply.text
        (tmp_path / "response.json").write_bytes(reply.content)
        response_id = reply.json()["id"]
        stored = http.get(f"/v1/receipts/{response_id}", headers={"Authorization": f"Bearer {e2e.inference_key}"}).json()
    entry = stored["data"][0]
    assert entry["activations"], "the receipt carries an activation commitment"
    assert "activations_sha256" in entry["receipt"]["payload"] and "weights_root" in entry["receipt"]["payload"]

    good = verify(e2e, tmp_path, response_id, e2e.closed_path)
    assert good.returncode == 0, good.stdout + good.stderr
    for check in ["weights file", "prompt", "activations"]:
        assert f"ok   {check}" in good.stdout, good.stdout
    e2e.report("verify --model: " + " | ".join(l.strip() for l in good.stdout.splitlines() if l.strip().startswith("ok")))

    other = verify(e2e, tmp_path, response_id, e2e.open_path)
    assert other.returncode != 0 and "FAIL weights file" in other.stdout, other.stdout + other.stderr

    # Token ids changed after the fact: the hashes and the replay both disagree.
    entry["completion_token_ids"] = entry["completion_token_ids"][:-1] + [entry["completion_token_ids"][-1] ^ 1]
    tampered = tmp_path / "receipt.json"
    tampered.write_text(json.dumps(entry))
    bad = verify(e2e, tmp_path, response_id, e2e.closed_path, receipt_file=tampered)
    assert bad.returncode != 0 and "FAIL" in bad.stdout, bad.stdout + bad.stderr
