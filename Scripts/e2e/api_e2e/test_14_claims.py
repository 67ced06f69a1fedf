"""Attested claims (issue #20): `muse eval --attest` against the live server signs a run with
the deployment's key; the attestation verifies with Python `cryptography` from the published key
(canonical JSON by the standard library); `muse claims add` publishes it; `muse verify-claim`
re-runs a sample through the API and says the claim holds; changed results are refused when
added and reported when served."""

import base64
import json
import pathlib
import sqlite3
import subprocess

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

REPO = pathlib.Path(__file__).resolve().parents[3]
DATA = REPO / "Tests" / "Fixtures" / "eval" / "data"


def run(e2e, *args, check=True):
    done = subprocess.run([e2e.bin, *args], capture_output=True, text=True, timeout=600)
    if check:
        assert done.returncode == 0, done.stdout + done.stderr
    return done


def test_attest_publish_and_verify_a_claim(e2e, tmp_path):
    out = tmp_path / "arc"
    run(e2e, "eval", "--task", "arc-challenge", "--base-url", e2e.base_url, "--model", e2e.closed_id,
        "--api-key", e2e.inference_key, "--data-dir", str(DATA), "--output", str(out),
        "--attest", e2e.data_dir, "--attest-sample", "2")
    attestation = json.loads((out / "attestation.json").read_text())
    payload = attestation["payload"]
    assert payload["kind"] == "muse.eval.attestation" and payload["model"] == e2e.closed_id
    assert len(attestation["sample_receipts"]) >= 2  # a receipt per choice scored

    # Independent check: the published key, the canonical bytes, Ed25519.
    with e2e.http() as http:
        keys = {k["key_id"]: k for k in http.get("/.well-known/muse-keys").json()["keys"]}
        card = http.get(f"/v1/models/{e2e.closed_id}", headers={"Authorization": f"Bearer {e2e.inference_key}"}).json()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(keys[payload["key_id"]]["public_key"]))
    signed = json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()
    key.verify(base64.b64decode(attestation["signature"]), signed)
    assert payload["weights_sha256"] == card["weights_sha256"]
    assert payload.get("weights_root") == card["weights_root"]
    summary = json.loads((out / "summary.json").read_text())
    assert payload["results_sha256"] == summary["results_sha256"]
    assert payload["score.acc_norm"] == "%.6f" % summary["metrics"]["acc_norm"]["mean"]

    claim_id = run(e2e, "claims", "add", "--data-dir", e2e.data_dir, "--model", e2e.closed_id,
                   "--statement", "ARC-Challenge (6 fixture items) acc_norm", "--results", str(out)).stdout.strip()
    assert claim_id.startswith("claim_")
    held = run(e2e, "verify-claim", "--base-url", e2e.base_url, "--model", e2e.closed_id,
               "--api-key", e2e.inference_key, "--claim", claim_id, "--sample", "4", "--data-dir", str(DATA))
    assert "the claim holds" in held.stdout and "FAILED" not in held.stdout, held.stdout
    e2e.report("verify-claim: " + " | ".join(line.strip() for line in held.stdout.splitlines()))

    # Results changed after signing: refused when added...
    items = (out / "items.jsonl").read_text().splitlines()
    first = json.loads(items[0])
    first["metrics"] = {name: 1 - value for name, value in first["metrics"].items()}
    (out / "items.jsonl").write_text("\n".join([json.dumps(first)] + items[1:]) + "\n")
    refused = run(e2e, "claims", "add", "--data-dir", e2e.data_dir, "--model", e2e.closed_id,
                  "--statement", "tampered", "--results", str(out), check=False)
    assert refused.returncode != 0 and "results_sha256" in refused.stderr, refused.stderr
    # ...and reported when a stored claim's results were changed behind its attestation.
    db = sqlite3.connect(pathlib.Path(e2e.data_dir) / "muse.sqlite")
    db.execute("UPDATE claim SET items = ? WHERE id = ?", ("\n".join([json.dumps(first)] + items[1:]) + "\n", claim_id))
    db.commit()
    db.close()
    broken = run(e2e, "verify-claim", "--base-url", e2e.base_url, "--model", e2e.closed_id,
                 "--api-key", e2e.inference_key, "--claim", claim_id, "--sample", "2", "--data-dir", str(DATA),
                 check=False)
    assert broken.returncode == 2 and "does NOT hold" in broken.stdout, broken.stdout + broken.stderr
    run(e2e, "claims", "remove", "--data-dir", e2e.data_dir, claim_id)


def test_claim_and_attest_errors_are_clear(e2e, tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    done = run(e2e, "claims", "add", "--data-dir", e2e.data_dir, "--model", e2e.closed_id, "--statement", "x",
               "--results", str(empty), check=False)
    assert done.returncode != 0 and str(empty / "attestation.json") in done.stderr, done.stderr
    fresh = tmp_path / "fresh"
    done = run(e2e, "claims", "add", "--data-dir", str(fresh), "--model", e2e.closed_id, "--statement", "x",
               "--results", str(empty), check=False)
    assert done.returncode != 0 and "no server identity" in done.stderr, done.stderr
    assert not (fresh / "identity").exists(), "claims add made a key in a directory without an identity"
    done = run(e2e, "claims", "remove", "--data-dir", e2e.data_dir, "claim_nope", check=False)
    assert done.returncode != 0 and "no claim 'claim_nope'" in done.stderr, done.stderr
    for sample in ("0", "1001", "-3"):
        done = run(e2e, "verify-claim", "--base-url", e2e.base_url, "--model", e2e.closed_id, "--sample", sample,
                   check=False)
        assert done.returncode != 0 and "--sample" in done.stderr, done.stderr
    done = run(e2e, "eval", "--task", "arc-challenge", "--base-url", e2e.base_url, "--model", e2e.closed_id,
               "--api-key", e2e.inference_key, "--data-dir", str(DATA), "--output", str(tmp_path / "run"),
               "--attest", str(tmp_path / "not-a-data-dir"), check=False)
    assert done.returncode != 0 and "no server identity" in done.stderr, done.stderr
