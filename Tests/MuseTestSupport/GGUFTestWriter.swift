import Foundation

/// Writes small GGUF v2/v3 files for tests that need a file shaped a particular way
/// (unknown architecture, unsupported tensor type, every metadata type).
public struct GGUFTestWriter {
  public enum Value {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)
    case strings([String])
    case int32s([Int32])
    case float32s([Float])
  }

  public struct Tensor {
    public var name: String
    public var shape: [Int]
    public var type: UInt32
    public var data: [UInt8]
    public init(name: String, shape: [Int], type: UInt32, data: [UInt8]) {
      self.name = name
      self.shape = shape
      self.type = type
      self.data = data
    }
  }

  public var version: UInt32 = 3
  public var metadata: [(String, Value)] = []
  public var tensors: [Tensor] = []
  public var alignment = 32

  public init(version: UInt32 = 3) { self.version = version }

  public func bytes() -> [UInt8] {
    var out: [UInt8] = Array("GGUF".utf8)
    func put<T: FixedWidthInteger>(_ v: T) { withUnsafeBytes(of: v.littleEndian) { out += $0 } }
    func putString(_ s: String) {
      put(UInt64(s.utf8.count))
      out += Array(s.utf8)
    }
    put(version)
    put(UInt64(tensors.count))
    put(UInt64(metadata.count))
    for (key, value) in metadata {
      putString(key)
      switch value {
      case .uint8(let v):
        put(UInt32(0))
        put(v)
      case .int8(let v):
        put(UInt32(1))
        put(v)
      case .uint16(let v):
        put(UInt32(2))
        put(v)
      case .int16(let v):
        put(UInt32(3))
        put(v)
      case .uint32(let v):
        put(UInt32(4))
        put(v)
      case .int32(let v):
        put(UInt32(5))
        put(v)
      case .float32(let v):
        put(UInt32(6))
        put(v.bitPattern)
      case .bool(let v):
        put(UInt32(7))
        put(UInt8(v ? 1 : 0))
      case .string(let v):
        put(UInt32(8))
        putString(v)
      case .uint64(let v):
        put(UInt32(10))
        put(v)
      case .int64(let v):
        put(UInt32(11))
        put(v)
      case .float64(let v):
        put(UInt32(12))
        put(v.bitPattern)
      case .strings(let v):
        put(UInt32(9))
        put(UInt32(8))
        put(UInt64(v.count))
        v.forEach(putString)
      case .int32s(let v):
        put(UInt32(9))
        put(UInt32(5))
        put(UInt64(v.count))
        v.forEach { put($0) }
      case .float32s(let v):
        put(UInt32(9))
        put(UInt32(6))
        put(UInt64(v.count))
        v.forEach { put($0.bitPattern) }
      }
    }
    var offset = 0
    var offsets: [Int] = []
    for t in tensors {
      offsets.append(offset)
      offset += (t.data.count + alignment - 1) / alignment * alignment
    }
    for (t, o) in zip(tensors, offsets) {
      putString(t.name)
      put(UInt32(t.shape.count))
      t.shape.forEach { put(UInt64($0)) }
      put(t.type)
      put(UInt64(o))
    }
    while out.count % alignment != 0 { out.append(0) }
    for t in tensors {
      out += t.data
      while out.count % alignment != 0 { out.append(0) }
    }
    return out
  }

  /// Writes the file into `directory` and returns its path.
  public func write(to directory: URL, name: String) throws -> String {
    let url = directory.appendingPathComponent(name)
    try Data(bytes()).write(to: url)
    return url.path
  }
}
