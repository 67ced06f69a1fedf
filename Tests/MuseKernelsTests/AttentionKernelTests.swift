import Foundation
import Testing

@testable import MuseKernels

/// Keys and values of one key/value head at `positions` positions, stored in blocks of
/// `blockSize` as `type` the way a cache holds them (keys in tiles of [dim × 16]); unused slots
/// NaN so that a kernel reading past the live positions shows.
struct CachedHeadFixture {
  let blockSize: Int
  let dim: Int
  let type: KVCacheType
  var keyBlocks: [[UInt8]]
  var valueBlocks: [[UInt8]]

  init(keys: [[Float]], values: [[Float]], blockSize: Int, dim: Int, type: KVCacheType) {
    self.blockSize = blockSize
    self.dim = dim
    self.type = type
    let blocks = (keys.count + blockSize - 1) / blockSize
    let nan: [UInt8] = type == .f16 ? [0x00, 0x7E] : withUnsafeBytes(of: Float.nan) { Array($0) }
    let empty = (0..<blockSize * dim).flatMap { _ in nan }
    keyBlocks = Array(repeating: empty, count: blocks)
    valueBlocks = Array(repeating: empty, count: blocks)
    func bytes(_ x: Float) -> [UInt8] {
      type == .f16 ? withUnsafeBytes(of: floatToHalf(x)) { Array($0) } : withUnsafeBytes(of: x) { Array($0) }
    }
    let width = type.byteWidth
    for p in keys.indices {
      for d in 0..<dim {
        let k = CachedHead.keyIndex(position: p % blockSize, element: d, dim: dim) * width
        keyBlocks[p / blockSize].replaceSubrange(k..<k + width, with: bytes(keys[p][d]))
        let v = (p % blockSize * dim + d) * width
        valueBlocks[p / blockSize].replaceSubrange(v..<v + width, with: bytes(values[p][d]))
      }
    }
  }

  /// What the cache holds for `x`.
  static func stored(_ x: Float, as type: KVCacheType) -> Double {
    type == .f16 ? Double(halfToFloat(floatToHalf(x))) : Double(x)
  }

  /// `attend` over positions first...last for `heads` query heads at once.
  func attend(_ query: [Float], heads: Int, first: Int, last: Int, sinks: [Float]?) -> [Float] {
    var out = [Float](repeating: .nan, count: heads * dim)
    let buffers = (keyBlocks + valueBlocks).map { block -> UnsafeMutableRawPointer in
      let p = UnsafeMutableRawPointer.allocate(byteCount: block.count, alignment: 64)
      p.copyMemory(from: block, byteCount: block.count)
      return p
    }
    defer { buffers.forEach { $0.deallocate() } }
    let table = buffers.map { UnsafeRawPointer?(UnsafeRawPointer($0)) }
    table.withUnsafeBufferPointer { t in
      let head = CachedHead(
        keyBlocks: t.baseAddress!, valueBlocks: t.baseAddress! + keyBlocks.count, keyOffset: 0,
        valueOffset: 0,
        blockSize: blockSize, type: type)
      MuseKernels.attend(
        query, heads: heads, dim: dim, valueDim: dim, cache: head, first: first, last: last, scale: 0.125,
        sinks: sinks, out: &out)
    }
    return out
  }
}

// Forcing levels is process-wide, so these join IntegerKernelTests' serialized suite.
extension IntegerKernelTests {
  /// Softmax attention at every level and cache type against Double loops over what the cache
  /// holds, for head widths with and without a vector tail, a window starting mid-tile, a sink;
  /// and the bits must not depend on the block size (paged or contiguous) or on how many heads
  /// run together (batched = single).
  @Test(arguments: [64, 100], KVCacheType.allCases)
  func attendMatchesDoubleSoftmax(dim: Int, type: KVCacheType) {
    var generator = SeededGenerator(state: UInt64(dim))
    let positions = 45
    let heads = 3
    let keys = (0..<positions).map { _ in (0..<dim).map { _ in generator.float() * 3 } }
    let values = (0..<positions).map { _ in (0..<dim).map { _ in generator.float() } }
    let query = (0..<heads * dim).map { _ in generator.float() * 3 }
    let sinks: [Float] = [0.5, -1, 2]
    let stores = [16, 32, 48].map {
      CachedHeadFixture(keys: keys, values: values, blockSize: $0, dim: dim, type: type)
    }
    let heldKeys = keys.map { $0.map { CachedHeadFixture.stored($0, as: type) } }
    let heldValues = values.map { $0.map { CachedHeadFixture.stored($0, as: type) } }
    forEachLevel { level in
      for (first, last, sink) in [(0, 0, false), (0, 44, false), (7, 38, true), (20, 44, false)] {
        let s = sink ? sinks : nil
        let out = stores[0].attend(query, heads: heads, first: first, last: last, sinks: s)
        for h in 0..<heads {
          let q = query[(h * dim)..<((h + 1) * dim)].map(Double.init)
          let scores = (first...last).map { p in zip(q, heldKeys[p]).reduce(0.0) { $0 + $1.0 * $1.1 } * 0.125
          }
          let top = max(scores.max()!, sink ? Double(sinks[h]) : -.infinity)
          let weights = scores.map { Foundation.exp($0 - top) }
          let total = weights.reduce(0, +) + (sink ? Foundation.exp(Double(sinks[h]) - top) : 0)
          for j in 0..<dim {
            let expected = zip(weights, first...last).reduce(0.0) { $0 + $1.0 * heldValues[$1.1][j] } / total
            #expect(
              abs(Double(out[h * dim + j]) - expected) <= 2e-5,
              "\(level) \(type) dim \(dim) \(first)...\(last) head \(h) value \(j)")
          }
          // One head alone, and other block sizes: the same bits.
          let alone = stores[0].attend(
            Array(query[(h * dim)..<((h + 1) * dim)]), heads: 1, first: first, last: last,
            sinks: s.map { [$0[h]] })
          #expect(
            alone.map(\.bitPattern) == out[(h * dim)..<((h + 1) * dim)].map(\.bitPattern),
            "\(level) \(type) head \(h) alone")
        }
        for store in stores.dropFirst() {
          let other = store.attend(query, heads: heads, first: first, last: last, sinks: s)
          #expect(
            other.map(\.bitPattern) == out.map(\.bitPattern), "\(level) \(type) block size \(store.blockSize)"
          )
        }
      }
    }
  }

  /// Keys and values into the cache: f16 is the nearest half (ties to even) at every level.
  @Test func storeCachedRoundsToNearestHalf() {
    var generator = SeededGenerator(state: 5)
    let x = (0..<37).map { _ in generator.float() * 1000 } + [65520, -65504, 1e-8, 0.000_061_035_156_25]
    forEachLevel { level in
      for stride in [1, 16] {
        var held = [UInt16](repeating: 0, count: x.count * stride)
        held.withUnsafeMutableBytes {
          storeCached(x, to: $0.baseAddress!, count: x.count, stride: stride, type: .f16)
        }
        for i in x.indices {
          #expect(held[i * stride] == floatToHalf(x[i]), "\(level) stride \(stride) value \(x[i])")
          #expect(
            abs(Double(halfToFloat(held[i * stride])) - Double(x[i])) <= abs(Double(x[i])) / 2048
              || x[i] > 65504 || abs(x[i]) < 6.2e-5)
        }
        var floats = [Float](repeating: 0, count: x.count * stride)
        floats.withUnsafeMutableBytes {
          storeCached(x, to: $0.baseAddress!, count: x.count, stride: stride, type: .f32)
        }
        #expect((0..<x.count).map { floats[$0 * stride] } == x, "\(level) f32")
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
