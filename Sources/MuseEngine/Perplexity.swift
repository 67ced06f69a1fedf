import Foundation
import MuseModels

/// Perplexity over a text the way llama.cpp's `llama-perplexity` measures it: the tokens are
/// cut into windows of `window` tokens; each window is run from an empty cache and only its
/// second half is scored, so every scored token sees at least `window / 2` tokens of context.
public struct PerplexityResult: Sendable {
  public let perplexity: Double
  public let scoredTokens: Int
  public let windows: Int
  public let seconds: Double
}

extension LanguageModel {
  public func perplexity(
    of text: String, window: Int = 512, maxWindows: Int? = nil, progress: ((Int, Int) -> Void)? = nil
  ) throws -> PerplexityResult {
    let tokens = tokenizer.encode(text, addSpecial: false, parseSpecial: false)
    let window = min(window, model.config.contextLength)
    guard window >= 4 else { throw ModelError.contextOverflow(tokens: 4, contextLength: window) }
    var count = tokens.count / window
    if let maxWindows { count = min(count, maxWindows) }
    guard count > 0 else { throw ModelError.contextOverflow(tokens: tokens.count, contextLength: window) }
    let cache = KVCache(config: model.config, capacity: window)
    let vocabulary = model.config.vocabularySize
    var nll = 0.0
    var scored = 0
    let clock = ContinuousClock()
    let start = clock.now
    for w in 0..<count {
      let chunk = Array(tokens[w * window..<(w + 1) * window])
      let logits = try model.forward(chunk, start: 0, cache: cache, pool: pool, allLogits: true)
      for position in (window / 2)..<(window - 1) {
        let row = logits[(position * vocabulary)..<((position + 1) * vocabulary)]
        let maxLogit = row.max()!
        let logSum = Double(maxLogit) + log(row.reduce(0.0) { $0 + exp(Double($1 - maxLogit)) })
        nll += logSum - Double(row[row.startIndex + chunk[position + 1]])
        scored += 1
      }
      progress?(w + 1, count)
    }
    return PerplexityResult(
      perplexity: exp(nll / Double(scored)), scoredTokens: scored, windows: count,
      seconds: (clock.now - start).seconds)
  }
}
