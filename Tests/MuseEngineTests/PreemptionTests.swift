import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

/// Blocks for generated tokens are taken as sequences grow; a pool too small for every
/// request's completion makes the latest arrivals give theirs back and re-prefill later. What
/// each request produces, and streams, must not change.
@Suite(.serialized)
struct PreemptionTests {
  /// Every request's pieces, in order, as the scheduler streamed them.
  final class Pieces: @unchecked Sendable {
    private let lock = NSLock()
    private var texts: [Int: String] = [:]

    func handler(_ index: Int) -> @Sendable (String, [TokenLogprob]) -> Bool {
      { piece, _ in
        self.lock.withLock { self.texts[index, default: ""] += piece }
        return true
      }
    }

    subscript(index: Int) -> String { lock.withLock { texts[index] ?? "" } }
  }

  static func run(_ lm: LanguageModel, prompts: [[Int]], maxTokens: Int, poolBlocks: Int) throws -> (
    tokens: [[Int]], pieces: Pieces, statistics: KVBlockPool.Statistics
  ) {
    let bytes =
      poolBlocks * KVBlockPool.bytesPerBlock(config: lm.model.config, blockSize: 16, type: lm.kvCacheType)
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: bytes))
    #expect(scheduler.pool.blockCount == poolBlocks)
    let collector = BatchCollector()
    let pieces = Pieces()
    var sampling = SamplingParameters.greedy
    sampling.ignoreEOS = true
    for (i, prompt) in prompts.enumerated() {
      try scheduler.submit(
        GenerationRequest(prompt: prompt, maxTokens: maxTokens, sampling: sampling, owner: "k\(i % 3)"),
        onPiece: pieces.handler(i), onFinish: collector.finish(i))
    }
    let results = try collector.wait(for: prompts.count)
    #expect(scheduler.pool.statistics.blocksInUse == 0)
    return ((0..<prompts.count).map { results[$0]?.tokens ?? [] }, pieces, scheduler.pool.statistics)
  }

  static func alone(_ lm: LanguageModel, prompts: [[Int]], maxTokens: Int) throws -> [[Int]] {
    var sampling = SamplingParameters.greedy
    sampling.ignoreEOS = true
    return try prompts.map { try lm.generate(prompt: $0, maxTokens: maxTokens, sampling: sampling).tokens }
  }

  /// Eight requests of 40 tokens whose completions need ~3× the pool: preemptions happen, and
  /// each request's tokens and streamed text equal what it produces alone.
  @Test(arguments: ["llama-q8_0", "olmoe-q4_0"])
  func preemptedRequestsMatchAlone(name: String) throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/\(name).gguf"), threads: 2)
    let prompts = batchPrompts(lm, count: 8)
    let maxTokens = 40
    let perRequest = prompts.map { ($0.count + maxTokens + 15) / 16 }
    let poolBlocks = perRequest.reduce(0, +) / 3
    #expect(poolBlocks >= perRequest.max()!, "one request alone must fit")
    let reference = try Self.alone(lm, prompts: prompts, maxTokens: maxTokens)
    let (tokens, pieces, statistics) = try Self.run(
      lm, prompts: prompts, maxTokens: maxTokens, poolBlocks: poolBlocks)
    #expect(statistics.preemptions > 0, "the pool should have run dry")
    for i in prompts.indices {
      #expect(tokens[i] == reference[i], "request \(i)")
      #expect(pieces[i] == lm.tokenizer.decode(reference[i]), "request \(i)'s stream")
    }
  }

  /// A pool that holds every completion: no preemption, and requests are admitted with blocks
  /// for their prompts only (the whole of it is not reserved up front).
  @Test func roomyPoolNeverPreempts() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 2)
    let prompts = batchPrompts(lm, count: 4)
    let poolBlocks = prompts.map { ($0.count + 24 + 15) / 16 }.reduce(0, +)
    let (tokens, _, statistics) = try Self.run(lm, prompts: prompts, maxTokens: 24, poolBlocks: poolBlocks)
    #expect(statistics.preemptions == 0)
    #expect(tokens == (try Self.alone(lm, prompts: prompts, maxTokens: 24)))
  }
}
