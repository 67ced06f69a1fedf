import Foundation
import MuseJinja

/// Each JSON type's grammar under its keywords: objects, arrays, strings (lengths, patterns,
/// formats) and numbers (exact integer ranges as digit-by-digit alternatives).
extension SchemaCompiler {
  // MARK: objects

  mutating func object(_ d: JinjaDict, path: String) throws -> String {
    let ws = primitive(.ws)
    var properties: [(name: String, schema: JinjaValue)] = []
    switch d["properties"] {
    case nil: break
    case .dict(let p)?:
      for (key, value) in p { properties.append((key.stringValue, value)) }
    default: throw JSONSchemaError.invalid("properties must be an object", path: path + "/properties")
    }
    var required: [String] = []
    switch d["required"] {
    case nil: break
    case .array(let names)?:
      for name in names {
        guard case .string(let s) = name, !required.contains(s) else {
          throw JSONSchemaError.invalid("required must list distinct names", path: path + "/required")
        }
        required.append(s)
      }
    default: throw JSONSchemaError.invalid("required must be an array", path: path + "/required")
    }
    let additional = d["additionalProperties"]
    switch additional {
    case nil, .bool?, .dict?: break
    default:
      throw JSONSchemaError.invalid(
        "additionalProperties must be a boolean or a schema", path: path + "/additionalProperties")
    }
    // Required names that `properties` does not describe take additionalProperties' schema.
    for name in required where !properties.contains(where: { $0.name == name }) {
      if case .bool(false)? = additional {
        throw JSONSchemaError.invalid(
          "'\(name)' is required but no property may be called so", path: path + "/required")
      }
      properties.append((name, additional ?? .bool(true)))
    }
    if properties.isEmpty {
      if case .bool(false)? = additional { return GBNFText.literal("{") + " \(ws) " + GBNFText.literal("}") }
      let value = try additional.map { try expression(for: $0, path: path + "/additionalProperties") }
      guard let value, value != primitive(.value) else { return primitive(.object) }
      let kv = try rule("kv", "\(primitive(.string)) \(ws) \":\" \(ws) \(value)", path: path)
      return try rule(
        "object", #""{" \#(ws) ( \#(kv) ( \#(ws) "," \#(ws) \#(kv) )* \#(ws) )? "}""#, path: path)
    }
    // One rule per property: its key, the colon and its value.
    var pairs: [String] = []
    for (name, schema) in properties {
      let pointer =
        path + "/properties/"
        + name.replacingOccurrences(of: "~", with: "~0")
        .replacingOccurrences(of: "/", with: "~1")
      let value = try expression(for: schema, path: pointer)
      let key = GBNFText.literal(try JinjaValue.string(name).jsonString())
      pairs.append(try rule("\(name)-kv", "\(key) \(ws) \":\" \(ws) \(value)", path: pointer))
    }
    let isRequired = properties.map { required.contains($0.name) }
    let open = #""{" \#(ws) "#
    let close = #" \#(ws) "}""#
    if isRequired.allSatisfy({ $0 }) {
      return try rule("object", open + pairs.joined(separator: #" \#(ws) "," \#(ws) "#) + close, path: path)
    }
    // In schema order, each optional property present or not: after[i] follows a property
    // already written (so each starts with a comma), first[i] writes the first one.
    let n = pairs.count
    var after = [String?](repeating: nil, count: n + 1)
    for i in stride(from: n - 1, through: 0, by: -1) {
      let tail = after[i + 1].map { " " + $0 } ?? ""
      let item = #"\#(ws) "," \#(ws) \#(pairs[i])"#
      after[i] = try rule("rest", isRequired[i] ? item + tail : "( \(item) )?" + tail, path: path)
    }
    var first: String?
    for i in stride(from: n - 1, through: 0, by: -1) {
      let tail = after[i + 1].map { " " + $0 } ?? ""
      let present = pairs[i] + tail
      first = try rule(
        "first", isRequired[i] || first == nil ? present : "\(present) | \(first!)", path: path)
    }
    let body = isRequired.contains(true) ? first! : "( \(first!) \(ws) )?"
    return try rule(
      "object", isRequired.contains(true) ? open + body + close : #""{" \#(ws) \#(body) "}""#, path: path)
  }

  // MARK: arrays

  mutating func array(_ d: JinjaDict, path: String) throws -> String {
    let ws = primitive(.ws)
    let item: String
    switch d["items"] {
    case nil, .bool(true)?: item = primitive(.value)
    case .dict(let items)?: item = try expression(for: .dict(items), path: path + "/items")
    case .array?: throw JSONSchemaError.unsupportedKeyword("items", path: path + " (as an array of schemas)")
    default: throw JSONSchemaError.invalid("items must be a schema", path: path + "/items")
    }
    let low = try count(d, "minItems", path: path) ?? 0
    let high = try count(d, "maxItems", path: path)
    if let high, high < low { throw JSONSchemaError.invalid("maxItems is below minItems", path: path) }
    if high == 0 { return #"( "[" \#(ws) "]" )"# }
    let more = #"( \#(ws) "," \#(ws) \#(item) )"# + repetition(max(low - 1, 0), high.map { $0 - 1 })
    let items = "\(item) \(more) \(ws)"
    return try rule(
      "array", low == 0 ? #""[" \#(ws) ( \#(items) )? "]""# : #""[" \#(ws) \#(items) "]""#, path: path)
  }

  /// A non-negative whole-number keyword, at most the repetition limit.
  private func count(_ d: JinjaDict, _ keyword: String, path: String) throws -> Int? {
    guard let value = d[keyword] else { return nil }
    let n: Int
    switch value {
    case .int(let i): n = i
    case .float(let f) where f == f.rounded() && abs(f) < 1e15: n = Int(f)
    default: throw JSONSchemaError.invalid("\(keyword) must be a whole number", path: path + "/" + keyword)
    }
    guard n >= 0 else {
      throw JSONSchemaError.invalid("\(keyword) cannot be negative", path: path + "/" + keyword)
    }
    guard n <= Self.maxRepetition else {
      throw JSONSchemaError.unsupportedKeyword(keyword, path: path + " (above \(Self.maxRepetition))")
    }
    return n
  }

  private func repetition(_ low: Int, _ high: Int?) -> String {
    switch (low, high) {
    case (0, nil): "*"
    case (1, nil): "+"
    case (let l, nil): "{\(l),}"
    case (let l, let h?) where l == h: "{\(l)}"
    case (let l, let h?): "{\(l),\(h)}"
    }
  }

  // MARK: strings

  mutating func string(_ d: JinjaDict, path: String) throws -> String {
    let quote = GBNFText.literal("\"")
    let low = try count(d, "minLength", path: path)
    let high = try count(d, "maxLength", path: path)
    if let low, let high, high < low {
      throw JSONSchemaError.invalid("maxLength is below minLength", path: path)
    }
    if let format = d["format"] {
      if let other = ["pattern", "minLength", "maxLength"].first(where: { d[$0] != nil }) {
        throw JSONSchemaError.unsupportedKeyword(other, path: path + " (beside format)")
      }
      return try rule(
        "string", "\(quote) \(try formatRule(format, path: path + "/format")) \(quote)", path: path)
    }
    if let pattern = d["pattern"] {
      if let other = ["minLength", "maxLength"].first(where: { d[$0] != nil }) {
        throw JSONSchemaError.unsupportedKeyword(other, path: path + " (beside pattern)")
      }
      guard case .string(let source) = pattern else {
        throw JSONSchemaError.invalid("pattern must be a string", path: path + "/pattern")
      }
      let body: String
      do {
        body = try RegexGrammar.gbnf(source, char: primitive(.char))
      } catch let error as RegexGrammar.Unsupported {
        throw JSONSchemaError.unsupportedKeyword("pattern", path: path + " (\(error.reason))")
      }
      return try rule("pattern", "\(quote) \(body) \(quote)", path: path + "/pattern")
    }
    guard low != nil || high != nil else { return primitive(.string) }
    let chars = primitive(.char) + repetition(low ?? 0, high)
    return try rule("string", "\(quote) \(chars) \(quote)", path: path)
  }

  private mutating func formatRule(_ format: JinjaValue, path: String) throws -> String {
    let year = #"( [1-9] [0-9]{3} | "0" ( [1-9] [0-9]{2} | "0" ( [1-9] [0-9] | "0" [1-9] ) ) )"#
    // Days per month (February up to 29 in every year: leap years are not checked).
    let date =
      year
      + #" "-" ( ( "0" [13578] | "1" [02] ) "-" ( "0" [1-9] | [12] [0-9] | "3" [01] ) | ( "0" [469] | "11" ) "-" ( "0" [1-9] | [12] [0-9] | "30" ) | "02-" ( "0" [1-9] | [12] [0-9] ) )"#
    let time =
      #"( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] ":" [0-5] [0-9] ( "." [0-9]{1,9} )? ( [Zz] | [-+] ( [01] [0-9] | "2" [0-3] ) ":" [0-5] [0-9] )"#
    let hex = "[0-9a-fA-F]"
    let bodies: [String: String] = [
      "date": date,
      "time": time,
      "date-time": "( \(date) ) [Tt] \(time)",
      "uuid": #"\#(hex){8} "-" \#(hex){4} "-" \#(hex){4} "-" \#(hex){4} "-" \#(hex){12}"#,
      // RFC 5321's lengths: a local part of at most 64, labels of at most 63, a few labels.
      "email": #"[a-zA-Z0-9._%+-]{1,64} "@" [a-zA-Z0-9-]{1,63} ( "." [a-zA-Z0-9-]{1,63} ){1,4}"#,
    ]
    guard case .string(let name) = format, let body = bodies[name] else {
      throw JSONSchemaError.unsupportedKeyword("format", path: path + " ('\(format.stringValue)')")
    }
    return try rule(name, body, path: path)
  }

  // MARK: numbers

  mutating func integer(_ d: JinjaDict, path: String) throws -> String {
    let (low, high) = try bounds(d, path: path)
    guard low != nil || high != nil else { return primitive(.integer) }
    if let low, let high, low > high {
      throw JSONSchemaError.invalid("no integer lies between minimum and maximum", path: path)
    }
    return try rule("integer", Self.integerRange(low, high), path: path)
  }

  mutating func number(_ d: JinjaDict, path: String) throws -> String {
    let keywords = ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"].filter { d[$0] != nil }
    guard !keywords.isEmpty else { return primitive(.number) }
    // Only `minimum: 0` (non-negative) is exact without a fraction-aware range grammar.
    if keywords == ["minimum"], let m = d["minimum"], m == .int(0) || m == .float(0) {
      return try rule(
        "number", #"( "0" | [1-9] [0-9]{0,15} ) ( "." [0-9]{1,16} )? ( [eE] [-+]? [0-9]{1,3} )?"#, path: path)
    }
    throw JSONSchemaError.unsupportedKeyword(
      keywords[0], path: path + " (on a number; integer ranges and minimum 0 are supported)")
  }

  /// The integer bounds minimum / maximum and their exclusive forms give (draft 4's boolean
  /// exclusive flags too).
  private func bounds(_ d: JinjaDict, path: String) throws -> (Int?, Int?) {
    func value(_ keyword: String) throws -> Double? {
      switch d[keyword] {
      case nil: return nil
      case .int(let i)?: return Double(i)
      case .float(let f)? where f.isFinite: return f
      case .bool?: return nil
      default: throw JSONSchemaError.invalid("\(keyword) must be a number", path: path + "/" + keyword)
      }
    }
    func flag(_ keyword: String) -> Bool { if case .bool(true)? = d[keyword] { true } else { false } }
    var low: Double?
    var high: Double?
    if let m = try value("minimum") { low = flag("exclusiveMinimum") ? m.rounded(.down) + 1 : m.rounded(.up) }
    if let m = try value("exclusiveMinimum") { low = max(low ?? -.infinity, m.rounded(.down) + 1) }
    if let m = try value("maximum") {
      high = flag("exclusiveMaximum") ? m.rounded(.up) - 1 : m.rounded(.down)
    }
    if let m = try value("exclusiveMaximum") { high = min(high ?? .infinity, m.rounded(.up) - 1) }
    let limit = 1e15
    for b in [low, high].compactMap({ $0 }) where abs(b) >= limit {
      throw JSONSchemaError.unsupportedKeyword(
        b == low ? "minimum" : "maximum", path: path + " (beyond ±10^15)")
    }
    return (low.map { Int($0) }, high.map { Int($0) })
  }

  /// The decimal integers in low...high (nil: unbounded, up to 16 digits), without leading
  /// zeros: per sign and digit count, the range spelled digit by digit.
  static func integerRange(_ low: Int?, _ high: Int?) -> String {
    var alternatives: [String] = []
    // Negatives: "-" and their magnitudes.
    let negativeTop = min(high ?? -1, -1)
    if low.map({ $0 <= negativeTop }) ?? true {
      alternatives.append("\"-\" " + natural(-negativeTop, low.map { -$0 }))
    }
    if high.map({ $0 >= 0 }) ?? true {
      alternatives.append(natural(max(low ?? 0, 0), high))
    }
    return alternatives.joined(separator: " | ")
  }

  private static let maxDigits = 16

  /// Non-negative integers from `low` up to `high` (nil: any with up to 16 digits).
  private static func natural(_ low: Int, _ high: Int?) -> String {
    let lowDigits = String(low).count
    let highDigits = high.map { String($0).count } ?? max(maxDigits, lowDigits)
    var parts: [String] = []
    for length in lowDigits...highDigits {
      let from = length == lowDigits ? low : power(length - 1)
      let upper = length == highDigits && high != nil ? high! : power(length) - 1
      let a = String(from).compactMap(\.wholeNumberValue)
      let b = String(upper).compactMap(\.wholeNumberValue)
      parts.append(digits(a[...], b[...]))
    }
    return "( " + parts.joined(separator: " | ") + " )"
  }

  private static func power(_ n: Int) -> Int { (0..<n).reduce(1) { r, _ in r * 10 } }

  /// Same-length digit strings from `a` to `b`.
  private static func digits(_ a: ArraySlice<Int>, _ b: ArraySlice<Int>) -> String {
    guard let a0 = a.first, let b0 = b.first else { return "" }
    let rest = a.count - 1
    func any(_ n: Int) -> String { n == 0 ? "" : " [0-9]" + (n == 1 ? "" : "{\(n)}") }
    func digit(_ x: Int, _ y: Int) -> String { x == y ? "\"\(x)\"" : "[\(x)-\(y)]" }
    if a0 == b0 { return "\"\(a0)\"" + (rest > 0 ? " " + digits(a.dropFirst(), b.dropFirst()) : "") }
    let lowFull = a.dropFirst().allSatisfy { $0 == 0 }
    let highFull = b.dropFirst().allSatisfy { $0 == 9 }
    var parts: [String] = []
    let midLow = lowFull ? a0 : a0 + 1
    let midHigh = highFull ? b0 : b0 - 1
    if !lowFull {
      parts.append("\"\(a0)\" " + digits(a.dropFirst(), ArraySlice(repeating: 9, count: rest)))
    }
    if midLow <= midHigh { parts.append(digit(midLow, midHigh) + any(rest)) }
    if !highFull {
      parts.append("\"\(b0)\" " + digits(ArraySlice(repeating: 0, count: rest), b.dropFirst()))
    }
    return parts.count == 1 ? parts[0] : "( " + parts.joined(separator: " | ") + " )"
  }
}
