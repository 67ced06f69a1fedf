import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// Audit mode: a seeded, sampled request gives the same tokens, and commits to the same
/// activations, on one thread alone as on two threads batched with others (same build, same
/// kernel level). The e2e suite checks the same through the API (test_12_determinism.py).
@Suite(.serialized)
struct DeterminismTests {
  static func run(_ lm: LanguageModel, prompts: [[Int]]) throws -> [GenerationResult] {
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 64 << 20))
    let collector = BatchCollector()
    for (i, prompt) in prompts.enumerated() {
      var sampling = SamplingParameters(temperature: 0.9, seed: 42 + UInt64(i))
      sampling.ignoreEOS = true
      var request = GenerationRequest(prompt: prompt, maxTokens: 40, sampling: sampling)
      request.commitActivations = true
      try scheduler.submit(request, onPiece: { _, _ in true }, onFinish: collector.finish(i))
    }
    let results = try collector.wait(for: prompts.count)
    return (0..<prompts.count).map { results[$0]! }
  }

  @Test func seededRequestsAreTheSameAloneOnOneThreadAndBatchedOnTwo() throws {
    let path = try TestPaths.smolLM2()
    let one = try LanguageModel(path: path, threads: 1)
    let two = try LanguageModel(path: path, threads: 2)
    for lm in [one, two] { lm.kvCacheType = .f16 }
    let prompts = batchPrompts(one, count: 4)
    // Request i has seed 42 + i: the first alone on one thread, then all four batched on two.
    let alone = try Self.run(one, prompts: [prompts[0]])[0]
    let batched = try Self.run(two, prompts: prompts)
    #expect(batched[0].tokens == alone.tokens)
    #expect(batched[0].activations == alone.activations)
    let reference = try Self.run(one, prompts: prompts)
    #expect(reference.map(\.tokens) == batched.map(\.tokens))
    #expect(reference.map(\.activations) == batched.map(\.activations))
    #expect(Set(batched.map(\.tokens)).count == 4, "the prompts and seeds give different samples")
  }
}
