import Testing

@testable import MuseKernels

/// A small deterministic generator (SplitMix64) so failures reproduce.
struct SeededGenerator: RandomNumberGenerator {
  var state: UInt64
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func float() -> Float { Float.random(in: -1...1, using: &self) }
}

/// Random but valid rows of `type`: random code bytes, with every scale field overwritten by a
/// modest half so no block decodes to infinities or NaNs.
func randomRows(_ type: GGMLType, rows: Int, columns: Int, seed: UInt64) -> [UInt8] {
  var generator = SeededGenerator(state: seed)
  let count = rows * columns
  switch type {
  case .f32:
    return (0..<count).map { _ in generator.float() }.withUnsafeBytes { [UInt8]($0) }
  case .f16:
    return (0..<count).map { _ in floatToHalf(generator.float()) }.withUnsafeBytes { [UInt8]($0) }
  case .bf16:
    let values = (0..<count).map { _ in UInt16(generator.float().bitPattern >> 16) }
    return values.withUnsafeBytes { [UInt8]($0) }
  default:
    break
  }
  var bytes = (0..<type.byteCount(values: count)).map { _ in UInt8.random(in: 0...255, using: &generator) }
  let scaleOffsets: [Int] =
    switch type {
    case .q8_0, .q4_0: [0]
    case .q4_1, .q4_K: [0, 2]
    case .q6_K: [208]
    default: []
    }
  let blockBytes = type.blockLayout.bytes
  for block in 0..<bytes.count / blockBytes {
    for offset in scaleOffsets {
      let half = floatToHalf(Float.random(in: 0.001...0.02, using: &generator))
      bytes[block * blockBytes + offset] = UInt8(half & 0xFF)
      bytes[block * blockBytes + offset + 1] = UInt8(half >> 8)
    }
  }
  return bytes
}

@Suite struct MatMulTests {
  @Test(arguments: supportedTypes, [(1, false), (2, false), (1, true), (2, true)])
  func matmulMatchesNaiveLoops(type: GGMLType, setting: (threads: Int, integer: Bool)) {
    let threads = setting.threads
    let pool = ThreadPool(threads: threads)
    let rows = 37
    let columns = 512
    let weights = randomRows(type, rows: rows, columns: columns, seed: UInt64(type.rawValue))
    // Reference: dequantise everything (checked against gguf-py elsewhere), then plain loops.
    var dense = [Float](repeating: 0, count: rows * columns)
    weights.withUnsafeBytes { raw in
      for r in 0..<rows {
        dequantizeRow(
          type, raw.baseAddress! + r * type.byteCount(values: columns), &dense[r * columns],
          count: columns)
      }
    }
    for tokens in [1, 5] {
      var generator = SeededGenerator(state: 99)
      let x = (0..<tokens * columns).map { _ in generator.float() }
      var y = [Float](repeating: .nan, count: tokens * rows)
      weights.withUnsafeBytes { raw in
        let w = TensorView(type: type, data: raw.baseAddress!, shape: [columns, rows])
        matmul(w, input: x, tokens: tokens, output: &y, pool: pool, integerActivations: setting.integer)
      }
      // Quantised weights meet int8 activations: allow half a quantisation step (max|x| / 254
      // per block of 32) of each activation on top of float rounding.
      let integer = setting.integer && KernelDispatch.hasIntegerKernel(type)
      for t in 0..<tokens {
        for r in 0..<rows {
          var expected = 0.0
          var magnitude = 0.0
          var rounding = 0.0
          for c in 0..<columns {
            let product = Double(dense[r * columns + c]) * Double(x[t * columns + c])
            expected += product
            magnitude += abs(product)
            if integer {
              let block = t * columns + c / 32 * 32
              let halfStep = Double(x[block..<block + 32].map(abs).max()!) / 254
              rounding += abs(Double(dense[r * columns + c])) * halfStep
            }
          }
          let got = Double(y[t * rows + r])
          #expect(
            abs(got - expected) <= rounding + 1e-5 * magnitude,
            "\(type.name) t\(t) r\(r): \(got) vs \(expected)")
        }
      }
    }
  }

  @Test(arguments: [1, 7, 16, 33, 100])
  func dotMatchesNaiveLoop(count: Int) {
    var generator = SeededGenerator(state: UInt64(count))
    let a = (0..<count).map { _ in generator.float() }
    let b = (0..<count).map { _ in generator.float() }
    var expected = 0.0
    var magnitude = 0.0
    for i in 0..<count {
      expected += Double(a[i]) * Double(b[i])
      magnitude += abs(Double(a[i]) * Double(b[i]))
    }
    #expect(abs(Double(dot(a, b, count: count)) - expected) <= 1e-6 * magnitude)
  }
}
