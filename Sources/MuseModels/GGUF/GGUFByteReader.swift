/// A bounds-checked little-endian cursor over the mapped header of a GGUF file.
struct GGUFByteReader {
  let base: UnsafeRawPointer
  let size: Int
  let file: String
  private(set) var offset = 0

  init(base: UnsafeRawPointer, size: Int, file: String) {
    self.base = base
    self.size = size
    self.file = file
  }

  private func require(_ bytes: Int, what: String) throws {
    guard bytes <= size - offset else {
      throw GGUFError.truncated(file: file, offset: offset, needed: bytes - (size - offset), what: what)
    }
  }

  mutating func scalar<T: FixedWidthInteger>(what: String) throws -> T {
    try require(MemoryLayout<T>.size, what: what)
    let v = base.loadUnaligned(fromByteOffset: offset, as: T.self)
    offset += MemoryLayout<T>.size
    return T(littleEndian: v)
  }

  /// A u64 count, checked against the bytes left so a corrupt count cannot make us allocate
  /// terabytes or loop for hours.
  mutating func count(what: String, minimumBytesEach: Int) throws -> Int {
    let start = offset
    let n: UInt64 = try scalar(what: what)
    let left = UInt64(size - offset)
    // A count the whole file could not hold is corruption; one that only the rest of this
    // (short) file cannot hold is most likely a cut-off download.
    guard n <= UInt64(size) else {
      throw GGUFError.corrupt(
        file: file, offset: start, reason: "\(what) \(n) is larger than the file could hold")
    }
    guard n * UInt64(max(minimumBytesEach, 1)) <= left else {
      throw GGUFError.truncated(
        file: file, offset: offset, needed: Int(n) * max(minimumBytesEach, 1) - Int(left),
        what: "\(what) (\(n))")
    }
    return Int(n)
  }

  mutating func string(what: String) throws -> String {
    let length = try count(what: "the length of \(what)", minimumBytesEach: 1)
    try require(length, what: what)
    let bytes = UnsafeRawBufferPointer(start: base + offset, count: length)
    offset += length
    // Invalid UTF-8 is repaired rather than rejected: vocabularies contain partial byte tokens.
    return String(decoding: bytes, as: UTF8.self)
  }

  mutating func value(key: String) throws -> GGUFValue {
    let type: UInt32 = try scalar(what: "the value type of key '\(key)'")
    return try value(ofType: type, key: key)
  }

  private mutating func value(ofType type: UInt32, key: String) throws -> GGUFValue {
    let what = "the value of key '\(key)'"
    switch type {
    case 0: return .uint8(try scalar(what: what))
    case 1: return .int8(try scalar(what: what))
    case 2: return .uint16(try scalar(what: what))
    case 3: return .int16(try scalar(what: what))
    case 4: return .uint32(try scalar(what: what))
    case 5: return .int32(try scalar(what: what))
    case 6: return .float32(Float(bitPattern: try scalar(what: what)))
    case 7:
      let b: UInt8 = try scalar(what: what)
      guard b <= 1 else {
        throw GGUFError.corrupt(file: file, offset: offset - 1, reason: "key '\(key)' has bool value \(b)")
      }
      return .bool(b == 1)
    case 8: return .string(try string(what: what))
    case 9: return .array(try array(key: key))
    case 10: return .uint64(try scalar(what: what))
    case 11: return .int64(try scalar(what: what))
    case 12: return .float64(Double(bitPattern: try scalar(what: what)))
    default: throw GGUFError.unknownValueType(file: file, key: key, type: type)
    }
  }

  private mutating func array(key: String) throws -> GGUFArray {
    let elementType: UInt32 = try scalar(what: "the element type of array '\(key)'")
    let minimum = [0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 8: 8, 9: 12, 10: 8, 11: 8, 12: 8][
      elementType]
    guard let minimum else { throw GGUFError.unknownValueType(file: file, key: key, type: elementType) }
    let n = try count(what: "the length of array '\(key)'", minimumBytesEach: minimum)
    switch elementType {
    case 8:
      var out: [String] = []
      out.reserveCapacity(n)
      for _ in 0..<n { out.append(try string(what: "an element of '\(key)'")) }
      return .strings(out)
    case 6, 12:
      var out: [Double] = []
      out.reserveCapacity(n)
      for _ in 0..<n { out.append(try value(ofType: elementType, key: key).double ?? 0) }
      return .floats(out)
    case 7:
      var out: [Bool] = []
      out.reserveCapacity(n)
      for _ in 0..<n { out.append(try value(ofType: 7, key: key).bool ?? false) }
      return .bools(out)
    case 9:
      var out: [GGUFArray] = []
      for _ in 0..<n { out.append(try array(key: key)) }
      return .arrays(out)
    default:
      var out: [Int] = []
      out.reserveCapacity(n)
      for _ in 0..<n {
        let v = try value(ofType: elementType, key: key)
        guard let i = v.int else {
          throw GGUFError.corrupt(
            file: file, offset: offset, reason: "array '\(key)' holds an integer out of range")
        }
        out.append(i)
      }
      return .integers(out)
    }
  }
}
