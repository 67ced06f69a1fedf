import Foundation

/// JSON in and out of template values. Parsing keeps object key order (JSONSerialization does
/// not), because templates print tool schemas with `tojson` and the order is part of the prompt.
extension JinjaValue {
  /// Parses JSON text. Numbers without a fraction or exponent become ints, like Python's json.
  public init(json data: Data) throws {
    var parser = JSONParser(bytes: Array(data))
    parser.skipSpace()
    self = try parser.parseValue()
    parser.skipSpace()
    guard parser.pos == parser.bytes.count else { throw parser.error("trailing characters") }
  }

  public init(json text: String) throws { try self.init(json: Data(text.utf8)) }

  /// Converts what `JSONSerialization` (or hand-built Swift collections) produce. Dictionary
  /// keys are sorted because Swift dictionaries have no order; prefer `init(json:)` for prompts.
  public init(any value: Any?) {
    switch value {
    case nil, is NSNull: self = .none
    case let v as JinjaValue: self = v
    case let s as String: self = .string(s)
    // Exact type checks first: `as Bool` would also bridge an NSNumber 1 to true.
    case let b as Bool where type(of: value!) == Bool.self: self = .bool(b)
    case let i as Int where type(of: value!) == Int.self: self = .int(i)
    case let d as Double where type(of: value!) == Double.self: self = .float(d)
    case let n as NSNumber:
      // JSONSerialization's numbers: the Objective-C type code tells bool, float and int apart.
      switch String(cString: n.objCType) {
      case "c", "B": self = .bool(n.boolValue)
      case "f", "d": self = .float(n.doubleValue)
      default: self = .int(n.intValue)
      }
    case let a as [Any?]: self = .array(a.map { JinjaValue(any: $0) })
    case let d as [String: Any?]:
      var dict = JinjaDict()
      for key in d.keys.sorted() { dict[key] = JinjaValue(any: d[key] ?? nil) }
      self = .dict(dict)
    default: self = .string(String(describing: value!))
    }
  }

  /// Python's `json.dumps(x, ensure_ascii=False, indent=…, separators=…, sort_keys=…)`, which
  /// is what transformers' `tojson` filter calls.
  public func jsonString(indent: String? = nil, separators: (String, String)? = nil, sortKeys: Bool = false)
    throws -> String
  {
    let seps = separators ?? (indent == nil ? (", ", ": ") : (",", ": "))
    var out = ""
    try writeJSON(into: &out, indent: indent, level: 0, separators: seps, sortKeys: sortKeys)
    return out
  }

  private func writeJSON(
    into out: inout String, indent: String?, level: Int, separators: (String, String), sortKeys: Bool
  ) throws {
    func newline(_ level: Int) {
      if let indent { out += "\n" + String(repeating: indent, count: level) }
    }
    switch self {
    case .none: out += "null"
    case .bool(let b): out += b ? "true" : "false"
    case .int(let i): out += String(i)
    case .float(let d):
      out += d.isNaN ? "NaN" : d.isInfinite ? (d < 0 ? "-Infinity" : "Infinity") : PythonFloat.repr(d)
    case .string(let s), .markup(let s): out += JinjaValue.jsonQuote(s)
    case .array(let items), .tuple(let items):
      if items.isEmpty {
        out += "[]"
        return
      }
      out += "["
      for (i, item) in items.enumerated() {
        if i > 0 { out += separators.0 }
        newline(level + 1)
        try item.writeJSON(
          into: &out, indent: indent, level: level + 1, separators: separators, sortKeys: sortKeys)
      }
      newline(level)
      out += "]"
    case .dict(let dict):
      if dict.isEmpty {
        out += "{}"
        return
      }
      out += "{"
      let keys = sortKeys ? try JinjaFilters.stableSort(dict.keys, reverse: false) { $0 } : dict.keys
      for (i, key) in keys.enumerated() {
        if i > 0 { out += separators.0 }
        newline(level + 1)
        out += try JinjaValue.jsonKey(key) + separators.1
        try dict[key]!.writeJSON(
          into: &out, indent: indent, level: level + 1, separators: separators, sortKeys: sortKeys)
      }
      newline(level)
      out += "}"
    case .undefined, .generator, .namespace, .function:
      throw JinjaError(.type, "Object of type \(pythonTypeName) is not JSON serializable")
    }
  }

  /// json.dumps turns int, float, bool and None keys into strings.
  private static func jsonKey(_ key: JinjaValue) throws -> String {
    switch key {
    case .string(let s), .markup(let s): return jsonQuote(s)
    case .none: return "\"null\""
    case .bool(let b): return b ? "\"true\"" : "\"false\""
    case .int, .float: return jsonQuote(try key.jsonString())
    default: throw JinjaError(.type, "keys must be str, int, float, bool or None, not \(key.pythonTypeName)")
    }
  }

  static func jsonQuote(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      default:
        if scalar.value < 0x20 {
          out += String(format: "\\u%04x", scalar.value)
        } else {
          out.unicodeScalars.append(scalar)
        }
      }
    }
    return out + "\""
  }
}

private struct JSONParser {
  let bytes: [UInt8]
  var pos = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  func error(_ what: String) -> JinjaError { JinjaError(.value, "invalid JSON at byte \(pos): \(what)") }

  mutating func skipSpace() {
    while pos < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[pos]) { pos += 1 }
  }

  mutating func expect(_ literal: String, _ value: JinjaValue) throws -> JinjaValue {
    let l = Array(literal.utf8)
    guard pos + l.count <= bytes.count, Array(bytes[pos..<pos + l.count]) == l else {
      throw error("expected \(literal)")
    }
    pos += l.count
    return value
  }

  mutating func parseValue() throws -> JinjaValue {
    guard pos < bytes.count else { throw error("unexpected end") }
    switch bytes[pos] {
    case UInt8(ascii: "{"):
      pos += 1
      var dict = JinjaDict()
      skipSpace()
      if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") {
        pos += 1
        return .dict(dict)
      }
      while true {
        skipSpace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected a key") }
        let key = try parseString()
        skipSpace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':'") }
        pos += 1
        skipSpace()
        dict[key] = try parseValue()
        skipSpace()
        guard pos < bytes.count else { throw error("unexpected end") }
        pos += 1
        if bytes[pos - 1] == UInt8(ascii: "}") { return .dict(dict) }
        guard bytes[pos - 1] == UInt8(ascii: ",") else { throw error("expected ',' or '}'") }
      }
    case UInt8(ascii: "["):
      pos += 1
      var items: [JinjaValue] = []
      skipSpace()
      if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") {
        pos += 1
        return .array(items)
      }
      while true {
        skipSpace()
        items.append(try parseValue())
        skipSpace()
        guard pos < bytes.count else { throw error("unexpected end") }
        pos += 1
        if bytes[pos - 1] == UInt8(ascii: "]") { return .array(items) }
        guard bytes[pos - 1] == UInt8(ascii: ",") else { throw error("expected ',' or ']'") }
      }
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): return try expect("true", .bool(true))
    case UInt8(ascii: "f"): return try expect("false", .bool(false))
    case UInt8(ascii: "n"): return try expect("null", .none)
    default: return try parseNumber()
    }
  }

  mutating func parseNumber() throws -> JinjaValue {
    let start = pos
    var isFloat = false
    while pos < bytes.count {
      let c = bytes[pos]
      if c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") {
        isFloat = true
      } else if !(c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || (c >= 0x30 && c <= 0x39)) {
        break
      }
      pos += 1
    }
    let text = String(decoding: bytes[start..<pos], as: UTF8.self)
    if !isFloat, let i = Int(text) { return .int(i) }
    guard let d = Double(text) else { throw error("bad number '\(text)'") }
    return .float(d)
  }

  mutating func parseString() throws -> String {
    pos += 1
    var out = [UInt8]()
    while pos < bytes.count {
      let c = bytes[pos]
      pos += 1
      if c == UInt8(ascii: "\"") { return String(decoding: out, as: UTF8.self) }
      guard c == UInt8(ascii: "\\") else {
        out.append(c)
        continue
      }
      guard pos < bytes.count else { break }
      let e = bytes[pos]
      pos += 1
      switch e {
      case UInt8(ascii: "n"): out.append(0x0A)
      case UInt8(ascii: "t"): out.append(0x09)
      case UInt8(ascii: "r"): out.append(0x0D)
      case UInt8(ascii: "b"): out.append(0x08)
      case UInt8(ascii: "f"): out.append(0x0C)
      case UInt8(ascii: "u"):
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code), pos + 6 <= bytes.count, bytes[pos] == UInt8(ascii: "\\"),
          bytes[pos + 1] == UInt8(ascii: "u")
        {
          pos += 2
          let low = try hex4()
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        out.append(contentsOf: Array(String(Unicode.Scalar(code).map(Character.init) ?? "\u{FFFD}").utf8))
      default: out.append(e)
      }
    }
    throw error("unterminated string")
  }

  mutating func hex4() throws -> UInt32 {
    guard pos + 4 <= bytes.count,
      let v = UInt32(String(decoding: bytes[pos..<pos + 4], as: UTF8.self), radix: 16)
    else { throw error("bad \\u escape") }
    pos += 4
    return v
  }
}
