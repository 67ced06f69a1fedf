import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// Batching must not change what a request produces: the reference is the single-sequence
/// generate (itself checked against numpy and transformers by the golden tests), run alone.
@Suite(.serialized)
struct BatchSchedulerEquivalenceTests {
  static func model(_ path: String) throws -> LanguageModel {
    try LanguageModel(path: path, threads: 2)
  }

  /// Submits every prompt at once and returns each request's generated tokens.
  static func batched(
    _ lm: LanguageModel, prompts: [[Int]], maxTokens: Int, configuration: BatchScheduler.Configuration
  ) throws -> ([[Int]], BatchScheduler) {
    let scheduler = try BatchScheduler(model: lm, configuration: configuration)
    let collector = BatchCollector()
    for (i, prompt) in prompts.enumerated() {
      try scheduler.submit(
        GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: .greedy, owner: "k\(i % 3)"),
        onPiece: { _, _ in true }, onFinish: collector.finish(i))
    }
    let results = try collector.wait(for: prompts.count)
    return ((0..<prompts.count).map { results[$0]?.tokens ?? [] }, scheduler)
  }

  static func alone(_ lm: LanguageModel, prompts: [[Int]], maxTokens: Int) throws -> [[Int]] {
    try prompts.map { try lm.generate(prompt: $0, maxTokens: maxTokens, sampling: .greedy).tokens }
  }

  static let smallPool = BatchScheduler.Configuration(kvCacheBytes: 64 << 20)

  @Test(arguments: ["llama-q8_0", "olmoe-q4_0", "qwen3moe-q4_k_m"])
  func eightConcurrentRequestsMatchAloneOnFixtures(name: String) throws {
    let lm = try Self.model(TestPaths.fixture("models/\(name).gguf"))
    let prompts = batchPrompts(lm, count: 8)
    let reference = try Self.alone(lm, prompts: prompts, maxTokens: 12)
    let (tokens, scheduler) = try Self.batched(
      lm, prompts: prompts, maxTokens: 12, configuration: Self.smallPool)
    #expect(tokens == reference)
    #expect(reference.contains { $0.count > 3 }, "the fixture should generate more than a token or two")
    #expect(scheduler.pool.statistics.blocksInUse == 0)
  }

  /// With either KV cache type (`muse serve` stores f16): the reference runs alone with the same.
  @Test(arguments: KVCacheType.allCases)
  func eightConcurrentRequestsMatchAloneOnSmolLM2(type: KVCacheType) throws {
    let lm = try Self.model(try TestPaths.smolLM2())
    lm.kvCacheType = type
    let questions = [
      "Name a fruit.", "What is 2+2?", "Say hi.", "Describe the sea in one sentence.", "Who wrote Hamlet?",
      "Count to five.", "What colour is the sky?", "Give me a word that rhymes with cat.",
    ]
    let prompts = try questions.map { try lm.chatPrompt([.init(role: "user", content: $0)]) }
    let reference = try Self.alone(lm, prompts: prompts, maxTokens: 16)
    let (tokens, _) = try Self.batched(lm, prompts: prompts, maxTokens: 16, configuration: Self.smallPool)
    for i in prompts.indices {
      #expect(
        tokens[i] == reference[i],
        "request \(i): \(lm.tokenizer.decode(tokens[i])) vs \(lm.tokenizer.decode(reference[i]))")
    }
  }

  /// A step budget smaller than the prompts: prompts prefill in chunks across steps while
  /// other sequences decode, and still give the same tokens.
  @Test func chunkedPrefillMatchesOneShot() throws {
    let lm = try Self.model(TestPaths.fixture("models/olmoe-q8_0.gguf"))
    let prompts = batchPrompts(lm, count: 6)
    let reference = try Self.alone(lm, prompts: prompts, maxTokens: 10)
    var configuration = Self.smallPool
    configuration.tokenBudget = 5
    let (tokens, _) = try Self.batched(lm, prompts: prompts, maxTokens: 10, configuration: configuration)
    #expect(tokens == reference)
  }

  /// A prompt run in chunks of 7 through paged blocks, and run at once through a contiguous
  /// cache: the last position's logits.
  static func chunkedAndOneShot(_ name: String) throws -> (chunked: [Float], oneShot: [Float]) {
    let lm = try Self.model(TestPaths.fixture("models/\(name).gguf"))
    let config = lm.model.config
    let prompt = Array(batchPrompts(lm, count: 10).joined().prefix(min(45, config.contextLength - 1)))
    let contiguous = KVCache(config: config, capacity: prompt.count)
    let oneShot = try lm.model.forward(prompt, start: 0, cache: contiguous, pool: lm.pool)
    let pool = try KVBlockPool(config: config, blockSize: 16, bytes: 8 << 20)
    let blocks = try #require(pool.allocate((prompt.count + 15) / 16))
    let paged = PagedKVCache(pool: pool, blocks: blocks)
    var last: [Float] = []
    var start = 0
    while start < prompt.count {
      let end = min(start + 7, prompt.count)
      let segment = BatchSegment(
        tokens: Array(prompt[start..<end]), start: start, cache: paged,
        logits: end == prompt.count ? .last : .none)
      last = try lm.model.forward(batch: [segment], pool: lm.pool)[0]
      start = end
    }
    return (last, oneShot)
  }

  /// MuseKernels' matmul is batch-invariant (a row's result does not depend on how many rows
  /// share the call), so chunked paged prefill equals one-shot bit for bit — also in quantized
  /// MoE layers, where an expert can receive one token in one run and several in the other.
  @Test(arguments: [
    "llama-q4_0", "llama-q8_0", "llama-q4_k_m", "llama-f32", "qwen3moe-f32", "olmoe-f32", "olmoe-q8_0",
    "qwen3moe-q4_0", "qwen2moe-q8_0", "mixtral-q8_0",
  ])
  func chunkedPagedLogitsEqualOneShotBitwise(name: String) throws {
    let (chunked, oneShot) = try Self.chunkedAndOneShot(name)
    let difference = zip(chunked, oneShot).map { abs($0 - $1) }.max() ?? 0
    #expect(chunked == oneShot, "largest difference \(difference)")
  }
}
