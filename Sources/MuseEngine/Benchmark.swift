import Foundation
import MuseKernels
import MuseModels

/// Prefill and decode speed of one model at one thread count, as llama-bench measures them:
/// prefill runs `promptTokens` tokens in one pass; decode generates `generatedTokens` tokens one
/// at a time; both after `depth` positions already cached (llama-bench's `-d`: attention's cost
/// grows with the context). With `batch` > 1, as llama-batched-bench: that many sequences, each
/// in its own cache, prefilled in one pass and decoded in lockstep, one batched pass per step
/// (the scheduler's step without the server); the rates are the batch's aggregate.
public struct ThroughputSample: Sendable, Codable {
  public let threads: Int
  public let batch: Int
  public let prefillTokensPerSecond: [Double]
  public let decodeTokensPerSecond: [Double]
}

extension LanguageModel {
  public func measureThroughput(
    threads: Int, promptTokens: Int, generatedTokens: Int, repetitions: Int, depth: Int = 0,
    kvCacheType: KVCacheType = .f32, batch: Int = 1
  ) throws -> ThroughputSample {
    precondition(batch > 0)
    let pool = ThreadPool(threads: threads)
    let config = model.config
    var generator = SeededGenerator(seed: 1)
    func tokens(_ count: Int) -> [Int] {
      (0..<count).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
    }
    let prompts = (0..<batch).map { _ in tokens(promptTokens) }
    let caches = (0..<batch).map { _ in
      KVCache(config: config, capacity: depth + max(promptTokens, generatedTokens, 8), type: kvCacheType)
    }
    /// One pass over every sequence's `tokens[i]` from `start`; the last row's logits of each.
    func pass(_ tokens: [[Int]], start: Int) throws -> [[Float]] {
      guard batch > 1 else {
        return [try model.forward(tokens[0], start: start, cache: caches[0], pool: pool)]
      }
      return try model.forward(
        batch: zip(tokens, caches).map { BatchSegment(tokens: $0, start: start, cache: $1) }, pool: pool)
    }
    let clock = ContinuousClock()
    var prefill: [Double] = []
    var decode: [Double] = []
    // Untimed: the context (in passes of 512) and one pass that warms caches and pages in the
    // weights; the timed runs overwrite the positions after it.
    let contexts = (0..<batch).map { _ in tokens(depth) }
    for start in stride(from: 0, to: depth, by: 512) {
      _ = try pass(contexts.map { Array($0[start..<min(start + 512, depth)]) }, start: start)
    }
    _ = try pass(prompts.map { Array(($0.isEmpty ? [0] : $0).prefix(8)) }, start: depth)
    for _ in 0..<repetitions {
      if promptTokens > 0 {
        let start = clock.now
        _ = try pass(prompts, start: depth)
        prefill.append(Double(batch * promptTokens) / (clock.now - start).seconds)
      }
      if generatedTokens > 0 {
        var next = prompts.map { [$0.first ?? 0] }
        let start = clock.now
        for position in 0..<generatedTokens {
          next = try pass(next, start: depth + position).map { [Sampler.argmax($0)] }
        }
        decode.append(Double(batch * generatedTokens) / (clock.now - start).seconds)
      }
    }
    return ThroughputSample(
      threads: threads, batch: batch, prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode)
  }
}
