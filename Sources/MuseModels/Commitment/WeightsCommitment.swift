import Crypto
import Foundation

/// A commitment to a GGUF model: a Merkle tree (`MerkleTree`) whose leaves are the file's
/// metadata entries and tensors, sorted, so that publishing the root fixes every weight, the
/// tokenizer and the chat template, and one tensor can later be shown to belong
/// (`InclusionProof`) without revealing the others.
///
/// A leaf is the canonical JSON (sorted keys, no spaces, non-ASCII escaped as `\uXXXX`:
/// Python's `json.dumps(leaf, sort_keys=True, separators=(",", ":"))`) of
/// - `{"kind":"metadata","name":KEY,"sha256":HEX}`, the SHA-256 of the entry's bytes as stored
///   (key length, key, value type, value);
/// - `{"kind":"tensor","name":NAME,"sha256":HEX,"shape":[ne0,ne1,…],"type":GGML_TYPE_ID}`, the
///   SHA-256 of the tensor's bytes as stored, its ggml-order shape and ggml type number.
///
/// Leaves are ordered by kind, then name (by Unicode code point; repeated metadata keys keep
/// their file order). The file's layout (tensor offsets, alignment, header counts) is not
/// committed: two files holding the same metadata and tensors have the same root.
/// `Scripts/golden/weights_commitment.py` computes the same root with the `gguf` package.
public struct WeightsCommitment: Sendable {
  public struct Leaf: Sendable, Codable, Equatable {
    public let kind: String
    public let name: String
    public let sha256: String
    /// ggml order; tensors only.
    public let shape: [Int]?
    /// The ggml type number; tensors only.
    public let type: Int?

    public init(kind: String, name: String, sha256: String, shape: [Int]? = nil, type: Int? = nil) {
      self.kind = kind
      self.name = name
      self.sha256 = sha256
      self.shape = shape
      self.type = type
    }

    /// The bytes the tree hashes.
    public var canonicalJSON: [UInt8] {
      var fields = [
        ("kind", CanonicalJSON.string(kind)), ("name", CanonicalJSON.string(name)),
        ("sha256", CanonicalJSON.string(sha256)),
      ]
      if let shape { fields.append(("shape", "[" + shape.map(String.init).joined(separator: ",") + "]")) }
      if let type { fields.append(("type", String(type))) }
      return Array(CanonicalJSON.object(fields).utf8)
    }

    public var hash: MerkleTree.Hash { MerkleTree.leafHash(canonicalJSON) }
  }

  /// Sorted as the tree holds them.
  public let leaves: [Leaf]
  public let tree: MerkleTree

  public init(leaves: [Leaf]) {
    let sorted = leaves.enumerated().sorted { a, b in
      if a.element.kind != b.element.kind { return CanonicalJSON.precedes(a.element.kind, b.element.kind) }
      if a.element.name != b.element.name { return CanonicalJSON.precedes(a.element.name, b.element.name) }
      return a.offset < b.offset
    }
    self.leaves = sorted.map(\.element)
    tree = MerkleTree(leaves: self.leaves.map(\.canonicalJSON))
  }

  /// Hashes every metadata entry and tensor of `file` (tensors on all cores).
  public init(file: GGUFFile) {
    let bytes = file.rawBytes
    func sha256(_ range: Range<Int>) -> String {
      Array(SHA256.hash(data: UnsafeRawBufferPointer(rebasing: bytes[range]))).hexString
    }
    let metadata = file.metadataEntries.map { Leaf(kind: "metadata", name: $0.key, sha256: sha256($0.bytes)) }
    let infos = file.tensorNames.compactMap { file.tensors[$0] }
    var digests = [String](repeating: "", count: infos.count)
    digests.withUnsafeMutableBufferPointer { out in
      let out = UnsafeSendable(out)
      DispatchQueue.concurrentPerform(iterations: infos.count) { i in
        let info = infos[i]
        out.value[i] = sha256(info.fileOffset..<info.fileOffset + info.byteCount)
      }
    }
    let tensors = infos.enumerated().map { i, info in
      Leaf(
        kind: "tensor", name: info.name, sha256: digests[i], shape: info.shape, type: Int(info.type.rawValue))
    }
    self.init(leaves: metadata + tensors)
  }

  /// The published commitment: hex of the tree's root.
  public var root: String { tree.root.hexString }

  /// The proof that the leaf named `name` (a tensor, or with `kind: "metadata"` a metadata key)
  /// is in this commitment.
  public func proof(of name: String, kind: String = "tensor") -> InclusionProof? {
    guard let index = leaves.firstIndex(where: { $0.kind == kind && $0.name == name }),
      let path = tree.auditPath(index: index)
    else { return nil }
    return InclusionProof(
      root: root, leaf: leaves[index], index: index, treeSize: leaves.count, path: path.map(\.hexString))
  }
}

/// That one leaf belongs to a commitment: the leaf, where it sits and the sibling hashes up to
/// the root (RFC 9162 audit path, nearest first).
public struct InclusionProof: Sendable, Codable, Equatable {
  public let root: String
  public let leaf: WeightsCommitment.Leaf
  public let index: Int
  public let treeSize: Int
  public let path: [String]

  enum CodingKeys: String, CodingKey {
    case root, leaf, index, path
    case treeSize = "tree_size"
  }

  /// Whether the path leads from the leaf to the root.
  public var isValid: Bool {
    guard let root = [UInt8](hexString: root), root.count == 32 else { return false }
    var hashes: [MerkleTree.Hash] = []
    for hex in path {
      guard let hash = [UInt8](hexString: hex), hash.count == 32 else { return false }
      hashes.append(hash)
    }
    return MerkleTree.verify(leafHash: leaf.hash, index: index, size: treeSize, path: hashes, root: root)
  }
}

/// JSON written the one way Python's `json.dumps(…, sort_keys=True, separators=(",", ":"))`
/// writes it, for bytes that are hashed or signed.
public enum CanonicalJSON {
  /// A string literal with Python's escapes (`ensure_ascii`).
  public static func string(_ s: String) -> String {
    var out = "\""
    for unit in s.utf16 {
      switch unit {
      case 0x22: out += "\\\""
      case 0x5C: out += "\\\\"
      case 0x0A: out += "\\n"
      case 0x0D: out += "\\r"
      case 0x09: out += "\\t"
      case 0x08: out += "\\b"
      case 0x0C: out += "\\f"
      case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(UInt8(unit)))
      default:
        let hex = String(unit, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      }
    }
    return out + "\""
  }

  /// An object from already-encoded values, keys sorted.
  public static func object(_ fields: [(String, String)]) -> String {
    "{" + fields.sorted { precedes($0.0, $1.0) }.map { string($0.0) + ":" + $0.1 }.joined(separator: ",")
      + "}"
  }

  /// Python's string order: by Unicode code point.
  public static func precedes(_ a: String, _ b: String) -> Bool {
    a.unicodeScalars.lexicographicallyPrecedes(b.unicodeScalars) { $0.value < $1.value }
  }
}

/// A buffer handed to `concurrentPerform`'s iterations, each writing its own index.
private struct UnsafeSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
