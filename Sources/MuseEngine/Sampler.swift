import Foundation
import MuseKernels

/// How the next token is chosen from the logits.
public struct SamplingParameters: Sendable, Equatable {
  /// 0 means greedy (argmax).
  public var temperature: Float = 0.8
  /// 0 disables.
  public var topK: Int = 40
  /// 1 disables.
  public var topP: Float = 0.95
  /// 0 disables.
  public var minP: Float = 0.05
  /// 1 disables. Applied to tokens seen in the last `repetitionWindow` tokens (CTRL, Keskar et al. 2019).
  public var repetitionPenalty: Float = 1.0
  public var repetitionWindow: Int = 64
  /// OpenAI's penalties, subtracted from a token's logit: `frequencyPenalty` times the number of
  /// times the completion so far holds it, plus `presencePenalty` once if it holds it at all.
  /// The prompt does not count. 0 disables.
  public var frequencyPenalty: Float = 0
  public var presencePenalty: Float = 0
  /// Added to the logits of these token ids (OpenAI's `logit_bias`; ±100 bans or forces).
  public var logitBias: [Int: Float] = [:]
  /// Same seed, same model, same prompt: same output.
  public var seed: UInt64?
  /// Keep generating through end-of-turn tokens until `maxTokens` or a stop sequence (vLLM's
  /// and llama-server's `ignore_eos`): benchmarks use it so every request has the same length.
  public var ignoreEOS = false

  public init(
    temperature: Float = 0.8, topK: Int = 40, topP: Float = 0.95, minP: Float = 0.05,
    repetitionPenalty: Float = 1.0, repetitionWindow: Int = 64, seed: UInt64? = nil
  ) {
    self.temperature = temperature
    self.topK = topK
    self.topP = topP
    self.minP = minP
    self.repetitionPenalty = repetitionPenalty
    self.repetitionWindow = repetitionWindow
    self.seed = seed
  }

  public static let greedy = SamplingParameters(temperature: 0, topK: 0, topP: 1, minP: 0)
}

/// A small, fast, seedable generator (SplitMix64 seeding xoshiro256**), so sampling is
/// reproducible across platforms, unlike the system generator.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
  private var s: (UInt64, UInt64, UInt64, UInt64)

  public init(seed: UInt64) {
    var x = seed
    func splitmix() -> UInt64 {
      x &+= 0x9E37_79B9_7F4A_7C15
      var z = x
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s = (splitmix(), splitmix(), splitmix(), splitmix())
  }

  public mutating func next() -> UInt64 {
    let result = ((s.1 &* 5) << 7 | (s.1 &* 5) >> 57) &* 9
    let t = s.1 << 17
    s.2 ^= s.0
    s.3 ^= s.1
    s.1 ^= s.2
    s.0 ^= s.3
    s.2 ^= t
    s.3 = s.3 << 45 | s.3 >> 19
    return result
  }

  /// Uniform in [0, 1).
  public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }
}

/// Picks tokens: logit bias → penalties → temperature → top-k → softmax → top-p → min-p → draw.
public struct Sampler: Sendable {
  public let parameters: SamplingParameters
  /// Where the completion starts in the histories `sample` is given (the prompt's length): the
  /// frequency and presence penalties count only what comes after.
  public let completionStart: Int
  private var generator: SeededGenerator
  /// How often each token occurs in the completion, over the first `counted` tokens after
  /// `completionStart` of the history last seen (a generation's history only grows, so each
  /// step adds its new tokens instead of counting the whole completion again).
  private var counts: [Int: Int] = [:]
  private var counted = 0

  public init(_ parameters: SamplingParameters, completionStart: Int = 0) {
    self.parameters = parameters
    self.completionStart = max(0, completionStart)
    generator = SeededGenerator(seed: parameters.seed ?? UInt64.random(in: 0...UInt64.max))
  }

  public mutating func sample(_ logits: [Float], history: [Int] = []) -> Int {
    var logits = logits
    applyBiasAndPenalties(to: &logits, history: history)
    let p = parameters
    if p.temperature <= 0 { return Self.argmax(logits) }
    for i in logits.indices { logits[i] /= p.temperature }
    // Candidates best first. Only as many as the filters can keep are ranked: a full sort of a
    // 49k vocabulary took ~4 ms per token, serially for every sequence of a batched step.
    let candidates: [Int]
    var probabilities: [Double]
    if p.topK > 0 && p.topK < logits.count {
      candidates = Self.best(p.topK, of: logits)
      let maxLogit = logits[candidates[0]]
      probabilities = candidates.map { exp(Double(logits[$0] - maxLogit)) }
      let total = probabilities.reduce(0, +)
      probabilities = probabilities.map { $0 / total }
    } else {
      let maxLogit = logits[Self.argmax(logits)]
      // One exp per logit, kept for the draw (the vocabulary's exps are most of the cost).
      var weights = [Float](repeating: 0, count: logits.count)
      let total = weights.withUnsafeMutableBufferPointer { out in
        expShifted(logits, minus: maxLogit, into: out.baseAddress!, count: logits.count)
      }
      if p.topP >= 1 && p.minP <= 0 {
        // Nothing is cut: draw from the whole softmax in id order, without ranking.
        var r = generator.nextUnit() * total
        for i in weights.indices {
          r -= Double(weights[i])
          if r < 0 { return i }
        }
        return Self.argmax(logits)
      }
      // Rank more until the nucleus or the min-p cut falls inside the ranked ones.
      var count = min(logits.count, 256)
      while true {
        let ranked = Self.best(count, of: logits)
        let ps = ranked.map { Double(weights[$0]) / total }
        let cumulative = ps.reduce(0, +)
        let threshold = Double(p.minP) * ps[0]
        if count == logits.count || (p.topP < 1 && cumulative >= Double(p.topP))
          || (p.minP > 0 && ps[count - 1] < threshold)
        {
          candidates = ranked
          probabilities = ps
          break
        }
        count = min(logits.count, count * 4)
      }
    }
    var keep = probabilities.count
    if p.topP < 1 {
      var cumulative = 0.0
      for (i, q) in probabilities.enumerated() {
        cumulative += q
        if cumulative >= Double(p.topP) {
          keep = i + 1
          break
        }
      }
    }
    if p.minP > 0 {
      let threshold = Double(p.minP) * probabilities[0]
      keep = min(keep, max(1, probabilities.prefix(keep).filter { $0 >= threshold }.count))
    }
    let kept = probabilities.prefix(keep)
    var r = generator.nextUnit() * kept.reduce(0, +)
    for (i, q) in kept.enumerated() {
      r -= q
      if r < 0 { return candidates[i] }
    }
    return candidates[keep - 1]
  }

  /// `logitBias`, the repetition penalty (over the last `repetitionWindow` tokens, prompt
  /// included, as llama.cpp's) and the frequency and presence penalties (over the completion).
  mutating func applyBiasAndPenalties(to logits: inout [Float], history: [Int]) {
    let p = parameters
    for (t, bias) in p.logitBias where logits.indices.contains(t) { logits[t] += bias }
    if p.repetitionPenalty != 1 {
      for t in Set(history.suffix(p.repetitionWindow)) where logits.indices.contains(t) {
        logits[t] = logits[t] > 0 ? logits[t] / p.repetitionPenalty : logits[t] * p.repetitionPenalty
      }
    }
    guard p.frequencyPenalty != 0 || p.presencePenalty != 0, history.count > completionStart else { return }
    if history.count < completionStart + counted {  // not the history counted so far
      counts = [:]
      counted = 0
    }
    for t in history[(completionStart + counted)...] { counts[t, default: 0] += 1 }
    counted = history.count - completionStart
    for (t, count) in counts where logits.indices.contains(t) {
      logits[t] -= Float(count) * p.frequencyPenalty + p.presencePenalty
    }
  }

  /// The ids of the `count` largest logits, best first (equal logits: lower id first), with a
  /// bounded min-heap: O(n log count) instead of sorting all n.
  static func best(_ count: Int, of logits: [Float]) -> [Int] {
    // a ranks above b.
    @inline(__always) func above(_ a: Int, _ b: Int) -> Bool {
      logits[a] > logits[b] || (logits[a] == logits[b] && a < b)
    }
    var heap: [Int] = []
    heap.reserveCapacity(count)
    func siftDown(_ start: Int) {
      var i = start
      while true {
        let l = 2 * i + 1
        let r = l + 1
        var worst = i
        if l < heap.count && above(heap[worst], heap[l]) { worst = l }
        if r < heap.count && above(heap[worst], heap[r]) { worst = r }
        if worst == i { return }
        heap.swapAt(i, worst)
        i = worst
      }
    }
    for id in logits.indices {
      if heap.count < count {
        heap.append(id)
        var i = heap.count - 1
        while i > 0 && above(heap[(i - 1) / 2], heap[i]) {
          heap.swapAt(i, (i - 1) / 2)
          i = (i - 1) / 2
        }
      } else if above(id, heap[0]) {
        heap[0] = id
        siftDown(0)
      }
    }
    return heap.sorted(by: above)
  }

  public static func argmax(_ logits: [Float]) -> Int {
    var best = 0
    for i in logits.indices where logits[i] > logits[best] { best = i }
    return best
  }
}
