import Foundation
import MuseEngine
import MuseTestSupport
import Testing

@testable import MuseServer

@Suite(.serialized)
struct CancellationTests {
  /// A consumer that stops listening (a client that went away) stops the generation at its
  /// next token, not at max_tokens. max_tokens is far beyond what can be generated while a
  /// starved test task waits to read its first pieces (CI runs suites in parallel on 2 cores),
  /// so the generation is still running when the consumer leaves.
  @Test func abandonedStreamStopsWithinOneToken() async throws {
    let h = try ServerHarness()
    let runner = try #require(h.service.models["smol"])
    let prompt = try runner.model.chatPrompt([
      .init(role: "user", content: "Write a long story about the sea.")
    ])
    var received = 0
    do {
      let stream = runner.generate(
        prompt: prompt, maxTokens: 4000, sampling: SamplingParameters(temperature: 0.8, seed: 1), stop: [])
      for try await event in stream {
        if case .text = event { received += 1 }
        if received == 3 { break }
      }
    }
    // The scheduler retires a cancelled sequence before its next step, so by the time this
    // request (admitted after the cancellation) has finished, the cancelled one is over.
    for try await _ in runner.generate(prompt: prompt, maxTokens: 1, sampling: .greedy, stop: []) {}
    #expect(runner.activeSequences == 0)
    #expect(runner.cancellationOverruns.count == 1, "the generation was not cancelled")
    #expect(runner.cancellationOverruns.allSatisfy { $0 <= 1 }, "\(runner.cancellationOverruns)")
  }
}
