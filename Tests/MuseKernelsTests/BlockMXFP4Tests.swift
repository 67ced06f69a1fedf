import Testing

@testable import MuseKernels

/// MXFP4 against gguf-py 0.19's `quants.MXFP4` (values below: `quantize` then `dequantize` of
/// 64 random values, the last 24 scaled down 1000x so their block's scale is tiny).
@Suite struct BlockMXFP4Tests {
  static let blocks: [UInt8] = [
    127, 224, 178, 250, 237, 251, 157, 224, 38, 27, 156, 243, 178, 1, 29, 224, 180,
    126, 15, 14, 7, 14, 0, 7, 14, 9, 0, 0, 0, 0, 0, 0, 0, 0,
  ]
  static let values: [Float] = [
    0.0, 1.0, -1.0, -3.0, -1.5, -3.0, 0.0, 4.0, -1.5, -2.0, 1.5, 1.0, 0.5, -3.0, 0.0, 2.0,
    -4.0, -1.5, -6.0, -4.0, -6.0, -0.5, -4.0, 1.0, 0.5, -0.5, -6.0, -1.5, 0.0, 0.5, -4.0, -1.5,
    -3.0, -2.0, 3.0, -2.0, 0.0, 3.0, -2.0, -0.25, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
    0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
  ]

  @Test func layout() {
    #expect(GGMLType.mxfp4.blockLayout == (32, 17) && GGMLType.mxfp4.isSupported)
  }

  @Test func dequantizeMatchesGGUFPy() {
    var out = [Float](repeating: .nan, count: 64)
    Self.blocks.withUnsafeBytes { dequantizeRow(.mxfp4, $0.baseAddress!, &out, count: 64) }
    #expect(out == Self.values)
  }

  @Test func dotMatchesDequantizedProduct() {
    let x = (0..<64).map { Float($0 % 7) - 3.25 }
    let expected = zip(Self.values, x).reduce(Float(0)) { $0 + $1.0 * $1.1 }
    let got = Self.blocks.withUnsafeBytes { dotRow(.mxfp4, $0.baseAddress!, x, count: 64) }
    #expect(abs(got - expected) <= 1e-5 * abs(expected))
  }

  /// The scale is 2^(e - 128) over the whole byte range, subnormals (e < 2) included.
  @Test(arguments: [0, 1, 2, 100, 128, 200, 254] as [UInt8])
  func scale(e: UInt8) {
    #expect(e8m0HalfToFloat(e) == Float(sign: .plus, exponent: Int(e) - 128, significand: 1))
  }
}
