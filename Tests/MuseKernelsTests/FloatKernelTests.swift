import Foundation
import Testing

@testable import MuseKernels

// The float-activation kernels (the default path). Level tests force a process-wide setting,
// so these live in IntegerKernelTests' serialized suite rather than a suite of their own,
// which would run in parallel with it and see its forced levels.
extension IntegerKernelTests {
  /// The C float-activation kernels at every level against Σ dequantised weight × activation in
  /// Double, on odd and even block counts (Q8_0 splits them into even and odd accumulators),
  /// rows that do not fill the task chunks, and token counts that leave partial groups of four.
  @Test(arguments: integerTypes)
  func floatKernelsMatchReferenceAtEveryLevel(type: GGMLType) {
    let blockValues = type.blockLayout.values
    for blocks in [1, 2, 3, 7] {
      let columns = blocks * blockValues * (blockValues == 32 ? 5 : 1)
      let rows = 19
      let bytes = randomRows(
        type, rows: rows, columns: columns, seed: UInt64(blocks * 13) + UInt64(type.rawValue))
      let dense = denseRows(type, bytes, rows: rows, columns: columns)
      for tokens in [1, 2, 3, 5, 9] {
        var generator = SeededGenerator(state: UInt64(tokens * 7 + blocks))
        let x = (0..<tokens * columns).map { _ in generator.float() * 4 }
        let pool = ThreadPool(threads: 2)
        forEachLevel { level in
          var y = [Float](repeating: .nan, count: tokens * rows)
          bytes.withUnsafeBytes { raw in
            let w = TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows])
            matmul(w, input: x, tokens: tokens, output: &y, pool: pool, integerActivations: false)
          }
          for t in 0..<tokens {
            for r in 0..<rows {
              var expected = 0.0
              var magnitude = 0.0
              for c in 0..<columns {
                let product = Double(dense[r][c]) * Double(x[t * columns + c])
                expected += product
                magnitude += abs(product)
              }
              let got = Double(y[t * rows + r])
              #expect(
                abs(got - expected) <= 2e-6 * magnitude,
                "\(type.name) \(level) \(columns) columns, token \(t)/\(tokens), row \(r): \(got) vs \(expected)"
              )
            }
          }
        }
      }
    }
  }

  /// Batch invariance: a token's output row is bitwise the same whether it is multiplied alone
  /// or among 2...9 tokens, at any position, for every weight type, level, activation mode and
  /// thread count. Continuous batching and prefix caching depend on it.
  @Test(arguments: supportedTypes)
  func oneTokenRowIsBitwiseIndependentOfTheBatch(type: GGMLType) {
    let columns = type.blockLayout.values == 32 ? 32 * 9 : 256 * 2
    let rows = 41
    let bytes = randomRows(type, rows: rows, columns: columns, seed: 5 + UInt64(type.rawValue))
    var generator = SeededGenerator(state: 11)
    let batch = 9
    let x = (0..<batch * columns).map { _ in generator.float() }
    for integer in [false, true] {
      for threads in [1, 3] {
        let pool = ThreadPool(threads: threads)
        forEachLevel { level in
          func run(_ input: ArraySlice<Float>, tokens: Int) -> [Float] {
            var y = [Float](repeating: .nan, count: tokens * rows)
            let input = Array(input)
            bytes.withUnsafeBytes { raw in
              let w = TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows])
              matmul(w, input: input, tokens: tokens, output: &y, pool: pool, integerActivations: integer)
            }
            return y
          }
          let alone = (0..<batch).map { t in run(x[t * columns..<(t + 1) * columns], tokens: 1) }
          for tokens in 2...batch {
            // Tokens first ..< first + tokens of x, so each token appears at several positions.
            for first in [0, batch - tokens] {
              let y = run(x[first * columns..<(first + tokens) * columns], tokens: tokens)
              for i in 0..<tokens {
                let same = (0..<rows).allSatisfy { r in
                  y[i * rows + r].bitPattern == alone[first + i][r].bitPattern
                }
                #expect(
                  same,
                  "\(type.name) \(level) int8 \(integer) \(threads) threads: token \(first + i) at \(i) of \(tokens)"
                )
              }
            }
          }
        }
      }
    }
  }
}
