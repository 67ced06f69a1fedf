import Crypto
import Foundation

/// A Merkle tree as Certificate Transparency defines it (RFC 6962 §2.1, RFC 9162 §2.1): leaf
/// hashes are SHA-256(0x00 ‖ leaf), interior nodes SHA-256(0x01 ‖ left ‖ right), and a tree of n
/// leaves splits at the largest power of two below n, so any CT-style verifier checks its proofs.
public struct MerkleTree: Sendable {
  public typealias Hash = [UInt8]

  /// The leaves' hashes, in leaf order.
  public let leafHashes: [Hash]

  public init(leaves: [[UInt8]]) {
    leafHashes = leaves.map { Self.leafHash($0) }
  }

  public static func leafHash(_ leaf: [UInt8]) -> Hash {
    var hasher = SHA256()
    hasher.update(data: [0x00])
    hasher.update(data: leaf)
    return Array(hasher.finalize())
  }

  public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
    var hasher = SHA256()
    hasher.update(data: [0x01])
    hasher.update(data: left)
    hasher.update(data: right)
    return Array(hasher.finalize())
  }

  /// The root: SHA-256 of nothing for an empty tree.
  public var root: Hash { Self.subtreeRoot(leafHashes[...]) }

  /// The audit path of leaf `index` (RFC 6962 §2.1.1), nearest sibling first.
  public func auditPath(index: Int) -> [Hash]? {
    guard leafHashes.indices.contains(index) else { return nil }
    var path: [Hash] = []
    Self.path(index, leafHashes[...], into: &path)
    return path.reversed()
  }

  /// Whether `path` proves that `leafHash` is leaf `index` of a tree of `size` leaves with
  /// `root` (RFC 9162 §2.1.3.2).
  public static func verify(leafHash: Hash, index: Int, size: Int, path: [Hash], root: Hash) -> Bool {
    guard index >= 0, index < size else { return false }
    var fn = index
    var sn = size - 1
    var r = leafHash
    for p in path {
      guard sn != 0 else { return false }
      if fn & 1 == 1 || fn == sn {
        r = nodeHash(p, r)
        if fn & 1 == 0 {
          while fn & 1 == 0 && fn != 0 {
            fn >>= 1
            sn >>= 1
          }
        }
      } else {
        r = nodeHash(r, p)
      }
      fn >>= 1
      sn >>= 1
    }
    return sn == 0 && r == root
  }

  private static func split(_ n: Int) -> Int {
    var k = 1
    while k << 1 < n { k <<= 1 }
    return k
  }

  private static func subtreeRoot(_ hashes: ArraySlice<Hash>) -> Hash {
    switch hashes.count {
    case 0: return Array(SHA256.hash(data: [UInt8]()))
    case 1: return hashes[hashes.startIndex]
    default:
      let k = split(hashes.count)
      let mid = hashes.startIndex + k
      return nodeHash(subtreeRoot(hashes[..<mid]), subtreeRoot(hashes[mid...]))
    }
  }

  /// Appends the path root-side first (the caller reverses it).
  private static func path(_ m: Int, _ hashes: ArraySlice<Hash>, into path: inout [Hash]) {
    guard hashes.count > 1 else { return }
    let k = split(hashes.count)
    let mid = hashes.startIndex + k
    if m < k {
      path.append(subtreeRoot(hashes[mid...]))
      Self.path(m, hashes[..<mid], into: &path)
    } else {
      path.append(subtreeRoot(hashes[..<mid]))
      Self.path(m - k, hashes[mid...], into: &path)
    }
  }
}

extension Array where Element == UInt8 {
  /// Lower-case hex.
  public var hexString: String {
    let digits = Array("0123456789abcdef".utf8)
    var out = [UInt8]()
    out.reserveCapacity(count * 2)
    for byte in self {
      out.append(digits[Int(byte >> 4)])
      out.append(digits[Int(byte & 15)])
    }
    return String(decoding: out, as: UTF8.self)
  }

  /// Bytes from lower- or upper-case hex; nil for anything else.
  public init?(hexString: String) {
    let chars = Array(hexString.utf8)
    guard chars.count % 2 == 0 else { return nil }
    func value(_ c: UInt8) -> UInt8? {
      switch c {
      case 48...57: c - 48
      case 97...102: c - 87
      case 65...70: c - 55
      default: nil
      }
    }
    var bytes = [UInt8]()
    bytes.reserveCapacity(chars.count / 2)
    var i = 0
    while i < chars.count {
      guard let hi = value(chars[i]), let lo = value(chars[i + 1]) else { return nil }
      bytes.append(hi << 4 | lo)
      i += 2
    }
    self = bytes
  }
}
