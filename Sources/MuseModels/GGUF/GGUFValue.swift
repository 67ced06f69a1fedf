/// A metadata value as stored in GGUF (spec: ggml/docs/gguf.md, `gguf_metadata_value_type`).
public enum GGUFValue: Sendable, Equatable {
  case uint8(UInt8)
  case int8(Int8)
  case uint16(UInt16)
  case int16(Int16)
  case uint32(UInt32)
  case int32(Int32)
  case float32(Float)
  case bool(Bool)
  case string(String)
  case array(GGUFArray)
  case uint64(UInt64)
  case int64(Int64)
  case float64(Double)

  /// Integer value of any integer type (GGUF writers differ in which width they use).
  public var int: Int? {
    switch self {
    case .uint8(let v): Int(v)
    case .int8(let v): Int(v)
    case .uint16(let v): Int(v)
    case .int16(let v): Int(v)
    case .uint32(let v): Int(v)
    case .int32(let v): Int(v)
    case .uint64(let v): Int(exactly: v)
    case .int64(let v): Int(v)
    case .bool(let v): v ? 1 : 0
    default: nil
    }
  }

  public var double: Double? {
    switch self {
    case .float32(let v): Double(v)
    case .float64(let v): v
    default: int.map(Double.init)
    }
  }

  public var bool: Bool? {
    if case .bool(let v) = self { return v }
    return int.map { $0 != 0 }
  }

  public var string: String? {
    if case .string(let v) = self { return v }
    return nil
  }

  public var array: GGUFArray? {
    if case .array(let v) = self { return v }
    return nil
  }

  /// A short human-readable rendering (long arrays are summarised).
  public var summary: String {
    switch self {
    case .string(let s): s.count > 60 ? "\"\(s.prefix(57))...\" (\(s.count) chars)" : "\"\(s)\""
    case .array(let a): "[\(a.count) × \(a.elementTypeName)]"
    case .bool(let b): String(b)
    case .float32(let f): String(f)
    case .float64(let f): String(f)
    default: int.map(String.init) ?? "?"
    }
  }
}

/// A typed GGUF array. Large arrays (vocabularies of 150k tokens) stay in compact typed storage.
public enum GGUFArray: Sendable, Equatable {
  case strings([String])
  case integers([Int])
  case floats([Double])
  case bools([Bool])
  case arrays([GGUFArray])

  public var count: Int {
    switch self {
    case .strings(let v): v.count
    case .integers(let v): v.count
    case .floats(let v): v.count
    case .bools(let v): v.count
    case .arrays(let v): v.count
    }
  }

  public var elementTypeName: String {
    switch self {
    case .strings: "string"
    case .integers: "int"
    case .floats: "float"
    case .bools: "bool"
    case .arrays: "array"
    }
  }
}
