import Crypto
import Foundation
import MuseEngine

/// A served embedding model: the encoder and the queue its requests run on, one at a time,
/// off the HTTP event loops.
public final class EmbeddingRunner: @unchecked Sendable {
  public let entry: ModelEntry
  public let model: EmbeddingModel
  /// SHA-256 of the weights file (model.safetensors).
  public let weightsDigest: String
  private let queue: DispatchQueue

  public init(entry: ModelEntry, model: EmbeddingModel) throws {
    self.entry = entry
    self.model = model
    weightsDigest = try Self.sha256(path: model.path + "/model.safetensors")
    queue = DispatchQueue(label: "muse.embed.\(entry.id)")
  }

  func embed(_ texts: [String]) async throws -> (vectors: [[Float]], tokens: Int) {
    try await withCheckedThrowingContinuation { continuation in
      queue.async { [model] in continuation.resume(with: Result { try model.embed(texts) }) }
    }
  }

  static func sha256(path: String) throws -> String {
    let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
    defer { try? handle.close() }
    var hasher = SHA256()
    while let chunk = try handle.read(upToCount: 8 << 20), !chunk.isEmpty { hasher.update(data: chunk) }
    return hasher.finalize().map { String(format: "%02x", $0) }.joined()
  }

  /// Whether `path` is a folder holding a BERT-style encoder (what `EmbeddingModel` loads).
  public static func isEmbeddingFolder(_ path: String) -> Bool {
    guard let data = FileManager.default.contents(atPath: path + "/config.json"),
      let config = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return false }
    return (config["model_type"] as? String) == "bert"
  }
}
