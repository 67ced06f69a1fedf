import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// A scored prompt (`echo` with `logprobs`) gets its log-probabilities from the prefill's own
/// rows, the same whatever else shares the steps and however the prompt is chunked; the end
/// of sequence keeps its entry.
@Suite(.serialized)
struct PromptScoringTests {
  static let lm = try? LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 2)

  /// Row i of one contiguous forward over the prompt, log-softmaxed at token i + 1.
  static func reference(_ lm: LanguageModel, _ prompt: [Int], top: Int) throws -> [TokenLogprob] {
    let cache = KVCache(config: lm.config, capacity: prompt.count)
    let rows = try lm.model.forward(prompt, start: 0, cache: cache, pool: lm.pool, allLogits: true)
    let v = lm.config.vocabularySize
    return (1..<prompt.count).map { i in
      TokenLogprob.compute(logits: Array(rows[(i - 1) * v..<i * v]), chosen: prompt[i], top: top) {
        lm.tokenizer.tokenBytes($0)
      }
    }
  }

  static func scored(
    _ lm: LanguageModel, prompts: [[Int]], score: Set<Int>, maxTokens: Int, tokenBudget: Int
  ) throws -> ([Int: GenerationResult], [Int: [TokenLogprob]]) {
    let scheduler = try BatchScheduler(
      model: lm, configuration: .init(kvCacheBytes: 64 << 20, tokenBudget: tokenBudget))
    let collector = BatchCollector()
    var boxes: [Int: PromptScores] = [:]
    for (i, prompt) in prompts.enumerated() {
      var request = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: .greedy, logprobs: 3)
      if score.contains(i) {
        boxes[i] = PromptScores()
        request.promptScores = boxes[i]
      }
      try scheduler.submit(request, onPiece: { _, _ in true }, onFinish: collector.finish(i))
    }
    let results = try collector.wait(for: prompts.count)
    #expect(scheduler.pool.statistics.blocksInUse == 0)
    return (results, boxes.mapValues { $0.logprobs ?? [] })
  }

  @Test func scoresAreTheContiguousForwardsWhateverTheBatch() throws {
    let lm = try #require(Self.lm)
    let prompts = batchPrompts(lm, count: 4).map { Array(($0 + $0 + $0).prefix(40)) }
    let reference = try Self.reference(lm, prompts[0], top: 3)
    #expect(reference.count == prompts[0].count - 1)
    // Alone in one chunk; then chunked by 16 beside three generating sequences.
    let (alone, aloneScores) = try Self.scored(
      lm, prompts: [prompts[0]], score: [0], maxTokens: 4, tokenBudget: 256)
    let (batched, batchedScores) = try Self.scored(
      lm, prompts: prompts, score: [0, 2], maxTokens: 4, tokenBudget: 16)
    #expect(aloneScores[0] == reference)
    #expect(batchedScores[0] == reference)
    #expect(batchedScores[2] == (try Self.reference(lm, prompts[2], top: 3)))
    // Scoring leaves the generation as it was.
    #expect(alone[0]?.tokens == batched[0]?.tokens)
    let plain = try lm.generate(prompt: prompts[0], maxTokens: 4, sampling: .greedy)
    #expect(alone[0]?.tokens == plain.tokens)
  }

  @Test func maxTokensZeroScoresWithoutGenerating() throws {
    let lm = try #require(Self.lm)
    let prompt = batchPrompts(lm, count: 1)[0]
    let (results, scores) = try Self.scored(lm, prompts: [prompt], score: [0], maxTokens: 0, tokenBudget: 256)
    #expect(results[0]?.tokens == [] && results[0]?.finishReason == .length)
    #expect(scores[0] == (try Self.reference(lm, prompt, top: 3)))
  }

  /// A cached prefix has no logits to give: a scored prompt is prefilled in full.
  @Test func aCachedPrefixIsScoredAgain() throws {
    let lm = try #require(Self.lm)
    let prompt = Array((batchPrompts(lm, count: 1)[0] + Array(repeating: 5, count: 40)).prefix(40))
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 64 << 20))
    let collector = BatchCollector()
    try scheduler.submit(
      GenerationRequest(prompt: prompt, maxTokens: 1, sampling: .greedy), onPiece: { _, _ in true },
      onFinish: collector.finish(0))
    _ = try collector.wait(for: 1)
    let box = PromptScores()
    var request = GenerationRequest(prompt: prompt, maxTokens: 1, sampling: .greedy, logprobs: 2)
    request.promptScores = box
    try scheduler.submit(request, onPiece: { _, _ in true }, onFinish: collector.finish(1))
    _ = try collector.wait(for: 1)
    #expect(box.logprobs == (try Self.reference(lm, prompt, top: 2)))
  }

  /// A pool too small for every completion, prompts prefilled in chunks of 16: scored requests
  /// are preempted (one preempted before its prompt is done scores it again from the start),
  /// and their scores and tokens are what they are alone.
  @Test func preemptedScoredRequestsKeepTheirScores() throws {
    let lm = try #require(Self.lm)
    let prompts = batchPrompts(lm, count: 8).map { Array(($0 + $0 + $0 + $0).prefix(40)) }
    let maxTokens = 40
    let perRequest = prompts.map { ($0.count + maxTokens + 15) / 16 }
    let blocks = perRequest.reduce(0, +) / 3
    let bytes =
      blocks * KVBlockPool.bytesPerBlock(config: lm.model.config, blockSize: 16, type: lm.kvCacheType)
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: bytes, tokenBudget: 16))
    let collector = BatchCollector()
    var sampling = SamplingParameters.greedy
    sampling.ignoreEOS = true
    let boxes = prompts.map { _ in PromptScores() }
    for (i, prompt) in prompts.enumerated() {
      var request = GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling, logprobs: 2)
      request.promptScores = boxes[i]
      try scheduler.submit(request, onPiece: { _, _ in true }, onFinish: collector.finish(i))
    }
    let results = try collector.wait(for: prompts.count)
    #expect(scheduler.pool.statistics.preemptions > 0, "the pool should have run dry")
    #expect(scheduler.pool.statistics.blocksInUse == 0)
    for i in prompts.indices {
      #expect(boxes[i].logprobs == (try Self.reference(lm, prompts[i], top: 2)), "request \(i)")
      let alone = try lm.generate(prompt: prompts[i], maxTokens: maxTokens, sampling: sampling)
      #expect(results[i]?.tokens == alone.tokens, "request \(i)")
    }
  }

  @Test func theEndOfSequenceKeepsItsEntry() throws {
    let lm = try #require(Self.lm)
    let eos = try #require(lm.tokenizer.eosToken)
    var state = try GenerationState(
      prompt: [1, 2], maxTokens: 8, sampling: .greedy, stop: [], logprobs: 2, tokenizer: lm.tokenizer,
      contextLength: 64)
    var logits = [Float](repeating: 0, count: lm.config.vocabularySize)
    logits[eos] = 20
    logits[7] = 19
    var pieces: [[TokenLogprob]] = []
    let more = state.accept(logits) { _, lps in
      pieces.append(lps)
      return true
    }
    #expect(!more)
    let result = state.finish(prefillSeconds: 0, decodeSeconds: 0) { _, _ in true }
    #expect(result.finishReason == .stop && result.tokens.isEmpty)
    let entry = try #require(result.endLogprob)
    #expect(result.logprobs.isEmpty && pieces.isEmpty && entry.id == eos)
    #expect(entry.top.map(\.id) == [eos, 7] && entry.logprob < 0 && entry.logprob > -1)
  }
}
