#!/usr/bin/env python3
"""Independent reference for Muse's weights commitment (docs/VERIFIABILITY.md).

Reads a GGUF file with the `gguf` package (pinned in Scripts/requirements.txt), hashes each
metadata entry's stored bytes and each tensor's stored bytes with hashlib, and builds the
RFC 6962 Merkle tree over the sorted canonical-JSON leaves.

    weights_commitment.py root FILE.gguf            # prints the root
    weights_commitment.py prove FILE.gguf TENSOR    # prints an inclusion proof (JSON)
    weights_commitment.py check PROOF.json [--file FILE.gguf]   # verifies a proof (exit 1 if not)
    weights_commitment.py golden                    # writes Tests/Fixtures/golden/weights-commitment.json
"""
import argparse
import hashlib
import importlib.metadata
import json
import pathlib
import sys

import gguf

ROOT = pathlib.Path(__file__).resolve().parents[2]


def canonical(obj):
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def leaf_hash(leaf):
    return hashlib.sha256(b"\x00" + canonical(leaf)).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


def split(n):
    k = 1
    while k << 1 < n:
        k <<= 1
    return k


def mth(hashes):
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = split(len(hashes))
    return node_hash(mth(hashes[:k]), mth(hashes[k:]))


def audit_path(m, hashes):
    """RFC 6962 PATH(m, D[n]), nearest sibling first."""
    if len(hashes) <= 1:
        return []
    k = split(len(hashes))
    if m < k:
        return audit_path(m, hashes[:k]) + [mth(hashes[k:])]
    return audit_path(m - k, hashes[k:]) + [mth(hashes[:k])]


def verify(leaf_digest, index, size, path, root):
    """RFC 9162 §2.1.3.2."""
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_digest
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while not fn & 1 and fn != 0:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root


def leaves(path):
    reader = gguf.GGUFReader(path)
    data = reader.data
    out = []
    for field in reader.fields.values():
        if field.name.startswith("GGUF."):
            continue  # the header's version and counts, which the reader shows as fields
        size = sum(part.nbytes for part in field.parts)
        raw = bytes(data[field.offset : field.offset + size])
        out.append({"kind": "metadata", "name": field.name, "sha256": hashlib.sha256(raw).hexdigest()})
    for tensor in reader.tensors:
        raw = bytes(data[tensor.data_offset : tensor.data_offset + tensor.n_bytes])
        out.append(
            {
                "kind": "tensor",
                "name": tensor.name,
                "sha256": hashlib.sha256(raw).hexdigest(),
                "shape": [int(d) for d in tensor.shape],
                "type": int(tensor.tensor_type),
            }
        )
    # Stable sort: repeated keys keep their file order.
    return sorted(out, key=lambda leaf: (leaf["kind"], leaf["name"]))


def commitment(path):
    ls = leaves(path)
    hashes = [leaf_hash(leaf) for leaf in ls]
    return ls, hashes, mth(hashes)


def proof(path, name, kind="tensor"):
    ls, hashes, root = commitment(path)
    index = next(i for i, leaf in enumerate(ls) if leaf["kind"] == kind and leaf["name"] == name)
    return {
        "root": root.hex(),
        "leaf": ls[index],
        "index": index,
        "tree_size": len(ls),
        "path": [h.hex() for h in audit_path(index, hashes)],
    }


def check(p, file=None):
    ok = verify(
        leaf_hash(p["leaf"]), p["index"], p["tree_size"], [bytes.fromhex(h) for h in p["path"]], bytes.fromhex(p["root"])
    )
    if ok and file:
        ls, _, root = commitment(file)
        ok = root.hex() == p["root"] and p["leaf"] in ls
    return ok


def golden():
    files = ["llama-q4_0.gguf", "llama-q4_k_m.gguf", "mixtral-q8_0.gguf", "gpt-oss-mxfp4.gguf", "muse-glimmer-f16.gguf"]
    out = {"generator": "Scripts/golden/weights_commitment.py", "gguf": importlib.metadata.version("gguf"), "files": []}
    for name in files:
        path = ROOT / "Tests/Fixtures/models" / name
        ls, hashes, root = commitment(str(path))
        tensors = [leaf for leaf in ls if leaf["kind"] == "tensor"]
        entry = {
            "file": name,
            "root": root.hex(),
            "leaves": len(ls),
            "leaf_hashes": [h.hex() for h in hashes],
            "proofs": [proof(str(path), tensors[0]["name"]), proof(str(path), tensors[-1]["name"]),
                       proof(str(path), "general.architecture", "metadata")],
        }
        out["files"].append(entry)
    target = ROOT / "Tests/Fixtures/golden/weights-commitment.json"
    target.write_text(json.dumps(out, indent=1) + "\n")
    print(f"wrote {target}")


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("root").add_argument("file")
    p = sub.add_parser("prove")
    p.add_argument("file")
    p.add_argument("name")
    p.add_argument("--kind", default="tensor")
    c = sub.add_parser("check")
    c.add_argument("proof")
    c.add_argument("--file")
    sub.add_parser("golden")
    args = parser.parse_args()
    if args.command == "root":
        print(commitment(args.file)[2].hex())
    elif args.command == "prove":
        print(json.dumps(proof(args.file, args.name, args.kind), indent=1))
    elif args.command == "check":
        ok = check(json.loads(pathlib.Path(args.proof).read_text()), args.file)
        print("valid" if ok else "INVALID")
        sys.exit(0 if ok else 1)
    else:
        golden()


if __name__ == "__main__":
    main()
