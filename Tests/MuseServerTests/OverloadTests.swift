import Foundation
import Hummingbird
import HummingbirdTesting
import MuseEngine
import MuseModels
import MuseStore
import MuseTestSupport
import Testing

@testable import MuseServer

/// When a model's waiting queue is full the server answers 503 with Retry-After and an
/// OpenAI-shaped body, keeps running what it runs, and serves again once there is room.
@Suite(.serialized)
struct OverloadTests {
  @Test func fullQueueAnswers503WithRetryAfter() async throws {
    let dir = try TestPaths.temporaryDirectory()
    let store = try SQLiteStore(path: dir.appendingPathComponent("muse.sqlite").path)
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
    let runner = ModelRunner(
      entry: ModelEntry(id: "tiny", path: lm.gguf!.path, visibility: .open), model: lm,
      weightsDigest: "test", kvCacheBytes: 16 << 20, maxWaiting: 1, maxSequences: 1)
    let service = MuseService(runners: [runner], store: store)
    let (secret, key) = APIKey.generate(name: "test", scopes: [.inference])
    try store.insert(key)

    // Occupy the only sequence slot (its first piece holds the scheduler) and the only queue place.
    let gate = DispatchSemaphore(value: 0)
    let done = DispatchSemaphore(value: 0)
    let prompt = lm.tokenizer.encode("Once upon a time", addSpecial: true, parseSpecial: false)
    try runner.scheduler.submit(
      GenerationRequest(prompt: prompt, maxTokens: 3, sampling: .greedy, owner: "other"),
      onPiece: { _, _ in
        gate.wait()
        gate.signal()
        return true
      }, onFinish: { _ in done.signal() })
    while runner.activeSequences == 0 { try await Task.sleep(for: .milliseconds(1)) }
    try runner.scheduler.submit(
      GenerationRequest(prompt: prompt, maxTokens: 3, sampling: .greedy, owner: "other"),
      onPiece: { _, _ in true }, onFinish: { _ in done.signal() })

    let app = buildApplication(service: service)
    let body = #"{"model": "tiny", "prompt": "Hello", "max_tokens": 2}"#
    try await app.test(.router) { c in
      let refused = try await c.call("/v1/completions", method: .post, key: secret, json: body)
      #expect(refused.status == .serviceUnavailable)
      #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 >= 1)
      #expect(refused.error["code"] as? String == "model_overloaded")
      #expect(refused.error["type"] as? String == "server_error")
      #expect(refused.error["message"] as? String != nil)
      #expect(refused.error.keys.contains("param"))

      gate.signal()
      done.wait()
      done.wait()
      let served = try await c.call("/v1/completions", method: .post, key: secret, json: body)
      #expect(served.status == .ok)
    }
  }
}
