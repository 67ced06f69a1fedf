import Foundation
import Testing

@testable import MuseKernels

/// The formats with 16-row interleaved kernels.
let interleavedTypes: [GGMLType] = [.q4_0, .q4_1, .q8_0, .q4_K, .q6_K]

/// Values in `n` of the format's blocks (K-quant super-blocks hold 256, the others' blocks 32).
func valuesIn(_ type: GGMLType, blocks n: Int) -> Int { n * type.blockLayout.values }

/// Runs matmul on `bytes` (rows in ggml layout) repacked into 16-row groups.
func interleavedMatmul(
  _ type: GGMLType, _ bytes: [UInt8], rows: Int, columns: Int, x: [Float], tokens: Int, pool: ThreadPool
) -> [Float] {
  var y = [Float](repeating: .nan, count: tokens * rows)
  bytes.withUnsafeBytes { raw in
    let w = InterleavedWeights.repack(TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows]))
    precondition(w.layout == .interleaved16)
    matmul(w, input: x, tokens: tokens, output: &y, pool: pool, integerActivations: false)
  }
  return y
}

/// Expects `interleavedMatmul` at every level to be within what rounding activations (16 or 24
/// bits) can move a dot (Σ |w| d / 2 per block), plus float summation, of Σ dequantised weight ×
/// activation in Double.
func expectInterleavedMatchesReference(
  _ type: GGMLType, _ bytes: [UInt8], rows: Int, columns: Int, x: [Float], tokens: Int
) {
  let dense = denseRows(type, bytes, rows: rows, columns: columns)
  let pool = ThreadPool(threads: 2)
  forEachLevel { level in
    let y = interleavedMatmul(type, bytes, rows: rows, columns: columns, x: x, tokens: tokens, pool: pool)
    for t in 0..<tokens {
      for r in 0..<rows {
        var expected = 0.0
        var magnitude = 0.0
        var rounding = 0.0
        for b in 0..<columns / 32 {
          let xs = x[t * columns + b * 32..<t * columns + (b + 1) * 32]
          let d =
            Double(xs.map { abs($0) }.max()!)
            / SplitActivations.levels(digits: SplitActivations.digits(for: type))
          for c in b * 32..<(b + 1) * 32 {
            let product = Double(dense[r][c]) * Double(x[t * columns + c])
            expected += product
            magnitude += abs(product)
            rounding += abs(Double(dense[r][c])) * d / 2
          }
        }
        let got = Double(y[t * rows + r])
        #expect(
          abs(got - expected) <= rounding * 1.001 + 2e-6 * magnitude,
          "\(type.name) \(level) \(columns)×\(rows), token \(t)/\(tokens), row \(r): \(got) vs \(expected)")
      }
    }
  }
}

// Forcing levels is process-wide, so these join IntegerKernelTests' serialized suite.
extension IntegerKernelTests {
  /// Every activation is q · d with q the digits in base 256, |x - q d| ≤ d / 2 (plus the
  /// rounding of d to Float), the digits in range, and the stored sums (the block's and its
  /// first 16 values') match; 16 and 24 bits.
  @Test(arguments: [2, 3])
  func splitActivationsRoundToNearestCode(digits: Int) {
    var generator = SeededGenerator(state: 3)
    let columns = 32 * 5
    var x = (0..<columns).map { _ in generator.float() * 10 }
    x[7] = 0
    x[40] = -1e-30
    for i in 64..<96 { x[i] = 0 }  // an all-zero block
    x[100] = 3e4  // an outlier among small values
    x[130] = -x[131...].map { abs($0) }.max()!  // the block's largest value negative
    let blocks = columns / 32
    let limit = Int(SplitActivations.levels(digits: digits))
    var buffer = [UInt8](repeating: 0, count: SplitActivations.tokenStride(columns: columns, digits: digits))
    buffer.withUnsafeMutableBytes { raw in
      splitActivations(x, into: raw.baseAddress!, blocks: blocks, digits: digits)
      let codes = raw.baseAddress!.assumingMemoryBound(to: Int8.self)
      let tail = UnsafeRawPointer(raw.baseAddress! + columns * digits)
      for b in 0..<blocks {
        let d = Double(tail.load(fromByteOffset: 4 * b, as: Float.self))
        var (sumTop, sumRest, sum, firstHalf) = (0, 0, 0, 0)
        for i in b * 32..<(b + 1) * 32 {
          let top = Int(codes[i])
          #expect((-127...127).contains(top), "top digit \(top) at \(i)")
          let rest = (1..<digits).reduce(0) { $0 * 256 + Int(codes[$1 * columns + i]) }
          let q = top * (digits == 3 ? 65536 : 256) + rest
          #expect(abs(q) <= limit)
          let error = abs(Double(x[i]) - Double(q) * d)
          #expect(error <= d / 2 * 1.0001 + abs(Double(x[i])) * 1e-7, "value \(i): \(x[i]) vs \(q) × \(d)")
          sumTop += top
          sumRest += rest
          sum += q
          if i < b * 32 + 16 { firstHalf += q }
        }
        #expect(Int(tail.load(fromByteOffset: 4 * (blocks + b), as: Int32.self)) == sumTop)
        #expect(Int(tail.load(fromByteOffset: 4 * (2 * blocks + b), as: Int32.self)) == sumRest)
        let floatSum = Double(tail.load(fromByteOffset: 4 * (3 * blocks + b), as: Float.self))
        #expect(abs(floatSum - Double(sum) * d) <= abs(Double(sum) * d) * 1e-6 + 1e-30)
        #expect(Int(tail.load(fromByteOffset: 4 * (4 * blocks + b), as: Int32.self)) == firstHalf)
      }
      #expect(tail.load(fromByteOffset: 8, as: Float.self) == 0)
    }
  }

  /// A block whose largest |x| is below `SplitActivations.negligible` is split as zeros at every
  /// level (16-bit digits would need a scale past Float's range there: 32512 / 1e-36 ≈ 3e40), so
  /// a dot product with it is 0 and finite, not NaN.
  @Test(arguments: [2, 3])
  func negligibleBlocksAreZeros(digits: Int) {
    let tiny: [Float] = (0..<32).map { Float($0 - 31) * 2e-37 }
    let ordinary: [Float] = (0..<32).map { Float(($0 * 7919) % 101) / 97 - 0.5 }
    let x = tiny + ordinary
    forEachLevel { level in
      let split = SplitActivations(x, columns: 64, tokens: 1, digits: digits, slot: .matmul)
      let codes = split.base.assumingMemoryBound(to: Int8.self)
      let tail = UnsafeRawPointer(split.base + 64 * digits)
      for j in 0..<digits {
        #expect((0..<32).allSatisfy { codes[j * 64 + $0] == 0 }, "\(level): digit \(j) of the tiny block")
        #expect((32..<64).contains { codes[j * 64 + $0] != 0 }, "\(level): digit \(j) of the ordinary block")
      }
      for k in 1...4 {
        #expect(tail.load(fromByteOffset: 4 * 2 * k, as: UInt32.self) == 0, "\(level): sum \(k)")
      }
      #expect(tail.load(fromByteOffset: 0, as: Float.self).isFinite)
    }
  }

  /// The quantiser of every level writes the same bytes (the VNNI level runs a C twin of the
  /// Swift loop), on ordinary values, zeros, tiny and huge ones.
  @Test(arguments: [2, 3])
  func splitActivationsAreTheSameAtEveryLevel(digits: Int) {
    var generator = SeededGenerator(state: 8)
    let columns = 32 * 7
    var x = (0..<columns).map { _ in generator.float() * 5 }
    for i in 32..<64 { x[i] = 0 }
    x[70] = 1e-38
    x[100] = -7e30
    x[130] = 0.5
    x[131] = -0.5
    for i in 160..<192 { x[i] = Float(i - 175) * 3e-37 }  // max |x| below SplitActivations.negligible
    for i in 192..<224 { x[i] = Float(i - 207) * 7e-31 }  // just above it: a scale near 3e33
    var results: [[UInt8]] = []
    forEachLevel { _ in
      let split = SplitActivations(x, columns: columns, tokens: 1, digits: digits, slot: .matmul)
      results.append(
        Array(UnsafeRawBufferPointer(start: split.base, count: columns / 32 * (32 * digits + 20))))
    }
    for r in results.dropFirst() { #expect(r == results[0]) }
  }

  /// Repacked Q4_0 / Q4_1 / Q8_0 / Q4_K / Q6_K against Σ dequantised weight × activation in Double, at
  /// every level, on odd block (super-block) counts, 1 and 3 groups of rows and token counts
  /// that leave partial groups of four.
  @Test(arguments: interleavedTypes)
  func interleavedKernelsMatchReference(type: GGMLType) {
    for blocks in [1, 3, 7] {
      let columns = valuesIn(type, blocks: blocks)
      for rows in [16, 48] {
        let bytes = randomRows(type, rows: rows, columns: columns, seed: UInt64(blocks * 31 + rows))
        for tokens in [1, 2, 3, 5, 9] {
          var generator = SeededGenerator(state: UInt64(tokens * 5 + blocks))
          let x = (0..<tokens * columns).map { _ in generator.float() * 4 }
          expectInterleavedMatchesReference(type, bytes, rows: rows, columns: columns, x: x, tokens: tokens)
        }
      }
    }
  }

  /// A long Q6_K row (33 super-blocks: sub-block sums read far into the activations' tail) at
  /// every level, and token counts that leave partial groups of four.
  @Test func q6_KRowsLongerThanAChunkMatchReference() {
    let (rows, columns) = (16, valuesIn(.q6_K, blocks: 33))
    let bytes = randomRows(.q6_K, rows: rows, columns: columns, seed: 66)
    for tokens in [1, 4, 5] {
      var generator = SeededGenerator(state: UInt64(60 + tokens))
      let x = (0..<tokens * columns).map { _ in generator.float() * 2 }
      expectInterleavedMatchesReference(.q6_K, bytes, rows: rows, columns: columns, x: x, tokens: tokens)
    }
  }

  /// The codes and digits at the ends of their ranges, where AVX2's int16 sums (vpmaddubsw) are
  /// closest to saturating: every 4-bit code 15, Q8_0 codes 127 and -128, Q4_K's 6-bit scales
  /// and minimums all 63 (its values 63 · 15 - 63 · 63, d = dmin = 1), Q6_K's codes 63 with
  /// scales 127 and -128, activations whose lower digits are -128 and top digits ±127:
  /// q = ±(L - 128) for 16 bits, ±(L - 32896) for 24,
  /// with one 127/128 per block making the scale L · 128 / 127, a power of two, so every
  /// product x · scale is exact.
  @Test(arguments: interleavedTypes)
  func interleavedKernelsHoldExtremeCodes(type: GGMLType) {
    let (rows, columns, tokens) = (32, type.blockLayout.values == 256 ? 512 : 96, 5)
    let layout = type.blockLayout
    var bytes = [UInt8](repeating: 0, count: rows * columns / layout.values * layout.bytes)
    for block in 0..<rows * columns / layout.values {
      let at = block * layout.bytes
      bytes[at + 1] = 0x3C  // d = 1.0 (f16 0x3C00)
      switch type {
      case .q4_0: for i in 2..<18 { bytes[at + i] = 0xFF }
      case .q4_1:
        bytes[at + 3] = 0xBC  // m = -1.0
        for i in 4..<20 { bytes[at + i] = 0xFF }
      case .q4_K:
        bytes[at + 3] = 0x3C  // dmin = 1.0
        for i in 4..<144 { bytes[at + i] = 0xFF }  // scales, mins and codes at their largest
      case .q6_K:
        for i in 0..<192 { bytes[at + i] = 0xFF }  // every 6-bit code 63
        for i in 192..<208 { bytes[at + i] = i % 2 == 0 ? 0x7F : 0x80 }
        bytes[at + 209] = 0x3C  // d = 1.0, last in the block
      default: for i in 0..<32 { bytes[at + 2 + i] = i % 3 == 0 ? 0x80 : 0x7F }
      }
    }
    let levels = SplitActivations.levels(digits: SplitActivations.digits(for: type))
    let edge = Float((levels - (type == .q8_0 ? 32896 : 128)) / (levels * 128 / 127))
    let x = (0..<tokens * columns).map { i -> Float in
      i % 32 == 5 ? 127.0 / 128 : (i / 7) % 2 == 0 ? edge : -edge
    }
    expectInterleavedMatchesReference(type, bytes, rows: rows, columns: columns, x: x, tokens: tokens)
  }

  /// The VNNI kernels and the portable Swift ones do the same integer sums and the same float
  /// operations in the same order, so every level gives the same bits.
  @Test(arguments: interleavedTypes)
  func interleavedLevelsAgreeBitwise(type: GGMLType) {
    let (rows, columns, tokens) = (32, valuesIn(type, blocks: type.blockLayout.values == 256 ? 3 : 6), 6)
    let bytes = randomRows(type, rows: rows, columns: columns, seed: 77)
    var generator = SeededGenerator(state: 78)
    let x = (0..<tokens * columns).map { _ in generator.float() * 3 }
    let pool = ThreadPool(threads: 2)
    var results: [[Float]] = []
    forEachLevel { _ in
      results.append(
        interleavedMatmul(type, bytes, rows: rows, columns: columns, x: x, tokens: tokens, pool: pool))
    }
    for r in results.dropFirst() { #expect(r.map(\.bitPattern) == results[0].map(\.bitPattern)) }
  }

  /// A token's row is bitwise the same alone or among 2...9 tokens at any position, with 1 or 3
  /// threads (continuous batching and the prefix cache rely on it).
  @Test(arguments: interleavedTypes)
  func interleavedRowIsBitwiseIndependentOfTheBatch(type: GGMLType) {
    let (rows, columns, batch) = (48, valuesIn(type, blocks: type.blockLayout.values == 256 ? 2 : 9), 9)
    let bytes = randomRows(type, rows: rows, columns: columns, seed: 9)
    var generator = SeededGenerator(state: 10)
    let x = (0..<batch * columns).map { _ in generator.float() }
    for threads in [1, 3] {
      let pool = ThreadPool(threads: threads)
      forEachLevel { level in
        func run(_ first: Int, _ tokens: Int) -> [Float] {
          interleavedMatmul(
            type, bytes, rows: rows, columns: columns,
            x: Array(x[first * columns..<(first + tokens) * columns]),
            tokens: tokens, pool: pool)
        }
        let alone = (0..<batch).map { run($0, 1) }
        for tokens in 2...batch {
          for first in [0, batch - tokens] {
            let y = run(first, tokens)
            for t in 0..<tokens {
              #expect(
                Array(y[t * rows..<(t + 1) * rows]).map(\.bitPattern) == alone[first + t].map(\.bitPattern),
                "\(type.name) \(level) \(threads) threads: token \(first + t) among \(tokens)")
            }
          }
        }
      }
    }
  }

  /// The MoE path — activations prepared once, row ranges of whole groups, tokens taken from
  /// an offset — gives bitwise the rows of one whole matmul.
  @Test(arguments: interleavedTypes)
  func preparedInputRowRangesEqualWholeMatmul(type: GGMLType) {
    let (rows, columns, tokens) = (64, valuesIn(type, blocks: type.blockLayout.values == 256 ? 1 : 4), 7)
    let bytes = randomRows(type, rows: rows, columns: columns, seed: 21)
    var generator = SeededGenerator(state: 22)
    let x = (0..<tokens * columns).map { _ in generator.float() * 2 }
    let pool = ThreadPool(threads: 2)
    let tail = Array(x[(2 * columns)...])
    let whole = interleavedMatmul(
      type, bytes, rows: rows, columns: columns, x: tail, tokens: tokens - 2, pool: pool)
    var parts = [Float](repeating: .nan, count: (tokens - 2) * rows)
    bytes.withUnsafeBytes { raw in
      let w = InterleavedWeights.repack(
        TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows]))
      x.withUnsafeBufferPointer { xs in
        let input = MatmulInput(xs.baseAddress!, columns: columns, tokens: tokens, for: w).dropping(tokens: 2)
        for start in stride(from: 0, to: rows, by: 32) {
          matmul(w, rows: start..<start + 32, input: input, tokens: tokens - 2, output: &parts)
        }
      }
    }
    #expect(parts.map(\.bitPattern) == whole.map(\.bitPattern))
  }

  /// Several weights sharing one input in one pass (q, k, v) give bitwise what separate matmuls
  /// give, for interleaved weights of both activation widths and for row-layout weights.
  @Test(arguments: [GGMLType.q4_0, .q8_0, .q4_K, .q6_K, .f16])
  func fusedMatmulsEqualSeparateOnes(type: GGMLType) {
    let columns = valuesIn(type, blocks: type.blockLayout.values == 256 ? 1 : 3)
    let shapes = [48, 16, 80]
    let tokens = 5
    let matrices = shapes.enumerated().map {
      randomRows(type, rows: $1, columns: columns, seed: UInt64(40 + $0))
    }
    var generator = SeededGenerator(state: 41)
    let x = (0..<tokens * columns).map { _ in generator.float() }
    let pool = ThreadPool(threads: 2)
    var fused = shapes.map { [Float](repeating: .nan, count: $0 * tokens) }
    var separate = fused
    let buffers = matrices.map { bytes in
      let p = UnsafeMutableRawPointer.allocate(byteCount: bytes.count, alignment: 64)
      p.copyMemory(from: bytes, byteCount: bytes.count)
      return p
    }
    defer { buffers.forEach { $0.deallocate() } }
    let weights = zip(buffers, shapes).map { p, rows in
      InterleavedWeights.repack(TensorView(type: type, data: p, shape: [columns, rows]))
    }
    #expect(weights.allSatisfy { $0.layout == (InterleavedWeights.supports(type) ? .interleaved16 : .rows) })
    let outputs = fused.indices.map { i in UnsafeMutablePointer<Float>.allocate(capacity: fused[i].count) }
    defer { outputs.forEach { $0.deallocate() } }
    matmul(weights, input: x, tokens: tokens, outputs: outputs, pool: pool)
    for i in weights.indices {
      fused[i] = Array(UnsafeBufferPointer(start: outputs[i], count: fused[i].count))
      matmul(weights[i], input: x, tokens: tokens, output: &separate[i], pool: pool)
      #expect(fused[i].map(\.bitPattern) == separate[i].map(\.bitPattern), "\(type.name) matrix \(i)")
    }
  }

  /// Quantising each distinct token once and copying its codes per expert gives the same input
  /// as quantising the gathered copies.
  @Test(arguments: interleavedTypes)
  func gatheredInputEqualsQuantisedCopies(type: GGMLType) {
    let (rows, columns, tokens) = (32, valuesIn(type, blocks: type.blockLayout.values == 256 ? 1 : 2), 3)
    let order = [2, 0, 2, 1, 0, 2]
    let bytes = randomRows(type, rows: rows, columns: columns, seed: 50)
    var generator = SeededGenerator(state: 51)
    let x = (0..<tokens * columns).map { _ in generator.float() }
    let gathered = order.flatMap { x[$0 * columns..<($0 + 1) * columns] }
    var a = [Float](repeating: .nan, count: order.count * rows)
    var b = a
    bytes.withUnsafeBytes { raw in
      let w = InterleavedWeights.repack(
        TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows]))
      x.withUnsafeBufferPointer { xs in
        gathered.withUnsafeBufferPointer { g in
          let viaCodes = MatmulInput(
            gathered: g.baseAddress!, from: xs.baseAddress!, rows: order, tokens: tokens, columns: columns,
            for: w)
          matmul(w, rows: 0..<rows, input: viaCodes, tokens: order.count, output: &a)
          let direct = MatmulInput(g.baseAddress!, columns: columns, tokens: order.count, for: w)
          matmul(w, rows: 0..<rows, input: direct, tokens: order.count, output: &b)
        }
      }
    }
    #expect(a.map(\.bitPattern) == b.map(\.bitPattern))
  }

  /// Formats without a 16-row kernel and matrices whose rows do not fill groups stay as they are.
  @Test func repackLeavesWhatItCannotInterleave() {
    let cases: [(GGMLType, Int, Int)] = [(.q4_K, 256, 24), (.q6_K, 256, 40), (.f16, 32, 16), (.q4_0, 32, 24)]
    for (type, columns, rows) in cases {
      let bytes = randomRows(type, rows: rows, columns: columns, seed: 1)
      bytes.withUnsafeBytes { raw in
        let w = TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows])
        let r = InterleavedWeights.repack(w)
        #expect(r.layout == .rows && r.data == w.data, "\(type.name) \(columns)×\(rows)")
      }
    }
  }

  /// Each expert of a 3-D tensor is repacked on its own, so `matrix(_:)` still finds it.
  @Test func repackedExpertsMatchRepackedMatrices() {
    let (columns, rows, experts) = (64, 32, 3)
    let bytes = randomRows(.q4_0, rows: rows * experts, columns: columns, seed: 4)
    var generator = SeededGenerator(state: 5)
    let x = (0..<columns).map { _ in generator.float() }
    let pool = ThreadPool(threads: 2)
    bytes.withUnsafeBytes { raw in
      let merged = InterleavedWeights.repack(
        TensorView(type: .q4_0, data: raw.baseAddress!, shape: [columns, rows, experts]))
      #expect(merged.layout == .interleaved16)
      let perExpert = rows * TensorView(type: .q4_0, data: raw.baseAddress!, shape: [columns, rows]).rowBytes
      for e in 0..<experts {
        var a = [Float](repeating: .nan, count: rows)
        var b = [Float](repeating: .nan, count: rows)
        matmul(merged.matrix(e), input: x, tokens: 1, output: &a, pool: pool, integerActivations: false)
        let single = InterleavedWeights.repack(
          TensorView(type: .q4_0, data: raw.baseAddress! + e * perExpert, shape: [columns, rows]))
        matmul(single, input: x, tokens: 1, output: &b, pool: pool, integerActivations: false)
        #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "expert \(e)")
      }
    }
  }
}
