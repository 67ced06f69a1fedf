import Foundation
import Testing

@testable import MuseKernels

/// The quantised formats, which take the integer path (int8 activations).
let integerTypes: [GGMLType] = [.q8_0, .q4_0, .q4_1, .q4_K, .q6_K]

/// Runs `body` once per dispatch level this CPU supports, forcing that level.
func forEachLevel(_ body: (KernelDispatch.Level) -> Void) {
  for level in KernelDispatch.available {
    KernelDispatch.force(level)
    body(level)
  }
  KernelDispatch.force(nil)
}

/// The activations as the kernels see them: code × scale, per token.
func dequantizedActivations(_ x: QuantizedActivations, tokens: Int) -> [[Double]] {
  (0..<tokens).map { t in
    (0..<x.blocks * 32).map { i in Double(x.codes(t)[i]) * Double(x.scales(t)[i / 32]) }
  }
}

/// Dequantised weight rows (checked against gguf-py by RowKernelTests).
func denseRows(_ type: GGMLType, _ bytes: [UInt8], rows: Int, columns: Int) -> [[Float]] {
  bytes.withUnsafeBytes { raw in
    (0..<rows).map { r in
      var row = [Float](repeating: 0, count: columns)
      dequantizeRow(type, raw.baseAddress! + r * type.byteCount(values: columns), &row, count: columns)
      return row
    }
  }
}

// Level tests force a process-wide setting, so they do not run in parallel with each other.
@Suite(.serialized) struct IntegerKernelTests {
  @Test func quantizedActivationsRoundToNearestCode() {
    var generator = SeededGenerator(state: 7)
    let columns = 96
    var x = (0..<columns).map { _ in generator.float() * 3 }
    x[32..<64] = ArraySlice(repeating: 0, count: 32)  // an all-zero block gets d = 0
    x[70] = -5  // the largest magnitude is negative
    let q = QuantizedActivations(x, columns: columns, tokens: 1)
    for b in 0..<3 {
      let block = x[b * 32..<(b + 1) * 32]
      let amax = block.map(abs).max()!
      #expect(q.scales(0)[b] == amax / 127)
      var sum: Int32 = 0
      for i in b * 32..<(b + 1) * 32 {
        let code = q.codes(0)[i]
        sum += Int32(code)
        #expect(abs(Float(code) * q.scales(0)[b] - x[i]) <= q.scales(0)[b] / 2 * 1.0001)
      }
      #expect(q.sums(0)[b] == sum)
    }
    #expect(q.codes(0)[70] == -127)
  }

  @Test func scratchGrowsAndKeepsAlignment() {
    let small = ThreadScratch.buffer(bytes: 100)
    #expect(Int(bitPattern: small) % 64 == 0)
    let large = ThreadScratch.buffer(bytes: 10 << 20)
    #expect(Int(bitPattern: large) % 64 == 0)
    large.storeBytes(of: 1, toByteOffset: (10 << 20) - 1, as: UInt8.self)
    // A smaller request reuses the grown buffer.
    #expect(ThreadScratch.buffer(bytes: 100) == large)
  }

  /// Every level's kernel against Σ dequantised weight × dequantised activation in Double, on
  /// block counts that are odd and token counts that leave partial groups of four.
  @Test(arguments: integerTypes)
  func kernelsMatchReferenceAtEveryLevel(type: GGMLType) {
    let blockValues = type.blockLayout.values
    for blocks in [1, 3, 7] {
      let columns = blocks * max(blockValues, 32) * (blockValues == 32 ? 5 : 1)
      let rows = 3
      let bytes = randomRows(
        type, rows: rows, columns: columns, seed: UInt64(blocks * 31) + UInt64(type.rawValue))
      let dense = denseRows(type, bytes, rows: rows, columns: columns)
      for tokens in [1, 2, 3, 4, 5, 9] {
        var generator = SeededGenerator(state: UInt64(tokens))
        let x = (0..<tokens * columns).map { _ in generator.float() }
        let q = QuantizedActivations(x, columns: columns, tokens: tokens)
        let xs = dequantizedActivations(q, tokens: tokens)
        forEachLevel { level in
          var y = [Float](repeating: .nan, count: tokens * rows)
          bytes.withUnsafeBytes { raw in
            for r in 0..<rows {
              var t = 0
              while t < tokens {
                let n = min(4, tokens - t)
                y.withUnsafeMutableBufferPointer { out in
                  KernelDispatch.dot(
                    type, level: level, row: raw.baseAddress! + r * type.byteCount(values: columns),
                    columns: columns, x: q, first: t, count: n, y: out.baseAddress! + t * rows + r,
                    yStride: rows)
                }
                t += n
              }
            }
          }
          for t in 0..<tokens {
            for r in 0..<rows {
              var expected = 0.0
              var magnitude = 0.0
              for c in 0..<columns {
                let product = Double(dense[r][c]) * xs[t][c]
                expected += product
                magnitude += abs(product)
              }
              let got = Double(y[t * rows + r])
              #expect(
                abs(got - expected) <= 1e-5 * magnitude,
                "\(type.name) \(level) \(columns) columns, token \(t)/\(tokens), row \(r): \(got) vs \(expected)"
              )
            }
          }
        }
      }
    }
  }

  /// Whole matmuls at every level, thread counts and row counts that do not divide into the
  /// task chunks: the int8 path must equal the float result up to the activations' rounding,
  /// which is at most half a step (d_x / 2) per value.
  @Test(arguments: integerTypes)
  func matmulIsWithinActivationRoundingOfFloat(type: GGMLType) {
    let columns = type.blockLayout.values == 32 ? 32 * 23 : 256 * 3
    for rows in [1, 37, 133] {
      let bytes = randomRows(type, rows: rows, columns: columns, seed: UInt64(rows))
      let dense = denseRows(type, bytes, rows: rows, columns: columns)
      for tokens in [1, 6] {
        var generator = SeededGenerator(state: UInt64(rows + tokens))
        let x = (0..<tokens * columns).map { _ in generator.float() }
        // Half a quantisation step of each activation block.
        let halfSteps = (0..<tokens * columns / 32).map { b in
          Double(x[b * 32..<(b + 1) * 32].map(abs).max()!) / 127 / 2
        }
        for threads in [1, 3] {
          let pool = ThreadPool(threads: threads)
          forEachLevel { level in
            var y = [Float](repeating: .nan, count: tokens * rows)
            bytes.withUnsafeBytes { raw in
              let w = TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows])
              matmul(w, input: x, tokens: tokens, output: &y, pool: pool)
            }
            for t in 0..<tokens {
              for r in 0..<rows {
                var expected = 0.0
                var magnitude = 0.0
                var bound = 0.0
                for c in 0..<columns {
                  let product = Double(dense[r][c]) * Double(x[t * columns + c])
                  expected += product
                  magnitude += abs(product)
                  bound += abs(Double(dense[r][c])) * halfSteps[(t * columns + c) / 32]
                }
                let got = Double(y[t * rows + r])
                #expect(
                  abs(got - expected) <= bound + 1e-5 * magnitude,
                  "\(type.name) \(level) \(threads) threads, rows \(rows), token \(t), row \(r)")
              }
            }
          }
        }
      }
    }
  }
}
