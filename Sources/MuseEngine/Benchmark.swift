import Foundation
import MuseKernels
import MuseModels

/// Prefill and decode speed of one model at one thread count, as llama-bench measures them:
/// prefill runs `promptTokens` tokens in one pass; decode generates `generatedTokens` tokens one
/// at a time; both after `depth` positions already cached (llama-bench's `-d`: attention's cost
/// grows with the context).
public struct ThroughputSample: Sendable, Codable {
  public let threads: Int
  public let prefillTokensPerSecond: [Double]
  public let decodeTokensPerSecond: [Double]
}

extension LanguageModel {
  public func measureThroughput(
    threads: Int, promptTokens: Int, generatedTokens: Int, repetitions: Int, depth: Int = 0,
    kvCacheType: KVCacheType = .f32
  ) throws -> ThroughputSample {
    let pool = ThreadPool(threads: threads)
    let config = model.config
    var generator = SeededGenerator(seed: 1)
    let prompt = (0..<promptTokens).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
    let cache = KVCache(
      config: config, capacity: depth + max(promptTokens, generatedTokens, 8), type: kvCacheType)
    let clock = ContinuousClock()
    var prefill: [Double] = []
    var decode: [Double] = []
    // Untimed: the context (in passes of 512) and one pass that warms caches and pages in the
    // weights; the timed runs overwrite the positions after it.
    let context = (0..<depth).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
    for start in stride(from: 0, to: depth, by: 512) {
      _ = try model.forward(
        Array(context[start..<min(start + 512, depth)]), start: start, cache: cache, pool: pool)
    }
    _ = try model.forward(Array(prompt.prefix(8)), start: depth, cache: cache, pool: pool)
    for _ in 0..<repetitions {
      if promptTokens > 0 {
        let start = clock.now
        _ = try model.forward(prompt, start: depth, cache: cache, pool: pool)
        prefill.append(Double(promptTokens) / (clock.now - start).seconds)
      }
      if generatedTokens > 0 {
        var token = prompt.first ?? 0
        let start = clock.now
        for position in 0..<generatedTokens {
          let logits = try model.forward([token], start: depth + position, cache: cache, pool: pool)
          token = Sampler.argmax(logits)
        }
        decode.append(Double(generatedTokens) / (clock.now - start).seconds)
      }
    }
    return ThroughputSample(threads: threads, prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode)
  }
}
