import Foundation
import MuseEngine
import MuseTestSupport
import Testing

@testable import MuseServer

@Suite(.serialized)
struct CancellationTests {
  /// A consumer that stops listening (a client that went away) stops the generation at its
  /// next token, not at max_tokens.
  ///
  /// On a loaded CI machine the test task itself can be starved for tens of seconds (suites run
  /// in parallel on 2 cores), so the story may end on its own (end of turn) before the consumer
  /// has read its first pieces; such a run proves nothing and is tried again, up to 5 times.
  @Test func abandonedStreamStopsWithinOneToken() async throws {
    // A model of its own, with its own thread pool, so other suites' requests do not share it.
    let model = try LanguageModel(path: TestPaths.smolLM2(), threads: 1)
    let runner = ModelRunner(
      entry: ModelEntry(id: "smol", path: model.gguf!.path), model: model, weightsDigest: "0")
    let prompt = try runner.model.chatPrompt([
      .init(role: "user", content: "Write a long story about the sea.")
    ])
    for attempt in 1...5 {
      var received = 0
      do {
        let stream = runner.generate(
          prompt: prompt, maxTokens: 4000,
          sampling: SamplingParameters(temperature: 0.8, seed: UInt64(attempt)),
          stop: [])
        for try await event in stream {
          if case .text = event { received += 1 }
          if received == 3 { break }
        }
      }
      // The sequence ends at the scheduler's next step, on its own thread.
      let deadline = ContinuousClock.now + .seconds(60)
      while runner.activeSequences > 0 && runner.cancellationOverruns.isEmpty
        && ContinuousClock.now < deadline
      {
        try await Task.sleep(for: .milliseconds(20))
      }
      try await Task.sleep(for: .milliseconds(100))
      if !runner.cancellationOverruns.isEmpty { break }
    }
    #expect(runner.activeSequences == 0)
    #expect(runner.cancellationOverruns.count == 1, "the generation was never cancelled in 5 tries")
    #expect(runner.cancellationOverruns.allSatisfy { $0 <= 1 }, "\(runner.cancellationOverruns)")
  }
}
