import Foundation
import Testing

@testable import MuseKernels

/// Keys and values of one key/value head at `positions` positions, stored in blocks of
/// `blockSize` the way a cache holds them (keys in tiles of [dim × 16]); unused slots NaN so
/// that a kernel reading past the live positions shows.
struct CachedHeadFixture {
  let blockSize: Int
  let dim: Int
  var keyBlocks: [[Float]]
  var valueBlocks: [[Float]]

  init(keys: [[Float]], values: [[Float]], blockSize: Int, dim: Int) {
    self.blockSize = blockSize
    self.dim = dim
    let blocks = (keys.count + blockSize - 1) / blockSize
    keyBlocks = Array(repeating: Array(repeating: .nan, count: blockSize * dim), count: blocks)
    valueBlocks = Array(repeating: Array(repeating: .nan, count: blockSize * dim), count: blocks)
    for p in keys.indices {
      for d in 0..<dim {
        keyBlocks[p / blockSize][CachedHead.keyIndex(position: p % blockSize, element: d, dim: dim)] =
          keys[p][d]
        valueBlocks[p / blockSize][p % blockSize * dim + d] = values[p][d]
      }
    }
  }

  /// `attend` over positions first...last for `heads` query heads at once.
  func attend(_ query: [Float], heads: Int, first: Int, last: Int, sinks: [Float]?) -> [Float] {
    var out = [Float](repeating: .nan, count: heads * dim)
    return withPointers { keys, values in
      let head = CachedHead(
        keyBlocks: keys, valueBlocks: values, keyOffset: 0, valueOffset: 0, blockSize: blockSize)
      MuseKernels.attend(
        query, heads: heads, dim: dim, valueDim: dim, cache: head, first: first, last: last, scale: 0.125,
        sinks: sinks, out: &out)
      return out
    }
  }

  private func withPointers<R>(
    _ body: (UnsafePointer<UnsafePointer<Float>?>, UnsafePointer<UnsafePointer<Float>?>) -> R
  ) -> R {
    let all = keyBlocks + valueBlocks
    let buffers = all.map { block -> UnsafeMutablePointer<Float> in
      let p = UnsafeMutablePointer<Float>.allocate(capacity: block.count)
      p.initialize(from: block, count: block.count)
      return p
    }
    defer { buffers.forEach { $0.deallocate() } }
    let table = buffers.map { UnsafePointer<Float>?(UnsafePointer($0)) }
    return table.withUnsafeBufferPointer { t in body(t.baseAddress!, t.baseAddress! + keyBlocks.count) }
  }
}

// Forcing levels is process-wide, so these join IntegerKernelTests' serialized suite.
extension IntegerKernelTests {
  /// Softmax attention at every level against Double loops, for head widths with and without
  /// a vector tail, a window starting mid-tile, a sink; and the bits must not depend on the
  /// block size (paged or contiguous) or on how many heads run together (batched = single).
  @Test(arguments: [64, 100])
  func attendMatchesDoubleSoftmax(dim: Int) {
    var generator = SeededGenerator(state: UInt64(dim))
    let positions = 45
    let heads = 3
    let keys = (0..<positions).map { _ in (0..<dim).map { _ in generator.float() * 3 } }
    let values = (0..<positions).map { _ in (0..<dim).map { _ in generator.float() } }
    let query = (0..<heads * dim).map { _ in generator.float() * 3 }
    let sinks: [Float] = [0.5, -1, 2]
    let stores = [16, 32, 48].map { CachedHeadFixture(keys: keys, values: values, blockSize: $0, dim: dim) }
    forEachLevel { level in
      for (first, last, sink) in [(0, 0, false), (0, 44, false), (7, 38, true), (20, 44, false)] {
        let s = sink ? sinks : nil
        let out = stores[0].attend(query, heads: heads, first: first, last: last, sinks: s)
        for h in 0..<heads {
          let q = query[(h * dim)..<((h + 1) * dim)].map(Double.init)
          let scores = (first...last).map { p in
            zip(q, keys[p]).reduce(0.0) { $0 + $1.0 * Double($1.1) } * 0.125
          }
          let top = max(scores.max()!, sink ? Double(sinks[h]) : -.infinity)
          let weights = scores.map { Foundation.exp($0 - top) }
          let total = weights.reduce(0, +) + (sink ? Foundation.exp(Double(sinks[h]) - top) : 0)
          for j in 0..<dim {
            let expected =
              zip(weights, first...last).reduce(0.0) { $0 + $1.0 * Double(values[$1.1][j]) } / total
            #expect(
              abs(Double(out[h * dim + j]) - expected) <= 2e-5,
              "\(level) dim \(dim) \(first)...\(last) head \(h) value \(j)")
          }
          // One head alone, and other block sizes: the same bits.
          let alone = stores[0].attend(
            Array(query[(h * dim)..<((h + 1) * dim)]), heads: 1, first: first, last: last,
            sinks: s.map { [$0[h]] })
          #expect(
            alone.map(\.bitPattern) == out[(h * dim)..<((h + 1) * dim)].map(\.bitPattern),
            "\(level) head \(h) alone")
        }
        for store in stores.dropFirst() {
          let other = store.attend(query, heads: heads, first: first, last: last, sinks: s)
          #expect(other.map(\.bitPattern) == out.map(\.bitPattern), "\(level) block size \(store.blockSize)")
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
