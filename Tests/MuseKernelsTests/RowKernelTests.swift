import Testing

@testable import MuseKernels

@Suite struct RowKernelTests {
  @Test(arguments: supportedTypes)
  func dequantizeMatchesGGUFPy(type: GGMLType) throws {
    let fixture = try KernelFixture.load(type)
    let rowBytes = type.byteCount(values: fixture.columns)
    #expect(fixture.raw.count == rowBytes * fixture.rows)
    var output = [Float](repeating: .nan, count: fixture.columns)
    for r in 0..<fixture.rows {
      fixture.raw.withUnsafeBytes { raw in
        dequantizeRow(type, raw.baseAddress! + r * rowBytes, &output, count: fixture.columns)
      }
      for c in 0..<fixture.columns {
        let expected = fixture.dequantized[r * fixture.columns + c]
        let got = output[c]
        let close = abs(got - expected) <= 1e-6 * abs(expected)
        #expect(got == expected || close, "\(type.name) row \(r) column \(c): \(got) vs \(expected)")
      }
    }
  }

  @Test(arguments: supportedTypes)
  func dotRowMatchesNumpy(type: GGMLType) throws {
    let fixture = try KernelFixture.load(type)
    let rowBytes = type.byteCount(values: fixture.columns)
    for r in 0..<fixture.rows {
      let got = fixture.raw.withUnsafeBytes { raw in
        dotRow(type, raw.baseAddress! + r * rowBytes, fixture.x, count: fixture.columns)
      }
      // Relative to Σ|w x| so rows whose products cancel are not held to an impossible bound.
      let error = abs(Double(got) - fixture.dots[r])
      #expect(error <= 1e-5 * fixture.absDots[r], "\(type.name) row \(r): \(got) vs \(fixture.dots[r])")
    }
  }

  @Test func quantizeQ8_0MatchesGGUFPyByteForByte() throws {
    let fixture = try KernelFixture.load(.q8_0)
    let expected = try #require(fixture.xQ8_0)
    var output = [UInt8](repeating: 0, count: GGMLType.q8_0.byteCount(values: fixture.x.count))
    output.withUnsafeMutableBytes { out in
      quantizeRowQ8_0(fixture.x, out.baseAddress!, count: fixture.x.count)
    }
    #expect(output == expected)
  }

  @Test func quantizeQ8_0OfZerosIsZero() {
    let zeros = [Float](repeating: 0, count: 32)
    var output = [UInt8](repeating: 0xFF, count: 34)
    output.withUnsafeMutableBytes { quantizeRowQ8_0(zeros, $0.baseAddress!, count: 32) }
    #expect(output == [UInt8](repeating: 0, count: 34))
  }
}
