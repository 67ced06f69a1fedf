import Foundation
import MuseKernels

/// Golden vectors written by Scripts/golden/kernel_vectors.py from gguf-py and numpy.
struct KernelFixture: Decodable {
  let type: String
  let rows: Int
  let columns: Int
  /// gguf-py's dequantisation of every row, row after row.
  let dequantized: [Float]
  let x: [Float]
  /// numpy's row · x in float64, and Σ |row[i] x[i]| to scale the tolerance.
  let dots: [Double]
  let absDots: [Double]
  /// gguf-py's Q8_0 quantisation of `x` (Q8_0 fixture only).
  let xQ8_0: [UInt8]?
  /// The raw rows, in ggml layout.
  var raw: [UInt8] = []

  private enum CodingKeys: String, CodingKey {
    case type, rows, columns, dequantized, x, dots, absDots, xQ8_0
  }

  static let directory = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent()  // MuseKernelsTests
    .deletingLastPathComponent()  // Tests
    .appendingPathComponent("Fixtures/kernels")

  static func load(_ type: GGMLType) throws -> KernelFixture {
    let json = try Data(contentsOf: directory.appendingPathComponent("\(type.name).json"))
    var fixture = try JSONDecoder().decode(KernelFixture.self, from: json)
    fixture.raw = [UInt8](try Data(contentsOf: directory.appendingPathComponent("\(type.name).bin")))
    return fixture
  }
}

/// The formats with kernels, for parameterised tests.
let supportedTypes: [GGMLType] = [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q4_K, .q6_K]
