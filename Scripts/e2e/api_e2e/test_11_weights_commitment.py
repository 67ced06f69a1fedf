"""The weights commitment (issue #20): the model card's weights_root is the root an independent
reference (Scripts/golden/weights_commitment.py: the gguf package and hashlib) computes from
the served file; `muse commit` prints the same root; a proof from `muse commit prove` checks
with the reference; one changed byte of a tensor changes the root and fails the proof."""

import importlib.util
import json
import pathlib
import shutil
import subprocess

import gguf

REFERENCE = pathlib.Path(__file__).resolve().parents[2] / "golden" / "weights_commitment.py"
spec = importlib.util.spec_from_file_location("weights_commitment", REFERENCE)
reference = importlib.util.module_from_spec(spec)
spec.loader.exec_module(reference)


def test_model_card_root_is_the_references(e2e):
    _, _, root = reference.commitment(e2e.closed_path)
    with e2e.http(e2e.inference_key) as http:
        card = http.get(f"/v1/models/{e2e.closed_id}").json()
    assert card["weights_root"] == root.hex()
    assert e2e.muse("commit", e2e.closed_path, "--no-tree").stdout.strip() == root.hex()
    e2e.report(f"weights_root of {e2e.closed_id}: {root.hex()} (reference and model card agree)")


def test_proof_checks_with_the_reference_and_a_changed_byte_fails(e2e, tmp_path):
    name = "blk.2.attn_v.weight"
    proof_path = tmp_path / "proof.json"
    e2e.muse("commit", "prove", e2e.closed_path, name, "-o", str(proof_path))
    proof = json.loads(proof_path.read_text())
    assert reference.check(proof, e2e.closed_path)
    assert proof["leaf"]["name"] == name

    tampered = tmp_path / "tampered.gguf"
    shutil.copyfile(e2e.closed_path, tampered)
    tensor = next(t for t in gguf.GGUFReader(e2e.closed_path).tensors if t.name == name)
    with open(tampered, "r+b") as f:
        f.seek(tensor.data_offset + tensor.n_bytes // 2)
        byte = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([byte[0] ^ 1]))
    _, _, tampered_root = reference.commitment(str(tampered))
    assert tampered_root.hex() != proof["root"]
    assert not reference.check(proof, str(tampered))
    done = subprocess.run(
        [e2e.bin, "commit", "check", str(proof_path), "--file", str(tampered)], capture_output=True, text=True
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "FAILED" in done.stdout


def test_commit_errors_name_the_file_and_the_problem(e2e, tmp_path):
    def fails(*args):
        done = subprocess.run([e2e.bin, *args], capture_output=True, text=True, timeout=120)
        assert done.returncode != 0, done.stdout
        return done.stderr

    assert "no tensor named 'nope'" in fails("commit", "prove", e2e.closed_path, "nope")
    assert "no metadata named 'nope'" in fails("commit", "prove", e2e.closed_path, "nope", "--metadata")
    missing = str(tmp_path / "missing.gguf")
    assert missing in fails("commit", missing)
    junk = tmp_path / "junk.json"
    junk.write_text('{"root": 1}')
    assert str(junk) in fails("commit", "check", str(junk)) and "not an inclusion proof" in fails("commit", "check", str(junk))
    assert str(tmp_path / "none.json") in fails("commit", "check", str(tmp_path / "none.json"))
    unwritable = str(tmp_path / "no-such-dir" / "tree.json")
    assert unwritable in fails("commit", e2e.closed_path, "--tree", unwritable)
