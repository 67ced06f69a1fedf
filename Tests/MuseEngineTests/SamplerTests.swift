import Foundation
import Testing

@testable import MuseEngine

struct SamplerTests {
  let logits: [Float] = [1.0, 3.0, 2.5, -1.0, 0.5, 2.9]

  func histogram(_ p: SamplingParameters, draws: Int = 4000, history: [Int] = []) -> [Int: Int] {
    var sampler = Sampler(p)
    var counts: [Int: Int] = [:]
    for _ in 0..<draws { counts[sampler.sample(logits, history: history), default: 0] += 1 }
    return counts
  }

  /// The bounded-heap ranking equals a full sort (ties: lower id first) on a vocabulary-sized
  /// input with many ties, for several counts.
  @Test func bestEqualsTheFullSortPrefix() {
    var generator = SeededGenerator(seed: 9)
    let big = (0..<49_152).map { _ in Float(Int(generator.next() % 2000)) / 100 }
    let sorted = big.indices.sorted { big[$0] > big[$1] || (big[$0] == big[$1] && $0 < $1) }
    for count in [1, 40, 256, 1000] {
      #expect(Sampler.best(count, of: big) == Array(sorted.prefix(count)), "count \(count)")
    }
  }

  /// With top-k on a large vocabulary, the same seed draws exactly what ranking every token
  /// (the straightforward algorithm, written out here) draws.
  @Test func topKDrawsEqualTheFullSortAlgorithm() {
    var generator = SeededGenerator(seed: 10)
    let big = (0..<5000).map { _ in Float(Int(generator.next() % 3000)) / 300 }
    for (k, topP, minP) in [(40, Float(0.95), Float(0.05)), (5, 1, 0), (100, 0.5, 0)] {
      let p = SamplingParameters(temperature: 0.8, topK: k, topP: topP, minP: minP, seed: 11)
      var fast = Sampler(p)
      var draw = SeededGenerator(seed: 11)
      for _ in 0..<200 {
        var c = big.indices.map { (id: $0, logit: big[$0] / 0.8) }
        c.sort { $0.logit > $1.logit || ($0.logit == $1.logit && $0.id < $1.id) }
        c.removeSubrange(k...)
        var ps = c.map { exp(Double($0.logit - c[0].logit)) }
        let total = ps.reduce(0, +)
        ps = ps.map { $0 / total }
        var keep = ps.count
        if topP < 1 {
          var cumulative = 0.0
          for (i, q) in ps.enumerated() {
            cumulative += q
            if cumulative >= Double(topP) {
              keep = i + 1
              break
            }
          }
        }
        if minP > 0 { keep = min(keep, max(1, ps.prefix(keep).filter { $0 >= Double(minP) * ps[0] }.count)) }
        var r = draw.nextUnit() * ps.prefix(keep).reduce(0, +)
        var expected = c[keep - 1].id
        for (i, q) in ps.prefix(keep).enumerated() {
          r -= q
          if r < 0 {
            expected = c[i].id
            break
          }
        }
        #expect(fast.sample(big) == expected, "k \(k)")
      }
    }
  }

  @Test func greedyPicksTheArgmaxAndLowestIndexOnTies() {
    var s = Sampler(.greedy)
    #expect(s.sample(logits) == 1)
    #expect(Sampler.argmax([0, 2, 2, 1]) == 1)
  }

  @Test func sameSeedSameDraws() {
    let p = SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 42)
    var a = Sampler(p)
    var b = Sampler(p)
    let da = (0..<100).map { _ in a.sample(logits) }
    let db = (0..<100).map { _ in b.sample(logits) }
    #expect(da == db)
    var c = Sampler(SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 43))
    #expect((0..<100).map { _ in c.sample(logits) } != da)
  }

  @Test func temperatureOneFollowsTheSoftmax() {
    let counts = histogram(
      SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 7), draws: 20000)
    let z = logits.map { exp(Double($0)) }.reduce(0, +)
    for (i, l) in logits.enumerated() {
      let expected = exp(Double(l)) / z
      let observed = Double(counts[i, default: 0]) / 20000
      #expect(abs(observed - expected) < 0.015, "token \(i): \(observed) vs \(expected)")
    }
  }

  @Test func topKKeepsOnlyTheKBest() {
    let counts = histogram(SamplingParameters(temperature: 1, topK: 2, topP: 1, minP: 0, seed: 1))
    #expect(Set(counts.keys) == [1, 5])
  }

  @Test func topPKeepsTheSmallestNucleus() {
    // Probabilities (T=1): token 1 ≈ .37, 5 ≈ .33, 2 ≈ .22: a 0.6 nucleus needs tokens 1 and 5.
    let counts = histogram(SamplingParameters(temperature: 1, topK: 0, topP: 0.6, minP: 0, seed: 1))
    #expect(Set(counts.keys) == [1, 5])
  }

  @Test func minPDropsTokensFarBelowTheBest() {
    // p(2)/p(1) = e^-0.5 ≈ 0.61, p(0)/p(1) = e^-2 ≈ 0.14: min-p 0.5 keeps 1, 5, 2.
    let counts = histogram(SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0.5, seed: 1))
    #expect(Set(counts.keys) == [1, 2, 5])
  }

  @Test func lowTemperatureConcentratesOnTheBest() {
    // At T = 0.05 the 0.1 gap between tokens 1 and 5 becomes 2 nats: p(1) = 1 / (1 + e^-2) ≈ 0.881.
    let counts = histogram(SamplingParameters(temperature: 0.05, topK: 0, topP: 1, minP: 0, seed: 3))
    #expect(abs(Double(counts[1, default: 0]) / 4000 - 0.881) < 0.02)
    #expect(Set(counts.keys) == [1, 5])
  }

  @Test func repetitionPenaltyDemotesSeenTokens() {
    var s = Sampler(SamplingParameters(temperature: 0, repetitionPenalty: 2))
    // 3.0 / 2 = 1.5 < 2.9: token 1 loses to token 5 once it has been seen.
    #expect(s.sample(logits, history: [1]) == 5)
    // Negative logits are multiplied, so a seen negative token gets less likely too.
    var t = Sampler(SamplingParameters(temperature: 0, repetitionPenalty: 2))
    #expect(t.sample([-1, -0.6], history: [1]) == 0)
  }

  /// OpenAI's formula (its API reference, "frequency and presence penalties"):
  /// mu[j] -> mu[j] - c[j] * alpha_frequency - float(c[j] > 0) * alpha_presence, where c[j] counts
  /// token j in what was sampled so far: the completion, not the prompt.
  @Test func frequencyAndPresencePenaltiesFollowOpenAIsFormula() {
    let history = [1, 1, 1, 5] + [1, 2, 2]  // a prompt of four tokens, then the completion
    var p = SamplingParameters(temperature: 0)
    p.frequencyPenalty = 0.3
    p.presencePenalty = 0.15
    var adjusted = logits
    var counting = Sampler(p, completionStart: 4)
    counting.applyBiasAndPenalties(to: &adjusted, history: Array(history.prefix(5)))  // counts [1]
    adjusted = logits
    counting.applyBiasAndPenalties(to: &adjusted, history: history)  // adds [2, 2]
    var expected = logits
    expected[1] -= 1 * 0.3 + 0.15  // once in the completion (three times in the prompt: not counted)
    expected[2] -= 2 * 0.3 + 0.15
    for i in logits.indices { #expect(abs(adjusted[i] - expected[i]) < 1e-6, "token \(i)") }
    // Greedy follows the adjusted logits: 3.0 - 0.45 = 2.55 < 2.9, so token 5 (seen only in the prompt).
    var s = Sampler(p, completionStart: 4)
    #expect(s.sample(logits, history: history) == 5)
    // Negative penalties make repeats likelier: with a completion of [2, 2], 2.5 + 2 · 0.3 + 0.15
    // = 3.25 beats token 1's 3.0 (three times in the prompt, never in the completion).
    p.frequencyPenalty = -0.3
    p.presencePenalty = -0.15
    var r = Sampler(p, completionStart: 4)
    #expect(r.sample(logits, history: [1, 1, 1, 5, 2, 2]) == 2)
  }

  @Test func logitBiasBansAndForcesTokens() {
    var p = SamplingParameters.greedy
    p.logitBias = [1: -100]
    var banned = Sampler(p)
    #expect(banned.sample(logits) == 5)
    p.logitBias = [3: 100, 99: 100]  // an id past the logits is ignored
    var forced = Sampler(p)
    #expect(forced.sample(logits) == 3)
    // Sampling at temperature 1 follows the biased softmax: token 1 never drawn, 0 at ~e^2 times its share.
    var q = SamplingParameters(temperature: 1, topK: 0, topP: 1, minP: 0, seed: 5)
    q.logitBias = [1: -100, 0: 2]
    var sampler = Sampler(q)
    var counts: [Int: Int] = [:]
    for _ in 0..<20000 { counts[sampler.sample(logits), default: 0] += 1 }
    var biased = logits
    biased[1] -= 100
    biased[0] += 2
    let z = biased.map { exp(Double($0)) }.reduce(0, +)
    #expect(counts[1] == nil)
    for (i, l) in biased.enumerated() {
      #expect(abs(Double(counts[i, default: 0]) / 20000 - exp(Double(l)) / z) < 0.015, "token \(i)")
    }
  }
}

struct StopSequenceMatcherTests {
  @Test func holdsBackAPossibleStopAndCutsAtIt() {
    var m = StopSequenceMatcher(stops: ["</s>", "STOP"])
    #expect(m.append("Hello <").text == "Hello ")
    #expect(m.append("/").text == "")
    let r = m.append("s> more")
    #expect(r.text == "" && r.stopped)
  }

  @Test func releasesHeldTextWhenItTurnsOutNotToBeAStop() {
    var m = StopSequenceMatcher(stops: ["STOP"])
    #expect(m.append("ST").text == "")
    #expect(m.append("ART").text == "START")
    #expect(m.append("S").text == "")
    #expect(m.finish() == "S")
  }

  @Test func noStopsPassesEverythingThrough() {
    var m = StopSequenceMatcher(stops: [])
    #expect(m.append("abc").text == "abc")
    #expect(m.finish() == "")
  }

  @Test func stopInsideOnePiece() {
    var m = StopSequenceMatcher(stops: ["\n\n"])
    let r = m.append("one\n\ntwo")
    #expect(r.text == "one" && r.stopped)
  }
}
