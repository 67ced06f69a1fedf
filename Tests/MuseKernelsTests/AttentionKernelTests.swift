import Foundation
import Testing

@testable import MuseKernels

// Forcing levels is process-wide, so these join IntegerKernelTests' serialized suite.
extension IntegerKernelTests {
  /// Scores and the weighted value sum at every level against Double loops, for head widths
  /// with and without a vector tail and tiles of 1...16 rows spaced like a KV cache.
  @Test(arguments: [64, 100, 128])
  func attentionKernelsMatchDoubleLoops(dim: Int) {
    var generator = SeededGenerator(state: UInt64(dim))
    let stride = dim * 3 + 5
    let rows = 16
    let keys = (0..<rows * stride).map { _ in generator.float() }
    let query = (0..<dim).map { _ in generator.float() }
    let weights = (0..<rows).map { _ in abs(generator.float()) }
    let start = (0..<dim).map { _ in generator.float() }
    forEachLevel { level in
      for n in [1, 7, 16] {
        var scores = [Float](repeating: .nan, count: n)
        attentionScores(query, keys: keys, stride: stride, count: n, dim: dim, scale: 0.125, into: &scores)
        var out = start
        attentionAccumulate(&out, values: keys, stride: stride, weights: weights, count: n, dim: dim)
        for i in 0..<n {
          let expected =
            (0..<dim).reduce(0.0) { $0 + Double(query[$1]) * Double(keys[i * stride + $1]) } * 0.125
          let magnitude = (0..<dim).reduce(0.0) {
            $0 + abs(Double(query[$1]) * Double(keys[i * stride + $1]))
          }
          #expect(abs(Double(scores[i]) - expected) <= 1e-6 * magnitude, "\(level) dim \(dim) score \(i)")
          // A key's score must not depend on where its tile starts (batched = single bits).
          var alone: Float = .nan
          attentionScores(
            query, keys: Array(keys[(i * stride)...]), stride: stride, count: 1, dim: dim, scale: 0.125,
            into: &alone)
          #expect(alone.bitPattern == scores[i].bitPattern, "\(level) dim \(dim) score \(i) alone")
        }
        for j in 0..<dim {
          let terms = (0..<n).map { Double(weights[$0]) * Double(keys[$0 * stride + j]) }
          let expected = Double(start[j]) + terms.reduce(0, +)
          let magnitude = abs(Double(start[j])) + terms.reduce(0) { $0 + abs($1) }
          #expect(abs(Double(out[j]) - expected) <= 1e-6 * magnitude, "\(level) dim \(dim) value \(j)")
        }
      }
    }
  }
}

extension IntegerKernelTests {
  /// The sampler's softmax numerators at every level against Double exp: logits spread over
  /// [-100, 5] around the shift (a 16-wide body and a tail); below e^-87, -inf and NaN give 0.
  @Test func expShiftedMatchesDoubleExp() {
    var generator = SeededGenerator(state: 11)
    var x = (0..<1003).map { _ in generator.float() * 52.5 - 47.5 }
    x[5] = -.infinity
    x[17] = .nan
    x[1001] = -.infinity
    forEachLevel { level in
      var out = [Float](repeating: -1, count: x.count)
      let total = expShifted(x, minus: 4.5, into: &out, count: x.count)
      var expected = 0.0
      for i in x.indices {
        // The argument as the kernels form it (a Float difference); only exp's error is tested.
        let d = x[i] - 4.5
        let e = d >= -87 ? Foundation.exp(Double(d)) : 0
        if e > 0 {
          #expect(abs(Double(out[i]) - e) <= 3e-7 * e, "\(level) exp at \(i)")
        } else {
          #expect(out[i] == 0, "\(level) exp at \(i)")
        }
        expected += e
      }
      #expect(abs(total - expected) <= 3e-7 * expected, "\(level) sum")
    }
  }
}
