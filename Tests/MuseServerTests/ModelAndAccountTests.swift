import Foundation
import HummingbirdTesting
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

@Suite(.serialized)
struct ModelAndAccountTests {
  struct SmolGolden: Decodable {
    // swiftlint:disable:next identifier_name
    let model_sha256: String
  }

  @Test func modelCardPublishesTheWeightsDigest() async throws {
    let h = try ServerHarness()
    // The digest the reference script recorded with Python's hashlib.
    let expected = try TestPaths.golden("golden/smollm2.json", as: SmolGolden.self).model_sha256
    try await h.test { c in
      let list = try await c.call("/v1/models", key: h.user)
      #expect(
        (list.json["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == [
          "smol", "tiny", "minilm",
        ])
      let card = try await c.call("/v1/models/smol", key: h.user).json
      #expect(card["weights_sha256"] as? String == expected)
      #expect(card["visibility"] as? String == "closed" && card["architecture"] as? String == "llama")
      #expect(card["context_length"] as? Int == 8192 && (card["parameters"] as? Int ?? 0) > 130_000_000)
      #expect(card["download"] is NSNull || card["download"] == nil)
      #expect(!list.text.contains(h.service.models["smol"]!.entry.path))
      #expect(!(try await c.call("/v1/models/smol", key: h.user)).text.contains("/models/"))
    }
  }

  @Test func closedWeightsAreUnreachableAndOpenOnesDownload() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let closed = try await c.call("/v1/models/smol/weights", key: h.weightsOnly)
      let missing = try await c.call("/v1/models/nope/weights", key: h.weightsOnly)
      #expect(closed.status == .notFound && closed.error["code"] as? String == "model_not_found")
      // Indistinguishable from a model that does not exist, but for the id it echoes.
      #expect(
        closed.text.replacingOccurrences(of: "smol", with: "X")
          == missing.text.replacingOccurrences(of: "nope", with: "X"))
      #expect(try await c.call("/v1/models/tiny/weights", key: h.user).status == .forbidden)

      let file = try Data(contentsOf: URL(fileURLWithPath: h.fixturePath))
      let full = try await c.call("/v1/models/tiny/weights", key: h.weightsOnly)
      #expect(full.status == .ok && Data(buffer: full.body) == file)
      let etag = try #require(full.headers[.eTag])
      #expect(etag == "\"\(h.service.models["tiny"]!.weightsDigest)\"")
      let part = try await c.call(
        "/v1/models/tiny/weights", key: h.weightsOnly, headers: [.range: "bytes=4-11"])
      #expect(part.status == .partialContent && Data(buffer: part.body) == file[4..<12])
      #expect(part.headers[.contentRange] == "bytes 4-11/\(file.count)")
      let tail = try await c.call(
        "/v1/models/tiny/weights", key: h.weightsOnly, headers: [.range: "bytes=-5"])
      #expect(Data(buffer: tail.body) == file.suffix(5))
      let bad = try await c.call(
        "/v1/models/tiny/weights", key: h.weightsOnly, headers: [.range: "bytes=999999999-"])
      #expect(bad.status == .rangeNotSatisfiable)
      let cached = try await c.call(
        "/v1/models/tiny/weights", key: h.weightsOnly, headers: [.ifNoneMatch: etag])
      #expect(cached.status == .notModified)
    }
  }

  @Test func usageLedgerAndAdminAPI() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      let body =
        #"{"model": "smol", "messages": [{"role": "user", "content": "What is the capital of France?"}], "temperature": 0, "max_tokens": 20}"#
      #expect(try await c.call("/v1/chat/completions", method: .post, key: h.user, json: body).status == .ok)
      let own = try await c.call("/v1/usage", key: h.user).json
      let period = own["period"] as? [String: Any]
      #expect(period?["requests"] as? Int == 1 && period?["prompt_tokens"] as? Int == 37)
      #expect(period?["completion_tokens"] as? Int == 7)
      // 37 prompt tokens at $1/token and 7 completion tokens at $2/token (the harness's prices).
      #expect(period?["cost_microdollars"] as? Int == 37_000_000 + 14_000_000)
      let recent = (own["recent"] as? [[String: Any]])?.first
      #expect(recent?["finish_reason"] as? String == "stop" && recent?["status"] as? Int == 200)
      // Unix seconds, as everywhere in the API.
      let when = try #require(recent?["created_at"] as? Double)
      #expect(abs(when - Date().timeIntervalSince1970) < 600)

      let created = try await c.call(
        "/v1/admin/keys", method: .post, key: h.admin, json: #"{"name": "partner", "scopes": ["inference"]}"#)
      #expect(created.status == .created)
      let secret = try #require(created.json["key"] as? String)
      let id = try #require((created.json["record"] as? [String: Any])?["id"] as? String)
      #expect(try await c.call("/v1/models", key: secret).status == .ok)
      let listed = try await c.call("/v1/admin/keys", key: h.admin)
      #expect(listed.text.contains(id) && !listed.text.contains(secret))
      #expect(try await c.call("/v1/admin/keys/\(id)", method: .delete, key: h.admin).status == .ok)
      #expect(try await c.call("/v1/models", key: secret).status == .unauthorized)
      let totals = try await c.call("/v1/admin/usage", key: h.admin).json["data"] as? [[String: Any]]
      #expect(totals?.count == 1 && totals?.first?["model"] as? String == "smol")
    }
  }

  @Test func metricsHealthAndOpenAPI() async throws {
    let h = try ServerHarness()
    try await h.test { c in
      #expect(try await c.call("/health", key: nil).status == .ok)
      #expect(try await c.call("/ready", key: nil).status == .ok)
      _ = try await c.call("/v1/models", key: "muse-wrong")
      _ = try await c.call(
        "/v1/chat/completions", method: .post, key: h.user,
        json: #"{"model": "smol", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}"#)
      let metrics = try await c.call("/metrics", key: nil).text
      #expect(metrics.contains("muse_requests_total{"))
      #expect(metrics.contains("muse_errors_total{code=\"invalid_api_key\"} 1"))
      #expect(metrics.contains("muse_time_to_first_token_seconds_bucket"))
      #expect(metrics.contains("muse_tokens_total{"))
      #expect(!metrics.contains(h.service.models["smol"]!.entry.path) && !metrics.contains("muse-"))
      let spec = try await c.call("/openapi.json", key: nil).json
      let paths = (spec["paths"] as? [String: Any])?.keys.sorted() ?? []
      #expect(
        paths == [
          "/", "/.well-known/muse-keys", "/app/api/admin/users", "/app/api/conversations",
          "/app/api/conversations/{id}",
          "/app/api/conversations/{id}/messages", "/app/api/login", "/app/api/logout", "/app/api/me",
          "/app/api/usage", "/app/{file}",
          "/detokenize", "/health", "/metrics", "/openapi.json", "/ready", "/tokenize", "/tokenizer_info",
          "/v1/admin/guard/events",
          "/v1/admin/keys", "/v1/admin/keys/{id}", "/v1/admin/usage", "/v1/chat/completions",
          "/v1/completions",
          "/v1/embeddings", "/v1/models", "/v1/models/{id}", "/v1/models/{id}/claims",
          "/v1/models/{id}/claims/{claim}/items", "/v1/models/{id}/weights", "/v1/moderations",
          "/v1/receipts/{id}", "/v1/usage",
        ])
      // Token ids are bounded by the smallest served vocabulary (the fixture's).
      let schemas = (spec["components"] as? [String: Any])?["schemas"] as? [String: Any]
      let detokenize = (schemas?["DetokenizeRequest"] as? [String: Any])?["properties"] as? [String: Any]
      let items = (detokenize?["tokens"] as? [String: Any])?["items"] as? [String: Any]
      #expect(items?["maximum"] as? Int == h.service.models["tiny"]!.model.config.vocabularySize - 1)
      for request in ["ChatCompletionRequest", "CompletionRequest"] {
        let fields = (schemas?[request] as? [String: Any])?["properties"] as? [String: Any]
        let keys = (fields?["logit_bias"] as? [String: Any])?["propertyNames"] as? [String: Any]
        #expect(
          keys?["pattern"] as? String
            == OpenAPIDocument.decimalPattern(upTo: h.service.models["tiny"]!.model.config.vocabularySize - 1),
          "\(request)")
      }
    }
  }
}
