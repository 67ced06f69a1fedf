import Foundation
import HummingbirdTesting
import MuseEngine
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// The README's first example, exactly as written there (no sampling fields), against the
/// built-in default model's catalogue entry: Paris, every time (issue #16).
struct ReadmeExampleTests {
  @Test func theREADMEQuestionIsAnsweredRightTenTimesInTen() async throws {
    _ = try TestPaths.smolLM2()
    let smol = try #require(ServerHarness.smol)
    let dir = try TestPaths.temporaryDirectory()
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    let entry = ModelEntry.builtInDefault(path: smol.gguf!.path)
    let runner = ModelRunner(entry: entry, model: smol, weightsDigest: "0")
    let (secret, key) = APIKey.generate(name: "readme", scopes: [.inference])
    try store.insert(key)
    let service = MuseService(runners: [runner], store: store)
    try await buildApplication(service: service).test(.router) { c in
      let body =
        #"{"model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "What is the capital of France?"}]}"#
      for _ in 0..<10 {
        let r = try await c.call("/v1/chat/completions", method: .post, key: secret, json: body)
        let choice = (r.json["choices"] as? [[String: Any]])?.first
        let content = (choice?["message"] as? [String: Any])?["content"] as? String ?? ""
        #expect(content.contains("Paris"), "\(r.text)")
      }
      // The card says what a request that does not say gets.
      let card = try await c.call("/v1/models/smollm2-135m-instruct", key: secret).json
      let defaults = try #require(card["default_sampling"] as? [String: Any])
      #expect(defaults["temperature"] as? Double == 0 && defaults["max_tokens"] as? Int == 512)
    }
  }
}
