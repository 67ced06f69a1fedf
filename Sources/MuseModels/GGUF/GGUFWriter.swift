import Foundation
import MuseKernels

/// Writes a GGUF v3 file (spec: ggml `docs/gguf.md`): header, metadata, tensor infos, then each
/// tensor's data at an `alignment`-byte boundary. Tensor data is produced one tensor at a time by
/// a closure, so a converter never holds more than one tensor in memory.
public struct GGUFWriter {
  public struct PendingTensor {
    public let name: String
    /// ggml order: shape[0] innermost.
    public let shape: [Int]
    public let type: GGMLType
    /// Fills exactly `type.byteCount(values: shape.product)` bytes.
    let produce: (UnsafeMutableRawBufferPointer) throws -> Void
    var byteCount: Int { type.byteCount(values: shape.reduce(1, *)) }
  }

  public let alignment: Int
  public private(set) var metadata: [(String, GGUFValue)] = []
  public private(set) var tensors: [PendingTensor] = []

  public init(alignment: Int = 32) { self.alignment = alignment }

  public mutating func add(_ key: String, _ value: GGUFValue) {
    if let i = metadata.firstIndex(where: { $0.0 == key }) {
      metadata[i].1 = value
    } else {
      metadata.append((key, value))
    }
  }

  public mutating func addTensor(
    name: String, shape: [Int], type: GGMLType,
    produce: @escaping (UnsafeMutableRawBufferPointer) throws -> Void
  ) {
    tensors.append(PendingTensor(name: name, shape: shape, type: type, produce: produce))
  }

  /// Writes the file; `progress` hears (tensors written, total) after each tensor.
  public func write(to path: String, progress: (Int, Int) -> Void = { _, _ in }) throws {
    guard FileManager.default.createFile(atPath: path, contents: nil) else {
      throw GGUFError.cannotOpen(file: path, reason: "cannot create the file")
    }
    guard let handle = FileHandle(forWritingAtPath: path) else {
      throw GGUFError.cannotOpen(file: path, reason: "cannot open the file for writing")
    }
    defer { try? handle.close() }
    var header = ByteBuffer()
    header.append(UInt32(0x4655_4747))  // "GGUF"
    header.append(UInt32(3))
    header.append(UInt64(tensors.count))
    header.append(UInt64(metadata.count + (metadata.contains { $0.0 == "general.alignment" } ? 0 : 1)))
    var meta = metadata
    if !meta.contains(where: { $0.0 == "general.alignment" }) {
      meta.append(("general.alignment", .uint32(UInt32(alignment))))
    }
    for (key, value) in meta {
      header.append(string: key)
      header.append(value: value)
    }
    var offset = 0
    for t in tensors {
      header.append(string: t.name)
      header.append(UInt32(t.shape.count))
      for d in t.shape { header.append(UInt64(d)) }
      header.append(UInt32(t.type.rawValue))
      header.append(UInt64(offset))
      offset += Self.padded(t.byteCount, to: alignment)
    }
    header.pad(to: alignment)
    try handle.write(contentsOf: header.bytes)
    for (i, t) in tensors.enumerated() {
      let size = Self.padded(t.byteCount, to: alignment)
      var data = Data(count: size)
      try data.withUnsafeMutableBytes { raw in
        try t.produce(UnsafeMutableRawBufferPointer(rebasing: raw[0..<t.byteCount]))
      }
      try handle.write(contentsOf: data)
      progress(i + 1, tensors.count)
    }
  }

  static func padded(_ n: Int, to alignment: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}

/// Little-endian serialisation of GGUF header fields.
private struct ByteBuffer {
  var bytes: [UInt8] = []

  mutating func append<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { bytes += $0 } }
  mutating func append(float v: Float) { append(v.bitPattern) }
  mutating func append(double v: Double) { append(v.bitPattern) }
  mutating func append(string s: String) {
    append(UInt64(s.utf8.count))
    bytes += s.utf8
  }
  mutating func pad(to alignment: Int) {
    bytes += [UInt8](repeating: 0, count: GGUFWriter.padded(bytes.count, to: alignment) - bytes.count)
  }

  /// `gguf_metadata_value_type` codes.
  mutating func append(value: GGUFValue) {
    switch value {
    case .uint8(let v):
      append(UInt32(0))
      append(v)
    case .int8(let v):
      append(UInt32(1))
      append(v)
    case .uint16(let v):
      append(UInt32(2))
      append(v)
    case .int16(let v):
      append(UInt32(3))
      append(v)
    case .uint32(let v):
      append(UInt32(4))
      append(v)
    case .int32(let v):
      append(UInt32(5))
      append(v)
    case .float32(let v):
      append(UInt32(6))
      append(float: v)
    case .bool(let v):
      append(UInt32(7))
      append(UInt8(v ? 1 : 0))
    case .string(let s):
      append(UInt32(8))
      append(string: s)
    case .array(let a):
      append(UInt32(9))
      append(array: a)
    case .uint64(let v):
      append(UInt32(10))
      append(v)
    case .int64(let v):
      append(UInt32(11))
      append(v)
    case .float64(let v):
      append(UInt32(12))
      append(double: v)
    }
  }

  /// Integers are written as INT32 (what llama.cpp uses for token types), floats as FLOAT32.
  mutating func append(array: GGUFArray) {
    switch array {
    case .strings(let v):
      append(UInt32(8))
      append(UInt64(v.count))
      for s in v { append(string: s) }
    case .integers(let v):
      append(UInt32(5))
      append(UInt64(v.count))
      for x in v { append(Int32(truncatingIfNeeded: x)) }
    case .floats(let v):
      append(UInt32(6))
      append(UInt64(v.count))
      for x in v { append(float: Float(x)) }
    case .bools(let v):
      append(UInt32(7))
      append(UInt64(v.count))
      for x in v { append(UInt8(x ? 1 : 0)) }
    case .arrays(let v):
      append(UInt32(9))
      append(UInt64(v.count))
      for x in v { append(array: x) }
    }
  }
}
