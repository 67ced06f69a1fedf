import Crypto
import Foundation
import MuseModels

/// SHA-256 of a weights file, cached in the data directory by path, size and modification
/// time so a restart does not re-hash gigabytes.
public enum WeightsDigest {
  public static func sha256(of file: GGUFFile, cacheDirectory: String) -> String {
    let attributes = try? FileManager.default.attributesOfItem(atPath: file.path)
    let modified = (attributes?[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
    let cacheKey = "\(file.path)|\(file.fileSize)|\(modified)"
    let cachePath = cacheDirectory + "/digests.json"
    var cache: [String: String] = [:]
    if let data = FileManager.default.contents(atPath: cachePath),
      let decoded = try? JSONDecoder().decode([String: String].self, from: data)
    {
      cache = decoded
    }
    if let hit = cache[cacheKey] { return hit }
    var hasher = SHA256()
    let bytes = file.rawBytes
    var offset = 0
    while offset < bytes.count {
      let end = min(offset + (8 << 20), bytes.count)
      hasher.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[offset..<end]))
      offset = end
    }
    let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
    cache[cacheKey] = digest
    if let data = try? JSONEncoder().encode(cache) { try? data.write(to: URL(fileURLWithPath: cachePath)) }
    return digest
  }
}
