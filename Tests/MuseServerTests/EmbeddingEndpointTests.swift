import Foundation
import HummingbirdTesting
import MuseTestSupport
import Testing

@testable import MuseServer

@Suite(.serialized)
struct EmbeddingEndpointTests {
  struct Golden: Decodable {
    let sentences: [String]
    let tokenCounts: [Int]
    let vectors: [[Float]]
  }

  /// The endpoint returns sentence-transformers' vectors (Scripts/golden/embedding_golden.py) within 1e-4.
  @Test func embeddingsMatchSentenceTransformers() async throws {
    let golden = try TestPaths.golden("embeddings/minilm-golden.json", as: Golden.self)
    let h = try ServerHarness()
    try await h.test { c in
      let input = String(data: try JSONEncoder().encode(Array(golden.sentences.prefix(4))), encoding: .utf8)!
      let r = try await c.call(
        "/v1/embeddings", method: .post, key: h.user, json: #"{"model": "minilm", "input": \#(input)}"#)
      #expect(r.status == .ok && r.json["object"] as? String == "list")
      let data = try #require(r.json["data"] as? [[String: Any]])
      #expect(data.count == 4)
      for (i, item) in data.enumerated() {
        #expect(item["index"] as? Int == i)
        let v = (item["embedding"] as? [Double] ?? []).map(Float.init)
        #expect(v.count == 384)
        let worst = zip(v, golden.vectors[i]).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 1e-4, "sentence \(i): \(worst)")
      }
      #expect(
        (r.json["usage"] as? [String: Int])?["prompt_tokens"] == golden.tokenCounts.prefix(4).reduce(0, +))
      let b64 = try await c.call(
        "/v1/embeddings", method: .post, key: h.user,
        json: #"{"model": "minilm", "input": "hello", "encoding_format": "base64"}"#)
      let encoded = try #require((b64.json["data"] as? [[String: Any]])?.first?["embedding"] as? String)
      #expect(Data(base64Encoded: encoded)?.count == 384 * 4)
      let chat = try await c.call(
        "/v1/embeddings", method: .post, key: h.user, json: #"{"model": "smol", "input": "hello"}"#)
      #expect(chat.status == .badRequest && chat.error["code"] as? String == "invalid_model")
      let models = try await c.call("/v1/models", key: h.user).json["data"] as? [[String: Any]]
      #expect(models?.contains { $0["id"] as? String == "minilm" } == true)
    }
  }
}
