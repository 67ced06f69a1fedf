import Testing

@testable import MuseKernels

@Suite struct HalfTests {
  #if !(os(macOS) && arch(x86_64))
    @Test func halfToFloatMatchesFloat16ForEveryPattern() {
      for bits in 0...UInt16.max {
        let expected = Float(Float16(bitPattern: bits))
        let got = halfToFloat(bits)
        if expected.isNaN {
          #expect(got.isNaN)
        } else {
          #expect(got.bitPattern == expected.bitPattern, "half \(bits)")
        }
      }
    }

    @Test func floatToHalfMatchesFloat16OnRandomFloats() {
      var generator = SystemRandomNumberGenerator()
      for _ in 0..<200_000 {
        let f = Float(bitPattern: UInt32.random(in: 0...UInt32.max, using: &generator))
        if f.isNaN { continue }
        #expect(floatToHalf(f) == Float16(f).bitPattern, "float \(f)")
      }
    }
  #endif

  @Test func everyHalfRoundTrips() {
    for bits in 0...UInt16.max {
      let f = halfToFloat(bits)
      if f.isNaN { continue }
      #expect(floatToHalf(f) == bits, "half \(bits)")
    }
  }

  @Test func vectorConversionMatchesScalar() {
    for base in stride(from: 0, through: 65528, by: 8) {
      let bits = SIMD8<UInt16>((0..<8).map { UInt16(base + $0) })
      let vector = halfToFloat(bits)
      for lane in 0..<8 where !vector[lane].isNaN {
        #expect(vector[lane].bitPattern == halfToFloat(bits[lane]).bitPattern)
      }
    }
  }

  static let roundingCases: [(Float, UInt16)] = [
    (1, 0x3C00),
    (0x1.002p0, 0x3C00),  // tie between 1 and 1 + 2^-10 → even (1)
    (0x1.006p0, 0x3C02),  // tie between an odd and an even mantissa → even
    (0x1.00201p0, 0x3C01),  // just above the tie rounds up
    (65504, 0x7BFF),  // largest half
    (65519, 0x7BFF),
    (65520, 0x7C00),  // tie at the top rounds to infinity
    (0x1p-24, 0x0001),  // smallest subnormal
    (0x1p-25, 0x0000),  // tie at the bottom → even (zero)
    (0x1.0002p-25, 0x0001),
    (0x1.8p-24, 0x0002),  // 1.5 ulp subnormal tie → even
    (-0.0, 0x8000),
    (-2, 0xC000),
    (.infinity, 0x7C00),
    (-.infinity, 0xFC00),
    (1e10, 0x7C00),
  ]

  @Test(arguments: roundingCases)
  func roundsToNearestEven(value: Float, bits: UInt16) {
    #expect(floatToHalf(value) == bits)
  }

  @Test func nanStaysNaN() {
    #expect(halfToFloat(floatToHalf(.nan)).isNaN)
    #expect(halfToFloat(0x7E00).isNaN)
  }

  @Test func bf16IsTheTopHalfOfAFloat() {
    #expect(bf16ToFloat(0x3F80) == 1)
    #expect(bf16ToFloat(0xC040) == -3)
    #expect(bf16ToFloat(0x7F80) == .infinity)
  }
}
