import Crypto
import Foundation
import MuseModels

/// What a model card publishes about a weights file, so closed weights can be held to account:
/// the SHA-256 of the file and the root of its weights commitment (`WeightsCommitment`), both
/// cached in the data directory by path, size and modification time so a restart does not
/// re-hash gigabytes.
public enum WeightsDigest {
  public static func sha256(of file: GGUFFile, cacheDirectory: String) -> String {
    cached("\(key(file))", in: cacheDirectory) { sha256(of: file) }
  }

  /// The SHA-256 of the whole file, computed now.
  public static func sha256(of file: GGUFFile) -> String {
    var hasher = SHA256()
    let bytes = file.rawBytes
    var offset = 0
    while offset < bytes.count {
      let end = min(offset + (8 << 20), bytes.count)
      hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
      offset = end
    }
    return Array(hasher.finalize()).hexString
  }

  /// The Merkle root of the file's metadata and tensors.
  public static func merkleRoot(of file: GGUFFile, cacheDirectory: String) -> String {
    cached("merkle|\(key(file))", in: cacheDirectory) { WeightsCommitment(file: file).root }
  }

  private static func key(_ file: GGUFFile) -> String {
    let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
    let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    return "\(file.path)|\(file.fileSize)|\(modified)"
  }

  private static func cached(_ key: String, in directory: String, compute: () -> String) -> String {
    let cachePath = directory + "/digests.json"
    var cache: [String: String] = [:]
    if let data = FileManager.default.contents(atPath: cachePath),
      let decoded = try? JSONDecoder().decode([String: String].self, from: data)
    {
      cache = decoded
    }
    if let hit = cache[key] { return hit }
    let value = compute()
    cache[key] = value
    if let data = try? JSONEncoder().encode(cache) { try? data.write(to: URL(fileURLWithPath: cachePath)) }
    return value
  }
}
