import Foundation
import MuseKernels
import MuseModels

/// Prefill and decode speed of one model at one thread count, as llama-bench measures them:
/// prefill runs `promptTokens` tokens in one pass from an empty cache; decode generates
/// `generatedTokens` tokens one at a time from an empty cache.
public struct ThroughputSample: Sendable, Codable {
  public let threads: Int
  public let prefillTokensPerSecond: [Double]
  public let decodeTokensPerSecond: [Double]
}

extension LanguageModel {
  public func measureThroughput(
    threads: Int, promptTokens: Int, generatedTokens: Int, repetitions: Int
  ) throws -> ThroughputSample {
    let pool = ThreadPool(threads: threads)
    let config = model.config
    var generator = SeededGenerator(seed: 1)
    let prompt = (0..<promptTokens).map { _ in Int(generator.next() % UInt64(config.vocabularySize)) }
    let cache = KVCache(config: config, capacity: max(promptTokens, generatedTokens))
    let clock = ContinuousClock()
    var prefill: [Double] = []
    var decode: [Double] = []
    // One untimed pass warms caches and pages in the weights.
    _ = try model.forward(Array(prompt.prefix(8)), start: 0, cache: cache, pool: pool)
    for _ in 0..<repetitions {
      if promptTokens > 0 {
        let start = clock.now
        _ = try model.forward(prompt, start: 0, cache: cache, pool: pool)
        prefill.append(Double(promptTokens) / (clock.now - start).seconds)
      }
      if generatedTokens > 0 {
        var token = prompt.first ?? 0
        let start = clock.now
        for position in 0..<generatedTokens {
          let logits = try model.forward([token], start: position, cache: cache, pool: pool)
          token = Sampler.argmax(logits)
        }
        decode.append(Double(generatedTokens) / (clock.now - start).seconds)
      }
    }
    return ThroughputSample(threads: threads, prefillTokensPerSecond: prefill, decodeTokensPerSecond: decode)
  }
}
