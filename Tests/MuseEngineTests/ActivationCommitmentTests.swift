import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// The activation commitment a generation carries (TOPLOC-style): recomputed by prefill it
/// matches what the scheduler committed while decoding, alone or batched; another quantization
/// of the same weights, another model or another prompt does not.
@Suite(.serialized)
struct ActivationCommitmentTests {
  static func generate(
    _ lm: LanguageModel, prompts: [[Int]], maxTokens: Int, kv: KVCacheType = .f32
  ) throws -> [GenerationResult] {
    lm.kvCacheType = kv
    var sampling = SamplingParameters.greedy
    sampling.ignoreEOS = true
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 64 << 20))
    let collector = BatchCollector()
    for (i, prompt) in prompts.enumerated() {
      var request = GenerationRequest(
        prompt: prompt, maxTokens: maxTokens, sampling: sampling)
      request.commitActivations = true
      try scheduler.submit(request, onPiece: { _, _ in true }, onFinish: collector.finish(i))
    }
    let results = try collector.wait(for: prompts.count)
    return (0..<prompts.count).map { results[$0]! }
  }

  static func model(_ name: String) throws -> LanguageModel {
    try LanguageModel(path: TestPaths.fixture("models/\(name).gguf"), threads: 2)
  }

  @Test func committedTokensEndEachChunkAndTheGeneration() {
    #expect(ActivationCommitment.committedTokens(count: 0) == [])
    #expect(ActivationCommitment.committedTokens(count: 1) == [0])
    #expect(ActivationCommitment.committedTokens(count: 32) == [31])
    #expect(ActivationCommitment.committedTokens(count: 33) == [31, 32])
    #expect(ActivationCommitment.committedTokens(count: 70) == [31, 63, 69])
  }

  @Test func recomputedByPrefillItMatchesAloneAndBatched() throws {
    let lm = try Self.model("llama-q8_0")
    let prompts = batchPrompts(lm, count: 4)
    let alone = try Self.generate(lm, prompts: [prompts[0]], maxTokens: 70)[0]
    let batched = try Self.generate(lm, prompts: prompts, maxTokens: 70)
    let commitment = try #require(alone.activations)
    #expect(commitment.tokens == 70 && commitment.chunks.count == 3)
    #expect(batched[0].activations == commitment, "batching changes no committed value")
    let rows = try lm.committedRows(prompt: prompts[0], generated: alone.tokens)
    let checks = try #require(commitment.check(rows: rows))
    #expect(checks.allSatisfy { $0.overlap == 1 && $0.relativeError < 1e-3 }, "\(checks)")
    #expect(try lm.activationCommitment(prompt: prompts[0], generated: alone.tokens) == commitment)
    for (i, result) in batched.enumerated() {
      let rows = try lm.committedRows(prompt: prompts[i], generated: result.tokens)
      #expect(result.activations!.check(rows: rows)!.allSatisfy { $0.passes })
    }
  }

  /// The pieces that run together in one pass give the rows each gives alone, bit for bit, however
  /// the passes are cut.
  @Test func piecesInOnePassGiveTheRowsOfOnePieceAtATime() throws {
    let lm = try Self.model("llama-q8_0")
    let prompt = batchPrompts(lm, count: 1)[0]
    let result = try Self.generate(lm, prompts: [prompt], maxTokens: 100, kv: .f16)[0]
    let alone = try lm.committedRows(prompt: prompt, generated: result.tokens, rowsPerPass: 1)
    #expect(alone.count == 4)
    for limit in [40, 70, 512] {
      #expect(try lm.committedRows(prompt: prompt, generated: result.tokens, rowsPerPass: limit) == alone)
    }
  }

  /// `muse serve` stores keys and values as f16: a verifier with an f32 cache still passes.
  @Test func anF16CacheStillPassesAnF32Recomputation() throws {
    let lm = try Self.model("llama-q8_0")
    let prompt = batchPrompts(lm, count: 1)[0]
    let result = try Self.generate(lm, prompts: [prompt], maxTokens: 40, kv: .f16)[0]
    let rows = try lm.committedRows(prompt: prompt, generated: result.tokens, kvCacheType: .f32)
    let checks = try #require(result.activations!.check(rows: rows))
    #expect(checks.allSatisfy { $0.passes }, "\(checks)")
  }

  @Test func anotherQuantizationModelOrPromptFails() throws {
    let lm = try Self.model("llama-q8_0")
    let prompt = batchPrompts(lm, count: 1)[0]
    let result = try Self.generate(lm, prompts: [prompt], maxTokens: 64)[0]
    let commitment = try #require(result.activations)
    for other in ["llama-q4_0", "llama-f16", "mixtral-q8_0"] {
      let rows = try Self.model(other).committedRows(prompt: prompt, generated: result.tokens)
      let checks = try #require(commitment.check(rows: rows))
      #expect(!checks.contains { $0.passes }, "\(other): \(checks)")
    }
    var otherPrompt = prompt
    otherPrompt[otherPrompt.count - 1] = (otherPrompt.last! + 1) % lm.config.vocabularySize
    let checks = try #require(
      commitment.check(rows: try lm.committedRows(prompt: otherPrompt, generated: result.tokens)))
    #expect(!checks.contains { $0.passes }, "another prompt: \(checks)")
  }

  @Test func encodedIsCompactAndReadsBack() throws {
    let lm = try Self.model("llama-q8_0")
    let result = try Self.generate(lm, prompts: batchPrompts(lm, count: 1), maxTokens: 33)[0]
    let commitment = try #require(result.activations)
    let bytes = commitment.encoded
    #expect(bytes.count == 12 + 2 * 256, "256 bytes per 32 tokens")
    #expect(ActivationCommitment(encoded: bytes) == commitment)
    #expect(ActivationCommitment(encoded: Array(bytes.dropLast())) == nil)
    var wrongVersion = bytes
    wrongVersion[0] = 9
    #expect(ActivationCommitment(encoded: wrongVersion) == nil)
    var wrongCount = bytes
    wrongCount[4] = 200
    #expect(ActivationCommitment(encoded: wrongCount) == nil)
    #expect(ActivationCommitment(encoded: []) == nil)
  }
}
