import Foundation
import Testing

@testable import MuseKernels

// The tiled F32 GEMM (float_gemm.c, FloatGemm.swift). Level tests force a level, so these join
// IntegerKernelTests' serialized suite, as the float-activation kernel tests do.
extension IntegerKernelTests {
  /// Every level against Σ w·x in Double, on shapes that leave partial tiles of rows and
  /// tokens and partial vectors of columns, with strides wider than the data; nothing outside
  /// the outputs is written.
  @Test func floatGemmMatchesDoubleReferenceAtEveryLevel() {
    for columns in [1, 7, 8, 9, 31, 389] {
      for rows in [1, 3, 4, 5, 7, 13] {
        for tokens in [1, 2, 3, 4, 5, 7, 11] {
          let (rowStride, tokenStride, outputStride) = (columns + 3, columns + 5, rows + 2)
          var generator = SeededGenerator(state: UInt64(columns * 1000 + rows * 37 + tokens))
          let w = (0..<rows * rowStride).map { _ in generator.float() }
          let x = (0..<tokens * tokenStride).map { _ in generator.float() * 3 }
          forEachLevel { level in
            var y = [Float](repeating: .nan, count: tokens * outputStride)
            floatGemm(
              weights: w, rowStride: rowStride, rows: rows, input: x, tokenStride: tokenStride,
              tokens: tokens,
              columns: columns, output: &y, outputStride: outputStride)
            for t in 0..<tokens {
              for r in 0..<outputStride {
                let got = y[t * outputStride + r]
                guard r < rows else {
                  #expect(got.isNaN, "\(level) wrote past row \(rows) of token \(t)")
                  continue
                }
                let (expected, magnitude) = doubleDot(w[(r * rowStride)...], x[(t * tokenStride)...], columns)
                #expect(
                  abs(Double(got) - expected) <= 1e-6 * magnitude + 1e-30,
                  "\(level) \(rows)×\(columns) · \(tokens) tokens, token \(t) row \(r): \(got) vs \(expected)"
                )
              }
            }
          }
        }
      }
    }
  }

  /// A token's outputs are bitwise the same alone, among others at any position, and for any
  /// subset of rows; and the C levels agree bit for bit.
  @Test func floatGemmOutputIsBitwiseIndependentOfTheTile() {
    let (rows, columns, tokens) = (11, 389, 9)
    var generator = SeededGenerator(state: 17)
    let w = (0..<rows * columns).map { _ in generator.float() }
    let x = (0..<tokens * columns).map { _ in generator.float() }
    var byLevel: [KernelDispatch.Level: [Float]] = [:]
    forEachLevel { level in
      var all = [Float](repeating: .nan, count: tokens * rows)
      floatGemm(
        weights: w, rowStride: columns, rows: rows, input: x, tokenStride: columns, tokens: tokens,
        columns: columns, output: &all, outputStride: rows)
      byLevel[level] = all
      for t in 0..<tokens {
        for r in 0..<rows {
          var one: Float = .nan
          w.withUnsafeBufferPointer { wp in
            x.withUnsafeBufferPointer { xp in
              floatGemm(
                weights: wp.baseAddress! + r * columns, rowStride: columns, rows: 1,
                input: xp.baseAddress! + t * columns, tokenStride: columns, tokens: 1, columns: columns,
                output: &one, outputStride: 1)
            }
          }
          #expect(one.bitPattern == all[t * rows + r].bitPattern, "\(level) token \(t) row \(r)")
        }
      }
    }
    let vectorLevels = byLevel.filter { $0.key != .portable }.values.map { $0.map(\.bitPattern) }
    #expect(Set(vectorLevels).count <= 1, "the C levels disagree")
  }

  /// `matmul` on an F32 weight (the BERT encoder's path: threaded row chunks, token tiles)
  /// against the Double reference, with columns that are not a multiple of the vector width.
  @Test func f32MatmulMatchesDoubleReferenceAtEveryLevel() {
    let (rows, columns) = (133, 389)
    var generator = SeededGenerator(state: 23)
    let weights = (0..<rows * columns).map { _ in generator.float() }
    for tokens in [1, 6, 41] {
      let x = (0..<tokens * columns).map { _ in generator.float() }
      for threads in [1, 3] {
        let pool = ThreadPool(threads: threads)
        forEachLevel { level in
          var y = [Float](repeating: .nan, count: tokens * rows)
          weights.withUnsafeBytes { raw in
            let w = TensorView(type: .f32, data: raw.baseAddress!, shape: [columns, rows])
            matmul(w, input: x, tokens: tokens, output: &y, pool: pool)
          }
          for t in 0..<tokens {
            for r in 0..<rows {
              let (expected, magnitude) = doubleDot(weights[(r * columns)...], x[(t * columns)...], columns)
              #expect(
                abs(Double(y[t * rows + r]) - expected) <= 1e-6 * magnitude,
                "\(level) \(threads) threads, token \(t)/\(tokens) row \(r)")
            }
          }
        }
      }
    }
  }
}

/// Σ a[i] · b[i] over the first `count` of each in Double, and Σ |a[i] · b[i]| (what the float
/// rounding bounds scale with).
private func doubleDot(_ a: ArraySlice<Float>, _ b: ArraySlice<Float>, _ count: Int) -> (
  sum: Double, magnitude: Double
) {
  var sum = 0.0
  var magnitude = 0.0
  for (u, v) in zip(a.prefix(count), b.prefix(count)) {
    let product = Double(u) * Double(v)
    sum += product
    magnitude += abs(product)
  }
  return (sum, magnitude)
}
