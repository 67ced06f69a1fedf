import Foundation
import MuseTestSupport
import Testing

@testable import MuseModels

/// The weights commitment against `Scripts/golden/weights_commitment.py`, which builds the same
/// tree with the `gguf` package and hashlib: roots, every leaf hash and inclusion proofs agree,
/// and a proof that has been tampered with in any part is refused.
struct WeightsCommitmentTests {
  struct Golden: Decodable {
    struct File: Decodable {
      let file: String
      let root: String
      let leaves: Int
      let leaf_hashes: [String]
      let proofs: [InclusionProof]
    }
    let files: [File]
  }

  static let golden = try! TestPaths.golden("golden/weights-commitment.json", as: Golden.self)

  @Test(arguments: golden.files.map(\.file))
  func rootAndLeavesMatchTheReference(name: String) throws {
    let expected = try #require(Self.golden.files.first { $0.file == name })
    let commitment = WeightsCommitment(file: try GGUFFile(path: TestPaths.fixture("models/\(name)")))
    #expect(commitment.leaves.count == expected.leaves)
    #expect(commitment.leaves.map { $0.hash.hexString } == expected.leaf_hashes)
    #expect(commitment.root == expected.root)
    for proof in expected.proofs {
      #expect(proof.isValid, "the reference's proof of \(proof.leaf.name) checks here")
      let ours = try #require(commitment.proof(of: proof.leaf.name, kind: proof.leaf.kind))
      #expect(ours == proof)
    }
  }

  @Test func tamperedProofsAreRefused() throws {
    let commitment = WeightsCommitment(
      file: try GGUFFile(path: TestPaths.fixture("models/llama-q4_0.gguf")))
    let proof = try #require(commitment.proof(of: "blk.0.attn_q.weight"))
    #expect(proof.isValid)
    func with(
      root: String? = nil, leaf: WeightsCommitment.Leaf? = nil, index: Int? = nil, size: Int? = nil,
      path: [String]? = nil
    ) -> InclusionProof {
      InclusionProof(
        root: root ?? proof.root, leaf: leaf ?? proof.leaf, index: index ?? proof.index,
        treeSize: size ?? proof.treeSize, path: path ?? proof.path)
    }
    let l = proof.leaf
    var flipped = Array(proof.leaf.sha256)
    flipped[0] = flipped[0] == "0" ? "1" : "0"
    let cases: [(String, InclusionProof)] = [
      (
        "another tensor's bytes",
        with(leaf: .init(kind: l.kind, name: l.name, sha256: String(flipped), shape: l.shape, type: l.type))
      ),
      (
        "another type",
        with(leaf: .init(kind: l.kind, name: l.name, sha256: l.sha256, shape: l.shape, type: 8))
      ),
      (
        "another shape",
        with(
          leaf: .init(kind: l.kind, name: l.name, sha256: l.sha256, shape: [64, 32], type: l.type))
      ),
      (
        "another name",
        with(
          leaf: .init(
            kind: l.kind, name: "blk.0.attn_k.weight", sha256: l.sha256, shape: l.shape, type: l.type))
      ),
      ("another index", with(index: proof.index + 1)),
      ("a size the index lies beyond", with(size: proof.index)),
      ("a path one short", with(path: Array(proof.path.dropLast()))),
      ("a path one long", with(path: proof.path + [proof.path[0]])),
      ("a sibling changed", with(path: [String(repeating: "0", count: 64)] + proof.path.dropFirst())),
      ("another root", with(root: String(repeating: "a", count: 64))),
      ("a root that is not hex", with(root: "zz")),
      ("a negative index", with(index: -1)),
    ]
    for (what, tampered) in cases { #expect(!tampered.isValid, "\(what)") }
  }

  /// Every leaf of trees of 1…33 leaves has a proof that checks, and no other leaf's does.
  @Test func everyPathOfEverySmallTreeChecks() {
    for n in 1...33 {
      let leaves = (0..<n).map { [UInt8(truncatingIfNeeded: $0), 7] }
      let tree = MerkleTree(leaves: leaves)
      for i in 0..<n {
        let path = tree.auditPath(index: i)!
        #expect(
          MerkleTree.verify(leafHash: tree.leafHashes[i], index: i, size: n, path: path, root: tree.root))
        let other = (i + 1) % n
        if other != i {
          #expect(
            !MerkleTree.verify(
              leafHash: tree.leafHashes[other], index: i, size: n, path: path, root: tree.root))
        }
      }
      #expect(tree.auditPath(index: n) == nil)
    }
  }

  @Test func canonicalJSONWritesWhatPythonWrites() {
    // json.dumps({"b": "é\\u2028\\n\\"", "a": "😀\\u007f"}, sort_keys=True, separators=(",", ":"))
    let text = CanonicalJSON.object([
      ("b", CanonicalJSON.string("é\u{2028}\n\"")), ("a", CanonicalJSON.string("😀\u{7f}")),
    ])
    #expect(text == #"{"a":"\ud83d\ude00\u007f","b":"\u00e9\u2028\n\""}"#)
  }
}
