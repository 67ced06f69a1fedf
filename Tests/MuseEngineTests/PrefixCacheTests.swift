import Foundation
import MuseKernels
import MuseModels
import MuseTestSupport
import Testing

@testable import MuseEngine

@Suite(.serialized)
struct PrefixCacheTests {
  /// A second request with the same long prompt reuses its full blocks, prefills only the rest,
  /// and generates exactly what the first did (and what the model gives alone).
  @Test func repeatedPromptHitsTheCacheAndGivesTheSameTokens() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 2)
    let prompt = Array(
      batchPrompts(lm, count: 10).joined().prefix(min(50, lm.model.config.contextLength - 12)))
    let alone = try lm.generate(prompt: prompt, maxTokens: 8, sampling: .greedy).tokens
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 16 << 20))
    var outputs: [[Int]] = []
    for i in 0..<2 {
      let collector = BatchCollector()
      try scheduler.submit(
        GenerationRequest(prompt: prompt, maxTokens: 8, sampling: .greedy), onPiece: { _, _ in true },
        onFinish: collector.finish(i))
      outputs.append(try collector.wait(for: 1)[i]?.tokens ?? [])
    }
    let stats = scheduler.pool.statistics
    let reusable = (prompt.count - 1) / 16 * 16
    #expect(reusable >= 32)
    #expect(stats.prefixHitTokens == reusable)
    #expect(stats.prefixMissTokens == prompt.count + (prompt.count - reusable))
    #expect(outputs[0] == alone && outputs[1] == alone)
    #expect(stats.blocksInUse == 0)
  }

  /// Prompts sharing only a first block reuse that block and nothing after the divergence.
  @Test func divergingPromptsReuseOnlyTheSharedBlocks() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 2)
    let base = Array(batchPrompts(lm, count: 10).joined().prefix(40))
    var other = base
    other[20] = (other[20] + 1) % lm.model.config.vocabularySize
    let scheduler = try BatchScheduler(model: lm, configuration: .init(kvCacheBytes: 16 << 20))
    var outputs: [[Int]] = []
    for (i, prompt) in [base, other].enumerated() {
      let collector = BatchCollector()
      try scheduler.submit(
        GenerationRequest(prompt: prompt, maxTokens: 6, sampling: .greedy), onPiece: { _, _ in true },
        onFinish: collector.finish(i))
      outputs.append(try collector.wait(for: 1)[i]?.tokens ?? [])
    }
    #expect(scheduler.pool.statistics.prefixHitTokens == 16)
    #expect(outputs[1] == (try lm.generate(prompt: other, maxTokens: 6, sampling: .greedy).tokens))
  }

  /// When the pool is full of cached blocks nobody holds, new sequences evict the oldest.
  @Test func unreferencedCachedBlocksAreEvictedOldestFirst() throws {
    let lm = try LanguageModel(path: TestPaths.fixture("models/llama-q8_0.gguf"), threads: 1)
    let config = lm.model.config
    let pool = try KVBlockPool(
      config: config, blockSize: 16, bytes: 3 * KVBlockPool.bytesPerBlock(config: config, blockSize: 16))
    let keys = PrefixKey.chain(of: Array(0..<48), blockSize: 16, limit: 3)
    let blocks = try #require(pool.allocate(3))
    for (block, key) in zip(blocks, keys) { pool.register(block, key: key) }
    pool.release([blocks[0]])
    pool.release([blocks[2]])
    pool.release([blocks[1]])
    #expect(pool.statistics.blocksInUse == 0)
    // Two new blocks take the two released first (blocks 0 and 2); block 1 stays cached.
    let fresh = try #require(pool.allocate(2))
    #expect(Set(fresh) == [blocks[0], blocks[2]])
    #expect(pool.retainPrefix(keys).isEmpty, "block 0's entry was evicted, so the chain starts with a miss")
    #expect(pool.retainPrefix([keys[1]]) == [blocks[1]])
    #expect(pool.allocate(1) == nil)
  }
}
